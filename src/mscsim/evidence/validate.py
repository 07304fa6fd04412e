"""``mscsim validate``: every shipped published-trial scenario simulated and scored against its
published result (design.md, "Evidence, calibration, validation").

Each scenario lists ``validation`` entries: arm, endpoint, time, the evidence record, how to
compare (value, change from baseline, complement, or direction). Scoring (evidence/scoring.py):

* **numeric rows** hold when the published arm result lies inside the model's 95 % predictive
  interval for a trial of the published size (the simulated arm's expectation, its Monte-Carlo
  error and the sampling spread of an arm of the published n). Beside it: the standardized error
  (published - predicted) / predictive SD and the interval score (Gneiting & Raftery 2007).
* **direction rows** hold when the published direction is reached with p < 0.05 at the published
  n and the arm's mean change reaches the endpoint's MCID (evidence/mcid.py); a claim made
  against a control arm (``vs:`` in the entry) is tested on the between-arm difference against
  that arm (sign and Welch test at the published arm sizes).
* **treatment effects**: every pair of numeric rows of one scenario with the same endpoint, time
  and comparison, one on an MSC arm and one on a control arm of the record, gives the published
  between-arm difference (or the record's reported difference) beside the simulated one, scored
  against the predictive interval of the difference at the published arm sizes.
* **roles**: a row is *calibration* when the scenario says so or when its record informed a
  parameter (``records:`` in the parameter table); otherwise *validation*.
* **flags**: UNVERIFIED numbers and assumed arm sizes are shown and left out of every count;
  a unit scale is shown.

It is a report, not a gate: misses are shown as misses.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from mscsim.errors import MscsimError
from mscsim.evidence.mcid import mcid_for
from mscsim.evidence.records import load_records
from mscsim.evidence.scoring import (CALIBRATED_NORMAL_IS, direction_test, predictive_difference,
                                     pooled_risk, predictive_interval, predictive_ratio)
from mscsim.scenario import RATIO_COMPARES, Scenario, load_scenario, shipped_scenarios, validation_arms
from mscsim.stats import summarize

#: simulated patients per arm at least (the published n still sizes every interval and test)
DEFAULT_N_SIM_MIN = 100
#: flags that keep a row out of every count
EXCLUDING_FLAGS = ("UNVERIFIED", "n assumed")
#: evidence-record flags shown beside a row (they do not exclude it)
_RECORD_FLAGS = {"secondary_source": "secondary source", "company_reported": "company reported",
                 "not_msc_only": "not MSC only", "meta_analysis": "meta-analysis",
                 "source_inconsistency": "source inconsistency"}


def published_interval(rec: pd.Series) -> tuple[float | None, float | None, float | None, str]:
    """(value, low, high, text) of a record, as a 95 % interval of the arm-level number (shown
    beside the published value; the scoring does not use it)."""
    v = rec.get("value")
    v = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
    stat = rec.get("stat")
    n = rec.get("n")
    n = None if n is None or pd.isna(n) else int(n)
    if v is None:
        return None, None, None, str(rec.get("value_text", ""))
    ev, tot = rec.get("events"), rec.get("total")
    if stat in ("proportion", "count") and pd.notna(ev) and pd.notna(tot) and int(tot) > 0:
        lo, hi = proportion_confint(float(ev), int(tot), method="wilson")
        return float(ev) / int(tot), lo, hi, f"{int(ev)}/{int(tot)}, Wilson 95% CI"
    if pd.notna(rec.get("ci_low")) and pd.notna(rec.get("ci_high")):
        level = rec.get("ci_level")
        level = 95 if level is None or pd.isna(level) else (100 * level if level < 1 else level)
        return v, float(rec["ci_low"]), float(rec["ci_high"]), f"{level:g}% CI (published)"
    if stat == "proportion":
        if n:
            lo, hi = proportion_confint(v * n, n, method="wilson")
            return v, lo, hi, f"n={n}, Wilson 95% CI"
        return v, None, None, "no n"
    sd = rec.get("sd")
    if pd.notna(sd):
        sd = float(sd)
        if n and n > 1:
            half = float(sps.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
            return v, v - half, v + half, f"SD {sd:g}, n={n}: 95% CI of the mean"
        return v, v - 1.96 * sd, v + 1.96 * sd, f"SD {sd:g} (n unknown): mean +/- 1.96 SD"
    return v, None, None, "no spread"


def published_n(rec: pd.Series, stat: str) -> int | None:
    """Arm size of a record: the denominator of a count, else ``n``."""
    ev, tot = rec.get("events"), rec.get("total")
    if stat == "proportion" and pd.notna(ev) and pd.notna(tot) and int(tot) > 0:
        return int(tot)
    n = rec.get("n")
    return None if n is None or pd.isna(n) else int(n)


def published_se(pv: float, n_pub: int | None, stat: str, rec: pd.Series, scale: float = 1.0) -> float | None:
    """The published arm result's own standard error: the yardstick of the interval score.

    Proportions: sqrt(p (1 - p) / n) with p kept within [0.05, 0.95] (so 0/7 still has a
    spread); means: SD/sqrt(n); else from a published 95 % CI, (high - low) / (2 x 1.96). A model
    that knew the true arm value would score about 4.68 of these (scoring.CALIBRATED_NORMAL_IS).
    """
    if stat == "proportion" and n_pub:
        p = min(max(pv, 0.05), 0.95)
        return math.sqrt(p * (1 - p) / n_pub)
    sd = _num(rec.get("sd"))
    if sd is not None and n_pub:
        return sd * scale / math.sqrt(n_pub)
    lo, hi = _num(rec.get("ci_low")), _num(rec.get("ci_high"))
    if lo is not None and hi is not None and hi > lo:
        return (hi - lo) * scale / (2 * 1.96)
    return None


def _records() -> pd.DataFrame:
    return load_records().set_index("record_id", drop=False)


def _informing() -> dict[str, tuple[str, ...]]:
    from mscsim.parameters import records_informing

    return records_informing()


def role_of(entry_role: str, record: str, informing: dict[str, tuple[str, ...]] | None = None) -> str:
    """Calibration when the scenario says so or a parameter lists the record; else validation."""
    informing = _informing() if informing is None else informing
    return "calibration" if entry_role == "calibration" or record in informing else "validation"


def _arm_values(pts: pd.DataFrame, arm: str, endpoint: str, at: float, compare: str,
                scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """(values as compared, baseline values) of the simulated patients of one arm."""
    sel = pts[(pts["arm"] == arm) & (pts["endpoint"] == endpoint) & np.isclose(pts["at_days"], at)]
    if sel.empty:
        raise MscsimError(f"scenario {scenario.name!r}: validation needs endpoint {endpoint} at {at:g} d "
                          f"in arm {arm!r} among the scenario's endpoints", field="validation")
    x = sel["value"].to_numpy(dtype=float)
    base = sel["baseline"].to_numpy(dtype=float)
    if compare in ("change", "direction"):
        x = x - base
    elif compare == "complement":  # e.g. published "relapse-free" vs simulated "relapse"
        x = 1.0 - x
    return x, base


def _stat(scenario: Scenario, endpoint: str, compare: str) -> str:
    from mscsim.trial import endpoint_stat

    if compare in ("change", "direction"):
        return "mean"
    return endpoint_stat(scenario.disease, endpoint)


def _num(x) -> float | None:
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def validate_result(scenario: Scenario, result, draws: list | None = None) -> pd.DataFrame:
    """Rows of the validation table for one simulated scenario (one row per validation entry).

    ``draws``: optional trial results, one per posterior draw of the parameters (same scenario,
    common random numbers); the numeric rows' predictive intervals then mix over them
    (scoring.predictive_interval), so parameter uncertainty widens them. Direction rows use
    ``result``."""
    recs = _records()
    informing = _informing()
    pts = result.patients
    arm_n = {a.name: a.n for a in scenario.arms}
    rows = []
    for v in scenario.validation:
        if v.record not in recs.index:
            raise MscsimError(f"scenario {scenario.name!r}: unknown evidence record {v.record!r}",
                              field="validation.record")
        rec = recs.loc[v.record]
        if v.compare in RATIO_COMPARES:
            rows.append(_ratio_row(scenario, result, v, rec, informing))
            continue
        at = _days(v.at)
        stat = _stat(scenario, v.endpoint, v.compare)
        x, base = _arm_values(pts, v.arm, v.endpoint, at, v.compare, scenario)
        s = summarize(x, stat)
        flags: list[str] = []
        rflags = list(rec.get("flags") or [])
        if v.unverified is not None or "unverified" in rflags:
            flags.append("UNVERIFIED")
        flags += [_RECORD_FLAGS[f] for f in rflags if f in _RECORD_FLAGS]  # shown, still counted
        n_pub = published_n(rec, stat)
        if n_pub is None and v.n is not None:
            n_pub = v.n
            flags.append("n assumed")
        role = role_of(v.role, v.record, informing)
        row = {"trial": scenario.name, "study": rec["study_id"], "arm": v.arm, "endpoint": v.endpoint,
               "at_days": at, "compare": v.compare, "vs": v.vs, "kind": "direction" if v.compare == "direction"
               else "numeric", "simulated": s["value"], "sim_sd": s["sd"], "sim_ci_low": s["ci_low"],
               "sim_ci_high": s["ci_high"], "n_sim": s["n"], "record": v.record, "role": role,
               "informs": ", ".join(informing.get(v.record, ())),
               "pred_low": None, "pred_high": None, "pred_sd": None, "pred_method": None, "z": None,
               "interval_score": None, "se_pub": None, "is_se": None, "arm_change": None, "p_at_n": None,
               "mcid": None, "mcid_met": None,
               "mcid_source": None}
        if v.compare == "direction":
            if n_pub is None:
                n_pub = arm_n[v.arm]
                flags.append("n assumed")
            rule = mcid_for(v.endpoint)
            xc, n_c = None, None
            if v.vs is not None:
                xc, _ = _arm_values(pts, v.vs, v.endpoint, at, v.compare, scenario)
                n_c = arm_n[v.vs]
            mcid = rule.threshold(base)
            res = direction_test(x, v.expect, n_pub, mcid, x_control=xc, n_control_pub=n_c)
            what = f" vs {v.vs}" if v.vs else ""
            row.update({"simulated": res.estimate, "arm_change": res.arm_change, "published": None,
                        "pub_low": None, "pub_high": None, "holds": res.holds,
                        "spread": f"{v.expect}{what} (P<0.05): {rec['value_text']}",
                        "p_at_n": res.p_value, "mcid": mcid, "mcid_met": res.clinically_important,
                        "mcid_source": ("[design] " if rule.design else "") + rule.source})
        else:
            r2 = rec
            if v.n is not None and (rec.get("n") is None or pd.isna(rec.get("n"))):
                r2 = rec.copy()
                r2["n"] = v.n
            pv, lo, hi, text = published_interval(r2)
            if pv is not None and v.scale != 1.0:
                pv = pv * v.scale
                lo, hi = (None if lo is None else lo * v.scale), (None if hi is None else hi * v.scale)
                flags.append(f"scale x{v.scale:g}")
            if pv is None and v.unverified is not None:
                u = v.unverified
                pv = u.events / u.total
                lo, hi = proportion_confint(u.events, u.total, method="wilson")
                text = f"UNVERIFIED {u.events}/{u.total} ({u.note})"
                n_pub = u.total
            holds = None
            if pv is not None and n_pub is not None and s["n"]:
                xd = None if draws is None else [
                    _arm_values(d.patients, v.arm, v.endpoint, at, v.compare, scenario)[0] for d in draws]
                pred = predictive_interval(x, stat, n_pub, draws=xd)
                holds = pred.contains(pv)
                score = pred.score(pv)
                se = published_se(pv, n_pub, stat, rec, v.scale) if v.unverified is None else \
                    published_se(pv, n_pub, "proportion", rec)
                row.update({"pred_low": pred.low, "pred_high": pred.high, "pred_sd": pred.sd,
                            "pred_method": pred.method, "z": pred.z(pv), "interval_score": score,
                            "se_pub": se, "is_se": score / se if se else None})
            elif pv is not None and n_pub is None:
                flags.append("no n")
            row.update({"published": pv, "pub_low": lo, "pub_high": hi, "spread": text, "holds": holds})
        row["n_pub"] = n_pub
        row["scale"] = v.scale
        row["flags"] = ", ".join(flags)
        row["counted"] = bool(row["holds"] is not None and not any(f in flags for f in EXCLUDING_FLAGS))
        row["inside"] = row["holds"]  # the report's column name
        rows.append(row)
    return pd.DataFrame(rows)


def _ratio_row(scenario: Scenario, result, v, rec: pd.Series, informing) -> dict:
    """A pooled risk or odds ratio of a safety event (MSC arm(s) vs ``v.vs``): the published ratio
    inside the 95 % predictive interval of the ratio in a trial of the published size, from the
    simulated per-patient event probabilities (result.safety; mscsim.safety). The published total
    n is split evenly between the arms (the meta-analyses' abstracts give no split; flagged)."""
    tab = getattr(result, "safety", None)
    col = f"risk_{v.endpoint}"
    arms = validation_arms(v)
    planned = {a.name: a.n for a in scenario.arms}
    if tab is None or tab.empty or col not in tab:  # e.g. a report read back from patients.parquet
        ra, rb = [], np.empty(0)
    else:
        ra = [tab.loc[tab["arm"] == a, col].to_numpy(dtype=float) for a in arms]
        rb = tab.loc[tab["arm"] == v.vs, col].to_numpy(dtype=float)
    flags = []
    rflags = list(rec.get("flags") or [])
    if "unverified" in rflags:
        flags.append("UNVERIFIED")
    flags += [_RECORD_FLAGS[f] for f in rflags if f in _RECORD_FLAGS]
    pv, lo, hi, text = published_interval(rec)
    n_pub = published_n(rec, "ratio")
    role = role_of(v.role, v.record, informing)
    end = result.plan.obs_times[-1] if getattr(result, "plan", None) is not None else None
    row = {"trial": scenario.name, "study": rec["study_id"], "arm": v.arm, "endpoint": v.endpoint,
           "at_days": float(end) if end is not None else _days(v.at), "compare": v.compare, "vs": v.vs,
           "kind": "numeric", "simulated": None, "sim_sd": None, "sim_ci_low": None, "sim_ci_high": None,
           "n_sim": int(sum(len(x) for x in ra) + len(rb)), "record": v.record, "role": role,
           "informs": ", ".join(informing.get(v.record, ())), "pred_low": None, "pred_high": None, "pred_sd": None,
           "pred_method": None, "z": None, "interval_score": None, "se_pub": None, "is_se": None, "arm_change": None,
           "p_at_n": None, "mcid": None, "mcid_met": None, "mcid_source": None, "published": pv, "pub_low": lo,
           "pub_high": hi, "spread": text, "holds": None}
    if pv is not None and n_pub is not None and all(len(x) for x in ra) and ra and len(rb):
        na, nb = n_pub - n_pub // 2, n_pub // 2
        flags.append("arms split 1:1")
        # pooled MSC arms weighted by the scenario's planned sizes (the mix), however many were simulated
        pred = predictive_ratio(pooled_risk(ra, [planned[a] for a in arms]), pooled_risk([rb]), v.compare, na, nb)
        se = published_se(pv, n_pub, "ratio", rec)
        score = pred.score(pv)
        row.update({"simulated": pred.center, "pred_low": pred.low, "pred_high": pred.high, "pred_sd": pred.sd,
                    "pred_method": pred.method, "z": pred.z(pv), "interval_score": score, "se_pub": se,
                    "is_se": score / se if se else None, "holds": pred.contains(pv)})
    elif pv is not None and n_pub is None:
        flags.append("no n")
    row["n_pub"] = n_pub
    row["scale"] = v.scale
    row["flags"] = ", ".join(flags)
    row["counted"] = bool(row["holds"] is not None and not any(f in flags for f in EXCLUDING_FLAGS))
    row["inside"] = row["holds"]
    return row


def treatment_effects(scenario: Scenario, result, table: pd.DataFrame, draws: list | None = None) -> pd.DataFrame:
    """Published between-arm differences beside the simulated ones (MSC arm - control arm).

    Pairs: numeric rows of ``table`` (from :func:`validate_result`) with the same endpoint, time
    and comparison, whose records are an MSC arm and a control arm of one study. The published
    difference is the MSC record's reported difference when it has one, else the difference of
    the two published arm results. ``draws`` as in :func:`validate_result` (paired per draw).
    """
    recs = _records()
    pts = result.patients
    t = table[(table["kind"] == "numeric") & table["published"].notna()] if not table.empty else table
    rows = []
    for (_ep, _at, _cmp), grp in t.groupby(["endpoint", "at_days", "compare"], sort=False):
        roles = {i: recs.loc[r["record"], "arm_role"] for i, r in grp.iterrows()}
        ctrl = [i for i in grp.index if roles[i] == "control"]
        msc = [i for i in grp.index if roles[i] == "msc"]
        for i in msc:
            for j in ctrl:
                a, b = grp.loc[i], grp.loc[j]
                if recs.loc[a["record"], "study_id"] != recs.loc[b["record"], "study_id"]:
                    continue
                rows.append(_effect_row(scenario, pts, recs, a, b, draws))
    return pd.DataFrame(rows)


def _effect_row(scenario, pts, recs, a: pd.Series, b: pd.Series, draws: list | None = None) -> dict:
    stat = _stat(scenario, a["endpoint"], a["compare"])
    xa, _ = _arm_values(pts, a["arm"], a["endpoint"], a["at_days"], a["compare"], scenario)
    xb, _ = _arm_values(pts, b["arm"], b["endpoint"], b["at_days"], b["compare"], scenario)
    ra = recs.loc[a["record"]]
    reported = _num(ra.get("diff"))
    scale = float(a.get("scale", 1.0))
    pub = reported * scale if reported is not None else float(a["published"]) - float(b["published"])
    flags = sorted({f.strip() for f in (a["flags"] + ", " + b["flags"]).split(",") if f.strip()})
    row = {"trial": scenario.name, "study": ra["study_id"], "endpoint": a["endpoint"], "at_days": a["at_days"],
           "compare": a["compare"], "arm": a["arm"], "control": b["arm"],
           "published_diff": pub, "published_basis": "reported difference" if reported is not None
           else "difference of the published arm results",
           "records": f"{a['record']}, {b['record']}",
           "role": "calibration" if "calibration" in (a["role"], b["role"]) else "validation",
           "flags": ", ".join(flags), "simulated_diff": None, "pred_low": None, "pred_high": None,
           "pred_sd": None, "z": None, "interval_score": None, "se_pub": None, "is_se": None, "holds": None}
    if a["n_pub"] is not None and b["n_pub"] is not None and not pd.isna(a["n_pub"]) and not pd.isna(b["n_pub"]):
        da = db = None
        if draws is not None:
            da = [_arm_values(d.patients, a["arm"], a["endpoint"], a["at_days"], a["compare"], scenario)[0]
                  for d in draws]
            db = [_arm_values(d.patients, b["arm"], b["endpoint"], b["at_days"], b["compare"], scenario)[0]
                  for d in draws]
        pred = predictive_difference(xa, xb, stat, int(a["n_pub"]), int(b["n_pub"]), draws_a=da, draws_b=db)
        score = pred.score(pub)
        sa, sb = _num(a["se_pub"]), _num(b["se_pub"])
        se = None
        if reported is not None and _num(ra.get("diff_ci_low")) is not None:
            se = (float(ra["diff_ci_high"]) - float(ra["diff_ci_low"])) * scale / (2 * 1.96)
        elif sa is not None and sb is not None:
            se = math.sqrt(sa**2 + sb**2)
        row.update({"simulated_diff": pred.center, "pred_low": pred.low, "pred_high": pred.high,
                    "pred_sd": pred.sd, "z": pred.z(pub), "interval_score": score, "se_pub": se,
                    "is_se": score / se if se else None, "holds": pred.contains(pub)})
    row["counted"] = bool(row["holds"] is not None and not any(f in flags for f in EXCLUDING_FLAGS))
    return row


def _days(text: str) -> float:
    from mscsim.units import parse_time

    return parse_time(text)


def run_validation(disease: str | None = None, *, workers: int = 1, scheduler: str | None = None,
                   progress: bool = True, only: list[str] | None = None, with_effects: bool = False,
                   n_sim_min: int = DEFAULT_N_SIM_MIN) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Run every shipped scenario (of ``disease``) and return the validation table (and, with
    ``with_effects``, the treatment-effect table too).

    ``n_sim_min``: simulate at least this many patients per arm (the published arm sizes stay the
    n of the predictive intervals and tests). The simulated arm stands for the model's
    expectation; with as few patients as the published arm (5 in Molendijk 2015) its own
    Monte-Carlo noise would dominate the interval. 0: the published sizes."""
    from mscsim.trial import run_trial

    scen = shipped_scenarios(disease)
    if only:
        scen = {k: v for k, v in scen.items() if k in only}
    if not scen:
        raise MscsimError(f"no shipped scenarios for disease {disease!r}", field="--disease")
    tables, effects = [], []
    for sid, path in scen.items():
        sc = load_scenario(path)
        if not sc.validation:
            continue
        run = sc
        if n_sim_min:
            arms = [a.model_copy(update={"n": max(a.n, n_sim_min)}) for a in sc.arms]
            run = sc.model_copy(update={"arms": arms})
        res = run_trial(run, workers=workers, scheduler=scheduler, progress=progress)
        t = validate_result(sc, res)
        e = treatment_effects(sc, res, t)
        t.insert(0, "scenario", sid)
        tables.append(t)
        if not e.empty:
            e.insert(0, "scenario", sid)
            effects.append(e)
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    eff = pd.concat(effects, ignore_index=True) if effects else pd.DataFrame()
    return (table, eff) if with_effects else table


# ---------------------------------------------------------------------------------------------
# Counts and Markdown
# ---------------------------------------------------------------------------------------------

def _count(rows: pd.DataFrame) -> dict:
    if rows.empty or "counted" not in rows:
        return {"held": 0, "total": 0, "coverage": None, "mean_is_se": None, "excluded": 0}
    c = rows[rows["counted"].astype(bool)]
    held = int(c["holds"].astype(bool).sum())
    total = len(c)
    is_se = pd.to_numeric(c["is_se"], errors="coerce").dropna() if "is_se" in c else pd.Series(dtype=float)
    return {"held": held, "total": total, "coverage": held / total if total else None,
            "mean_is_se": float(is_se.mean()) if len(is_se) else None,
            "excluded": int((~rows["counted"].astype(bool)).sum())}


def summarize_scores(table: pd.DataFrame, effects: pd.DataFrame | None = None) -> dict:
    """Held/total, coverage and mean interval score (in published standard errors) per kind of row.

    Rows flagged UNVERIFIED or "n assumed", and rows that cannot be decided, are not counted.
    """
    effects = pd.DataFrame() if effects is None else effects
    val = table[table["role"] == "validation"] if not table.empty else table
    cal = table[table["role"] == "calibration"] if not table.empty else table
    out = {
        "numeric": _count(val[val["kind"] == "numeric"] if not val.empty else val),
        "direction": _count(val[val["kind"] == "direction"] if not val.empty else val),
        "effects": _count(effects[effects["role"] == "validation"] if not effects.empty else effects),
        "calibration": _count(cal),
        "calibration_effects": _count(effects[effects["role"] == "calibration"] if not effects.empty else effects),
        "rows": len(table), "effect_rows": len(effects),
        "perfect_model_is_se": CALIBRATED_NORMAL_IS,
    }
    out["excluded"] = sum(out[k]["excluded"] for k in ("numeric", "direction", "effects", "calibration",
                                                       "calibration_effects"))
    return out


def _f(x, nd=3) -> str:
    x = _num(x)
    return "" if x is None else f"{x:.{nd}g}"


def headline_markdown(summary: dict) -> str:
    """The README headline: held/total, coverage and mean interval score per kind of row."""
    def line(label, c, with_is=True):
        cov = "" if c["coverage"] is None else f"{100 * c['coverage']:.0f} %"
        mis = _f(c["mean_is_se"]) if with_is else "n/a (no interval)"
        return f"| {label} | {c['held']} / {c['total']} | {cov} | {mis} |"

    lines = ["| rows | held / total | coverage | mean interval score (published SEs) |",
             "|---|---|---|---|",
             line("validation, numeric (published arm result inside the 95 % predictive interval)",
                  summary["numeric"]),
             line("validation, direction (p < 0.05 at the published n and the MCID reached)",
                  summary["direction"], with_is=False),
             line("treatment effects (published between-arm difference inside the 95 % predictive interval)",
                  summary["effects"]),
             line("calibration rows (records that set a parameter; not validation)", summary["calibration"]),
             ]
    if summary["calibration_effects"]["total"]:
        lines.append(line("calibration treatment effects", summary["calibration_effects"]))
    note = (f"\nA model that knew each true arm value would hold about 95 % of rows with a mean interval "
            f"score near {summary['perfect_model_is_se']:.2f} published standard errors (the interval score, "
            "Gneiting & Raftery 2007, grows with the interval's width and with misses); larger is worse. "
            f"{summary['excluded']} rows (UNVERIFIED numbers, assumed arm sizes, or no published n) are "
            "shown below with their flag but not counted.\n")
    return "\n".join(lines) + "\n" + note


def format_markdown(table: pd.DataFrame) -> str:
    """The validation table as Markdown (for the README)."""
    lines = ["| trial | arm | endpoint | day | use | simulated | 95% predictive interval at published n | "
             "published | z | interval score (in published SEs) | holds | flags |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        ep = r["endpoint"] + {"change": " (change)", "complement": " (1 - x)"}.get(r["compare"], "")
        if r["compare"] in RATIO_COMPARES:
            ep += f" ({'RR' if r['compare'] == 'risk_ratio' else 'OR'} vs {r['vs']})"
        if r["kind"] == "direction":
            ep += f" (change{', vs ' + str(r['vs']) if _present(r.get('vs')) else ''})"
            vs = f" vs {r['vs']}, arm change {_f(r.get('arm_change'))}" if _present(r.get("vs")) else ""
            sim = f"{_f(r['simulated'])} ({vs.lstrip(', ') + '; ' if vs else ''}p {_f(r['p_at_n'], 2)} at " \
                  f"n={_int(r['n_pub'])}; MCID {_f(r['mcid'])}{'' if r['mcid_met'] else ' not reached'})"
            pi = ""
            pub = str(r["spread"])
        else:
            sim = _f(r["simulated"])
            pi = "" if _num(r["pred_low"]) is None else \
                f"{_f(r['pred_low'])} to {_f(r['pred_high'])} (n={_int(r['n_pub'])})"
            rng = f"{_f(r['pub_low'])} to {_f(r['pub_high'])}, " if _num(r["pub_low"]) is not None else ""
            pub = _f(r["published"]) + (f" ({rng}{r['spread']})" if r["spread"] or rng else "")
        hold = {True: "yes", False: "**no**"}.get(_bool(r["holds"]), "n/a")
        if not r["counted"] and hold != "n/a":
            hold += " (not counted)"
        lines.append(f"| {r['study']} | {r['arm']} | {ep} | {r['at_days']:g} | {r['role']} | {sim} | {pi} | {pub} | "
                     f"{_f(r['z'], 2)} | {_is(r)} | {hold} | {r['flags']} |")
    return "\n".join(lines) + "\n"


def format_effects_markdown(effects: pd.DataFrame) -> str:
    """The treatment-effect table as Markdown."""
    lines = ["| trial | endpoint | day | arm - control | use | simulated difference | "
             "95% predictive interval at published n | published difference | z | interval score (in published SEs) | "
             "holds | flags |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in effects.iterrows():
        hold = {True: "yes", False: "**no**"}.get(_bool(r["holds"]), "n/a")
        if not r["counted"] and hold != "n/a":
            hold += " (not counted)"
        pi = "" if _num(r["pred_low"]) is None else f"{_f(r['pred_low'])} to {_f(r['pred_high'])}"
        ep = r["endpoint"] + {"change": " (change)", "complement": " (1 - x)"}.get(r["compare"], "")
        lines.append(f"| {r['study']} | {ep} | {r['at_days']:g} | {r['arm']} - {r['control']} | {r['role']} | "
                     f"{_f(r['simulated_diff'])} | {pi} | {_f(r['published_diff'])} ({r['published_basis']}) | "
                     f"{_f(r['z'], 2)} | {_is(r)} | {hold} | {r['flags']} |")
    return "\n".join(lines) + "\n"


def _is(r) -> str:
    if _num(r.get("interval_score")) is None:
        return ""
    se = _num(r.get("is_se"))
    return _f(r["interval_score"]) + ("" if se is None else f" ({_f(se)})")


def _present(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x)) and str(x) != ""


def _bool(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return None
    return bool(x)


def _int(x) -> str:
    x = _num(x)
    return "?" if x is None else f"{int(x)}"
