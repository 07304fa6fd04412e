"""``mscsim validate``: every shipped published-trial scenario simulated and set beside its
published result (design.md, "Evidence, calibration, validation").

Each scenario lists ``validation`` entries: arm, endpoint, time, the evidence record it is
compared with, how (value, change from baseline, or direction), and whether the record was
used for calibration or only for checking. The simulated arm has the published number of
patients, so its 95 % CI reflects the trial's own sampling error. "inside" means the simulated
95 % CI and the published 95 % CI overlap (for direction records: the simulated change has the
published direction and p < 0.05). A miss is shown as a miss; it is a report, not a gate.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from mscsim.errors import MscsimError
from mscsim.evidence.records import load_records
from mscsim.scenario import Scenario, load_scenario, shipped_scenarios
from mscsim.stats import summarize


def published_interval(rec: pd.Series) -> tuple[float | None, float | None, float | None, str]:
    """(value, low, high, text) of a record, as a 95 % interval of the arm-level number."""
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
        return v, float(rec["ci_low"]), float(rec["ci_high"]), f"{rec.get('ci_level') or 95}% CI (published)"
    if stat == "proportion":
        ev, tot = rec.get("events"), rec.get("total")
        if pd.notna(ev) and pd.notna(tot) and int(tot) > 0:
            lo, hi = proportion_confint(float(ev), int(tot), method="wilson")
            return v, lo, hi, f"{int(ev)}/{int(tot)}, Wilson 95% CI"
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


def _records() -> pd.DataFrame:
    return load_records().set_index("record_id", drop=False)


def validate_result(scenario: Scenario, result) -> pd.DataFrame:
    """Rows of the validation table for one simulated scenario."""
    recs = _records()
    pts = result.patients
    rows = []
    for v in scenario.validation:
        if v.record not in recs.index:
            raise MscsimError(f"scenario {scenario.name!r}: unknown evidence record {v.record!r}",
                              field="validation.record")
        rec = recs.loc[v.record]
        at = _days(v.at)
        sel = pts[(pts["arm"] == v.arm) & (pts["endpoint"] == v.endpoint) & np.isclose(pts["at_days"], at)]
        if sel.empty:
            raise MscsimError(f"scenario {scenario.name!r}: validation needs endpoint {v.endpoint} at {v.at} "
                              "in the scenario's endpoints", field="validation")
        from mscsim.trial import endpoint_stat

        stat = endpoint_stat(scenario.disease, v.endpoint)
        x = sel["value"].to_numpy(dtype=float)
        if v.compare in ("change", "direction"):
            x = x - sel["baseline"].to_numpy(dtype=float)
            stat = "mean"
        elif v.compare == "complement":  # e.g. published "relapse-free" vs simulated "relapse"
            x = 1.0 - x
        s = summarize(x, stat)
        row = {"trial": scenario.name, "study": rec["study_id"], "arm": v.arm, "endpoint": v.endpoint,
               "at_days": at, "compare": v.compare, "simulated": s["value"], "sim_ci_low": s["ci_low"],
               "sim_ci_high": s["ci_high"], "n_sim": s["n"], "record": v.record, "role": v.role}
        if v.compare == "direction":
            p = sps.ttest_1samp(x, 0.0).pvalue if len(x) > 1 and np.std(x) > 0 else 1.0
            sign_ok = (s["value"] < 0) if v.expect == "decrease" else (s["value"] > 0)
            row.update({"published": None, "pub_low": None, "pub_high": None,
                        "spread": f"{v.expect} (P<0.05): {rec['value_text']}",
                        "inside": bool(sign_ok and p < 0.05), "p_sim": float(p)})
        else:
            if v.n is not None and (rec.get("n") is None or pd.isna(rec.get("n"))):
                rec = rec.copy()
                rec["n"] = v.n
                pv, lo, hi, text = published_interval(rec)
                text += " (n assumed)"
            else:
                pv, lo, hi, text = published_interval(rec)
            if pv is not None and v.scale != 1.0:
                pv, lo, hi = pv * v.scale, (None if lo is None else lo * v.scale), (None if hi is None else hi * v.scale)
                text += f" (x{v.scale:g} to model units)"
            if pv is None and v.unverified is not None:
                u = v.unverified
                pv = u.events / u.total
                lo, hi = proportion_confint(u.events, u.total, method="wilson")
                text = f"UNVERIFIED {u.events}/{u.total} ({u.note})"
            inside = None
            if pv is not None and lo is not None and s["ci_low"] is not None:
                inside = bool(s["ci_low"] <= hi and lo <= s["ci_high"])
            elif pv is not None and s["value"] is not None and lo is None:
                inside = None
            row.update({"published": pv, "pub_low": lo, "pub_high": hi, "spread": text, "inside": inside})
        rows.append(row)
    return pd.DataFrame(rows)


def _days(text: str) -> float:
    from mscsim.units import parse_time

    return parse_time(text)


def run_validation(disease: str | None = None, *, workers: int = 1, scheduler: str | None = None,
                   progress: bool = True, only: list[str] | None = None) -> pd.DataFrame:
    """Run every shipped scenario (of ``disease``) and return the validation table."""
    from mscsim.trial import run_trial

    scen = shipped_scenarios(disease)
    if only:
        scen = {k: v for k, v in scen.items() if k in only}
    if not scen:
        raise MscsimError(f"no shipped scenarios for disease {disease!r}", field="--disease")
    tables = []
    for sid, path in scen.items():
        sc = load_scenario(path)
        if not sc.validation:
            continue
        res = run_trial(sc, workers=workers, scheduler=scheduler, progress=progress)
        t = validate_result(sc, res)
        t.insert(0, "scenario", sid)
        tables.append(t)
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def format_markdown(table: pd.DataFrame) -> str:
    """The validation table as Markdown (for the README)."""
    def f(x, nd=3):
        return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}g}"

    lines = ["| trial | arm | endpoint | day | simulated (95% CI) | published (95% CI / spread) | inside | use |",
             "|---|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        sim = f"{f(r['simulated'])} ({f(r['sim_ci_low'])} to {f(r['sim_ci_high'])})"
        if r["compare"] == "direction":
            pub = r["spread"]
        else:
            pub = f"{f(r['published'])}" + (f" ({f(r['pub_low'])} to {f(r['pub_high'])})" if r["pub_low"] is not None
                                              and not (isinstance(r["pub_low"], float) and math.isnan(r["pub_low"]))
                                              else f" ({r['spread']})")
        ins = {True: "yes", False: "**no**", None: "n/a"}.get(r["inside"] if not (isinstance(r["inside"], float)
                                                                                and math.isnan(r["inside"])) else None)
        ep = r["endpoint"] + (" (change)" if r["compare"] == "change" else "")
        lines.append(f"| {r['study']} | {r['arm']} | {ep} | {r['at_days']:g} | {sim} | {pub} | {ins} | {r['role']} |")
    return "\n".join(lines) + "\n"
