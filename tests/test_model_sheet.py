"""The model's sheet (issue 19): what running patients needs, read from the compile cache without
sympy, is the model it was written from, less its equations."""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from mscsim import model as M
from mscsim.model import DISEASES, build_model
from mscsim.numerics import ModelSheet, OdeModel, compile_model

CASES = [(None, "liver", None)] + [(d, None, None) for d in DISEASES] + [("t1d", None, "new_onset"),
                                                                         ("ra", None, "refractory")]


def _rows(sheet):
    """Every table of a sheet as (value, type) rows, in order."""
    tagged = lambda *xs: tuple((x, type(x)) for x in xs)  # noqa: E731
    return ([tagged(s.name, s.unit, s.desc, s.group, s.init, s.atol, s.init_mode) for s in sheet.states.values()],
            [tagged(p.name, p.value, p.unit, p.desc, p.source, p.kind) for p in sheet.params.values()],
            [tagged(r.name, r.unit, r.desc, r.source) for r in sheet.rules.values()],
            list(sheet.outputs), sheet.name, sheet.fingerprint())


@pytest.mark.parametrize("disease,target,subtype", CASES, ids=[f"{c[0] or 'kinetics'}-{c[2]}" for c in CASES])
def test_the_sheet_holds_the_models_tables_in_order(disease, target, subtype):
    """What a process reads back from disk (JSON) is the symbolic model's tables, in order and with
    their types, whatever is in the cache; build_model gives that sheet and compiles to the same code."""
    full = build_model(disease, target, "human", subtype).symbolic().ode
    assert isinstance(full, OdeModel)
    want = ([tuple((x, type(x)) for x in (s.name, s.unit, s.desc, s.group, float(s.init), float(s.atol), s.init_mode))
             for s in full.states.values()],
            [tuple((x, type(x)) for x in (p.name, float(p.value), p.unit, p.desc, p.source, p.kind))
             for p in full.params.values()],
            [tuple((x, type(x)) for x in (r.name, r.unit, r.desc, r.source)) for r in full.rules.values()],
            list(full.outputs), full.name, full.fingerprint())
    read_back = ModelSheet.from_json(full.sheet().to_json())
    assert _rows(read_back) == want
    assert read_back.meta == json.loads(json.dumps(full.meta))
    sheet = build_model(disease, target, "human", subtype).ode
    assert isinstance(sheet, ModelSheet) and _rows(sheet) == want and sheet.meta == read_back.meta
    assert compile_model(sheet).path == compile_model(full).path


def test_mouse_sheet_has_mouse_values_and_the_human_probe():
    mouse, human = build_model("ra", species="mouse").ode, build_model("ra").ode
    full = build_model("ra", species="mouse").symbolic().ode
    assert [p.value for p in mouse.params.values()] == [p.value for p in full.params.values()]
    assert mouse.params["BW"].value != human.params["BW"].value
    assert mouse.meta["pivot_probe"] == human.meta["pivot_probe"]


def test_sheet_from_disk_equals_a_fresh_one_and_a_damaged_file_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("MSCSIM_CACHE", str(tmp_path))
    fresh = M.build_model.__wrapped__("sle", None, "human", None)   # built, then written
    files = list((tmp_path / "models").glob("sle-*.json"))
    assert len(files) == 1
    again = M.build_model.__wrapped__("sle", None, "human", None)   # read
    assert again.ode == fresh.ode and again.disease_module is fresh.disease_module
    files[0].write_text('{"name": "sle", "states": [[1, 2]]')     # damaged
    third = M.build_model.__wrapped__("sle", None, "human", None)
    assert third.ode == fresh.ode
    assert ModelSheet.from_json(files[0].read_text()) == ModelSheet.from_json(fresh.ode.to_json())
    # sheets of other source versions: those unused for SHEET_MAX_AGE_DAYS go when a new one is written
    now = time.time()
    ages = {"fresh": 1.0, "stale": M.SHEET_MAX_AGE_DAYS + 1.0}
    for tag, age_days in ages.items():
        f = tmp_path / "models" / f"sle-kidney-refractory-human-{tag}.json"
        f.write_text("{}")
        os.utime(f, (now - age_days * 86400, now - age_days * 86400))
    other = tmp_path / "models" / "ra-joint-refractory-human-stale.json"
    other.write_text("{}")
    os.utime(other, (now - 100 * 86400, now - 100 * 86400))
    files[0].unlink()
    M.build_model.__wrapped__("sle", None, "human", None)
    left = sorted(f.name for f in (tmp_path / "models").glob("*.json"))
    assert left == sorted([files[0].name, "sle-kidney-refractory-human-fresh.json", other.name])
    # reading a sheet marks it used
    os.utime(files[0], (now - 10 * 86400, now - 10 * 86400))
    M.build_model.__wrapped__("sle", None, "human", None)
    assert files[0].stat().st_mtime > now - 60


def test_a_sheet_builds_its_equations_only_when_asked():
    sheet = build_model("ms").ode
    assert not hasattr(sheet, "terms") and not hasattr(sheet, "derivative")
    full = sheet.full()
    assert full is build_model("ms").symbolic().ode and full.terms
    assert ModelSheet.from_json(sheet.to_json()).build is None
    with pytest.raises(Exception, match="equations are not at hand"):
        ModelSheet.from_json(sheet.to_json()).full()


def test_parameter_vectors_are_the_same_from_the_sheet_and_the_equations():
    from mscsim.dosing import Dose, Regimen
    from mscsim.simulate import parameter_vector

    for species in ("human", "rat"):
        composed = build_model("ibd", species=species)
        reg = Regimen((Dose.parse("2e6 cells/kg", "iv", at=0.0),))
        a = parameter_vector(composed, weight_kg=61.0, regimen=reg)
        b = parameter_vector(composed.symbolic(), weight_kg=61.0, regimen=reg)
        assert np.array_equal(a, b)


def test_a_trial_imports_no_sympy(tmp_path):
    """Start-up cost: with the model's sheet and machine code cached, running a trial needs
    neither sympy nor the model's construction."""
    build_model("ra")  # the sheet is on disk
    compile_model(build_model("ra").ode)
    code = ("import sys\n"
            "from mscsim.scenario import Scenario\n"
            "from mscsim.trial import run_trial\n"
            "sc = Scenario.model_validate({'name': 's', 'disease': 'ra', 'seed': 1, 'arms': ["
            "{'name': 'msc', 'n': 2, 'regimen': [{'dose': '1e6 cells/kg', 'route': 'iv', 'at': '0 d'}]}],"
            " 'endpoints': [{'name': 'das28_crp', 'at': '30 d'}]})\n"
            "res = run_trial(sc, progress=False)\n"
            "print(len(res.patients), 'sympy' in sys.modules)\n")
    env = dict(os.environ, MSCSIM_NO_WARM="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "2 False"


def test_start_up_pauses_the_collector_then_freezes_and_resumes_it():
    import gc

    from mscsim.execution import start_up

    assert gc.isenabled()
    before = gc.get_freeze_count()
    try:
        with start_up():
            assert not gc.isenabled()
            made = [[i] for i in range(1000)]   # objects of the start-up
        assert gc.isenabled() and gc.get_freeze_count() >= before + 1000
        with pytest.raises(ValueError):   # an error in the start-up leaves the collector on too
            with start_up():
                raise ValueError("bad scenario")
        assert gc.isenabled()
    finally:
        gc.unfreeze()
    del made
