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
    names = {"c_peptide_auc", "fasting_c_peptide", "hba1c", "fasting_glucose", "insulin_dose", "insulin_free"}
    assert set(t1d.ENDPOINTS) == names
    assert names <= set(ef.columns)
    assert {e.name for e in t1d.ENDPOINTS.values() if e.stat == "proportion"} == {"insulin_free"}


def test_untreated_established_t1d_matches_cai_baseline_and_declines_slowly(established):
    s, ef = established
    b = ef.iloc[0]
    # Cai 2016 (PMID 26628416) baselines, mean +/- SD of the two arms
    assert 6.6 <= b["c_peptide_auc"] <= 8.4
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


def test_msc_move_t1d_the_way_trials_report(established, cai):
    _, base = established
    s, ef = cai
    for i in (3, Y1):   # 3 months and 1 year
        assert ef["c_peptide_auc"].iloc[i] > base["c_peptide_auc"].iloc[i]
        assert ef["fasting_c_peptide"].iloc[i] > base["fasting_c_peptide"].iloc[i]
        assert ef["hba1c"].iloc[i] < base["hba1c"].iloc[i]
        assert ef["fasting_glucose"].iloc[i] < base["fasting_glucose"].iloc[i]
        assert ef["insulin_dose"].iloc[i] < base["insulin_dose"].iloc[i]
    assert ef["c_peptide_auc"].iloc[Y1] > ef["c_peptide_auc"].iloc[0]     # rises above baseline
    # immune: islet attack suppressed early, Treg up, TNF-alpha down in blood
    assert s.outputs["islet_attack_t1d"].iloc[2] < 0.5 * s.outputs["islet_attack_t1d"].iloc[0]
    assert ef["treg_pct"].iloc[2] > base["treg_pct"].iloc[2]
    assert ef["tnf"].iloc[2] < base["tnf"].iloc[2]


def test_dose_response(established):
    _, base = established
    gains = []
    for dose in ("3e5 cells/kg", "1.1e6 cells/kg", "3e6 cells/kg"):
        _, ef = run([(dose, CAI)])
        gains.append(ef["c_peptide_auc"].iloc[Y1] - base["c_peptide_auc"].iloc[Y1])
    assert 0 < gains[0] < gains[1] < gains[2]


def test_headline_cai2016_typical_patient(established, cai):
    """T1D_Cai2016: UC-MSC 1.1e6/kg (+ BM-MNC 1.07e8/kg, not modelled) into the pancreatic artery."""
    _, ctl = established
    _, sct = cai
    published = {  # baseline -> 1 year, SCT | control
        "c_peptide_auc": ((6.6, 13.6), (8.4, 7.7)), "hba1c": ((8.6, 7.5), (8.7, 8.8)),
        "fasting_glucose": ((200.0, 151.2), (192.4, 184.2)), "insulin_dose": ((0.9, 0.6), (0.9, 0.9)),
    }
    print("\nCai 2016, typical patient (model) vs published, baseline -> 1 year")
    for k, (ps, pc) in published.items():
        print(f"  {k:16s} SCT {sct[k].iloc[0]:.3g} -> {sct[k].iloc[Y1]:.3g} (published {ps[0]} -> {ps[1]}) | "
              f"control {ctl[k].iloc[0]:.3g} -> {ctl[k].iloc[Y1]:.3g} (published {pc[0]} -> {pc[1]})")
    # directions of the SCT arm vs baseline and vs control
    assert sct["c_peptide_auc"].iloc[Y1] > 1.15 * sct["c_peptide_auc"].iloc[0]
    assert ctl["c_peptide_auc"].iloc[Y1] < ctl["c_peptide_auc"].iloc[0]
    for k in ("hba1c", "fasting_glucose", "insulin_dose"):
        assert sct[k].iloc[Y1] < sct[k].iloc[0] and sct[k].iloc[Y1] < ctl[k].iloc[Y1]


def test_new_onset_msc_preserve_c_peptide(new_onset):
    """Carlsson 2015 (autologous BM-MSC ~2.75e6/kg IV once): C-peptide preserved vs lost in controls;
    Lu 2021 (UC-MSC IV twice, 3 months apart): some patients insulin-free for 3-12 months."""
    _, base = new_onset
    _, carl = run([("2.75e6 cells/kg", {"product": "bm-msc"})], subtype="new_onset")
    r_ctl = base["c_peptide_auc"].iloc[Y1] / base["c_peptide_auc"].iloc[0]
    r_msc = carl["c_peptide_auc"].iloc[Y1] / carl["c_peptide_auc"].iloc[0]
    print(f"\nCarlsson 2015 typical new-onset: C-peptide at 1 y {100 * r_msc:.0f} % of baseline vs "
          f"{100 * r_ctl:.0f} % untreated")
    assert r_msc > r_ctl + 0.2
    _, lu = run([("1e6 cells/kg", {"product": "uc-msc"}),
                 ("1e6 cells/kg", {"product": "uc-msc", "at": "90 d"})], subtype="new_onset")
    print(f"Lu 2021 typical new-onset: insulin-free at {list(T[lu['insulin_free'].to_numpy() > 0])} d; "
          f"dose at 1 y {lu['insulin_dose'].iloc[Y1]:.2f} vs {base['insulin_dose'].iloc[Y1]:.2f} U/kg/day")
    assert lu["insulin_dose"].iloc[Y1] < base["insulin_dose"].iloc[Y1]
    assert lu["c_peptide_auc"].iloc[Y1] > base["c_peptide_auc"].iloc[Y1]


def test_observe_noise_and_insulin_free(cai):
    s, _ = cai
    rng = np.random.default_rng(1)
    obs = t1d.observe(s.outputs, rng)
    assert np.all(obs["c_peptide_auc"] > 0) and np.all(obs["insulin_dose"] >= 0)
    assert not np.allclose(obs["hba1c"], s.outputs["hba1c"])
    assert set(np.unique(obs["insulin_free"])) <= {0.0, 1.0}
    exact = t1d.observe(s.outputs)
    assert np.allclose(exact["hba1c"], s.outputs["hba1c"])
