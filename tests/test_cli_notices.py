"""What the command line says without being asked (issue 21): doses after the horizon, lung
loads near the lethal one, the one-time model compilation, and the endpoint list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mscsim.cli import main
from mscsim.dosing import Dose, Regimen


def test_doses_after_the_horizon_are_warned(tmp_path, capsys):
    reg = Regimen((Dose.parse("1e6 cells/kg", "iv", every="12 wk", times=3),))
    assert reg.beyond(100.0) == [168.0]           # doses at 0, 84, 168 d
    assert reg.horizon_warning(200.0) is None
    rc = main(["simulate", "--dose", "1e6 cells/kg", "--every", "12 weeks", "--times", "3", "--days", "100",
               "-o", str(tmp_path)])
    assert rc == 0
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "doses start after" in ln]
    assert len(lines) == 1 and "1 of 3 doses" in lines[0] and "168" in lines[0]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["cells_given"] == pytest.approx(2 * 70e6)   # the two doses inside 100 d


def test_trial_warns_about_doses_after_the_last_endpoint():
    from mscsim.cli.trial import regimen_warnings
    from mscsim.scenario import load_scenario

    sc = load_scenario({"name": "late", "disease": "ra", "seed": 1,
                        "arms": [{"name": "msc", "n": 4, "regimen": [{"dose": "1e6 cells/kg", "every": "12 wk",
                                                                      "times": 3}]},
                                 {"name": "placebo", "n": 4}],
                        "endpoints": [{"name": "das28_esr", "at": "12 wk"}]})
    w = regimen_warnings(sc)
    assert len(w) == 1 and w[0].startswith("arm msc: 1 of 3 doses") and "last endpoint" in w[0]


def test_mouse_lung_overload_is_warned(tmp_path, capsys):
    from mscsim.simulate import LUNG_OCCLUSION_WARN, simulate

    sim = simulate(Regimen((Dose.parse("2e6 cells", "iv"),)), 3, species="mouse")
    peak = float(sim.outputs["lung_occlusion"].max())
    assert peak > 1.0                              # 2e6 IV cells in a 25 g mouse: above the lethal load
    assert any("lung-occlusion" in w and "lethal" in w for w in sim.info["warnings"])
    small = simulate(Regimen((Dose.parse("1e5 cells", "iv"),)), 3, species="mouse")
    if float(small.outputs["lung_occlusion"].max()) < LUNG_OCCLUSION_WARN:
        assert not any("lung-occlusion" in w for w in small.info["warnings"])


def test_compile_notice_only_on_a_cache_miss(tmp_path, monkeypatch):
    """The hook fires when the model's machine code is not cached, and never when it is."""
    from mscsim.numerics import codegen
    from mscsim.model import build_model

    model = build_model(None, None, "human", None).ode
    seen = []
    monkeypatch.setattr(codegen, "COMPILE_NOTICE_HOOKS", [lambda m, folder: seen.append((m.name, folder))])
    monkeypatch.setattr(codegen, "_COMPILED", {})
    monkeypatch.setattr(codegen, "_BY_ID", {})
    monkeypatch.setenv("MSCSIM_CACHE", str(tmp_path))
    assert not codegen.model_is_compiled(model)
    codegen.compile_model(model)                   # generates, compiles and loads
    assert seen == [(model.name, tmp_path)]
    # a cached model (its machine code on disk, the engine's kernels compiled) gives no notice
    path = next(tmp_path.glob("m_*.py"))
    assert codegen.is_cached(path) and codegen.model_is_compiled(model)
    monkeypatch.setattr(codegen, "_COMPILED", {})
    monkeypatch.setattr(codegen, "_BY_ID", {})
    codegen.compile_model(model)
    assert seen == [(model.name, tmp_path)]
    next(tmp_path.glob("m_*.o")).unlink()          # without its machine code it is compiled again
    assert not codegen.is_cached(path)


def test_compile_notice_text(capsys):
    from mscsim.cli import compile_notice
    from mscsim.model import build_model

    compile_notice(build_model("ra", None, "human", None).ode, Path.home() / ".cache" / "mscsim")
    err = capsys.readouterr().err.strip()
    assert err.startswith("compiling the ra-") and "~/.cache/mscsim" in err and "once" in err


def test_progress_without_a_terminal_is_plain_lines_on_stderr(capsys):
    """In logs and pipes rich's live bar printed nothing (or blank lines): now plain lines, stdout clean."""
    from mscsim.execution import map_tasks

    assert map_tasks(abs, list(range(-20, 20)), desc="model runs") == [abs(k) for k in range(-20, 20)]
    cap = capsys.readouterr()
    assert cap.out == ""
    lines = cap.err.strip().splitlines()
    assert lines and lines[-1].startswith("model runs: 40/40")
