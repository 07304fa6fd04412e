"""The scoring of `mscsim validate` on small hand-made tables: predictive intervals at the
published n, interval scores, direction tests with the MCID, vs-control claims, treatment effects,
roles from the parameter table and the flags that keep rows out of the counts. The tests encode
the mathematics (hand computations, known distributions), not the model's output."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from scipy.special import betaln, comb

from mscsim.errors import MscsimError
from mscsim.evidence import validate as V
from mscsim.evidence.mcid import MCID, mcid_for
from mscsim.evidence.scoring import (CALIBRATED_NORMAL_IS, direction_test, interval_score,
                                     predictive_difference, predictive_interval)
from mscsim.scenario import load_scenario, shipped_scenarios

# ------------------------------------------------------------------------ interval score


@pytest.mark.parametrize(("x", "expected"), [(2.0, 2.0), (1.0, 2.0), (0.0, 2.0 + 40.0), (4.0, 2.0 + 40.0),
                                             (3.5, 2.0 + 20.0), (0.75, 2.0 + 10.0)])
def test_interval_score_by_hand(x, expected):
    # (u - l) + 2/alpha (l - x) 1{x < l} + 2/alpha (x - u) 1{x > u}, l = 1, u = 3, alpha = 0.05
    assert interval_score(1.0, 3.0, x) == pytest.approx(expected)


def test_interval_score_rejects_bad_input():
    with pytest.raises(MscsimError):
        interval_score(3.0, 1.0, 2.0)
    with pytest.raises(MscsimError):
        interval_score(1.0, 3.0, 2.0, alpha=1.5)


def test_calibrated_normal_interval_score_matches_simulation():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(400_000)
    z = sps.norm.ppf(0.975)
    scores = (2 * z) + 40 * np.clip(-z - x, 0, None) + 40 * np.clip(x - z, 0, None)
    assert CALIBRATED_NORMAL_IS == pytest.approx(scores.mean(), rel=0.01)
    assert CALIBRATED_NORMAL_IS == pytest.approx(4.676, abs=0.001)


# ------------------------------------------------------------------------ means


def test_mean_predictive_interval_by_hand():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])        # mean 3, SD sqrt(2.5)
    pred = predictive_interval(x, "mean", 10)
    sd = math.sqrt(2.5) * math.sqrt(1 / 10 + 1 / 5)  # published sampling + Monte-Carlo error
    half = sps.t.ppf(0.975, 4) * sd
    assert pred.center == pytest.approx(3.0)
    assert pred.sd == pytest.approx(sd)
    assert (pred.low, pred.high) == pytest.approx((3 - half, 3 + half))
    assert pred.contains(3.0 + 0.99 * half) and not pred.contains(3.0 + 1.01 * half)
    assert pred.z(3.0 + sd) == pytest.approx(1.0)


def test_mean_predictive_interval_covers_future_arms_at_nominal_rate():
    # a simulated arm (n 25) and a published arm (n 12) from the same normal population
    rng = np.random.default_rng(7)
    hits = 0
    reps = 3000
    for _ in range(reps):
        sim = rng.normal(5.0, 2.0, 25)
        pub = rng.normal(5.0, 2.0, 12).mean()
        hits += predictive_interval(sim, "mean", 12).contains(pub)
    assert abs(hits / reps - 0.95) < 0.015


def test_monte_carlo_error_of_the_simulated_arm_widens_the_interval():
    rng = np.random.default_rng(3)
    small = rng.normal(0, 1, 10)
    big = np.resize(small, 10_000)   # same mean and population SD, many more patients
    assert predictive_interval(small, "mean", 20).sd > predictive_interval(big, "mean", 20).sd
    # with 10 000 simulated patients only the published arm's own sampling error is left
    assert predictive_interval(big, "mean", 20).sd == pytest.approx(np.std(small) / math.sqrt(20), rel=0.01)


def test_a_model_that_knows_the_truth_scores_about_4_68_published_standard_errors():
    rng = np.random.default_rng(5)
    scores = []
    sim = rng.normal(2.0, 1.5, 20_000)          # the model: the true population, many patients
    for _ in range(2000):
        pub = rng.normal(2.0, 1.5, 40)           # a published arm of 40
        pred = predictive_interval(sim, "mean", 40)
        scores.append(pred.score(pub.mean()) / (pub.std(ddof=1) / math.sqrt(40)))
    assert np.mean(scores) == pytest.approx(CALIBRATED_NORMAL_IS, rel=0.05)


def test_posterior_draws_add_their_spread_law_of_total_variance():
    d1 = np.array([-1.0, 1.0] * 50)    # mean 0
    d2 = d1 + 2.0                      # mean 2, same SD
    s2 = np.var(d1, ddof=1)
    pred = predictive_interval(None, "mean", 25, draws=[d1, d2])
    var = s2 * (1 / 25 + 1 / 100) + np.var([0.0, 2.0], ddof=1)
    assert pred.center == pytest.approx(1.0)
    assert pred.sd == pytest.approx(math.sqrt(var))
    assert pred.high - pred.low == pytest.approx(2 * sps.norm.ppf(0.975) * math.sqrt(var))
    assert pred.sd > predictive_interval(d1, "mean", 25).sd


# ------------------------------------------------------------------------ proportions


def _betabinom_quantiles(n, a, b, lo=0.025, hi=0.975):
    pmf = [comb(n, k) * math.exp(betaln(k + a, n - k + b) - betaln(a, b)) for k in range(n + 1)]
    cdf = np.cumsum(pmf)
    return int(np.argmax(cdf >= lo - 1e-12)), int(np.argmax(cdf >= hi - 1e-12)), pmf


def test_proportion_predictive_is_beta_binomial_by_hand():
    x = np.array([1] * 6 + [0] * 4)   # 6 of 10 simulated responders
    pred = predictive_interval(x, "proportion", 20)
    k_lo, k_hi, pmf = _betabinom_quantiles(20, 6.5, 4.5)
    assert (pred.low, pred.high) == (k_lo / 20, k_hi / 20)
    assert pred.center == pytest.approx(6.5 / 11)
    assert pred.contains(12 / 20) and not pred.contains(0 / 20)


def test_proportion_with_a_large_simulated_arm_is_the_binomial_of_the_published_n():
    x = np.array([1] * 3000 + [0] * 7000)   # p = 0.3 known almost exactly
    pred = predictive_interval(x, "proportion", 40)
    assert pred.low == pytest.approx(sps.binom.ppf(0.025, 40, 0.3) / 40, abs=1 / 40)
    assert pred.high == pytest.approx(sps.binom.ppf(0.975, 40, 0.3) / 40, abs=1 / 40)


def test_proportion_interval_covers_future_arms_at_least_nominally():
    rng = np.random.default_rng(11)
    reps, hits = 2000, 0
    for _ in range(reps):
        sim = (rng.random(30) < 0.35).astype(float)
        pub = (rng.random(15) < 0.35).mean()
        hits += predictive_interval(sim, "proportion", 15).contains(pub)
    assert hits / reps >= 0.94   # discrete: at least nominal


def test_published_n_must_be_positive():
    with pytest.raises(MscsimError):
        predictive_interval(np.ones(5), "mean", 0)


# ------------------------------------------------------------------------ differences


def test_mean_difference_predictive_by_hand():
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    b = np.array([0.0, 0.0, 1.0, 1.0])
    pred = predictive_difference(a, b, "mean", 10, 8)
    va = np.var(a, ddof=1) * (1 / 10 + 1 / 5)
    vb = np.var(b, ddof=1) * (1 / 8 + 1 / 4)
    df = (va + vb) ** 2 / (va**2 / 4 + vb**2 / 3)
    half = sps.t.ppf(0.975, df) * math.sqrt(va + vb)
    assert pred.center == pytest.approx(3.0 - 0.5)
    assert (pred.low, pred.high) == pytest.approx((2.5 - half, 2.5 + half))


def test_proportion_difference_is_the_exact_difference_distribution():
    a = np.array([1] * 4 + [0] * 6)
    b = np.array([1] * 2 + [0] * 8)
    pred = predictive_difference(a, b, "proportion", 5, 4)
    _, _, pa = _betabinom_quantiles(5, 4.5, 6.5)
    _, _, pb = _betabinom_quantiles(4, 2.5, 8.5)
    dist: dict[float, float] = {}
    for i in range(6):
        for j in range(5):
            d = round(i / 5 - j / 4, 12)
            dist[d] = dist.get(d, 0.0) + pa[i] * pb[j]
    vals = sorted(dist)
    cdf = np.cumsum([dist[v] for v in vals])
    assert pred.low == pytest.approx(vals[int(np.argmax(cdf >= 0.025 - 1e-12))])
    assert pred.high == pytest.approx(vals[int(np.argmax(cdf >= 0.975 - 1e-12))])
    assert pred.center == pytest.approx(sum(v * p for v, p in dist.items()))


# ------------------------------------------------------------------------ directions, MCID


def test_direction_p_value_at_the_published_n_by_hand():
    x = np.array([-0.5, -1.5] * 50)       # mean -1, SD ~0.5025
    s = np.std(x, ddof=1)
    for n_pub in (3, 9):
        t = -1.0 / (s / math.sqrt(n_pub))
        r = direction_test(x, "decrease", n_pub, None)
        assert r.p_value == pytest.approx(2 * sps.t.sf(abs(t), n_pub - 1))
    # the same simulated change: significant at 9 patients, not at 2
    assert direction_test(x, "decrease", 9, None).significant
    assert not direction_test(x, "decrease", 2, None).significant


def test_direction_needs_the_mcid_and_the_right_sign():
    x = np.array([-0.9, -1.1] * 50)       # mean change -1.0
    assert direction_test(x, "decrease", 40, 0.6).holds            # DAS28 0.6: reached
    r = direction_test(x, "decrease", 40, 1.2)                     # DAS28 1.2: not reached
    assert r.significant and r.sign_ok and not r.clinically_important and not r.holds
    assert not direction_test(x, "increase", 40, 0.6).holds        # wrong direction
    tiny = np.array([-0.010, -0.012] * 50)                         # significant but tiny
    assert direction_test(tiny, "decrease", 9, None).significant
    assert not direction_test(tiny, "decrease", 9, 0.05).holds


def test_vs_control_tests_the_between_arm_difference():
    arm = np.array([-0.9, -1.1] * 20)      # both arms fall by 1: within-arm claim holds,
    ctrl = np.array([-0.8, -1.2] * 20)     # the claim against control does not
    assert direction_test(arm, "decrease", 30, 0.5).holds
    r = direction_test(arm, "decrease", 30, 0.5, x_control=ctrl, n_control_pub=15)
    assert r.estimate == pytest.approx(0.0, abs=1e-12) and not r.holds
    better = direction_test(arm - 1.0, "decrease", 30, 0.5, x_control=ctrl, n_control_pub=15)
    va, vc = np.var(arm, ddof=1) / 30, np.var(ctrl, ddof=1) / 15
    df = (va + vc) ** 2 / (va**2 / 29 + vc**2 / 14)
    assert better.estimate == pytest.approx(-1.0) and better.arm_change == pytest.approx(-2.0)
    assert better.p_value == pytest.approx(2 * sps.t.sf(1.0 / math.sqrt(va + vc), df))
    assert better.holds
    # the MCID applies to the arm's own change: a significant difference from a worsening control
    # arm is not enough when the arm itself barely moves
    worse = ctrl + 3.0
    small = direction_test(arm + 0.8, "decrease", 30, 0.5, x_control=worse, n_control_pub=15)
    assert small.sign_ok and small.significant and not small.clinically_important


def test_mcid_rules():
    assert mcid_for("edss").threshold([4.0, 5.0, 5.5]) == 1.0
    assert mcid_for("edss").threshold([6.0, 6.5]) == 0.5
    assert mcid_for("mayo").threshold([12.0, 12.0]) == pytest.approx(3.6)   # 30 % of 12 > 3 points
    assert mcid_for("mayo").threshold([8.0, 8.0]) == pytest.approx(3.0)
    assert mcid_for("das28_esr").threshold([6.0]) == 1.2
    rule = mcid_for("albumin")                                             # none published
    assert rule.design and "design" in rule.source
    assert rule.threshold([3.0, 4.0, 5.0]) == pytest.approx(0.5)           # half the baseline SD
    for name, r in MCID.items():
        assert not r.design and ("PMID" in r.source or "doi" in r.source or "PMC" in r.source
                                 or "Mult Scler" in r.source or "NICE" in r.source), name


# ------------------------------------------------------------------------ validate_result on hand-made patients


def _patients(spec: dict) -> SimpleNamespace:
    """spec: (arm, endpoint, at_days) -> (values, baselines)."""
    rows = []
    for (arm, ep, at), (vals, base) in spec.items():
        for v, b in zip(vals, base):
            rows.append({"arm": arm, "endpoint": ep, "at_days": at, "value": float(v), "baseline": float(b)})
    return SimpleNamespace(patients=pd.DataFrame(rows))


SCT, CTRL = "SCT (UC-MSC + aBM-MNC)", "control (standard care)"


def _cai_patients(hba1c_sct=7.5, hba1c_ctrl=12.0):
    spread = np.linspace(-1.0, 1.0, 21)
    spec = {}
    for arm, hb in ((SCT, hba1c_sct), (CTRL, hba1c_ctrl)):
        spec[(arm, "c_peptide_auc", 365.0)] = (10 + 5 * spread, np.full(21, 7.5))
        spec[(arm, "hba1c", 365.0)] = (hb + spread, np.full(21, 8.6))
        spec[(arm, "fasting_glucose", 365.0)] = (170 + 20 * spread, np.full(21, 196.0))
        spec[(arm, "insulin_dose", 365.0)] = (0.7 + 0.2 * spread, np.full(21, 0.9))
    return _patients(spec)


def test_numeric_rows_inside_and_outside_with_scores():
    sc = load_scenario(shipped_scenarios()["T1D_Cai2016"])
    t = V.validate_result(sc, _cai_patients()).set_index("record")
    inside, outside = t.loc["T1D_Cai2016#5"], t.loc["T1D_Cai2016#6"]     # published 7.5 and 8.8
    assert inside["holds"] and inside["counted"] and inside["n_pub"] == 21
    assert not outside["holds"] and outside["counted"]
    x = 12.0 + np.linspace(-1, 1, 21)
    pred = predictive_interval(x, "mean", 21)
    assert outside["pred_low"] == pytest.approx(pred.low)
    assert outside["z"] == pytest.approx((8.8 - 12.0) / pred.sd)
    assert outside["interval_score"] == pytest.approx(pred.high - pred.low + 40 * (pred.low - 8.8))
    # the yardstick: the published arm's own standard error, SD 0.9 / sqrt(21)
    assert outside["se_pub"] == pytest.approx(0.9 / math.sqrt(21))
    assert outside["is_se"] == pytest.approx(outside["interval_score"] / (0.9 / math.sqrt(21)))
    assert "overlap" not in " ".join(t.columns)


def test_treatment_effects_from_arm_pairs():
    sc = load_scenario(shipped_scenarios()["T1D_Cai2016"])
    res = _cai_patients(hba1c_sct=7.5, hba1c_ctrl=8.8)
    t = V.validate_result(sc, res)
    e = V.treatment_effects(sc, res, t).set_index("endpoint")
    hb = e.loc["hba1c"]
    assert hb["arm"] == SCT and hb["control"] == CTRL
    assert hb["published_diff"] == pytest.approx(7.5 - 8.8)
    assert hb["simulated_diff"] == pytest.approx(7.5 - 8.8)
    assert hb["holds"] and hb["counted"]
    assert e.loc["c_peptide_auc", "role"] == "calibration"     # its records set parameters
    far = V.treatment_effects(sc, _cai_patients(7.5, 12.0), V.validate_result(sc, _cai_patients(7.5, 12.0)))
    assert not far.set_index("endpoint").loc["hba1c", "holds"]


def test_role_comes_from_the_parameter_records(monkeypatch):
    # shipped table: ADMIRE-CD week 52 and the Petrou sham relapses set parameters
    assert V.role_of("validation", "CD_Panes2018_ADMIRE52#4") == "calibration"
    assert V.role_of("validation", "MS_Petrou2020#30") == "calibration"
    assert V.role_of("validation", "LIV_Suk2016#1") == "calibration"
    assert V.role_of("calibration", "T1D_Cai2016#5") == "calibration"    # the scenario may be stricter
    sc = load_scenario(shipped_scenarios()["T1D_Cai2016"])
    monkeypatch.setattr(V, "_informing", lambda: {"T1D_Cai2016#7": ("some_parameter",)})
    t = V.validate_result(sc, _cai_patients()).set_index("record")
    assert t.loc["T1D_Cai2016#7", "role"] == "calibration"
    assert t.loc["T1D_Cai2016#7", "informs"] == "some_parameter"
    assert t.loc["T1D_Cai2016#9", "role"] == "validation"


def test_parameter_records_name_real_evidence_records():
    from mscsim import parameters
    from mscsim.evidence.records import load_records

    ids = set(load_records()["record_id"])
    informing = parameters.records_informing()
    assert informing, "the parameter table lists the records it was fitted to"
    for rid, names in informing.items():
        assert rid.startswith("external:") or rid in ids, (rid, names)
    for rid in ("CD_Panes2018_ADMIRE52#10", "MS_Petrou2020#30", "LIV_Suk2016#1"):
        assert rid in informing
    for name, spec in parameters.registry().items():   # a parameter tuned to an outcome record is not "design"
        if any("#" in r for r in spec.records):
            assert spec.kind in ("calibrated", "derived"), name


def test_unverified_and_assumed_n_are_shown_and_not_counted():
    sc = load_scenario(shipped_scenarios()["T1D_Madani2022_meta"])
    res = _patients({("MSC-only recipients", "insulin_free_3mo", 365.0): (np.r_[np.ones(5), np.zeros(45)],
                                                                      np.zeros(50))})
    t = V.validate_result(sc, res)
    r = t.iloc[0]
    assert "UNVERIFIED" in r["flags"] and r["holds"] and not r["counted"]
    assert "UNVERIFIED" in V.format_markdown(t)
    s = V.summarize_scores(t)
    assert s["numeric"]["total"] == 0 and s["numeric"]["excluded"] == 1
    # ADMIRE-CD week 52: records without n, arm size assumed in the scenario
    sc = load_scenario(shipped_scenarios()["CD_Panes2016_ADMIRE"])
    spec = {}
    for arm, n in (("Cx601", 107), ("placebo", 105)):
        for ep in ("combined_remission", "fistula_closure"):
            for at in (168.0, 364.0):
                spec[(arm, ep, at)] = (np.r_[np.ones(n // 2), np.zeros(n - n // 2)], np.zeros(n))
    t = V.validate_result(sc, _patients(spec)).set_index("record")
    assumed = t.loc["CD_Panes2018_ADMIRE52#7"]
    assert "n assumed" in assumed["flags"] and not assumed["counted"]
    assert t.loc["CD_Panes2016_ADMIRE#1", "counted"]


def test_summary_counts_by_hand():
    table = pd.DataFrame([
        {"kind": "numeric", "role": "validation", "holds": True, "counted": True, "is_se": 4.0},
        {"kind": "numeric", "role": "validation", "holds": False, "counted": True, "is_se": 10.0},
        {"kind": "numeric", "role": "validation", "holds": True, "counted": False, "is_se": 1.0},
        {"kind": "direction", "role": "validation", "holds": True, "counted": True, "is_se": None},
        {"kind": "numeric", "role": "calibration", "holds": True, "counted": True, "is_se": 3.0},
    ])
    effects = pd.DataFrame([{"role": "validation", "holds": False, "counted": True, "is_se": 8.0}])
    s = V.summarize_scores(table, effects)
    assert (s["numeric"]["held"], s["numeric"]["total"], s["numeric"]["excluded"]) == (1, 2, 1)
    assert s["numeric"]["coverage"] == 0.5 and s["numeric"]["mean_is_se"] == pytest.approx(7.0)
    assert (s["direction"]["held"], s["direction"]["total"]) == (1, 1)
    assert (s["effects"]["held"], s["effects"]["total"]) == (0, 1)
    assert (s["calibration"]["held"], s["calibration"]["total"]) == (1, 1)
    head = V.headline_markdown(s)
    assert "1 / 2" in head and "50 %" in head and "overlap" not in head.lower()


def test_vs_key_must_name_another_arm():
    from pydantic import ValidationError

    sc = load_scenario(shipped_scenarios()["LIV_ZhangShi2012"])
    assert all(v.vs == "saline" for v in sc.validation)
    data = sc.model_dump()
    data["validation"][0]["vs"] = "no such arm"
    with pytest.raises((MscsimError, ValidationError)):
        load_scenario(data)
    data["validation"][0]["vs"] = data["validation"][0]["arm"]
    with pytest.raises((MscsimError, ValidationError)):
        load_scenario(data)


def test_direction_row_vs_control_in_validate_result():
    sc = load_scenario(shipped_scenarios()["LIV_ZhangShi2012"])
    spec = {}
    base = {"albumin": 3.0, "bilirubin": 3.0, "meld_na": 15.0, "ascites": 2.0}
    for ep, b in base.items():
        bl = b + np.linspace(-0.5, 0.5, 30)
        # MSC arm improves by 1 in the published direction; the saline arm by exactly as much
        step = 1.0 if ep == "albumin" else -1.0
        spec[("UC-MSC", ep, 365.0)] = (bl + step + np.tile([0.1, -0.1], 15), bl)
        blc = b + np.linspace(-0.5, 0.5, 15)
        spec[("saline", ep, 365.0)] = (blc + step + np.r_[np.tile([0.1, -0.1], 7), 0.0], blc)
    t = V.validate_result(sc, _patients(spec))
    assert (t["vs"] == "saline").all()
    assert not t["holds"].any()                       # no difference against control
    assert t["simulated"].abs().max() < 0.05
    assert t["mcid_source"].str.contains("design").all()


def test_more_simulated_patients_keep_the_published_n():
    table = V.run_validation(only=["RA_Park2018"], progress=False, n_sim_min=20)
    r = table.iloc[0]
    assert r["n_sim"] == 20 and r["n_pub"] == 9      # simulated 20, scored for a trial of 9


def test_posterior_draws_widen_the_rows_and_effects():
    sc = load_scenario(shipped_scenarios()["T1D_Cai2016"])
    res = _cai_patients(7.5, 8.8)
    plain = V.validate_result(sc, res).set_index("record")
    same = V.validate_result(sc, res, draws=[res, res]).set_index("record")
    spread = V.validate_result(sc, res, draws=[_cai_patients(7.0, 8.3), _cai_patients(8.0, 9.3)]).set_index("record")
    r = "T1D_Cai2016#5"
    assert same.loc[r, "pred_sd"] == pytest.approx(plain.loc[r, "pred_sd"])      # no spread between draws
    assert spread.loc[r, "pred_sd"] > plain.loc[r, "pred_sd"]                    # +var of the draw means
    assert spread.loc[r, "pred_sd"] ** 2 == pytest.approx(plain.loc[r, "pred_sd"] ** 2 + 0.5, rel=1e-6)
    e = V.treatment_effects(sc, res, plain.reset_index(), draws=[res, res]).set_index("endpoint")
    assert e.loc["hba1c", "simulated_diff"] == pytest.approx(-1.3)


def test_every_record_of_a_shipped_calibration_is_in_the_parameter_table():
    import json
    from importlib import resources

    from mscsim import parameters

    informing = parameters.records_informing()
    folder = resources.files("mscsim.data").joinpath("calibration")
    for f in folder.iterdir():
        if not f.name.endswith(".json"):
            continue
        data = json.loads(f.read_text())
        for rid in data.get("records", []):
            assert rid in informing, (f.name, rid)      # so validate scores it as calibration
        for name in data.get("parameters", {}):
            assert parameters.get(name).kind == "calibrated", (f.name, name)
