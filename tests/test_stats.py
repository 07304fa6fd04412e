"""mscsim.stats: the hand-written Wilson, Newcombe and score formulas (written out to keep
scipy.stats and statsmodels out of every trial's start-up, issue 19) agree with statsmodels,
and the t-based summaries with scipy.stats, which are imported here only."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from mscsim.stats import compare, newcombe_interval, score_test_difference, summarize, wilson_interval

sm_prop = pytest.importorskip("statsmodels.stats.proportion")
sps = pytest.importorskip("scipy.stats")

GRID = [(k, n) for n in (1, 2, 3, 5, 10, 37, 100, 1000)
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}) if 0 <= k <= n]


@pytest.mark.parametrize("k,n", GRID)
def test_wilson_matches_statsmodels(k, n):
    lo, hi = wilson_interval(k, n)
    ref = sm_prop.proportion_confint(k, n, alpha=0.05, method="wilson")
    assert (lo, hi) == pytest.approx(ref, abs=1e-10, rel=1e-10)
    assert 0.0 <= lo <= k / n + 1e-15 and k / n - 1e-15 <= hi <= 1.0  # at k = 0 or n the bound is exact up to rounding


def _pairs():
    cells = [(0, 5), (5, 5), (1, 3), (2, 10), (10, 10), (0, 100), (37, 100), (99, 100), (250, 1000), (1, 1)]
    return [(a, b) for a in cells for b in cells]


@pytest.mark.parametrize("a,b", _pairs())
def test_newcombe_and_score_match_statsmodels(a, b):
    (k1, n1), (k2, n2) = a, b
    with warnings.catch_warnings():  # statsmodels also computes ratio/odds (division by 0 at k = 0)
        warnings.simplefilter("ignore", RuntimeWarning)
        ref_ci = sm_prop.confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
        pooled = (k1 + k2) / (n1 + n2)
        ref_test = (sm_prop.test_proportions_2indep(k1, n1, k2, n2, method="score", compare="diff")
                    if 0 < pooled < 1 else None)
    assert newcombe_interval(k1, n1, k2, n2) == pytest.approx(tuple(map(float, ref_ci)), abs=1e-10, rel=1e-10)
    if ref_test is not None:
        z, p = score_test_difference(k1, n1, k2, n2)
        assert z == pytest.approx(float(ref_test.statistic), abs=1e-10, rel=1e-10)
        assert p == pytest.approx(float(ref_test.pvalue), abs=1e-10, rel=1e-10)


def test_score_test_is_pooled_z_with_n_over_n_minus_1():
    """The formula itself (Miettinen & Nurminen 1985 at H0 difference 0): pooled p, N/(N-1)."""
    k1, n1, k2, n2 = 12, 40, 5, 38
    p = (k1 + k2) / (n1 + n2)
    var = p * (1 - p) * (1 / n1 + 1 / n2) * (n1 + n2) / (n1 + n2 - 1)
    z = (k1 / n1 - k2 / n2) / math.sqrt(var)
    assert score_test_difference(k1, n1, k2, n2) == pytest.approx((z, math.erfc(abs(z) / math.sqrt(2))), rel=1e-12)


def test_summaries_and_comparisons_match_scipy_stats():
    rng = np.random.default_rng(7)
    for n in (2, 3, 11, 200):
        v = rng.normal(3.0, 1.2, n)
        s = summarize(v, "mean")
        half = sps.t.ppf(0.975, n - 1) * np.std(v, ddof=1) / math.sqrt(n)
        assert (s["ci_low"], s["ci_high"]) == pytest.approx((v.mean() - half, v.mean() + half), rel=1e-12)
        w = rng.normal(2.5, 0.7, n + 3)
        c = compare(v, w, "mean")
        ref = sps.ttest_ind(v, w, equal_var=False)
        assert c["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
        ci = ref.confidence_interval(0.95)
        assert (c["ci_low"], c["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-10)


def test_proportion_summary_and_comparison_use_the_formulas():
    a = np.array([1, 1, 0, 1, 0, 1, 1, 0, 0, 1], float)
    b = np.array([0, 0, 1, 0, 0, 0, 1, 0], float)
    s = summarize(a, "proportion")
    assert (s["ci_low"], s["ci_high"]) == pytest.approx(sm_prop.proportion_confint(6, 10, method="wilson"), rel=1e-12)
    c = compare(a, b, "proportion")
    assert c["difference"] == pytest.approx(6 / 10 - 2 / 8)
    assert c["p_value"] == pytest.approx(
        float(sm_prop.test_proportions_2indep(6, 10, 2, 8, method="score", compare="diff").pvalue), rel=1e-12)
    # all responders in both arms: no difference, p = 1
    assert compare(np.ones(4), np.ones(6), "proportion") == {"difference": 0.0, "ci_low": 0.0, "ci_high": 0.0,
                                                             "p_value": 1.0}


def test_the_normal_quantile_written_out_is_scipys():
    """z_{0.975}, a literal in mscsim.stats (scipy.special stays out of the start-up), is the
    double scipy.stats.norm.isf(0.025) gives, bit for bit."""
    from scipy.special import ndtri

    from mscsim.stats import _Z975

    assert _Z975 == float(-ndtri(0.025)) == float(sps.norm.isf(0.025))
