"""Type 1 diabetes module (issue 3): natural history, MSC directions, headline regimens."""

import numpy as np
import pytest

from mscsim.diseases import t1d
from mscsim.diseases.base import endpoint_frame
from mscsim.dosing import Dose, Regimen
from mscsim.simulate import simulate

T = np.array([0.0, 7, 30, 90, 180, 270, 365])
Y1 = 6  # index of day 365
CAI = dict(route="intra_arterial", artery="pancreatic", product="uc-msc")


def run(doses=(), subtype="established", days=365, times=T):
    reg = Regimen(tuple(Dose.parse(d, **kw) for d, kw in doses)) if doses else None
    s = simulate(reg, days, disease="t1d", subtype=subtype, times=times)
    return s, endpoint_frame(t1d, s.outputs)


@pytest.fixture(scope="module")
def established():
    return run()


@pytest.fixture(scope="module")
def new_onset():
    return run(subtype="new_onset")


@pytest.fixture(scope="module")
def cai():
    return run([("1.1e6 cells/kg", CAI)])


def test_endpoints_follow_the_design_contract(established):
    _, ef = established
    names = {"c_peptide_auc", "fasting_c_peptide", "hba1c", "fasting_glucose", "insulin_dose", "insulin_free",
             "insulin_free_3mo"}
    assert set(t1d.ENDPOINTS) == names
    assert names <= set(ef.columns)
    assert {e.name for e in t1d.ENDPOINTS.values() if e.stat == "proportion"} == {"insulin_free", "insulin_free_3mo"}


def test_untreated_established_t1d_matches_cai_baseline_and_declines_slowly(established):
    s, ef = established
    b = ef.iloc[0]
    # Cai 2016 (PMID 26628416) baselines, mean +/- SD of the two arms
    # the typical patient is the median of a log-normal (beta0 CV 0.9): published arm means / sqrt(1 + 0.9^2)
    assert 6.6 / 1.345 <= b["c_peptide_auc"] <= 8.4 / 1.345
    assert 8.6 - 0.9 <= b["hba1c"] <= 8.7 + 0.9
    assert 192.4 - 35.3 <= b["fasting_glucose"] <= 200.0 + 51.1
    assert b["insulin_dose"] == pytest.approx(0.9, abs=0.2)
    assert b["fasting_c_peptide"] < 0.2      # established: < 200 pmol/L (Oram 2014)
    # Cai control arm: C-peptide AUC -7.7 % over 1 year; insulin unchanged
    change = ef["c_peptide_auc"].iloc[Y1] / b["c_peptide_auc"] - 1
    assert -0.15 < change < 0.0
    assert ef["insulin_dose"].iloc[Y1] == pytest.approx(b["insulin_dose"], abs=0.02)
    assert ef["hba1c"].iloc[Y1] == pytest.approx(b["hba1c"], abs=0.1)
    assert not ef["insulin_free"].any()
    assert s.outputs["msc_memory"].max() == 0.0


def test_new_onset_natural_history():
    """Greenbaum 2012 (PMID 22688329): biphasic fall, -0.0245 then -0.0079 pmol/mL/month;
    Shields 2018: ~-47 %/yr for ~7 years, then stable."""
    yr = np.array([0.0, 365, 730, 2555, 3650])
    _, ef = run(subtype="new_onset", days=3650, times=yr)
    c = ef["c_peptide_auc"].to_numpy()
    assert c[1] / c[0] == pytest.approx(0.61, abs=0.03)       # fitted (fit_natural_history)
    assert (c[1] - c[2]) < (c[0] - c[1])                       # slower in the second year
    assert c[3] / c[0] < 0.15                                  # most function gone by 7 years
    assert (c[4] - c[3]) / 3 > (c[1] - c[0])                   # late decline much slower
    b = ef.iloc[0]
    assert 6.5 < b["hba1c"] < 8.0 and 0.2 < b["insulin_dose"] < 0.7   # honeymoon-phase dose
    assert ef["insulin_dose"].iloc[-1] > b["insulin_dose"]            # insulin need grows


def test_msc_raise_c_peptide_the_way_trials_report(established, cai):
    """Cai 2016 (PMID 26628416): C-peptide AUC up at 1 year in the SCT arm, down in control; the
    immune network moves as the MSC trials report (Treg up, TNF-alpha down)."""
    _, base = established
    s, ef = cai
    for i in (3, Y1):   # 3 months and 1 year
        assert ef["c_peptide_auc"].iloc[i] > base["c_peptide_auc"].iloc[i]
        assert ef["fasting_c_peptide"].iloc[i] > base["fasting_c_peptide"].iloc[i]
    assert ef["c_peptide_auc"].iloc[Y1] > ef["c_peptide_auc"].iloc[0]     # rises above baseline
    assert base["c_peptide_auc"].iloc[Y1] < base["c_peptide_auc"].iloc[0]
    assert s.outputs["islet_attack_t1d"].iloc[2] < 0.5 * s.outputs["islet_attack_t1d"].iloc[0]
    assert ef["treg_pct"].iloc[2] > base["treg_pct"].iloc[2]
    assert ef["tnf"].iloc[2] < base["tnf"].iloc[2]


def test_adag_and_idaa1c_by_hand():
    """ADAG eAG = 28.7 A1C - 46.7 (Nathan 2008, PMID 18540046); IDAA1C = A1C + 4 dose, <= 9 partial
    remission (Mortensen 2009, PMID 19564458)."""
    from mscsim import scores

    assert scores.hba1c_from_mean_glucose(28.7 * 7 - 46.7) == pytest.approx(7.0)
    assert scores.hba1c_from_mean_glucose(154.0) == pytest.approx(6.99, abs=0.01)
    assert scores.hba1c_from_mean_glucose(np.array([126.0, 183.0])) == pytest.approx([6.018, 8.003], abs=1e-3)
    assert scores.idaa1c(7.5, 0.3) == pytest.approx(8.7)          # partial remission
    assert scores.idaa1c(8.6, 0.9) == pytest.approx(12.2)         # Cai 2016 baseline: none


def _steady(params=None, subtype=None):
    from mscsim.baseline import baseline_outputs

    return baseline_outputs("t1d", params or {}, subtype=subtype)


def test_titration_at_a_fixed_target_trades_endogenous_for_injected_insulin():
    """With the glycaemic target held fixed (CV independent of the endogenous share: n_cv = 0),
    more beta-cell function leaves mean glucose where it is and lowers the injected dose by the
    endogenous insulin action it adds (minimal-model steady state, solved by hand)."""
    lo = _steady({"n_cv_t1d": 0.0, "beta0_t1d_est": 0.01})
    hi = _steady({"n_cv_t1d": 0.0, "beta0_t1d_est": 0.04})
    assert hi["mean_glucose_t1d"] == pytest.approx(lo["mean_glucose_t1d"], rel=1e-4)
    assert hi["hba1c"] == pytest.approx(lo["hba1c"], abs=1e-3)
    assert hi["insulin_dose"] < lo["insulin_dose"]
    # exogenous + endogenous insulin action is what the fixed target needs, so the dose falls by
    # exactly the added endogenous action (in dose units: D_eq per healthy basal insulin I_h = 10 uU/mL)
    from mscsim import parameters

    d_eq = parameters.value("D_eq_t1d")
    added = hi["insulin_endo_t1d"] - lo["insulin_endo_t1d"]
    assert lo["insulin_dose"] - hi["insulin_dose"] == pytest.approx(d_eq * added / 10.0, rel=1e-3)


def test_residual_c_peptide_lowers_hba1c_and_insulin_need_like_dcct():
    """DCCT intensive group (Lachin 2014, PMID 24089509): 50 % higher stimulated C-peptide (0.10 ->
    0.15 nmol/L) goes with HbA1c -0.07 % and insulin -0.0276 U/kg/day, nearly linearly, no threshold.
    The HbA1c slope calibrates n_cv_t1d; the insulin slope is not fitted. Stimulated peak ~1.4 x
    the 180-min OGTT mean [assumed], so 0.10 nmol/L ~ AUC 12.9 pmol/mL/180 min."""
    auc = {}
    out = {}
    for beta in (0.004, 0.0214, 0.0321, 0.08):
        o = _steady({"beta0_t1d_est": beta})
        auc[beta], out[beta] = o["c_peptide_auc"], o
    lo, hi = out[0.0214], out[0.0321]
    assert 12 < auc[0.0214] < 14 and 1.4 < auc[0.0321] / auc[0.0214] < 1.6
    assert -0.14 < hi["hba1c"] - lo["hba1c"] < -0.035              # published -0.07 (factor 2)
    assert -0.055 < hi["insulin_dose"] - lo["insulin_dose"] < -0.014  # published -0.0276 (factor 2)
    # across the DCCT range of stimulated C-peptide (~0.03 to 0.5 nmol/L): both fall with C-peptide
    betas = sorted(out)
    assert all(out[a]["hba1c"] > out[b]["hba1c"] for a, b in zip(betas, betas[1:]))
    assert all(out[a]["insulin_dose"] > out[b]["insulin_dose"] for a, b in zip(betas, betas[1:]))


def test_inflammation_lowers_insulin_sensitivity():
    """SI / (1 + c x systemic TNF-alpha/IL-6 excess): with c = 0 the sensitivity is the Topp value and
    the titrated dose is lower; more inflammation, more insulin for the same glucose target."""
    from mscsim import parameters

    base = _steady()
    no_ir = _steady({"c_ir_t1d": 0.0})
    assert base["inflammation_ir_t1d"] > 0
    assert no_ir["insulin_sensitivity_t1d"] == pytest.approx(parameters.value("SI_t1d"))
    assert base["insulin_sensitivity_t1d"] == pytest.approx(
        parameters.value("SI_t1d") / (1 + parameters.value("c_ir_t1d") * base["inflammation_ir_t1d"]))
    assert no_ir["insulin_dose"] < base["insulin_dose"]
    assert no_ir["mean_glucose_t1d"] <= base["mean_glucose_t1d"] + 1e-6


def test_no_cells_no_change(established):
    """A zero-cell dose is the untreated patient; untreated, the titrated dose and HbA1c stay put over
    a year (Cai 2016 control: 0.9 -> 0.9 U/kg/day, HbA1c 8.7 -> 8.8 %)."""
    _, base = established
    _, zero = run([("0 cells/kg", CAI)])
    for k in ("c_peptide_auc", "hba1c", "fasting_glucose", "insulin_dose"):
        assert np.allclose(zero[k].to_numpy(), base[k].to_numpy(), rtol=1e-6)


def test_observe_noise_and_insulin_free(cai):
    s, _ = cai
    rng = np.random.default_rng(1)
    obs = t1d.observe(s.outputs, rng)
    assert np.all(obs["c_peptide_auc"] > 0) and np.all(obs["insulin_dose"] >= 0)
    assert not np.allclose(obs["hba1c"], s.outputs["hba1c"])
    assert set(np.unique(obs["insulin_free"])) <= {0.0, 1.0}
    exact = t1d.observe(s.outputs)
    assert np.allclose(exact["hba1c"], s.outputs["hba1c"])


LU = dict(route="iv", product="uc-msc")


def test_msc_preserve_rather_than_restore_c_peptide_in_new_onset(new_onset):
    """New-onset MSC trials report preservation, not restoration: C-peptide kept or slightly raised
    vs a ~40 % fall in controls at 1 year (Carlsson 2015, PMID 25204974), and no overall C-peptide
    difference from control after two UC-MSC courses, with only 3/27 insulin-free (Lu 2021, PMID
    34112266). So the typical new-onset patient under the Lu regimen keeps more C-peptide than
    untreated, does not double it, and still needs insulin."""
    _, base = new_onset
    _, ef = run([("1e6 cells/kg", LU), ("1e6 cells/kg", dict(LU, at="90 d"))], subtype="new_onset")
    c0 = ef["c_peptide_auc"].iloc[0]
    assert ef["c_peptide_auc"].iloc[Y1] > base["c_peptide_auc"].iloc[Y1]
    assert ef["c_peptide_auc"].iloc[Y1] / c0 < 1.2
    assert ef["insulin_free"].iloc[Y1] == 0.0


def test_neogenesis_does_not_scale_with_the_surviving_mass(cai):
    """MSC-supported new beta cells = r_reg x MSC effect x (1 - beta): the same effect gives the same
    absolute gain whatever mass survives (so a 1 % residual mass can double while 30 % cannot), and
    none at the healthy mass (by hand from the outputs)."""
    from mscsim import parameters

    r = parameters.calibrated("t1d").get("r_reg_t1d", parameters.value("r_reg_t1d"))
    for s, _ in (cai, run([("1e6 cells/kg", LU)], subtype="new_onset")):
        o = s.outputs
        expected = r * o["msc_effect_t"] * (1 - o["beta_pct_t1d"] / 100)
        assert np.allclose(o["beta_neogenesis_t1d"], expected, rtol=1e-6, atol=1e-12)
        assert o["beta_neogenesis_t1d"].max() > 0


def test_insulin_free_means_insulin_stopped_with_hba1c_below_7():
    """Complete remission = no insulin with HbA1c < 7 % (Podolakova 2023, doi:10.1038/s41598-023-34037-7;
    ISPAD remission definition): off insulin with HbA1c 7.2 % is not insulin-free, nor is HbA1c
    6.5 % on insulin."""
    import pandas as pd

    out = pd.DataFrame({"insulin_dose": [0.0, 0.0, 0.3, 0.01], "hba1c": [6.8, 7.2, 6.5, 6.9],
                        "c_peptide_auc": 100.0, "fasting_c_peptide": 0.3, "fasting_glucose": 130.0,
                        "free_days_t1d": [120.0, 0.0, 0.0, 30.0]})
    obs = t1d.observe(out)
    assert obs["insulin_free"].tolist() == [1.0, 0.0, 0.0, 1.0]
    assert obs["insulin_free_3mo"].tolist() == [1.0, 0.0, 0.0, 0.0]


def test_insulin_free_time_counts_the_days_off_insulin_with_hba1c_below_7():
    """free_days_t1d integrates 'insulin stopped and HbA1c < 7 %' over time (smooth steps of width
    4 % of the dose threshold and 0.02 % HbA1c): on a dense grid it equals the days that meet both criteria, to within
    the step widths; insulin_free_3mo is 1 once 90 days are reached (Lu 2021 counted 3-12 months)."""
    t = np.linspace(0.0, 365.0, 731)
    doses = [("1e6 cells/kg", LU), ("1e6 cells/kg", dict(LU, at="90 d"))]
    reg = Regimen(tuple(Dose.parse(d, **kw) for d, kw in doses))
    s = simulate(reg, 365, disease="t1d", subtype="new_onset", times=t, params={"beta0_t1d_new": 0.45})
    o = s.outputs
    free = (o["insulin_dose"].to_numpy() < 0.05) & (o["hba1c"].to_numpy() < 7.0)
    days = free.sum() * (t[1] - t[0])
    assert days > 30                                       # this patient does stop insulin for a while
    assert o["free_days_t1d"].iloc[-1] == pytest.approx(days, abs=3.0)
    assert o["free_days_t1d"].iloc[0] == 0.0
    assert np.all(np.diff(o["free_days_t1d"].to_numpy()) >= -1e-3)   # never decreases (solver tolerance)
    obs = t1d.observe(o)
    assert np.array_equal(obs["insulin_free_3mo"], (o["free_days_t1d"].to_numpy() >= 90).astype(float))
    # untreated, the new-onset patient never stops insulin in the first year (registries: complete
    # remission in 2.8 % of children, Podolakova 2023)
    s0 = simulate(None, 365, disease="t1d", subtype="new_onset", times=T)
    assert s0.outputs["free_days_t1d"].max() < 1e-3
