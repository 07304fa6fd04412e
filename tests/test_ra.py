"""Rheumatoid arthritis module (issue 3) and the immune network's response, on RA."""

import numpy as np
import pytest

from mscsim.diseases import ra
from mscsim.diseases.base import endpoint_frame
from mscsim.dosing import Dose, Regimen
from mscsim.simulate import simulate

T = np.array([0.0, 7, 30, 90, 180, 365])


def run(dose=None, route="iv", **kw):
    reg = Regimen((Dose.parse(dose, route, **kw),)) if dose else None
    s = simulate(reg, 365, disease="ra", times=T)
    return s, endpoint_frame(ra, s.outputs)


@pytest.fixture(scope="module")
def untreated():
    return run()


def test_untreated_refractory_ra_keeps_its_disease(untreated):
    s, ef = untreated
    # RADIATE placebo arm baseline DAS28 6.80 (SD 1.06) (Emery 2008, PMID 18625622)
    assert 6.8 - 1.06 <= ef["das28_esr"].iloc[0] <= 6.8 + 1.06
    assert np.ptp(ef["das28_esr"]) < 0.01 and np.ptp(ef["crp"]) < 0.01
    assert s.outputs["erosion"].iloc[-1] > s.outputs["erosion"].iloc[0]   # damage keeps accruing
    # active RA: Th17 up and Treg down vs healthy reference (PMC7397677; Morita 2016)
    assert ef["th17_pct"].iloc[0] > 1.2 and ef["treg_pct"].iloc[0] < 5.0
    assert ef["il6"].iloc[0] == pytest.approx(13.3, rel=0.05)          # PMID 19077953
    assert not ef["acr20"].any()


def test_msc_move_ra_the_way_trials_report(untreated):
    _, base = untreated
    _, ef = run("1e6 cells/kg")
    d30, d90, d365 = 2, 3, 5
    # direction only: the size of the effect is set by calibration (RA_AlvaroGracia2017 cohort A)
    assert ef["das28_esr"].iloc[d30] < base["das28_esr"].iloc[d30] - 0.1
    assert ef["crp"].iloc[d30] < base["crp"].iloc[d30]
    assert ef["treg_pct"].iloc[d30] > base["treg_pct"].iloc[d30]          # Ghoryani 2019: Treg up at month 1
    assert ef["th17_pct"].iloc[d90] < base["th17_pct"].iloc[d90]          # Th17 down
    # (ACR20 of the typical patient is not asserted: the calibrated effect gives 27-33 % ACR20 in the
    # virtual Alvaro-Gracia trial, so the typical patient sits near the threshold; see mscsim validate)
    # effect maintained for months (Wang L 2013: 3-6 months); whether it lasts years is the
    # regulatory set point's strength, left to calibration/validation (test_regulatory_set_point_*)
    gain = lambda i: base["das28_esr"].iloc[i] - ef["das28_esr"].iloc[i]  # noqa: E731
    assert gain(d90) > 0.5 * gain(d30)


def test_immune_network_direction_and_dose_response(untreated):
    _, base = untreated
    effects = []
    for dose in ("3e5 cells/kg", "1e6 cells/kg", "3e6 cells/kg"):
        _, ef = run(dose)
        i = 2  # day 30
        for down in ("tnf", "ifng", "il17", "th17_pct", "il6"):
            assert ef[down].iloc[i] < base[down].iloc[i], (dose, down)
        for up in ("il10", "il4", "treg_pct", "tgfb"):
            assert ef[up].iloc[i] > base[up].iloc[i], (dose, up)
        effects.append(base["tnf"].iloc[i] - ef["tnf"].iloc[i])
    # (no monotone dose-response asserted: complement/IBMIR lysis caps the hit-and-run memory,
    # and Alvaro-Gracia 2017 saw no dose-response; see test_kinetics dose-limiting tests)
    assert min(effects) > 0


def test_no_dose_no_change(untreated):
    s, ef = untreated
    for c in ("tnf", "ifng", "il17", "il10", "il4", "th17_pct", "treg_pct"):
        assert np.ptp(ef[c]) < 1e-6 * max(1.0, abs(ef[c].iloc[0]))
    assert s.outputs["msc_memory"].max() == 0.0


def test_headline_regimens_typical_patient(untreated):
    """RA_WangL2019 (4e7 UC-MSC IV) and RA_Ghoryani2019 (1e6/kg): directions at their time points."""
    _, base = untreated
    _, wang = run("4e7 cells", product="uc-msc")
    assert wang["das28_esr"].iloc[3] < base["das28_esr"].iloc[3]     # lower at 3 months
    _, gh = run("1e6 cells/kg", product="bm-msc")
    assert gh["treg_pct"].iloc[2] > base["treg_pct"].iloc[2]


def test_local_joint_injection_acts_locally():
    s, ef = run("1.2e8 cells", "local", site="joint")
    assert s.outputs["msc_suppression_tissue"].iloc[2] > 0.5


def run_p(dose=None, days=365, times=T, **params):
    reg = Regimen((Dose.parse(dose, "iv"),)) if dose else None
    s = simulate(reg, days, disease="ra", times=times, params=params or None)
    return s, endpoint_frame(ra, s.outputs)


def test_placebo_acts_on_patient_reported_components_only(untreated):
    _, base = untreated
    _, plc = run_p(trial_on=1.0)
    for k in ("tjc28", "pain_vas", "ptga", "haq"):
        assert plc[k].iloc[3] < base[k].iloc[3] - 1e-6, k
    for k in ("sjc28", "crp", "esr", "phga"):
        assert plc[k].iloc[3] == pytest.approx(base[k].iloc[3], rel=1e-9), k


def test_methotrexate_started_in_the_trial_lowers_disease_activity_over_weeks(untreated):
    """Standard of care as pharmacodynamics: MTX (background: [methotrexate]) cuts the drive with an
    onset of weeks (Lopez-Olivo 2014 Cochrane CD000957: MTX beats placebo on ACR20/50, DAS)."""
    _, base = untreated
    _, mtx = run_p(mtx_start_ra=1.0)
    assert mtx["das28_esr"].iloc[0] == pytest.approx(base["das28_esr"].iloc[0], rel=1e-9)
    drop = base["das28_esr"] - mtx["das28_esr"]
    assert 0 < drop.iloc[1] < drop.iloc[2] < drop.iloc[3]          # builds up over weeks
    assert mtx["crp"].iloc[3] < base["crp"].iloc[3]


def test_regulatory_set_point_slows_decay_and_can_hold_the_effect():
    """Durable effect (immune.py tol_set): below bistability (g_tol < 2 K_tol) the set point decays
    after the cells are gone; above it, a large enough MSC push holds it (Waldmann 2008)."""
    # a strong push (a_tol_P_ra = 3) shows the two regimes; the calibrated RA push is weaker
    t = np.array([0.0, 30, 180, 1095])
    s_mono, _ = run_p("4e6 cells/kg", 1095, t, a_tol_P_ra=3.0)
    s_bi, _ = run_p("4e6 cells/kg", 1095, t, g_tol=1.4, a_tol_P_ra=3.0)
    s_none, _ = run_p(None, 1095, t, g_tol=1.4, a_tol_P_ra=3.0)
    mono, bi = s_mono.outputs["tolerance"].to_numpy(), s_bi.outputs["tolerance"].to_numpy()
    assert mono[1] > 0 and mono[3] < mono[2]                       # monostable: decays
    assert bi[3] > 0.5 and bi[3] >= 0.9 * bi[2]                    # bistable: holds for years
    assert np.all(np.abs(s_none.outputs["tolerance"].to_numpy()) < 1e-12)   # untreated never switches
