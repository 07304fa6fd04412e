"""Trial statistics: per-arm summaries and between-arm comparisons (scipy/statsmodels).

Means: mean, SD, 95 % CI from the t distribution; comparisons by Welch's t-test.
Proportions: Wilson 95 % CI; comparisons by the score test for two independent proportions
with a Newcombe 95 % CI of the difference (statsmodels).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import stats as sps
from statsmodels.stats.proportion import (confint_proportions_2indep, proportion_confint,
                                          test_proportions_2indep)


def _f(x) -> float | None:
    """JSON-safe float (None for NaN/inf)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def summarize(values, stat: str) -> dict:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = len(v)
    if n == 0:
        return {"stat": stat, "value": None, "sd": None, "ci_low": None, "ci_high": None, "n": 0}
    if stat == "proportion":
        k = float(np.sum(v > 0.5))
        lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
        p = k / n
        return {"stat": stat, "value": _f(p), "sd": _f(math.sqrt(p * (1 - p))), "ci_low": _f(lo),
                "ci_high": _f(hi), "n": n}
    m = float(np.mean(v))
    sd = float(np.std(v, ddof=1)) if n > 1 else 0.0
    if n > 1 and sd > 0:
        half = float(sps.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
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
        with warnings.catch_warnings():  # statsmodels also computes ratio/odds (division by 0 at k = 0)
            warnings.simplefilter("ignore", RuntimeWarning)
            lo, hi = confint_proportions_2indep(ka, na, kb, nb, method="newcomb", compare="diff")
            res = test_proportions_2indep(ka, na, kb, nb, method="score", compare="diff")
        return {"difference": _f(diff), "ci_low": _f(lo), "ci_high": _f(hi), "p_value": _f(res.pvalue)}
    diff = float(np.mean(a) - np.mean(b))
    va = np.var(a, ddof=1) / len(a) if len(a) > 1 else 0.0
    vb = np.var(b, ddof=1) / len(b) if len(b) > 1 else 0.0
    se = math.sqrt(va + vb)
    if se == 0:
        return {"difference": _f(diff), "ci_low": _f(diff), "ci_high": _f(diff),
                "p_value": 1.0 if diff == 0 else 0.0}
    df = (va + vb) ** 2 / ((va**2 / (len(a) - 1) if len(a) > 1 else 0) + (vb**2 / (len(b) - 1) if len(b) > 1 else 0))
    t = diff / se
    p = 2 * sps.t.sf(abs(t), df)
    half = float(sps.t.ppf(0.975, df)) * se
    return {"difference": _f(diff), "ci_low": _f(diff - half), "ci_high": _f(diff + half), "p_value": _f(p)}
