"""Calibration as inference and predictive intervals (issue 14): tests of the mathematics on synthetic
data from known parameter values, with a toy arm-level model cheap enough for 20 repeats.

Toy trial: a patient in an arm with dose d responds y = a + b d / (1 + d) + sigma z (z standard
normal). The published arms are means of n_pub patients drawn with the true (a, b); the simulator
uses n_sim virtual patients whose z are fixed across evaluations (common random numbers), exactly
as ``calibrate.simulate_targets`` does with the disease models.
"""

import math

import numpy as np
import pytest
from scipy.optimize import minimize

from mscsim import calibrate as cal
from mscsim import uncertainty as unc
from mscsim.errors import MscsimError

TRUE = {"a": 1.5, "b": 2.0}
NAMES = list(TRUE)
#: flat priors on the scale on which the arm means are linear in (a, b), so the posterior is Gaussian
#: and its 95 % intervals have 95 % frequentist coverage (a flat prior on log b shifts b's coverage
#: to about 92 %: found with 150 repeats; that is the prior, not the sampler)
TR = [cal.Transform(-5.0, 5.0, False), cal.Transform(0.05, 20.0, False)]
TR_LOG = [cal.Transform(-5.0, 5.0, False), cal.Transform(0.05, 20.0, True)]
DOSES = np.array([0.0, 1.0, 4.0])      # published arms (calibration records)
HELD_BACK = np.array([0.5, 2.0, 8.0])  # arms the fit never sees
SIGMA, N_PUB, N_SIM, N_NEW = 1.0, 30, 20, 30
#: the issue asks for >= 90 % coverage in 20 repeats; a method with exactly 95 % coverage fails
#: that in 7.5 % of seeds per parameter (binomial), so the test uses 100 repeats with the same bar
#: (chance failure ~1.5 % per parameter). The first seed set with 20 repeats gave a 17/20, b 20/20.
REPEATS = 100


def arm_response(theta, d):
    return theta["a"] + theta["b"] * d / (1.0 + d)


def published_arms(rng, doses, n):
    """Arm means and their standard errors (sample SD / sqrt(n)) of fresh patients under the truth."""
    y = arm_response(TRUE, doses)[:, None] + SIGMA * rng.standard_normal((len(doses), n))
    return y.mean(axis=1), y.std(axis=1, ddof=1) / math.sqrt(n)


def crn_simulator(rng):
    z = rng.standard_normal((len(DOSES), N_SIM))  # the virtual patients, fixed for every evaluation

    def simulate(theta):
        y = arm_response(theta, DOSES)[:, None] + SIGMA * z
        return y.mean(axis=1), y.std(axis=1, ddof=1) / math.sqrt(N_SIM)

    return simulate


def least_squares_start(simulate, obs, se):
    def nll(x):
        th = {n: t.to_v(xi) for n, t, xi in zip(NAMES, TR, x)}
        sim, se_sim = simulate(th)
        return -cal.log_likelihood(sim, se_sim, obs, se)

    x = minimize(nll, [0.0, 0.0], method="Nelder-Mead").x
    return {n: t.to_v(xi) for n, t, xi in zip(NAMES, TR, x)}


def one_repeat(r):
    rng = np.random.default_rng(np.random.SeedSequence([14, r]))
    obs, se = published_arms(rng, DOSES, N_PUB)
    simulate = crn_simulator(rng)
    start = least_squares_start(simulate, obs, se)
    post = cal.sample_posterior(simulate, obs, se, NAMES, start, tr=TR, walkers=8, steps=200, burn=50, seed=r)
    return rng, post


@pytest.fixture(scope="module")
def repeats():  # ~40 s on a free core
    return [one_repeat(r) for r in range(REPEATS)]


@pytest.mark.slow
def test_posterior_credible_intervals_cover_the_truth(repeats):
    for i, name in enumerate(NAMES):
        covered = 0
        for _, post in repeats:
            s = post.summary()[name]
            covered += s["low"] <= TRUE[name] <= s["high"]
        assert covered >= 0.9 * REPEATS, (name, covered)


@pytest.mark.slow
def test_chain_diagnostics_are_reported(repeats):
    _, post = repeats[0]
    assert 0.2 < post.acceptance < 0.8            # a healthy stretch-move acceptance on a smooth target
    assert all(np.isfinite(t) and t > 0 for t in post.autocorr.values())
    assert post.ess == pytest.approx(len(post.samples) / max(post.autocorr.values()))
    assert post.samples.shape == (8 * 150, 2)


@pytest.mark.slow
def test_predictive_intervals_cover_held_back_arms_at_their_nominal_rate(repeats):
    """Draw k: posterior row k plus a fresh trial arm of N_NEW patients; the 95 % interval of the
    arm means must hold a held-back published-size arm (drawn under the truth) about 95 % of the
    time, and not by being needlessly wide."""
    hits, widths = [], []
    for rng, post in repeats:
        rows = post.samples[rng.choice(len(post.samples), size=200)]
        theta = {"a": rows[:, 0], "b": rows[:, 1]}
        for d in HELD_BACK:
            pred = arm_response(theta, d) + SIGMA * rng.standard_normal((len(rows), N_NEW)).mean(axis=1)
            pi = unc.predictive_interval(list(pred))
            held_back, _ = published_arms(rng, np.array([d]), N_NEW)
            hits.append(pi["low"] <= held_back[0] <= pi["high"])
            widths.append(pi["high"] - pi["low"])
    coverage = np.mean(hits)
    assert 0.92 <= coverage <= 0.98, coverage  # 300 checks: binomial SD 1.3 points around 95 %
    oracle = 2 * 1.96 * SIGMA / math.sqrt(N_NEW)  # the width if the parameters were known exactly
    assert oracle < np.mean(widths) < 1.6 * oracle, (np.mean(widths), oracle)


@pytest.mark.slow
def test_ignoring_the_simulated_arms_own_error_is_overconfident():
    """Why se_sim is in the likelihood: with 10 virtual patients per arm against large published
    arms, leaving the simulator's own error out makes the credible intervals far too narrow."""
    def coverage(with_sim_error):
        covered = 0
        for r in range(20):
            rng = np.random.default_rng(np.random.SeedSequence([41, r]))
            obs, se = published_arms(rng, DOSES, 200)
            z = rng.standard_normal((len(DOSES), 10))

            def simulate(theta):
                y = arm_response(theta, DOSES)[:, None] + SIGMA * z
                return y.mean(axis=1), (y.std(axis=1, ddof=1) / math.sqrt(10)) * with_sim_error

            post = cal.sample_posterior(simulate, obs, se, NAMES, TRUE, tr=TR, walkers=8, steps=150, seed=r)
            s = post.summary()["a"]
            covered += s["low"] <= TRUE["a"] <= s["high"]
        return covered / 20

    with_error, without = coverage(1.0), coverage(0.0)
    assert without < 0.5 and with_error - without >= 0.5, (with_error, without)


def test_log_likelihood_is_the_gaussian_with_both_variances():
    from scipy.stats import norm

    sim, se_sim, obs, se = np.array([1.0, 2.0]), np.array([0.3, 0.1]), np.array([1.4, 1.7]), np.array([0.2, 0.5])
    want = norm.logpdf(obs, sim, np.sqrt(se**2 + se_sim**2)).sum()
    assert cal.log_likelihood(sim, se_sim, obs, se) == pytest.approx(want)
    assert cal.log_likelihood([np.nan, 1.0], se_sim, obs, se) == -np.inf


def test_prior_support_is_the_table_bounds():
    simulate = crn_simulator(np.random.default_rng(0))
    obs, se = np.array([1.5, 2.5, 3.1]), np.full(3, 0.2)
    post = cal.sample_posterior(simulate, obs, se, NAMES, TRUE, tr=TR_LOG, walkers=8, steps=60, seed=1)
    assert np.all(post.samples[:, 0] >= -5.0) and np.all(post.samples[:, 0] <= 5.0)
    assert np.all(post.samples[:, 1] >= 0.05) and np.all(post.samples[:, 1] <= 20.0)
    with pytest.raises(MscsimError):
        cal.sample_posterior(simulate, obs, se, NAMES, TRUE, tr=TR_LOG, walkers=3, steps=10)


def test_assurance_and_its_monte_carlo_error():
    a = unc.assurance([0.01, 0.2, None, 0.04, float("nan")], alpha=0.05)
    assert a["value"] == pytest.approx(2 / 5)
    assert a["mc_error"] == pytest.approx(math.sqrt(0.4 * 0.6 / 5))
    assert unc.predictive_interval([None, np.nan])["median"] is None


def test_profile_fallback_draws_stay_within_the_ci_shape():
    """Draws from a calibration file without posterior: median at the fitted value, about 95 %
    inside a closed profile CI, and an open side reaching towards the table bound."""
    calib = {"parameters": {"placebo_max_ra": {"value": 0.2, "ci_low": 0.1, "ci_high": 0.35}}}
    d = unc.profile_draws(calib, 4000, np.random.default_rng(3))["placebo_max_ra"].to_numpy()
    assert np.median(d) == pytest.approx(0.2, abs=0.01)
    assert 0.93 < np.mean((d >= 0.1) & (d <= 0.35)) < 0.97
    calib["parameters"]["placebo_max_ra"]["ci_high"] = None  # open: table bound 0.6
    d = unc.profile_draws(calib, 4000, np.random.default_rng(3))["placebo_max_ra"].to_numpy()
    assert np.quantile(d, 0.975) == pytest.approx(0.6, abs=0.03)
    assert d.max() <= 0.6


def test_a_parameter_shared_by_several_disease_models_is_refused():
    models = {"ra": frozenset({"P50", "placebo_ra"}), "t1d": frozenset({"P50", "r_t1d"}),
              "ms": frozenset({"P50"})}
    cal.check_not_shared(["placebo_ra"], "ra", models)  # disease-specific: fine
    with pytest.raises(MscsimError, match=r"P50 \(also in the ms, t1d models\).*disease-specific name"):
        cal.check_not_shared(["placebo_ra", "P50"], "ra", models)


@pytest.mark.slow
def test_uncertainty_run_is_the_same_with_one_and_two_workers():
    from mscsim.scenario import load_scenario
    from mscsim.trial import run_trial

    sc = load_scenario({
        "name": "uncertainty determinism", "disease": "ra", "seed": 5,
        "arms": [{"name": "msc", "n": 4, "regimen": [{"dose": "1e6 cells/kg", "route": "iv"}]},
                 {"name": "placebo", "n": 4, "regimen": []}],
        "endpoints": [{"name": "das28_esr", "at": "30 d"}],
    })
    one = run_trial(sc, uncertainty=3, workers=1, progress=False).summary
    two = run_trial(sc, uncertainty=3, workers=2, progress=False).summary
    assert one == two
    e = one["arms"][0]["endpoints"][0]["predictive"]
    assert e["draws"] == 3 and e["low"] <= e["median"] <= e["high"]
    a = one["comparisons"][0]["assurance"]
    assert a["draws"] == 3 and 0.0 <= a["value"] <= 1.0
    assert one["uncertainty"]["source"]


def test_report_tables_show_predictive_intervals_and_assurance():
    from types import SimpleNamespace

    from mscsim.report.render import _trial_tables

    ep = {"name": "acr20", "at_days": 90.0, "stat": "proportion", "value": 0.4, "sd": None, "ci_low": 0.2,
          "ci_high": 0.6}
    summary = {"arms": [{"name": "msc", "endpoints": [dict(ep, predictive={"median": 0.45, "low": 0.25,
                                                                             "high": 0.7, "draws": 50})]},
                        {"name": "placebo", "endpoints": [dict(ep, value=0.1)]}],
               "comparisons": [{"endpoint": "acr20", "at_days": 90.0, "arm": "msc", "vs": "placebo",
                                "difference": 0.3, "ci_low": 0.05, "ci_high": 0.55, "p_value": 0.02,
                                "assurance": {"value": 0.62, "mc_error": 0.069, "draws": 50, "alpha": 0.05},
                                "predictive_difference": {"median": 0.3, "low": 0.0, "high": 0.6, "draws": 50}}],
               "uncertainty": {"draws": 50, "alpha": 0.05, "source": "posterior sample ra.posterior.csv"}}
    html = _trial_tables(SimpleNamespace(summary=summary, disease="ra"))
    assert "45% (25% to 70%)" in html and "0.62 \u00b1 0.07" in html and "50 parameter draws" in html
    del summary["uncertainty"]
    assert "predictive" not in _trial_tables(SimpleNamespace(summary=summary, disease="ra"))
