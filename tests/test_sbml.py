"""SBML export (issue 8): the exported file is valid SBML L3V2 and libRoadRunner reproduces the
native simulation; the xarray view of a simulation."""

import importlib
import json

import libsbml
import numpy as np
import pytest

from mscsim.cli import main
from mscsim.dosing import Dose, Regimen
from mscsim.sbml import check_consistency, export_sbml, formula, parse_unit
from mscsim.simulate import default_times, simulate
from mscsim.numerics.solve import SolverOptions

roadrunner = pytest.importorskip("roadrunner")

#: tight native reference (SciPy LSODA on the compiled right-hand side and Jacobian), so that the
#: comparison measures the export, not the default solver tolerance
try:
    TIGHT = SolverOptions(method="LSODA", rtol=1e-10, atol_scale=1e-7, engine="scipy")
except TypeError:       # SolverOptions without engines: LSODA is the only engine
    TIGHT = SolverOptions(method="LSODA", rtol=1e-10, atol_scale=1e-7)
RTOL = 1e-4          # agreement asked for
FLOOR = 1e-6         # values below FLOOR x (largest |value| of the quantity) are compared absolutely
#: warnings libSBML may give on an exported model (all from the unit checker); anything else fails
KNOWN_WARNINGS = {99505,   # a literal number has no declared units, so the expression is not fully checked
                  10501,   # DAS28-ESR takes ln(ESR in mm/h): a dimensional argument by design of the score
                  10513}   # a rule whose right-hand side's units cannot be determined


def roadrunner_run(sbml: str, times, columns):
    rr = roadrunner.RoadRunner(sbml)
    rr.integrator.relative_tolerance = 1e-10
    rr.integrator.absolute_tolerance = 1e-10
    rr.integrator.maximum_num_steps = 200000
    rr.timeCourseSelections = ["time"] + list(columns)
    res = np.asarray(rr.simulate(times=[float(t) for t in times]))
    np.testing.assert_allclose(res[:, 0], times, rtol=0, atol=1e-12)
    return res[:, 1:]


def max_rel_diff(a: np.ndarray, b: np.ndarray) -> tuple[float, int, int]:
    """Largest |a-b| / max(|a|,|b|, floor) with a per-column floor; and where."""
    floor = FLOOR * np.max(np.abs(b), axis=0) + 1e-12
    d = np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)
    i, j = np.unravel_index(int(np.argmax(d)), d.shape)
    return float(d[i, j]), int(i), int(j)


def compare(regimen, days, **kw):
    """Export + RoadRunner vs native (tight); return (max rel diff, quantity, time, export)."""
    exp = export_sbml(regimen=regimen, days=days, **kw)
    assert exp.errors == [], exp.errors[:3]
    admins = regimen.administrations(exp.params["BW"])
    assert exp.administrations == admins
    times = default_times(days, admins)
    # every infusion start and end is an output time: the events must land exactly there
    for a in admins:
        assert np.any(np.isclose(times, a.start, atol=0)) and np.any(np.isclose(times, a.end, rtol=1e-15))
    sim = simulate(regimen, days, times=times, options=TIGHT, **kw)
    m = sim.composed.ode
    cols = list(m.outputs) + [s for s in m.state_names if s not in m.outputs]
    native = np.hstack([sim.out, sim.states[[s for s in m.state_names if s not in m.outputs]].to_numpy()])
    rr = roadrunner_run(exp.sbml, times, cols)
    d, i, j = max_rel_diff(rr, native)
    return d, cols[j], times[i], exp, sim


def test_kinetics_iv_and_intra_arterial_match_roadrunner():
    reg = Regimen((
        Dose.parse("1e6 cells/kg", "iv", infusion="30 min"),
        Dose.parse("1e7 cells", "iv", at="10 min"),              # overlaps the infusion on in_iv
        Dose.parse("5e7 cells", "intra_arterial", artery="hepatic", at="2 d"),
    ))
    d, where, t, exp, sim = compare(reg, 10.0, injury=("liver", 0.6))
    print(f"kinetics: max relative difference {d:.2e} ({where} at {t:.4g} d)")
    assert d < RTOL, (where, t)
    assert len(exp.administrations) == 3 and exp.reaction_count > 100
    # sanity: the doses really moved cells (a do-nothing export would also "agree")
    assert sim.outputs["msc_liver_pct"].max() > 1.0 and sim.states["X_dosed"].iloc[-1] == pytest.approx(1.3e8)


def test_ra_with_a_dose_matches_roadrunner():
    reg = Regimen((Dose.parse("1e6 cells/kg", "iv"),))
    d, where, t, exp, sim = compare(reg, 60.0, disease="ra")
    print(f"ra: max relative difference {d:.2e} ({where} at {t:.4g} d)")
    assert d < RTOL, (where, t)
    for q in ("das28_crp", "das28_esr", "tnf", "il10", "treg_pct", "crp_out", "msc_lung_pct"):
        assert q in sim.outputs


OTHER = {
    "t1d": Regimen((Dose.parse("1.1e6 cells/kg", "intra_arterial", artery="pancreatic"),)),
    "ms": Regimen((Dose.parse("1e7 cells", "intrathecal", every="12 wk", times=2),)),
    "sle": Regimen((Dose.parse("1e6 cells/kg", "iv"), Dose.parse("1e6 cells/kg", "iv", at="7 d"))),
    "ibd": Regimen((Dose.parse("1.2e8 cells", "local", site="perianal_fistula"),)),
    "liver": Regimen((Dose.parse("1e6 cells/kg", "iv", infusion="1 h"),)),
}


@pytest.mark.parametrize("disease", list(OTHER))
def test_other_diseases_match_roadrunner(disease):
    try:
        importlib.import_module(f"mscsim.diseases.{disease}")
    except ImportError:
        pytest.skip(f"disease module {disease} not importable yet")
    days = 100.0 if disease == "ms" else 30.0
    d, where, t, _, _ = compare(OTHER[disease], days, disease=disease)
    print(f"{disease}: max relative difference {d:.2e} ({where} at {t:.4g} d)")
    assert d < RTOL, (where, t)


@pytest.fixture(scope="module")
def ra_export():
    return export_sbml("ra", regimen=Regimen((Dose.parse("1e6 cells/kg", "iv", infusion="30 min"),)), days=30)


def test_export_is_valid_l3v2_with_only_known_warnings(ra_export):
    assert ra_export.errors == []
    assert {i.error_id for i in ra_export.warnings} <= KNOWN_WARNINGS, ra_export.issue_summary()
    # the check is libSBML's own, on the written text
    doc = libsbml.readSBMLFromString(ra_export.sbml)
    assert (doc.getLevel(), doc.getVersion()) == (3, 2)
    assert doc.checkConsistency() == len(check_consistency(ra_export.sbml))
    assert doc.getNumErrors(libsbml.LIBSBML_SEV_ERROR) == 0 and doc.getNumErrors(libsbml.LIBSBML_SEV_FATAL) == 0


def test_export_structure_units_annotations_and_events(ra_export):
    doc = libsbml.readSBMLFromString(ra_export.sbml)
    m = doc.getModel()
    assert m.getTimeUnits() == "day" and m.getSubstanceUnits() == "cell" and m.getExtentUnits() == "cell"
    # compartments: blood, organs and the target tissue
    comps = {m.getCompartment(i).getId() for i in range(m.getNumCompartments())}
    assert {"C_venous_blood", "C_arterial_blood", "C_lung", "C_liver", "C_target", "C_body"} <= comps
    # cells are species amounts in their organ
    s = m.getSpecies("A_lung")
    assert s.getHasOnlySubstanceUnits() and s.getCompartment() == "C_lung" and s.getSubstanceUnits() == "cell"
    assert s.getSBOTermID() == "SBO:0000285"
    # every parameter has units; units are defined
    for i in range(m.getNumParameters()):
        p = m.getParameter(i)
        assert p.isSetUnits(), p.getId()
    ud = m.getUnitDefinition("u_pg_per_mL")
    assert ud is not None and ud.getName() == "pg/mL"
    # parameters carry value, description, source and kind
    k = m.getParameter("k_crp")
    assert k.getValue() == pytest.approx(ra_export.params["k_crp"])
    assert "Source:" in k.getNotesString() and 'kind="' in k.getAnnotationString()
    assert "uniprot:P01375" in m.getParameter("tnf").getAnnotationString()     # TNF-alpha
    # clinical scores are assignment rules; disease activity a rate rule; transfers reactions
    assert m.getAssignmentRuleByVariable("das28_crp") is not None
    assert "ln(" in libsbml.formulaToL3String(m.getAssignmentRuleByVariable("das28_crp").getMath())
    assert m.getRateRuleByVariable("syn") is not None
    assert m.getNumReactions() == ra_export.reaction_count > 100
    # the initial state is the untreated steady state
    assert m.getParameter("syn").getValue() == pytest.approx(ra_export.initial_state["syn"], rel=1e-12)
    # dose events: start and end, set the input, fire at t0, persistent, values from trigger time
    assert m.getNumEvents() == 2
    for ev_id in ("dose1_on", "dose1_off"):
        ev = m.getEvent(ev_id)
        assert ev.getUseValuesFromTriggerTime()
        assert not ev.getTrigger().getInitialValue() and ev.getTrigger().getPersistent()
        assert ev.getEventAssignment(0).getVariable() == "in_iv"
    assert m.getParameter("in_iv").getConstant() is False
    assert m.getParameter("dose1_duration").getValue() == pytest.approx(30 / 1440)


def test_events_fire_at_time_zero_and_reset():
    reg = Regimen((Dose.parse("1e8 cells", "iv", infusion="1 h"),))
    exp = export_sbml(injury=("liver", 0.3), regimen=reg, check=False)
    out = roadrunner_run(exp.sbml, [0.0, 0.5 / 24, 2 / 24], ["in_iv", "X_dosed"])
    assert out[0, 0] == pytest.approx(1e8 * 24) and out[1, 0] == pytest.approx(1e8 * 24)   # cells/day
    assert out[2, 0] == 0.0
    assert out[1, 1] == pytest.approx(0.5e8, rel=1e-8)      # half the infusion in after 30 min
    assert out[2, 1] == pytest.approx(1e8, rel=1e-8)        # exactly the dose went in


def test_unit_strings_and_formulae():
    f, exact = parse_unit("pg/mL")
    assert exact and [(x.kind, x.exponent, x.scale) for x in f] == [("gram", 1, -12), ("litre", -1, -3)]
    f, exact = parse_unit("cells/day")
    assert exact and f[1].multiplier == 86400 and f[1].exponent == -1
    assert parse_unit("relative to healthy")[1] is False
    assert parse_unit("%")[0][0].multiplier == 0.01
    import sympy as sp

    x, y = sp.symbols("x y", real=True)
    assert formula(sp.Max(1, x) + sp.log(y) + x**2) in ("x^2 + max(1, x) + ln(y)", "x^2 + ln(y) + max(1, x)")
    assert formula(sp.Piecewise((1, x > 0), (0, True))) == "piecewise(1, (x > 0), 0)"
    assert formula(sp.Symbol("t", real=True) * x) == "time*x"


def test_cli_export_sbml(tmp_path, capsys):
    out = tmp_path / "m.xml"
    patient = tmp_path / "p.json"
    patient.write_text(json.dumps({"parameters": {"k_blood": 30.0}, "covariates": {"weight_kg": 80}}))
    rc = main(["export-sbml", "--injury", "liver:0.6", "--dose", "1e6 cells/kg", "--route", "intra_arterial",
               "--artery", "hepatic", "--patient", str(patient), "--days", "30", "-o", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "0 errors" in text
    m = libsbml.readSBMLFromFile(str(out)).getModel()
    assert m.getParameter("k_blood").getValue() == 30.0 and m.getParameter("BW").getValue() == 80.0
    assert m.getParameter("dose1_cells").getValue() == pytest.approx(8e7)
    assert m.getEvent("dose1_on").getEventAssignment(0).getVariable() == "in_ia_hepatic"
    # from an event table
    table = tmp_path / "ev.csv"
    table.write_text("ID,TIME,AMT,CMT,EVID,RATE,II,ADDL\n7,0,1e7,it,1,0,84,1\n")
    assert main(["export-sbml", "--injury", "cns:0.5", "--events", str(table), "-o", str(tmp_path / "e.xml")]) == 0
    m = libsbml.readSBMLFromFile(str(tmp_path / "e.xml")).getModel()
    assert m.getNumEvents() == 4 and m.getParameter("dose2_time").getValue() == 84.0


@pytest.mark.parametrize("args,needle", [
    (["--disease", "nope"], "unknown disease"),
    ([], "--disease"),
    (["--injury", "liver:0.6", "--dose", "1e6"], "needs a unit"),
    (["--injury", "liver:0.6", "--dose", "1e6 cells", "--events", "x.csv"], "not both"),
    (["--injury", "liver:0.6", "--patient", "PATIENT"], "unknown parameter"),
])
def test_cli_export_sbml_bad_input_is_one_line(tmp_path, capsys, args, needle):
    (tmp_path / "PATIENT").write_text(json.dumps({"k_nope": 1.0}))
    args = [a.replace("PATIENT", str(tmp_path / "PATIENT")) for a in args]
    rc = main(["export-sbml", *args, "-o", str(tmp_path / "x.xml")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and needle in err[-1] and err[-1].startswith("error:")
    assert not (tmp_path / "x.xml").exists()


def test_simulation_as_xarray_and_pandas():
    sim = simulate(Regimen((Dose.parse("1e6 cells/kg", "iv"),)), 5, injury=("liver", 0.5))
    ds = sim.to_xarray()
    assert list(ds.sizes) == ["time_d"] and ds.sizes["time_d"] == len(sim.times)
    np.testing.assert_array_equal(ds["time_d"].values, sim.times)
    np.testing.assert_array_equal(ds["msc_lung_pct"].values, sim.outputs["msc_lung_pct"].to_numpy())
    np.testing.assert_array_equal(ds["A_lung"].values, sim.states["A_lung"].to_numpy())
    assert ds["msc_lung_pct"].attrs["units"] == "% of dose" and ds["cells_lung"].attrs["units"] == "cells"
    assert set(sim.composed.ode.outputs) | set(sim.composed.ode.state_names) <= set(ds.data_vars)
    frame = sim.to_frame()
    assert list(frame.columns) == ["time_d", "quantity", "value"]
    assert set(sim.organs()["organ"]) >= {"lung", "liver", "blood", "target:liver"}
