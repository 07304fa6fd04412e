"""Random-effects meta-analysis of the shipped evidence records.

Two parts:

* **Effect sizes** from comparable records (:func:`build_effects`): for each trial, an MSC arm
  against a control arm of the same report at the same time (risk difference or log odds ratio
  for proportions, mean difference or Hedges' g for means), a reported between-arm difference
  with its CI (variance from the CI), or, when no control arm exists, the MSC arms alone (logit
  or raw proportion, mean). Formulas follow metafor's ``escalc`` (Viechtbauer 2010,
  doi:10.18637/jss.v036.i03) and the Cochrane Handbook (Higgins et al., ch. 6 and 23.3.4:
  several MSC dose arms of one trial are merged into one group before comparing with control,
  so a shared control group is never counted twice).
* **Pooling** (:class:`RandomEffectsMeta`, fit/summary like PyMARE's estimators): between-study
  variance tau^2 by DerSimonian-Laird or Paule-Mandel (statsmodels
  ``statsmodels.stats.meta_analysis.combine_effects``) or REML (root of the restricted
  likelihood score, Viechtbauer 2005, doi:10.3102/10769986030003261); pooled effect by weighted
  least squares (statsmodels ``WLS``) with the scale fixed at 1 (z test) or estimated
  (Hartung-Knapp-Sidik-Jonkman, t with k-1 df, as metafor's ``test="knha"``). I^2 and H^2 are
  metafor's: I^2 = tau^2 / (tau^2 + s^2) with s^2 the "typical" within-study variance
  (Higgins & Thompson 2002, doi:10.1002/sim.1186), which equals (Q - df) / Q for DL.

Checked against metafor (R) in tests/test_evidence.py, not against this module's own output.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from mscsim.errors import MscsimError, unknown
from mscsim.evidence.records import DISEASES, endpoints_for, load_records

METHODS = ("DL", "REML", "PM")

#: measure -> (outcome type, design, label for tables and axes)
MEASURES: dict[str, tuple[str, str, str]] = {
    "RD": ("binary", "controlled", "risk difference (MSC - control)"),
    "OR": ("binary", "controlled", "log odds ratio (MSC vs control)"),
    "PLO": ("binary", "single", "logit proportion (MSC arms only)"),
    "PR": ("binary", "single", "proportion (MSC arms only)"),
    "MD": ("continuous", "controlled", "mean difference (MSC - control)"),
    "SMD": ("continuous", "controlled", "standardised mean difference, Hedges' g (MSC - control)"),
    "MN": ("continuous", "single", "mean (MSC arms only)"),
}
_BINARY_STATS = {"proportion", "count"}
_CONTINUOUS_STATS = {"mean", "mean_change", "mean_change_pct"}
_CONTRAST_STATS = {"SMD": "SMD", "WMD": "MD", "mean_difference": "MD"}


def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2.0))


def back_transform(measure: str, x):
    """Effect on the reporting scale: OR -> odds ratio, PLO -> proportion, others unchanged."""
    x = np.asarray(x, dtype=float)
    if measure == "OR":
        return np.exp(x)
    if measure == "PLO":
        return 1.0 / (1.0 + np.exp(-x))
    return x


# ---------------------------------------------------------------------------------------------
# Effect sizes (metafor escalc formulas)
# ---------------------------------------------------------------------------------------------

def risk_difference(x1: float, n1: float, x2: float, n2: float) -> tuple[float, float]:
    """RD = p1 - p2, var = p1(1-p1)/n1 + p2(1-p2)/n2 (escalc measure "RD")."""
    p1, p2 = x1 / n1, x2 / n2
    return p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2


def log_odds_ratio(x1: float, n1: float, x2: float, n2: float,
                   add: float = 0.5) -> tuple[float, float]:
    """log OR and its variance 1/a + 1/b + 1/c + 1/d; ``add`` goes to all four cells when any is
    zero (escalc measure "OR", add=1/2, to="only0")."""
    a, b, c, d = x1, n1 - x1, x2, n2 - x2
    if min(a, b, c, d) == 0:
        a, b, c, d = a + add, b + add, c + add, d + add
    return math.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d


def log_risk_ratio(x1: float, n1: float, x2: float, n2: float,
                   add: float = 0.5) -> tuple[float, float]:
    """log RR and its variance 1/a - 1/n1 + 1/c - 1/n2 (escalc measure "RR")."""
    a, c = x1, x2
    if min(x1, n1 - x1, x2, n2 - x2) == 0:
        a, c, n1, n2 = a + add, c + add, n1 + 2 * add, n2 + 2 * add
    return math.log((a / n1) / (c / n2)), 1 / a - 1 / n1 + 1 / c - 1 / n2


def logit_proportion(x: float, n: float, add: float = 0.5) -> tuple[float, float]:
    """logit(p) and 1/x + 1/(n-x); ``add`` to both cells when x is 0 or n (escalc "PLO")."""
    a, b = x, n - x
    if min(a, b) == 0:
        a, b = a + add, b + add
    return math.log(a / b), 1 / a + 1 / b


def raw_proportion(x: float, n: float) -> tuple[float, float]:
    """p and p(1-p)/n (escalc "PR")."""
    p = x / n
    return p, p * (1 - p) / n


def mean_difference(m1, sd1, n1, m2, sd2, n2) -> tuple[float, float]:
    """m1 - m2 and sd1^2/n1 + sd2^2/n2 (escalc "MD", heteroscedastic variance)."""
    return m1 - m2, sd1**2 / n1 + sd2**2 / n2


def hedges_g(m1, sd1, n1, m2, sd2, n2) -> tuple[float, float]:
    """Hedges' g with the exact small-sample factor and escalc's large-sample variance
    1/n1 + 1/n2 + g^2 / (2 (n1 + n2)) (escalc "SMD", vtype="LS")."""
    df = n1 + n2 - 2
    sp = math.sqrt(((n1 - 1) * sd1**2 + (n2 - 1) * sd2**2) / df)
    j = math.exp(math.lgamma(df / 2) - math.log(math.sqrt(df / 2)) - math.lgamma((df - 1) / 2))
    g = j * (m1 - m2) / sp
    return g, 1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2))


def variance_from_ci(low: float, high: float, level: float = 0.95) -> float:
    """Variance of a normal estimate from its two-sided CI: ((high - low) / (2 z))^2."""
    return ((high - low) / (2 * _z(level))) ** 2


def combine_groups_mean(groups: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Merge (mean, sd, n) groups into one (Cochrane Handbook table 6.5.a)."""
    m, s, n = groups[0]
    for m2, s2, n2 in groups[1:]:
        tot = n + n2
        mean = (n * m + n2 * m2) / tot
        sd = math.sqrt(((n - 1) * s**2 + (n2 - 1) * s2**2 + n * n2 / tot * (m - m2) ** 2)
                       / (tot - 1))
        m, s, n = mean, sd, tot
    return m, s, n


# ---------------------------------------------------------------------------------------------
# Comparable records -> one effect per trial
# ---------------------------------------------------------------------------------------------

def _v(x):
    """NaN / pd.NA -> None (DataFrame cells back to plain Python)."""
    if x is None or x is pd.NA:
        return None
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    return x


def _endpoint_key(text: str) -> str:
    """Endpoint text without parentheses, to pair an arm's record with the control's."""
    return re.sub(r"\s*\([^)]*\)", "", text).strip().lower()


def _source(row: dict) -> str:
    if row.get("pmid"):
        return f"PMID {row['pmid']}"
    if row.get("doi"):
        return f"DOI {row['doi']}"
    return row.get("pmcid") or row.get("citation") or ""


def _binary_arm(r: dict) -> tuple[float, float, str | None] | None:
    """(events, n, note) of one arm, or None when the denominator is unknown."""
    ev, tot, n, val = r["events"], r["total"], r["n"], r["value"]
    if ev is not None and tot:
        return float(ev), float(tot), None
    if r["stat"] == "proportion" and val is not None and n:
        if ev is not None and abs(ev / n - val) > 0.005:
            return None  # events are given but not out of n: denominator unknown
        return val * n, float(n), f"{r['record_id']}: events = {val:g} x {n} (from a percentage)"
    return None


def _continuous_arm(r: dict) -> tuple[float, float, float] | None:
    if r["stat"] in _CONTINUOUS_STATS and None not in (r["value"], r["sd"], r["n"]) and r["n"] > 1:
        return r["value"], r["sd"], float(r["n"])
    return None


@dataclass
class _Candidate:
    trial_id: str
    study_id: str
    at_days: float | None
    order: int
    yi: float
    vi: float
    n_msc: float | None
    n_control: float | None
    records: list[str]
    basis: str
    notes: list[str] = field(default_factory=list)
    citation: str = ""
    source: str = ""


def _binary_controlled(measure, msc, ctrl, notes):
    a = [_binary_arm(r) for r in msc]
    c = [_binary_arm(r) for r in ctrl]
    if not a or not c or None in a or None in c:
        return None
    x1, n1 = sum(x for x, _, _ in a), sum(n for _, n, _ in a)
    x2, n2 = sum(x for x, _, _ in c), sum(n for _, n, _ in c)
    notes += [t for _, _, t in a + c if t]
    if len(a) > 1:
        notes.append(f"{len(a)} MSC arms merged")
    fn = risk_difference if measure == "RD" else log_odds_ratio
    yi, vi = fn(x1, n1, x2, n2)
    return yi, vi, n1, n2


def _continuous_controlled(measure, msc, ctrl, notes):
    a = [_continuous_arm(r) for r in msc]
    c = [_continuous_arm(r) for r in ctrl]
    if not a or not c or None in a or None in c:
        return None
    if len({r["stat"] for r in msc + ctrl}) > 1:
        return None  # final values vs changes: not comparable
    m1, s1, n1 = combine_groups_mean(a)
    m2, s2, n2 = combine_groups_mean(c)
    if len(a) > 1:
        notes.append(f"{len(a)} MSC arms merged")
    fn = mean_difference if measure == "MD" else hedges_g
    yi, vi = fn(m1, s1, n1, m2, s2, n2)
    return yi, vi, n1, n2


def _single(measure, msc, notes):
    if measure in ("PLO", "PR"):
        a = [_binary_arm(r) for r in msc]
        if not a or None in a:
            return None
        x, n = sum(x for x, _, _ in a), sum(n for _, n, _ in a)
        notes += [t for _, _, t in a if t]
        if len(a) > 1:
            notes.append(f"{len(a)} MSC arms merged")
        if measure == "PR" and x in (0, n):
            return None  # zero variance
        yi, vi = (logit_proportion if measure == "PLO" else raw_proportion)(x, n)
        return yi, vi, n, None
    a = [_continuous_arm(r) for r in msc]
    if not a or None in a or len({r["stat"] for r in msc}) > 1:
        return None
    m, s, n = combine_groups_mean(a)
    if len(a) > 1:
        notes.append(f"{len(a)} MSC arms merged")
    return m, s**2 / n, n, None


def _candidates(rows: list[dict], measure: str) -> list[_Candidate]:
    kind, design, _ = MEASURES[measure]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        key = (r["study_id"], r["timepoint_days"], r["analysis_set"], _endpoint_key(r["endpoint"]))
        groups.setdefault(key, []).append(r)
    out = []
    for (sid, at, _aset, _ek), grp in groups.items():
        msc = [r for r in grp if r["arm_role"] == "msc"]
        ctrl = [r for r in grp if r["arm_role"] == "control"]
        contrast = [r for r in grp if r["arm_role"] == "contrast"]
        notes: list[str] = []
        res = None
        basis = ""
        used = grp
        if design == "controlled":
            # 1) a between-arm effect reported with its CI
            if measure == "RD":
                rep = [r for r in msc if r["diff"] is not None and r["diff_ci_low"] is not None]
                if rep:
                    r = rep[0]
                    res = (r["diff"], variance_from_ci(r["diff_ci_low"], r["diff_ci_high"],
                                                       r["diff_ci_level"]), None, None)
                    basis, used = "reported difference, variance from its CI", [r]
            for r in contrast:
                if res is None and _CONTRAST_STATS.get(r["stat"]) == measure and \
                        None not in (r["value"], r["ci_low"], r["ci_high"]):
                    res = (r["value"], variance_from_ci(r["ci_low"], r["ci_high"],
                                                        r["ci_level"] or 0.95), None, None)
                    basis, used = f"reported {r['stat']}, variance from its CI", [r]
            # 2) computed from the arms
            if res is None and msc and ctrl:
                fn = _binary_controlled if kind == "binary" else _continuous_controlled
                res = fn(measure, msc, ctrl, notes)
                basis, used = "computed from arm data", msc + ctrl
        elif msc:
            res = _single(measure, msc, notes)
            basis, used = "MSC arm(s) only", msc
        if res is None or not (res[1] > 0 and math.isfinite(res[0]) and math.isfinite(res[1])):
            continue
        yi, vi, n1, n2 = res
        out.append(_Candidate(
            trial_id=grp[0]["trial_id"], study_id=sid, at_days=at,
            order=min(r["_order"] for r in grp), yi=float(yi), vi=float(vi),
            n_msc=n1, n_control=n2, records=[r["record_id"] for r in used], basis=basis,
            notes=notes + [r["derived"] for r in used if r["derived"]],
            citation=grp[0]["citation"], source=grp[0]["_source"]))
    return out


def _pick(cands: list[_Candidate], at: float | None) -> dict[str, _Candidate]:
    """One effect per trial: the latest timepoint (or exactly ``at``), then file order."""
    best: dict[str, _Candidate] = {}
    for c in cands:
        if at is not None and c.at_days != at:
            continue
        key = (-1.0 if c.at_days is None else c.at_days, -c.order)
        cur = best.get(c.trial_id)
        if cur is None or key > (-1.0 if cur.at_days is None else cur.at_days, -cur.order):
            best[c.trial_id] = c
    return best


@dataclass
class Effects:
    """Per-trial effects ready for pooling, plus what was left out and why."""

    endpoint: str
    disease: str
    measure: str
    table: pd.DataFrame
    excluded: list[tuple[str, str]]

    @property
    def k(self) -> int:
        return len(self.table)


def build_effects(records: pd.DataFrame, endpoint: str, *, disease: str,
                  measure: str | None = None, at: float | None = None,
                  include_meta_analyses: bool = False) -> Effects:
    """One effect per trial for ``endpoint`` (a design.md endpoint name) in ``disease``.

    ``measure`` None picks MSC-vs-control (RD for proportions, MD for means) when at least two
    trials allow it, else the MSC arms alone (PLO / MN) when that gives more trials. Records from
    published meta-analyses are left out unless ``include_meta_analyses`` (they may contain the
    trials already in the table). Each trial contributes its latest timepoint, or ``at``.
    """
    if disease not in DISEASES:
        raise unknown("disease", disease, DISEASES, field="disease")
    valid = endpoints_for(disease)
    if endpoint not in valid:
        raise unknown(f"{disease} endpoint", endpoint, valid, field="meta")
    measure = measure.upper() if isinstance(measure, str) else measure
    if measure is not None and measure not in MEASURES:
        raise unknown("measure", measure, MEASURES, field="measure")
    df = records[(records["disease"] == disease) & (records["endpoint_code"] == endpoint)]
    if df.empty:
        have = sorted({e for e in records.loc[records["disease"] == disease, "endpoint_code"]
                       if isinstance(e, str)})
        raise MscsimError(f"no evidence records for endpoint {endpoint!r} in {disease!r}; "
                          f"endpoints with records: {', '.join(have) or 'none'}")
    rows = []
    for i, rec in enumerate(df.to_dict("records")):
        row = {k: _v(v) for k, v in rec.items()}
        rows.append(row | {"_order": i, "_source": _source(row)})
    excluded: list[tuple[str, str]] = []
    if not include_meta_analyses:
        for sid in dict.fromkeys(r["study_id"] for r in rows if "meta_analysis" in r["flags"]):
            excluded.append((sid, "published meta-analysis (use include_meta_analyses)"))
        rows = [r for r in rows if "meta_analysis" not in r["flags"]]
    stats_ = {r["stat"] for r in rows if r["value"] is not None or r["events"] is not None}
    kind = ("binary" if stats_ & _BINARY_STATS else
            "continuous" if stats_ & (_CONTINUOUS_STATS | set(_CONTRAST_STATS)) else None)
    if kind is None:
        left = [sid for sid, _ in excluded]
        raise MscsimError(
            f"no numeric records for {endpoint!r} in {disease!r} (only directions or "
            f"'not reported')" + (f"; left out published meta-analyses {', '.join(left)} "
                                  "(--include-meta-analyses)" if left else ""))
    if measure is None:
        ctrl_m, single_m = ("RD", "PLO") if kind == "binary" else ("MD", "MN")
        n_ctrl = len(_pick(_candidates(rows, ctrl_m), at))
        n_single = len(_pick(_candidates(rows, single_m), at))
        measure = ctrl_m if n_ctrl >= 2 or n_ctrl >= n_single else single_m
    elif kind is not None and MEASURES[measure][0] != kind:
        raise MscsimError(f"measure {measure!r} is for {MEASURES[measure][0]} outcomes; "
                          f"{endpoint!r} records are {kind}")
    picked = _pick(_candidates(rows, measure), at)
    for sid in dict.fromkeys(r["study_id"] for r in rows):
        tid = next(r["trial_id"] for r in rows if r["study_id"] == sid)
        if tid not in picked:
            why = ("no record at day %g" % at) if at is not None else (
                "no MSC-vs-control pair with n and spread" if MEASURES[measure][1] == "controlled"
                else "no MSC arm with n (and SD for means)")
            if not any(r["study_id"] == sid and (r["value"] is not None or r["events"] is not None)
                       for r in rows):
                why = "no numeric value (direction or 'not reported' only)"
            excluded.append((sid, why))
        elif picked[tid].study_id != sid:
            excluded.append((sid, f"same trial as {picked[tid].study_id} (one effect per trial)"))
    z = _z(0.95)
    table = pd.DataFrame([{
        "study_id": c.study_id, "trial_id": c.trial_id, "at_days": c.at_days, "measure": measure,
        "yi": c.yi, "vi": c.vi, "se": math.sqrt(c.vi),
        "ci_low": c.yi - z * math.sqrt(c.vi), "ci_high": c.yi + z * math.sqrt(c.vi),
        "n_msc": c.n_msc, "n_control": c.n_control, "basis": c.basis,
        "records": ", ".join(c.records), "derived": "; ".join(c.notes), "source": c.source,
        "citation": c.citation,
    } for c in sorted(picked.values(), key=lambda c: c.order)],
        columns=["study_id", "trial_id", "at_days", "measure", "yi", "vi", "se", "ci_low",
                 "ci_high", "n_msc", "n_control", "basis", "records", "derived", "source",
                 "citation"])
    return Effects(endpoint=endpoint, disease=disease, measure=measure, table=table,
                   excluded=excluded)


# ---------------------------------------------------------------------------------------------
# Random-effects estimator
# ---------------------------------------------------------------------------------------------

def tau2_reml(y: np.ndarray, v: np.ndarray, tol: float = 1e-12) -> float:
    """REML tau^2 for the intercept-only model: root of the restricted-likelihood score
    -1/2 sum w + 1/2 sum w^2 (y - mu)^2 + 1/2 sum w^2 / sum w (w = 1/(v + tau^2)), truncated at
    0 (Viechtbauer 2005, eq. 9-12)."""

    def score(t2: float) -> float:
        w = 1.0 / (v + t2)
        mu = np.sum(w * y) / np.sum(w)
        return float(-np.sum(w) + np.sum(w**2 * (y - mu) ** 2) + np.sum(w**2) / np.sum(w))

    if score(0.0) <= 0.0:
        return 0.0
    hi = max(float(np.var(y, ddof=1)) + float(np.max(v)), 1e-8)
    while score(hi) > 0.0:
        hi *= 2.0
        if hi > 1e12:
            raise MscsimError("REML tau^2 did not converge (no root of the score)")
    return float(optimize.brentq(score, 0.0, hi, xtol=tol, rtol=1e-14, maxiter=500))


@dataclass
class MetaResult:
    """Pooled random-effects estimate and heterogeneity (shape of PyMARE's summary)."""

    method: str
    hksj: bool
    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    p_value: float
    df: int | None
    tau2: float
    i2: float  # percent
    h2: float
    q: float
    q_df: int
    q_p: float
    alpha: float
    labels: list[str]
    y: np.ndarray
    v: np.ndarray
    weights: np.ndarray  # relative random-effects weights, sum 1

    @property
    def tau(self) -> float:
        return math.sqrt(self.tau2)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per study (effect, 95% Wald CI, weight %) and a final pooled row."""
        z = _z(1 - self.alpha)
        se = np.sqrt(self.v)
        df = pd.DataFrame({
            "label": self.labels, "estimate": self.y, "se": se, "ci_low": self.y - z * se,
            "ci_high": self.y + z * se, "weight_pct": 100 * self.weights,
        })
        pooled = pd.DataFrame([{
            "label": f"pooled ({self.method}{', HKSJ' if self.hksj else ''})",
            "estimate": self.estimate, "se": self.se, "ci_low": self.ci_low,
            "ci_high": self.ci_high, "weight_pct": 100.0, "p_value": self.p_value,
            "tau2": self.tau2, "i2_pct": self.i2, "h2": self.h2, "q": self.q, "q_p": self.q_p,
            "k": self.k,
        }])
        return pd.concat([df, pooled], ignore_index=True)

    def as_dict(self) -> dict:
        keys = ("method", "hksj", "k", "estimate", "se", "ci_low", "ci_high", "statistic",
                "p_value", "df", "tau2", "i2", "h2", "q", "q_df", "q_p", "alpha")
        return {k: getattr(self, k) for k in keys} | {"tau": self.tau}


class RandomEffectsMeta:
    """Random-effects meta-analysis of effects ``y`` with sampling variances ``v``.

    ``RandomEffectsMeta(method="REML", hksj=False).fit(y, v).summary()`` returns a
    :class:`MetaResult`. ``method``: "DL" (DerSimonian & Laird 1986), "PM" (Paule & Mandel
    1982) or "REML"; ``hksj=True`` gives the Hartung-Knapp-Sidik-Jonkman standard error and a
    t(k-1) interval (metafor ``test="knha"``, no truncation of the scale).
    """

    def __init__(self, method: str = "REML", hksj: bool = False, alpha: float = 0.05):
        if str(method).upper() not in METHODS:
            raise unknown("method", method, METHODS, field="method")
        method = str(method).upper()
        if not 0 < alpha < 1:
            raise MscsimError(f"alpha must be in (0, 1), got {alpha}", field="alpha")
        self.method, self.hksj, self.alpha = method, bool(hksj), float(alpha)
        self.result_: MetaResult | None = None

    def _tau2(self, y: np.ndarray, v: np.ndarray) -> float:
        if self.method == "REML":
            return tau2_reml(y, v)
        from statsmodels.stats.meta_analysis import combine_effects

        # only tau^2 is taken from combine_effects; the other quantities it derives can divide
        # by zero (e.g. Q = 0), which is harmless here
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.method == "DL":
                return float(combine_effects(y, v, method_re="dl").tau2)
            res = combine_effects(y, v, method_re="pm", atol=1e-12, maxiter=1000)
        return float(res.tau2)

    def fit(self, y, v, labels=None) -> RandomEffectsMeta:
        from statsmodels.regression.linear_model import WLS

        y = np.asarray(y, dtype=float).ravel()
        v = np.asarray(v, dtype=float).ravel()
        k = y.size
        if k != v.size:
            raise MscsimError(f"y and v differ in length ({k} vs {v.size})")
        if k < 2:
            raise MscsimError(f"a meta-analysis needs at least 2 studies, got {k}")
        if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
            raise MscsimError("effects must be finite and sampling variances positive")
        labels = [str(x) for x in (labels if labels is not None else range(1, k + 1))]

        tau2 = max(0.0, self._tau2(y, v))
        w = 1.0 / (v + tau2)
        x = np.ones((k, 1))
        if self.hksj:
            res = WLS(y, x, weights=w).fit()  # scale estimated, t(k-1)
            df = k - 1
        else:
            res = WLS(y, x, weights=w).fit(cov_type="fixed_scale")  # scale 1, z
            df = None
        lo, hi = res.conf_int(alpha=self.alpha)[0]

        w0 = 1.0 / v
        mu_fe = np.sum(w0 * y) / np.sum(w0)
        q = float(np.sum(w0 * (y - mu_fe) ** 2))
        s2 = (k - 1) * np.sum(w0) / (np.sum(w0) ** 2 - np.sum(w0**2))
        self.result_ = MetaResult(
            method=self.method, hksj=self.hksj, k=k, estimate=float(res.params[0]),
            se=float(res.bse[0]), ci_low=float(lo), ci_high=float(hi),
            statistic=float(res.tvalues[0]), p_value=float(res.pvalues[0]), df=df, tau2=tau2,
            i2=float(100 * tau2 / (tau2 + s2)), h2=float((tau2 + s2) / s2), q=q, q_df=k - 1,
            q_p=float(stats.chi2.sf(q, k - 1)), alpha=self.alpha, labels=labels, y=y, v=v,
            weights=w / np.sum(w))
        return self

    def summary(self) -> MetaResult:
        if self.result_ is None:
            raise MscsimError("fit() the estimator before asking for its summary")
        return self.result_

    def to_dataframe(self) -> pd.DataFrame:
        return self.summary().to_dataframe()


@dataclass
class MetaReport:
    """Effects table, excluded studies and pooled result of one evidence meta-analysis."""

    effects: Effects
    result: MetaResult

    def to_dataframe(self) -> pd.DataFrame:
        """Per-study rows (with record ids and citations) and the pooled row."""
        t = self.effects.table
        df = self.result.to_dataframe()
        extra = t[["study_id", "at_days", "n_msc", "n_control", "basis", "records", "derived",
                   "source", "citation"]].reset_index(drop=True)
        out = pd.concat([df.iloc[:-1].reset_index(drop=True), extra], axis=1)
        out = pd.concat([out, df.iloc[[-1]]], ignore_index=True)
        out.insert(0, "endpoint", self.effects.endpoint)
        out.insert(1, "disease", self.effects.disease)
        out.insert(2, "measure", self.effects.measure)
        return out


def meta_analysis(endpoint: str, disease: str, *, method: str = "REML", hksj: bool = False,
                  measure: str | None = None, at: float | None = None,
                  include_meta_analyses: bool = False, records: pd.DataFrame | None = None,
                  ) -> MetaReport:
    """Pool the shipped records for ``endpoint`` in ``disease`` (see :func:`build_effects`)."""
    est = RandomEffectsMeta(method=method, hksj=hksj)  # validates method first
    recs = records if records is not None else load_records(disease=disease)
    eff = build_effects(recs, endpoint, disease=disease, measure=measure, at=at,
                        include_meta_analyses=include_meta_analyses)
    if eff.k < 2:
        found = ", ".join(eff.table["study_id"]) or "none"
        hint = {"RD": "PLO", "OR": "PLO", "MD": "MN", "SMD": "MN"}.get(eff.measure)
        if hint and build_effects(recs, endpoint, disease=disease, measure=hint, at=at,
                                  include_meta_analyses=include_meta_analyses).k < 2:
            hint = None
        hint_txt = (f"; --measure {hint} pools the MSC arms alone" if hint else "")
        raise MscsimError(
            f"{endpoint} in {disease}: {eff.k} trial(s) give a comparable effect "
            f"({MEASURES[eff.measure][2]}: {found}); a meta-analysis needs at least 2{hint_txt}")
    t = eff.table
    labels = [f"{s} (d{a:g})" if a == a and a is not None else s
              for s, a in zip(t["study_id"], t["at_days"])]
    est.fit(t["yi"].to_numpy(), t["vi"].to_numpy(), labels=labels)
    return MetaReport(effects=eff, result=est.summary())
