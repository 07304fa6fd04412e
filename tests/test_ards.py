"""ARDS / COVID-19 ARDS module (issue 18): oxygenation and ventilation formulas against
hand-computed examples, natural history on lung-protective ventilation, MSC effect, SBML round trip."""

import numpy as np
import pytest

from mscsim import scores
from mscsim.diseases import ards
from mscsim.diseases.base import endpoint_frame
from mscsim.dosing import Dose, Regimen
from mscsim.scenario import load_scenario
from mscsim.simulate import simulate
from mscsim.trial import run_trial

T = np.array([0.0, 1.0, 3.0, 7.0, 14.0, 28.0, 60.0])
D3, D7, D28, D60 = 2, 3, 5, 6
START_DOSE = Dose.parse("1e7 cells/kg", "iv", infusion="60 min")


def run(doses=(), subtype=None, days=60, **kw):
    reg = Regimen(tuple(doses)) if doses else None
    s = simulate(reg, days, disease="ards", subtype=subtype, times=T[T <= days], **kw)
    return s, endpoint_frame(ards, s.outputs)


# ------------------------------------------------------------------ exact formulas, hand-computed
def test_predicted_body_weight():
    # ARDSNet 2000 (PMID 10793162): men 50 + 0.91 (cm - 152.4), women 45.5 + 0.91 (cm - 152.4)
    assert scores.predicted_body_weight(180.0, True) == pytest.approx(50 + 0.91 * 27.6)      # 75.116
    assert scores.predicted_body_weight(160.0, False) == pytest.approx(45.5 + 0.91 * 7.6)    # 52.416
    assert scores.predicted_body_weight(152.4, True) == pytest.approx(50.0)


def test_pf_ratio_berlin_categories_and_oxygenation_index():
    assert scores.pf_ratio(60.0, 0.6) == pytest.approx(100.0)
    # Berlin 2012 (PMID 22797452): mild 200-300, moderate 100-200, severe <= 100
    assert list(scores.berlin_category([350, 300, 250, 200, 150, 100, 80])) == [
        "none", "mild", "mild", "moderate", "moderate", "severe", "severe"]
    # OI = FiO2 x MAP x 100 / PaO2: 0.6 x 20 cmH2O x 100 / 60 mmHg = 20
    assert scores.oxygenation_index(0.6, 20.0, 60.0) == pytest.approx(20.0)
    assert scores.oxygenation_index(1.0, 25.0, 50.0) == pytest.approx(50.0)


def test_ventilator_free_days_definition():
    # Schoenfeld & Bernard 2002 (PMID 12163791): 0 if dead by day 28, else 28 - days ventilated
    vfd = scores.ventilator_free_days([10, 10, 0, 40, 27.5], [True, False, True, True, True])
    assert list(vfd) == [18.0, 0.0, 28.0, 0.0, 0.5]


# ---------------------------------------------------------------------- typical patient, MSC effect
@pytest.fixture(scope="module")
def untreated():
    return run()


@pytest.fixture(scope="module")
def treated():
    return run([START_DOSE])


def test_typical_patient_has_moderate_ards_and_recovers_on_protective_ventilation(untreated):
    s, ef = untreated
    b = ef.iloc[0]
    assert scores.berlin_category(b["pf_ratio"]) == "moderate"
    assert 5 <= b["oxygenation_index"] <= 25
    # survivors recover: oxygenation improves, the injury resolves, the ventilator days stop growing
    assert ef["pf_ratio"].iloc[D28] > 250 and ef["lung_injury"].iloc[D60] < 0.2
    vd = s.outputs["vent_days"].to_numpy()
    assert np.all(np.diff(vd) >= 0) and vd[D60] - vd[D28] < 1.0
    assert np.all(np.diff(ef["survival"]) <= 0) and s.outputs["msc_memory"].max() == 0.0
    print(f"\ntypical untreated ARDS: PF {b['pf_ratio']:.0f} mmHg, OI {b['oxygenation_index']:.1f}, VFD "
          f"{ef['ventilator_free_days'].iloc[D28]:.1f}, mortality day 28 {ef['mortality'].iloc[D28]:.2f}, day 60 "
          f"{ef['mortality'].iloc[D60]:.2f}")


def test_msc_arrest_in_the_lung_and_cells_are_conserved(untreated, treated):
    s0, e0 = untreated
    s1, e1 = treated
    assert s1.conservation_error() < 1e-6
    # the lung is the target: the target share is the lung share and the local density is the lung's
    np.testing.assert_allclose(s1.outputs["msc_target_pct"], s1.outputs["msc_lung_pct"])
    lung_cells = s1.states["A_lung"] + s1.states["G_lung"]
    lung_g = 470.0    # 0.47 kg of lung in a 70 kg adult (NRC 1999)
    np.testing.assert_allclose(s1.outputs["msc_local_density"], lung_cells / lung_g, rtol=1e-3)
    # nothing differs at time 0 (before the dose acts)
    assert e1["pf_ratio"].iloc[0] == pytest.approx(e0["pf_ratio"].iloc[0], rel=1e-12)


def test_msc_effect_has_the_expected_direction_and_dose_response(untreated, treated):
    s0, _ = untreated
    s1, _ = treated
    low, _ = run([Dose.parse("1e6 cells/kg", "iv", infusion="60 min")])
    i0, i1, il = (x.outputs["injury"].iloc[D7] for x in (s0, s1, low))
    assert i1 <= il <= i0 and i1 < i0
    print(f"\ninjury day 7: untreated {i0:.3f}, 1e6/kg {il:.3f}, 1e7/kg {i1:.3f}")


# ------------------------------------------------------------------ natural history (population)
def _control_trial(subtype, n, seed=11):
    sc = load_scenario({
        "name": "standard care", "disease": "ards", "subtype": subtype, "seed": seed,
        "arms": [{"name": "control", "n": n, "regimen": []}],
        "endpoints": [{"name": "mortality", "at": "28 d"}, {"name": "mortality", "at": "60 d"},
                      {"name": "ventilator_free_days", "at": "28 d"}],
    })
    res = run_trial(sc, workers=1, progress=False)
    return {(e["name"], e["at_days"]): e["value"] for e in res.summary["arms"][0]["endpoints"]}


def test_control_arm_mortality_follows_lung_protective_ventilation():
    eps = _control_trial("ards", 120)
    m28, m60, vfd = eps[("mortality", 28.0)], eps[("mortality", 60.0)], eps[("ventilator_free_days", 28.0)]
    print(f"\nstandard care ARDS (n=120): mortality day 28 {m28:.2f}, day 60 {m60:.2f}, VFD {vfd:.1f}")
    # ARDSNet 2000 (PMID 10793162): mortality 31 % with 6 mL/kg PBW, VFD 12 +/- 11;
    # Berlin 2012 (PMID 22797452): 27 / 32 / 45 % mild / moderate / severe; LUNG SAFE 35-46 %
    assert 0.22 <= m28 <= 0.45 and m28 <= m60 <= 0.50
    assert 8 <= vfd <= 17


def test_covid_control_arm_mortality():
    eps = _control_trial("covid", 80)
    m28 = eps[("mortality", 28.0)]
    print(f"\nstandard care COVID-19 ARDS (n=80): mortality day 28 {m28:.2f}")
    # RECOVERY (PMID 32678530): 28-day mortality of ventilated patients 29.3 % (dexamethasone) - 41.4 % (usual care)
    assert 0.22 <= m28 <= 0.50


# ------------------------------------------------------------------------------ SBML round trip
def test_sbml_export_matches_roadrunner():
    pytest.importorskip("roadrunner")
    from test_sbml import RTOL, compare

    d, where, t, _, _ = compare(Regimen((START_DOSE,)), 30.0, disease="ards", subtype="covid")
    print(f"\nards: max relative difference {d:.2e} ({where} at {t:.4g} d)")
    assert d < RTOL, (where, t)
