"""Scoring a simulated trial against a published one: predictive intervals at the published arm
size, standardized error, interval score, direction tests at the published n, between-arm effects.

The question each row answers: *if the model is right, where would the published arm result of a
trial of the published size fall?* The answer is a predictive distribution for the published
number, built from the simulated patients:

* **means** (``stat="mean"``, also changes from baseline): the published arm mean of ``n_pub``
  patients, given ``n_sim`` simulated patients with mean m and SD s, has the classical prediction
  interval m +/- t(0.975, n_sim - 1) * s * sqrt(1/n_pub + 1/n_sim) (the textbook interval for the
  mean of a future sample from a normal population estimated by a first sample, e.g. Geisser
  1993, *Predictive Inference* [recalled]). The 1/n_pub term is the published trial's own
  sampling error; the 1/n_sim term is the Monte-Carlo error of the simulated expectation
  (se_sim^2 = s^2/n_sim).
* **proportions**: the number of responders among n_pub patients is binomial(n_pub, p), and p,
  estimated from k of n_sim simulated responders, carries its Monte-Carlo error as a
  Beta(k + 1/2, n_sim - k + 1/2) distribution (Jeffreys); together the published count is
  beta-binomial(n_pub, k + 1/2, n_sim - k + 1/2) and the interval is its exact 2.5 and 97.5 %
  quantiles divided by n_pub.
* **posterior draws** (``draws``: one array of simulated patient values per draw of the
  parameters): for means, the law of total variance, var = mean_d(s_d^2 (1/n_pub + 1/n_d)) +
  var_d(m_d), normal quantiles; for proportions, the equal-weight mixture of the per-draw
  beta-binomials. Parameter uncertainty so widens the interval; without draws it is the model at
  its point estimate.

Interval score (Gneiting & Raftery 2007, JASA 102:359, doi:10.1198/016214506000001437):
IS = (u - l) + 2/alpha (l - x) 1{x < l} + 2/alpha (x - u) 1{x > u}; lower is better, so a wide
interval that covers the published number does not score well. For a calibrated normal forecast
E[IS] = 4.68 sigma at alpha = 0.05 (:data:`CALIBRATED_NORMAL_IS`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from mscsim.errors import MscsimError

ALPHA = 0.05


def _expected_is_normal(alpha: float = ALPHA) -> float:
    """E[IS]/sigma of the central (1 - alpha) interval of a calibrated normal forecast."""
    z = float(sps.norm.ppf(1 - alpha / 2))
    tail = float(sps.norm.pdf(z)) - z * alpha / 2  # E[(X - u)+] / sigma
    return 2 * z + 2 / alpha * 2 * tail


#: expected interval score, in predictive SDs, of a calibrated normal forecast (alpha 0.05): 4.68
CALIBRATED_NORMAL_IS = _expected_is_normal()


@dataclass(frozen=True)
class Predictive:
    """Predictive distribution of one published number: its mean, SD and central 95 % interval."""

    center: float
    sd: float
    low: float
    high: float
    method: str

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high

    def z(self, x: float) -> float | None:
        """Standardized error (x - center) / sd (None when the predictive SD is 0)."""
        return (x - self.center) / self.sd if self.sd > 0 else None

    def score(self, x: float, alpha: float = ALPHA) -> float:
        return interval_score(self.low, self.high, x, alpha)


def interval_score(low: float, high: float, x: float, alpha: float = ALPHA) -> float:
    """Gneiting & Raftery (2007) interval score of the central (1 - alpha) interval [low, high]."""
    if not 0 < alpha < 1:
        raise MscsimError(f"alpha must be in (0, 1), got {alpha}", field="alpha")
    if low > high:
        raise MscsimError(f"interval low {low} is above high {high}", field="interval")
    return (high - low) + 2 / alpha * max(low - x, 0.0) + 2 / alpha * max(x - high, 0.0)


def _clean(x) -> np.ndarray:
    v = np.asarray(x, dtype=float).ravel()
    return v[np.isfinite(v)]


def _check_n(n_pub) -> int:
    if n_pub is None or int(n_pub) < 1:
        raise MscsimError(f"the published arm size must be a positive integer, got {n_pub!r}", field="n")
    return int(n_pub)


# ---------------------------------------------------------------------------------------------
# Arm-level predictive distributions
# ---------------------------------------------------------------------------------------------

def _binary_pmf(x: np.ndarray, n_pub: int) -> np.ndarray:
    """Beta-binomial pmf over 0..n_pub responders given simulated 0/1 outcomes ``x``."""
    k = float(np.sum(x > 0.5))
    n = len(x)
    return sps.betabinom.pmf(np.arange(n_pub + 1), n_pub, k + 0.5, n - k + 0.5)


def _discrete(values: np.ndarray, pmf: np.ndarray, level: float, method: str) -> Predictive:
    order = np.argsort(values, kind="stable")
    v, p = values[order], pmf[order] / pmf.sum()
    cdf = np.cumsum(p)
    a = (1 - level) / 2
    lo = float(v[min(np.searchsorted(cdf, a - 1e-12), len(v) - 1)])
    hi = float(v[min(np.searchsorted(cdf, 1 - a - 1e-12), len(v) - 1)])
    mean = float(np.sum(v * p))
    sd = math.sqrt(max(float(np.sum((v - mean) ** 2 * p)), 0.0))
    return Predictive(mean, sd, lo, hi, method)


def _draw_list(x_patients, draws) -> list[np.ndarray]:
    arrays = [_clean(d) for d in draws] if draws is not None else [_clean(x_patients)]
    arrays = [a for a in arrays if len(a)]
    if not arrays:
        raise MscsimError("no simulated patient values to build a predictive interval from", field="validation")
    return arrays


def _mean_parts(arrays: list[np.ndarray], n_pub: int) -> tuple[float, float, int]:
    """(center, predictive variance, smallest simulated n) for arm means over draws."""
    ms = np.array([a.mean() for a in arrays])
    within = [(a.var(ddof=1) if len(a) > 1 else 0.0) * (1 / n_pub + 1 / len(a)) for a in arrays]
    var = float(np.mean(within)) + (float(np.var(ms, ddof=1)) if len(ms) > 1 else 0.0)
    return float(ms.mean()), var, min(len(a) for a in arrays)


def predictive_interval(x_patients, stat: str, n_pub: int, draws: Sequence | None = None,
                        level: float = 1 - ALPHA) -> Predictive:
    """Predictive distribution of the published arm result of a trial with ``n_pub`` patients.

    ``x_patients``: the simulated patients' values (0/1 for proportions); ``stat``: "proportion"
    or "mean"; ``draws``: optional per-posterior-draw arrays of patient values that replace
    ``x_patients`` (see the module docstring for the formulas and how the Monte-Carlo error of
    the simulated arm enters).
    """
    n_pub = _check_n(n_pub)
    arrays = _draw_list(x_patients, draws)
    if stat == "proportion":
        pmf = np.mean([_binary_pmf(a, n_pub) for a in arrays], axis=0)
        return _discrete(np.arange(n_pub + 1) / n_pub, pmf, level,
                         "beta-binomial" + (f" mixture over {len(arrays)} draws" if draws is not None else ""))
    center, var, n_min = _mean_parts(arrays, n_pub)
    sd = math.sqrt(var)
    if draws is None and n_min > 1:
        q = float(sps.t.ppf(0.5 + level / 2, n_min - 1))
        method = f"t prediction interval (df {n_min - 1})"
    else:
        q = float(sps.norm.ppf(0.5 + level / 2))
        method = "normal, law of total variance" + (f" over {len(arrays)} draws" if draws is not None else "")
    return Predictive(center, sd, center - q * sd, center + q * sd, method)


def predictive_difference(xa, xb, stat: str, na_pub: int, nb_pub: int, draws_a: Sequence | None = None,
                          draws_b: Sequence | None = None, level: float = 1 - ALPHA) -> Predictive:
    """Predictive distribution of the published between-arm difference (arm a - arm b).

    Means: difference of the two arm predictives (variances add; Welch-Satterthwaite df without
    draws). Proportions: the exact distribution of X_a/n_a - X_b/n_b with independent
    beta-binomial counts. Draws, when given for both arms, are paired (draw d of a with draw d of
    b, as common random numbers give them) and the mixture is taken over the pairs.
    """
    na_pub, nb_pub = _check_n(na_pub), _check_n(nb_pub)
    A, B = _draw_list(xa, draws_a), _draw_list(xb, draws_b)
    if (draws_a is None) != (draws_b is None) or len(A) != len(B):
        raise MscsimError("posterior draws must be given for both arms, in equal numbers", field="draws")
    if stat == "proportion":
        vals = (np.arange(na_pub + 1)[:, None] / na_pub - np.arange(nb_pub + 1)[None, :] / nb_pub).ravel()
        pmf = np.mean([np.outer(_binary_pmf(a, na_pub), _binary_pmf(b, nb_pub)).ravel()
                       for a, b in zip(A, B)], axis=0)
        vals = np.round(vals, 12)
        uniq, inv = np.unique(vals, return_inverse=True)
        return _discrete(uniq, np.bincount(inv, weights=pmf), level, "difference of beta-binomials")
    if draws_a is None:
        ca, va, nsa = _mean_parts(A, na_pub)
        cb, vb, nsb = _mean_parts(B, nb_pub)
        var = va + vb
        den = (va**2 / (nsa - 1) if nsa > 1 else 0.0) + (vb**2 / (nsb - 1) if nsb > 1 else 0.0)
        df = var**2 / den if den > 0 else math.inf
        q = float(sps.t.ppf(0.5 + level / 2, df)) if math.isfinite(df) else float(sps.norm.ppf(0.5 + level / 2))
        sd = math.sqrt(var)
        return Predictive(ca - cb, sd, ca - cb - q * sd, ca - cb + q * sd, "t, Welch-Satterthwaite df")
    diffs = np.array([a.mean() - b.mean() for a, b in zip(A, B)])
    within = [(a.var(ddof=1) if len(a) > 1 else 0.0) * (1 / na_pub + 1 / len(a))
              + (b.var(ddof=1) if len(b) > 1 else 0.0) * (1 / nb_pub + 1 / len(b)) for a, b in zip(A, B)]
    var = float(np.mean(within)) + (float(np.var(diffs, ddof=1)) if len(diffs) > 1 else 0.0)
    sd, q, c = math.sqrt(var), float(sps.norm.ppf(0.5 + level / 2)), float(diffs.mean())
    return Predictive(c, sd, c - q * sd, c + q * sd, f"normal, law of total variance over {len(A)} draws")


# ---------------------------------------------------------------------------------------------
# Direction claims at the published n
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DirectionResult:
    """A published "decrease/increase (P < 0.05)" claim, re-tested on the simulated patients."""

    estimate: float          # mean change (or between-arm difference of mean changes)
    arm_change: float        # the arm's own mean change (what the MCID applies to)
    p_value: float           # two-sided, at the published n
    mcid: float | None       # minimal clinically important difference (magnitude), None: not applied
    sign_ok: bool
    significant: bool
    clinically_important: bool

    @property
    def holds(self) -> bool:
        return self.sign_ok and self.significant and self.clinically_important


def direction_test(x_change, expect: str, n_pub: int, mcid: float | None, *, x_control=None,
                   n_control_pub: int | None = None, alpha: float = ALPHA) -> DirectionResult:
    """Is the published direction reached with p < alpha at the published n, by at least the MCID?

    Within the arm (``x_control`` None): one-sample t test of the mean change, SE = s/sqrt(n_pub)
    with the simulated SD s, df n_pub - 1. Against a control arm: Welch test of the difference of
    mean changes, SE = sqrt(s_a^2/n_pub + s_c^2/n_control_pub), Welch-Satterthwaite df; the
    difference must have the published sign. In both cases the arm's mean change must reach
    ``mcid`` in the published direction (the MCID is a within-patient change; the control arm
    enters through the test). The simulated SDs and means stand in for the published ones: this
    is the expected result of a trial of the published size if the model is right.
    """
    if expect not in ("decrease", "increase"):
        raise MscsimError(f"expect must be 'decrease' or 'increase', got {expect!r}", field="expect")
    n_pub = _check_n(n_pub)
    a = _clean(x_change)
    if len(a) == 0:
        raise MscsimError("no simulated changes to test", field="validation")
    sign = -1.0 if expect == "decrease" else 1.0
    sa2 = float(a.var(ddof=1)) if len(a) > 1 else 0.0
    if x_control is None:
        est, var, df = float(a.mean()), sa2 / n_pub, n_pub - 1
    else:
        c = _clean(x_control)
        nc = _check_n(n_control_pub)
        if len(c) == 0:
            raise MscsimError("no simulated changes in the control arm", field="validation.vs")
        sc2 = float(c.var(ddof=1)) if len(c) > 1 else 0.0
        est = float(a.mean() - c.mean())
        va, vc = sa2 / n_pub, sc2 / nc
        var = va + vc
        den = (va**2 / (n_pub - 1) if n_pub > 1 else 0.0) + (vc**2 / (nc - 1) if nc > 1 else 0.0)
        df = var**2 / den if den > 0 else math.inf
    if var > 0 and df >= 1:
        p = float(2 * sps.t.sf(abs(est) / math.sqrt(var), df))
    else:
        p = 0.0 if (var == 0 and est != 0) else 1.0
    sign_ok = sign * est > 0
    mcid_ok = True if mcid is None else sign * float(a.mean()) >= mcid
    return DirectionResult(est, float(a.mean()), p, mcid, sign_ok, p < alpha, mcid_ok)


# ---------------------------------------------------------------------------------------------
# Ratios of a safety event between arms (risk ratio, odds ratio; mscsim.safety)
# ---------------------------------------------------------------------------------------------

def pooled_risk(arrays: Sequence, weights: Sequence[float] | None = None) -> tuple[float, float]:
    """(risk, Monte-Carlo SE) of arms pooled with ``weights`` (default: their sizes) from each arm's
    simulated per-patient event probabilities: sum w_a mean_a, sqrt(sum w_a^2 var_a / n_a)."""
    arrs = [_clean(a) for a in arrays]
    arrs = [a for a in arrs if len(a)]
    if not arrs:
        raise MscsimError("no simulated patient risks to build a predictive interval from", field="validation")
    w = np.array([len(a) for a in arrs] if weights is None else list(weights), dtype=float)
    w = w / w.sum()
    p = float(sum(wi * a.mean() for wi, a in zip(w, arrs)))
    var = float(sum(wi * wi * (a.var(ddof=1) / len(a) if len(a) > 1 else 0.0) for wi, a in zip(w, arrs)))
    return p, math.sqrt(var)


def _risk_pmf(risk: tuple[float, float], n_pub: int) -> tuple[np.ndarray, np.ndarray]:
    """(counts, pmf) of events among ``n_pub`` patients given the simulated risk and its Monte-Carlo
    SE (``pooled_risk``): binomial mixed over that error with 5 Gauss-Hermite nodes; the support
    is cut where the pmf < 1e-12."""
    p, se = risk
    nodes, weights = np.polynomial.hermite_e.hermegauss(5)
    k = np.arange(n_pub + 1)
    pmf = sum(w * sps.binom.pmf(k, n_pub, min(max(p + se * z, 0.0), 1.0)) for z, w in zip(nodes, weights))
    pmf = pmf / pmf.sum()
    keep = pmf > 1e-12
    return k[keep], pmf[keep]


def predictive_ratio(risk_a: tuple[float, float], risk_b: tuple[float, float], measure: str, na_pub: int,
                     nb_pub: int, level: float = 1 - ALPHA) -> Predictive:
    """Predictive distribution of the published risk ratio or odds ratio (arm a vs arm b) of a
    trial with ``na_pub`` and ``nb_pub`` patients, from the simulated (risk, Monte-Carlo SE) of each
    arm (``pooled_risk``; the risk is the mean per-patient event probability): the exact
    distribution of the ratio of two independent binomial counts (0.5 added to every cell of a
    table with a zero cell, Haldane-Anscombe). ``center`` is the ratio of the simulated risks."""
    if measure not in ("risk_ratio", "odds_ratio"):
        raise MscsimError(f"unknown ratio measure {measure!r}; accepted: risk_ratio, odds_ratio", field="compare")
    na_pub, nb_pub = _check_n(na_pub), _check_n(nb_pub)
    ka, pa = _risk_pmf(risk_a, na_pub)
    kb, pb = _risk_pmf(risk_b, nb_pub)
    a, b = np.meshgrid(ka.astype(float), kb.astype(float), indexing="ij")
    zero = (a == 0) | (b == 0) | (a == na_pub) | (b == nb_pub)
    c = np.where(zero, 0.5, 0.0)
    if measure == "risk_ratio":
        vals = ((a + c) / (na_pub + 2 * c)) / ((b + c) / (nb_pub + 2 * c))
    else:
        vals = ((a + c) / (na_pub - a + c)) / ((b + c) / (nb_pub - b + c))
    pred = _discrete(vals.ravel(), np.outer(pa, pb).ravel(), level,
                     f"{measure.replace('_', ' ')} of two binomials (Haldane 0.5 on zero cells)")
    ma, mb = risk_a[0], risk_b[0]
    if measure == "risk_ratio":
        center = ma / mb if mb > 0 else math.inf
    else:
        center = (ma / (1 - ma)) / (mb / (1 - mb)) if 0 < mb < 1 and ma < 1 else math.inf
    return Predictive(center, pred.sd, pred.low, pred.high, pred.method)
