"""Trial statistics: per-arm summaries and between-arm comparisons.

Means: mean, SD, 95 % CI from the t distribution; comparisons by Welch's t-test.
Proportions: Wilson 95 % CI; comparisons by the score test for two independent proportions
with a Newcombe 95 % CI of the difference.

The t and normal distributions come from ``scipy.special`` (stdtr, stdtrit, ndtr, ndtri: the
functions behind ``scipy.stats.t`` and ``scipy.stats.norm``). The three proportion formulas are
written out here, operation for operation as statsmodels 0.15 computes them
(``proportion_confint(method="wilson")``, ``confint_proportions_2indep(method="newcomb")``,
``test_proportions_2indep(method="score", compare="diff")``; bit-identical on a grid of 28,000
cases): importing ``scipy.stats`` and statsmodels cost ~0.5-0.9 s of CPU in every ``mscsim
trial`` run (issue 19), for about twenty lines of arithmetic. ``tests/test_stats.py`` pins them
to statsmodels.
"""

from __future__ import annotations

import math

import numpy as np

#: the two-sided 95 % normal quantile, z_{0.975}: ``-scipy.special.ndtri(0.025)``, as
#: ``scipy.stats.norm.isf(0.025)`` gives it (tests/test_stats.py checks the bits). A literal, and
#: scipy.special imported where a distribution is first needed (as the trial is summarised): its
#: import, ~0.08 s, is then off the start-up of every ``mscsim trial`` (issue 19)
_Z975 = 1.9599639845400545


def _f(x) -> float | None:
    """JSON-safe float (None for NaN/inf)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def wilson_interval(k: int, n: int, z: float = _Z975) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion k/n (Wilson 1927, J Am Stat Assoc
    22:209-212, doi:10.1080/01621459.1927.10502953), clipped to [0, 1] against rounding."""
    p = np.float64(k) / n
    z2 = np.float64(z) ** 2
    denom = 1 + z2 / n
    center = (p + z2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n**2)) / denom
    return float(np.clip(center - half, 0, 1)), float(np.clip(center + half, 0, 1))


def newcombe_interval(k1: int, n1: int, k2: int, n2: int, z: float = _Z975) -> tuple[float, float]:
    """Newcombe's hybrid score interval of p1 - p2 from the two Wilson intervals (Newcombe 1998,
    method 10, Stat Med 17:873-890, doi:10.1002/(SICI)1097-0258(19980430)17:8<873::AID-SIM779>3.0.CO;2-I)."""
    p1, p2 = np.float64(k1) / n1, np.float64(k2) / n2
    low1, upp1 = wilson_interval(k1, n1, z)
    low2, upp2 = wilson_interval(k2, n2, z)
    diff = p1 - p2
    return (float(diff - np.sqrt((p1 - low1) ** 2 + (upp2 - p2) ** 2)),
            float(diff + np.sqrt((p2 - low2) ** 2 + (upp1 - p1) ** 2)))


def score_test_difference(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float]:
    """Score test of H0 p1 = p2 (Miettinen & Nurminen 1985, Stat Med 4:213-226,
    doi:10.1002/sim.4780040211): under H0 the restricted MLE of both proportions is the pooled
    k/N; variance p(1-p)(1/n1 + 1/n2) with their N/(N-1) correction (statsmodels' default).
    Returns (z, two-sided p). Undefined (division by zero) when the pooled proportion is 0 or 1."""
    n, k = n1 + n2, k1 + k2
    p1, p2 = np.float64(k1) / n1, np.float64(k2) / n2
    pooled = np.float64(k) / n
    var = pooled * (1 - pooled) / n1 + pooled * (1 - pooled) / n2
    var *= n / (n - 1)
    z = (p1 - p2) / np.sqrt(var)
    from scipy.special import ndtr

    return float(z), float(ndtr(-np.abs(z)) * 2)


def summarize(values, stat: str) -> dict:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = len(v)
    if n == 0:
        return {"stat": stat, "value": None, "sd": None, "ci_low": None, "ci_high": None, "n": 0}
    if stat == "proportion":
        k = float(np.sum(v > 0.5))
        lo, hi = wilson_interval(int(k), n)
        p = k / n
        return {"stat": stat, "value": _f(p), "sd": _f(math.sqrt(p * (1 - p))), "ci_low": _f(lo),
                "ci_high": _f(hi), "n": n}
    m = float(np.mean(v))
    sd = float(np.std(v, ddof=1)) if n > 1 else 0.0
    if n > 1 and sd > 0:
        from scipy.special import stdtrit

        half = float(stdtrit(n - 1, 0.975)) * sd / math.sqrt(n)
    else:
        half = 0.0
    return {"stat": stat, "value": _f(m), "sd": _f(sd), "ci_low": _f(m - half), "ci_high": _f(m + half), "n": n}


def compare(a, b, stat: str) -> dict:
    """Difference a - b with 95 % CI and two-sided p-value."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) == 0 or len(b) == 0:
        return {"difference": None, "ci_low": None, "ci_high": None, "p_value": None}
    if stat == "proportion":
        ka, kb = int(np.sum(a > 0.5)), int(np.sum(b > 0.5))
        na, nb = len(a), len(b)
        diff = ka / na - kb / nb
        if ka in (0, na) and kb in (0, nb) and ka / na == kb / nb:
            return {"difference": _f(diff), "ci_low": _f(diff), "ci_high": _f(diff), "p_value": 1.0}
        lo, hi = newcombe_interval(ka, na, kb, nb)
        _, p_value = score_test_difference(ka, na, kb, nb)
        return {"difference": _f(diff), "ci_low": _f(lo), "ci_high": _f(hi), "p_value": _f(p_value)}
    diff = float(np.mean(a) - np.mean(b))
    va = np.var(a, ddof=1) / len(a) if len(a) > 1 else 0.0
    vb = np.var(b, ddof=1) / len(b) if len(b) > 1 else 0.0
    se = math.sqrt(va + vb)
    if se == 0:
        return {"difference": _f(diff), "ci_low": _f(diff), "ci_high": _f(diff),
                "p_value": 1.0 if diff == 0 else 0.0}
    df = (va + vb) ** 2 / ((va**2 / (len(a) - 1) if len(a) > 1 else 0) + (vb**2 / (len(b) - 1) if len(b) > 1 else 0))
    t = diff / se
    from scipy.special import stdtr, stdtrit

    p = 2 * stdtr(df, -abs(t))
    half = float(stdtrit(df, 0.975)) * se
    return {"difference": _f(diff), "ci_low": _f(diff - half), "ci_high": _f(diff + half), "p_value": _f(p)}
