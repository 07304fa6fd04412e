"""Virtual populations matched to a trial's Table 1, covariates that reach parameters, IIV on any
parameter and on the dose (issue 20; docs/population.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from mscsim import parameters
from mscsim.dosing import Dose, Regimen
from mscsim.errors import MscsimError
from mscsim.population import (Target, VirtualPatient, apply_covariate_effects, cube_sample, draw_candidate,
                               entropy_balance, inclusion_probabilities, match_table1, sex_weight_spec,
                               standardized_difference)
from mscsim.scenario import CovariateSpec, Table1Row, load_scenario, resolve_scenario
from mscsim.trial import patient_administrations, plan_trial


def _scenario(population: dict, n: int = 60, disease: str = "sle", **arm) -> dict:
    return {"name": "t", "disease": disease, "seed": 11, "population": population,
            "arms": [{"name": "a", "n": n, "regimen": [{"dose": "1e6 cells/kg", "route": "iv"}], **arm}],
            "endpoints": [{"name": "sledai" if disease == "sle" else "survival", "at": "30 d"}]}


def _with_n(sc, n):
    return sc.model_copy(update={"arms": [a.model_copy(update={"n": n}) for a in sc.arms]})


# --- the matching method, on its own mathematics -------------------------------------------------

def test_entropy_balance_reaches_feasible_moments():
    rng = np.random.default_rng(1)
    x = rng.normal(0.0, 1.0, 2000)
    C = np.column_stack([x, x**2])
    goal = np.array([0.3, 1.2**2 + 0.3**2])  # mean 0.3, SD 1.2: inside the pool's hull
    w = entropy_balance(C, goal)
    assert w.sum() == pytest.approx(1.0)
    assert w @ x == pytest.approx(0.3, abs=1e-3)
    assert math.sqrt(w @ x**2 - (w @ x) ** 2) == pytest.approx(1.2, abs=1e-3)


def test_inclusion_probabilities_sum_to_n_and_stay_in_0_1():
    w = np.array([0.5, 0.2, 0.1, 0.1, 0.05, 0.05])
    pi = inclusion_probabilities(w, 3)
    assert pi.sum() == pytest.approx(3.0)
    assert pi.max() <= 1.0 and pi[0] == 1.0


def test_cube_sample_has_fixed_size_and_balances_totals():
    rng = np.random.default_rng(3)
    N, n = 400, 40
    x = rng.gamma(2.0, 1.0, N)
    pi = np.full(N, n / N)
    X = np.column_stack([pi, pi * x])
    s = cube_sample(pi, X, np.random.default_rng(5))
    assert len(s) == n
    # Horvitz-Thompson total of x equals the population total up to the landing phase (a few units)
    assert abs(x[s].mean() - x.mean()) < 0.05 * x.std()


def test_cube_sample_respects_inclusion_probabilities():
    N, n = 30, 10
    pi = np.linspace(0.1, 0.57, N)
    pi *= n / pi.sum()
    X = pi[:, None]
    hits = np.zeros(N)
    for r in range(800):
        hits[cube_sample(pi, X, np.random.default_rng(r))] += 1
    assert np.max(np.abs(hits / 800 - pi)) < 0.06  # 3.4 binomial SEs


def test_standardized_difference_definitions():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    sa = np.std(x, ddof=1)
    assert standardized_difference(x, Target("x", 2.0, 1.0, False)) == pytest.approx(0.5 / math.sqrt((sa**2 + 1) / 2))
    p = np.array([1, 1, 0, 0], dtype=float)
    assert standardized_difference(p, Target("f", 0.8, None, True)) == pytest.approx(
        (0.5 - 0.8) / math.sqrt((0.25 + 0.16) / 2))


def test_median_rows_follow_wan_2014():
    # Wan 2014 (DOI 10.1186/1471-2288-14-135): IQR -> SD by 2 Phi^-1((0.75n - 0.125)/(n + 0.25))
    m, sd, binary = Table1Row(median=30, q1=24, q3=38).target(50)
    assert not binary and m == pytest.approx((24 + 30 + 38) / 3)
    assert sd == pytest.approx(14 / (2 * norm.ppf((0.75 * 50 - 0.125) / 50.25)))
    assert Table1Row(median=30, q1=24, q3=38, n=10_000).target(50)[1] == pytest.approx(14 / 1.349, rel=1e-3)
    m, sd, _ = Table1Row(median=10, min=2, max=30, n=20).target(5)
    assert m == pytest.approx((2 + 20 + 30) / 4)
    assert sd == pytest.approx(28 / (2 * norm.ppf((20 - 0.375) / 20.25)))
    assert Table1Row(mean=2505, sd=1000, scale=0.001).target(5) == (pytest.approx(2.505), pytest.approx(1.0), False)


def test_match_table1_selects_n_and_matches():
    rng = np.random.default_rng(7)
    pool = {"a": rng.normal(0, 1, 1000), "f": (rng.random(1000) < 0.5).astype(float)}
    targets = [Target("a", 0.5, 0.8, False), Target("f", 0.8, None, True)]
    sel, w = match_table1(pool, targets, 100, np.random.default_rng(1))
    assert len(sel) == len(set(sel)) == 100
    for t in targets:
        assert abs(standardized_difference(pool[t.name][sel], t)) < 0.1


# --- the evidence this issue asks for: a shipped scenario matched within 0.1 ---------------------

@pytest.mark.parametrize("sid", ["SLE_Liang2010", "T1D_Cai2016", "LIV_Suk2016"])
def test_shipped_scenario_matches_its_table1(sid):
    sc = resolve_scenario(sid)
    assert any(sc.table1_for(a.name) for a in sc.arms)
    plan = plan_trial(_with_n(sc, 100))
    assert plan.population_fit
    for r in plan.population_fit:
        assert abs(r["smd"]) < 0.1, r
        # the enrolled values are the patients' screening values
        pts = plan.patients[r["arm"]]
        vals = [p.covariates[r["row"]] if r["row"] in p.covariates else p.baseline[r["row"]] for p in pts]
        assert np.mean(vals) == pytest.approx(r["achieved"])
    assert all(len(plan.patients[a.name]) == 100 for a in sc.arms)


def test_table1_on_covariates_and_proportions():
    sc = load_scenario(_scenario({"table1": {"sledai": {"mean": 12.2, "sd": 3.3}, "age": {"median": 30, "q1": 24, "q3": 38},
                                             "female": {"proportion": 0.9}}}, n=80))
    plan = plan_trial(sc)
    fit = {r["row"]: r for r in plan.population_fit}
    assert set(fit) == {"sledai", "age", "female"}
    assert all(abs(r["smd"]) < 0.1 for r in fit.values())
    assert fit["female"]["achieved"] == pytest.approx(sum(p.covariates["female"] for p in plan.patients["a"]) / 80)


def test_plan_is_the_same_with_two_workers():
    sc = load_scenario(_scenario({"table1": {"sledai": {"mean": 12.2, "sd": 3.3}}, "iiv": {"dose": 0.3}}, n=15))
    a, b = plan_trial(sc), plan_trial(sc, workers=2)
    assert [(p.candidate, p.params, p.dose_factor) for p in a.patients["a"]] == \
        [(p.candidate, p.params, p.dose_factor) for p in b.patients["a"]]
    assert a.population_fit == b.population_fit


# --- IIV on any parameter and on the dose --------------------------------------------------------

def test_iiv_on_dose_gives_the_cv_asked():
    sc = load_scenario(_scenario({"iiv": {"dose": 0.3}}, n=600))
    f = np.array([p.dose_factor for p in plan_trial(sc).patients["a"]])
    assert f.mean() == pytest.approx(1.0, abs=0.04)          # the nominal dose on average
    assert f.std(ddof=1) / f.mean() == pytest.approx(0.3, abs=0.04)
    assert np.std(np.log(f), ddof=1) == pytest.approx(math.sqrt(math.log(1.09)), abs=0.025)


def test_dose_factor_scales_the_cells_given():
    reg = Regimen((Dose.parse("1e6 cells/kg", "iv", every="7 d", times=2),))
    pt = VirtualPatient("a", 0, 0, {"weight_kg": 80.0}, {}, (), dose_factor=1.5)
    base = reg.administrations(80.0)
    got = patient_administrations(reg, pt)
    assert [a.cells for a in got] == pytest.approx([1.5 * a.cells for a in base])
    assert [a.start for a in got] == [a.start for a in base]


def test_scenario_iiv_replaces_the_table_cv_on_the_same_random_number():
    reg = parameters.registry()
    cv_table = reg["D_sle_s"].iiv_cv
    typ = {"D_sle_s": 1.0}
    cov = {"weight_kg": CovariateSpec(mean=70, sd=10)}
    z_old = [math.log(draw_candidate(1, 0, k, cov, {"D_sle_s": cv_table}, typ)[1]["D_sle_s"]) for k in range(50)]
    z_new = [math.log(draw_candidate(1, 0, k, cov, {"D_sle_s": 0.6}, typ)[1]["D_sle_s"]) for k in range(50)]
    ratio = math.sqrt(math.log(1 + 0.6**2)) / math.sqrt(math.log(1 + cv_table**2))
    b = reg["D_sle_s"].bounds
    inside = [i for i in range(50) if b is None or b[0] < math.exp(z_new[i]) < b[1]]
    assert len(inside) > 40
    assert [z_new[i] for i in inside] == pytest.approx([ratio * z_old[i] for i in inside])


def test_iiv_on_a_product_knob_centres_on_the_product_value():
    sc = load_scenario(_scenario({"iiv": {"potency": 0.25}}, n=300))
    pot = np.array([p.params["potency"] for p in plan_trial(sc).patients["a"]])
    from mscsim.products import get_product

    assert np.median(pot) == pytest.approx(get_product("msc").potency, rel=0.08)
    assert np.std(np.log(pot), ddof=1) == pytest.approx(math.sqrt(math.log(1 + 0.25**2)), rel=0.15)


def test_scenarios_without_the_new_keys_draw_no_new_covariates():
    plan = plan_trial(resolve_scenario("RA_Park2018"))
    pts = [p for v in plan.patients.values() for p in v]
    assert all(set(p.covariates) == {"weight_kg", "age"} and p.dose_factor == 1.0 for p in pts)


# --- covariates that reach parameters --------------------------------------------------------------

def test_sex_shifts_weight_by_the_icrp_difference_and_keeps_the_mean():
    spec = CovariateSpec(mean=70.0, sd=12.0, min=40, max=140)
    f, m = sex_weight_spec(spec, 1.0, 0.8), sex_weight_spec(spec, 0.0, 0.8)
    assert m.mean - f.mean == pytest.approx(parameters.value("weight_diff_male_female"))
    assert 0.8 * f.mean + 0.2 * m.mean == pytest.approx(70.0)
    assert f.sd ** 2 + 0.8 * 0.2 * 13.0**2 == pytest.approx(144.0)
    sc = load_scenario(_scenario({"covariates": {"female": {"proportion": 0.5}}}, n=400))
    pts = plan_trial(sc).patients["a"]
    wf = np.mean([p.covariates["weight_kg"] for p in pts if p.covariates["female"] == 1.0])
    wm = np.mean([p.covariates["weight_kg"] for p in pts if p.covariates["female"] == 0.0])
    assert wm - wf == pytest.approx(13.0, abs=3.0)


def test_longer_t1d_duration_lowers_beta_cell_mass_as_shields_2018():
    from mscsim.model import build_model

    mp = build_model("t1d", None, "human", "new_onset").ode.params
    typ = {"beta0_t1d_new": 0.3}
    p1 = apply_covariate_effects({}, {"disease_duration_y": 0.25}, typ, mp)["beta0_t1d_new"]
    p3 = apply_covariate_effects({}, {"disease_duration_y": 1.25}, typ, mp)["beta0_t1d_new"]
    p20 = apply_covariate_effects({}, {"disease_duration_y": 20.0}, typ, mp)["beta0_t1d_new"]
    p7 = apply_covariate_effects({}, {"disease_duration_y": 7.0}, typ, mp)["beta0_t1d_new"]
    assert p1 == pytest.approx(0.3)
    assert p3 / p1 == pytest.approx(1 - 0.47, rel=1e-3)        # 47 % per year
    assert p20 == pytest.approx(max(p7, parameters.registry()["beta0_t1d_new"].bounds[0]))  # stable after 7 y


def test_duration_row_reaches_the_screening_c_peptide():
    base = {"name": "t", "disease": "t1d", "subtype": "new_onset", "seed": 5,
            "arms": [{"name": "a", "n": 60, "regimen": []}], "endpoints": [{"name": "c_peptide_auc", "at": "30 d"}]}
    short = plan_trial(load_scenario(base | {"population": {"table1": {"disease_duration_y": {"mean": 0.3, "sd": 0.1}}}}))
    long = plan_trial(load_scenario(base | {"population": {"table1": {"disease_duration_y": {"mean": 2.0, "sd": 0.3}}}}))
    c = [np.mean([p.baseline["c_peptide_auc"] for p in pl.patients["a"]]) for pl in (short, long)]
    assert c[1] < 0.6 * c[0]


# --- errors ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("population, field", [
    ({"table1": {"bogus": {"mean": 1, "sd": 1}}}, "table1"),
    ({"table1": {"female": {"mean": 0.5, "sd": 0.1}}}, "female"),
    ({"table1": {"age": {"proportion": 0.5}}}, "age"),
    ({"iiv": {"not_a_parameter": 0.2}}, "iiv"),
    ({"iiv": {"dose": -0.1}}, "iiv"),
    ({"covariates": {"female": {"mean": 0.5, "sd": 0.1}}}, "female"),
])
def test_bad_population_is_a_one_line_error(population, field):
    with pytest.raises((MscsimError, ValueError)) as exc:
        load_scenario(_scenario(population))
    assert field in str(exc.value) and "\n" not in str(exc.value).strip().split("\n")[0]


@pytest.mark.parametrize("row", [
    {"mean": 1.0, "median": 1.0, "q1": 0, "q3": 2},
    {"median": 5.0, "q1": 6.0, "q3": 8.0},
    {"median": 5.0, "q1": 4.0},
    {"mean": float("nan"), "sd": 1.0},
    {"mean": 1.0, "sd": -1.0},
    {"proportion": 1.2},
    {"sd": 1.0},
])
def test_bad_table1_rows_are_refused(row):
    with pytest.raises((MscsimError, ValueError)):
        load_scenario(_scenario({"table1": {"sledai": row}}))


def test_proportion_row_on_a_continuous_endpoint_is_refused():
    with pytest.raises(MscsimError, match="not 0/1"):
        plan_trial(load_scenario(_scenario({"table1": {"sledai": {"proportion": 0.5}}}, n=5)))


# --- mscsim validate shows the fit beside the outcome rows ---------------------------------------

def test_validate_reports_the_population_fit():
    from mscsim.evidence.validate import format_population_fit, max_abs_smd, population_fit_headline, run_validation

    table = run_validation(only=["SLE_Liang2010"], progress=False, n_sim_min=0)
    fit = table.attrs["population_fit"]
    assert set(fit["row"]) == {"sledai", "proteinuria"} and set(fit["scenario"]) == {"SLE_Liang2010"}
    assert table["table1_max_smd"].iloc[0] == pytest.approx(fit["smd"].abs().max())
    # at the published 12 patients a balanced draw is coarse (the 0.1 evidence is at 100, above);
    # matching must still beat the unmatched pool
    assert max_abs_smd(fit) < fit["pool_smd"].abs().max()
    assert "SLE_Liang2010" in format_population_fit(fit) and "max \\|SMD\\|" in population_fit_headline(fit)


def test_report_shows_the_population_fit(tmp_path):
    from mscsim.report.inputs import ReportInput
    from mscsim.report.render import _simulated_trial

    fit = [{"arm": "MSCT", "row": "sledai", "kind": "mean", "target": 12.2, "target_sd": 3.3, "achieved": 12.18,
            "achieved_sd": 3.34, "smd": -0.005, "pool_smd": 0.33},
           {"arm": "MSCT", "row": "female", "kind": "proportion", "target": 0.9, "target_sd": None,
            "achieved": 0.9, "achieved_sd": None, "smd": 0.0, "pool_smd": -0.03}]
    html = _simulated_trial(ReportInput(tmp_path, "trial", {"arms": [], "population_fit": fit}))
    assert "Table 1 row" in html and "sledai" in html and "90.0%" in html and "-0.005" in html


def test_trial_output_has_the_fit_and_is_the_same_with_two_workers(tmp_path):
    import json

    import pandas as pd

    from mscsim.trial import run_trial, write_trial

    sc = load_scenario(_scenario({"table1": {"sledai": {"mean": 12.2, "sd": 3.3}}, "iiv": {"dose": 0.2}}, n=8))
    one, two = run_trial(sc, progress=False), run_trial(sc, workers=2, progress=False)
    assert json.dumps(one.summary, sort_keys=True) == json.dumps(two.summary, sort_keys=True)
    write_trial(one, tmp_path)
    fit = pd.read_csv(tmp_path / "population_fit.csv")
    assert list(fit["row"]) == ["sledai"] and fit["n"].iloc[0] == 8
    assert json.loads((tmp_path / "summary.json").read_text())["population_fit"][0]["row"] == "sledai"
    assert "dose_factor" in pd.read_parquet(tmp_path / "population.parquet")


def test_an_unreachable_table1_comes_as_close_as_the_pool_allows_and_shows_the_miss():
    x = np.random.default_rng(0).uniform(0.0, 1.0, 500)
    t = Target("x", 1.5, None, False)                      # above every candidate
    sel, w = match_table1({"x": x}, [t], 50, np.random.default_rng(1))
    assert len(sel) == 50 and np.all(np.isfinite(w)) and 50 * w.max() <= 1.0 + 1e-9
    assert x[sel].mean() > np.quantile(x, 0.8)             # pulled toward the target
    assert standardized_difference(x[sel], t) < -0.1       # and the fit reports the miss
