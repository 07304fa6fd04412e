"""Building the report page: sections as HTML, figures and body-map data as one JSON blob, all
filled into ``template.html`` together with plotly.js and ``report.js`` (inline, so the page
needs no network)."""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from html import escape
from importlib import resources

import numpy as np
import pandas as pd

from mscsim.report import bodymap, figures
from mscsim.report.inputs import ReportInput, bodymap_data

SECTION_TITLES = {
    "simulated": "What was simulated",
    "bodymap": "Where the cells are",
    "immune": "Cytokines and T cells",
    "scores": "Clinical scores",
    "responders": "Responders and endpoints",
    "published": "Published result beside the simulated one",
    "figures": "Static figures",
    "notes": "Notes",
}

DASH = "\u2013"
ROUTE_TEXT = {"iv": "IV", "intra_arterial": "intra-arterial", "intraportal": "intraportal",
              "intrathecal": "intrathecal", "local": "local injection"}


# ---------------------------------------------------------------------------------------------
# small formatting helpers

def _isnum(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool) and math.isfinite(x)


def num(x, digits: int = 3) -> str:
    """A number for people: 3 significant digits, powers of ten as 7 x 10^7 (HTML)."""
    if not _isnum(x):
        return "\u2013"
    x = float(x)
    if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
        e = int(math.floor(math.log10(abs(x))))
        m = x / 10 ** e
        ms = f"{m:.{max(digits - 1, 0)}f}".rstrip("0").rstrip(".")
        return (f"{ms} \u00d7 " if ms != "1" else "") + f"10<sup>{e}</sup>"
    return f"{x:.{digits}g}"


def pct(x, digits: int = 0) -> str:
    return "\u2013" if not _isnum(x) else f"{100 * float(x):.{digits}f}%"


def _table(header: list[str], rows: list[list[str]], cls: str = "data", caption: str | None = None) -> str:
    """Rows are already HTML (escaped by the caller)."""
    h = "".join(f"<th>{c}</th>" for c in header)
    b = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    cap = f"<caption>{caption}</caption>" if caption else ""
    return f'<div class="table-wrap"><table class="{cls}">{cap}<thead><tr>{h}</tr></thead><tbody>{b}</tbody></table></div>'


def _kv(rows: list[tuple[str, str]]) -> str:
    b = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows if v not in (None, ""))
    return f'<div class="table-wrap"><table class="kv"><tbody>{b}</tbody></table></div>'


def _section(sid: str, body: str, intro: str = "") -> str:
    intro = f'<p class="intro">{intro}</p>' if intro else ""
    return f'<section id="{sid}"><h2>{escape(SECTION_TITLES[sid])}</h2>{intro}{body}</section>'


def _fig(fid: str) -> str:
    return f'<div class="plot" id="{fid}"></div>'


def _note(text: str) -> str:
    return f'<p class="note">{text}</p>'


def regimen_text(doses) -> str:
    """``DoseSpec`` list -> '1e6 cells/kg ad-msc IV, at 0 d, every 7 d x 3'."""
    if not doses:
        return "no MSCs (standard of care / placebo)"
    parts = []
    for d in doses:
        route = ROUTE_TEXT.get(d.route, d.route)
        if d.artery:
            route += f" ({d.artery} artery)"
        if d.site:
            route += f" ({d.site.replace('_', ' ')})"
        s = f"{d.dose} {d.to_dose().product_spec.label} {route}, at {d.at}"
        if d.infusion:
            s += f", over {d.infusion}"
        if d.every and d.times > 1:
            s += f", every {d.every} \u00d7 {d.times}"
        parts.append(s)
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------------
# sections

def _days_text(d: float) -> str:
    if d < 1 / 24:
        return f"{d * 1440:.3g} min"
    if d < 2:
        return f"{d * 24:.3g} h"
    return f"{d:.4g} d"


def _schedule_text(inp: ReportInput) -> str:
    """Schedule of a simulate run: from its regimen (passed by `mscsim simulate`), else unknown."""
    s = inp.summary
    if s.get("dose") is None:
        return ""
    doses = list(inp.regimen) if inp.regimen is not None else []
    if not doses:
        return "first dose at 0 d (infusion time and repeats are not recorded in summary.json)"
    parts = []
    for d in doses:
        t = f"at {_days_text(d.at) if d.at else '0 d'}"
        t += f", infused over {_days_text(d.duration)}" if d.duration and d.duration > 0 else ", bolus"
        if d.every and d.times > 1:
            t += f", every {_days_text(d.every)} \u00d7 {d.times}"
        parts.append(t)
    return escape("; ".join(parts))


def _simulated_simulate(inp: ReportInput) -> str:
    s, st = inp.summary, inp.settings

    def get(k):
        v = s.get(k)
        return st.get(k) if v is None else v

    route = ROUTE_TEXT.get(s.get("route") or "iv", s.get("route") or "")
    if s.get("artery"):
        route += f" ({s['artery']} artery)"
    if s.get("site"):
        route += f" ({str(s['site']).replace('_', ' ')})"
    disease = s.get("disease")
    sub = get("subtype")
    rows = [
        ("Kind", "one simulated patient (<code>mscsim simulate</code>)"),
        ("Dose", escape(str(s.get("dose") or "no dose (untreated course)"))),
        ("Cells given (total)", num(s.get("cells_given"))),
        ("Route", escape(route)),
        ("Schedule", _schedule_text(inp)),
        ("Product", escape(str(s.get("product") or "msc"))),
        ("Simulated time", f"{num(s.get('days'))} days"),
        ("Patient", escape(str(s.get("species") or "human")) + f", {num(s.get('weight_kg'))} kg"),
        ("Injured tissue", escape(str(s.get("injury") or "none"))),
        ("Disease", escape(f"{disease}" + (f" ({sub})" if sub else "")) if disease else "none (cell kinetics only)"),
        ("Peak lung-occlusion signal", f"{num(s.get('peak_lung_occlusion'))} "
                                       "<span class='muted'>(1 = the lung load that killed mice)</span>"),
        ("Mass balance error", num(s.get("conservation_error"))),
    ]
    return _kv(rows)


def _simulated_trial(inp: ReportInput) -> str:
    s, sc = inp.summary, inp.scenario
    rows = [("Kind", "virtual clinical trial (<code>mscsim trial</code>)"),
            ("Scenario", escape(str(s.get("scenario", "")))),
            ("Disease", escape(str(s.get("disease", "")) + (f" ({s['subtype']})" if s.get("subtype") else ""))),
            ("Seed", escape(str(s.get("seed", "")))),
            ("mscsim version", escape(str(s.get("version", ""))))]
    if sc is not None:
        if sc.description:
            rows.insert(2, ("Design", escape(sc.description.strip())))
        if sc.source:
            rows.insert(3, ("Source", escape(sc.source)))
        inc = sc.population.inclusion
        rows.append(("Inclusion", escape(", ".join(f"{k} {v}" if isinstance(v, str) else f"{k} in {v}"
                                                  for k, v in inc.items())) or "the disease's typical trial population"))
        cov = sc.population.covariates
        if cov:
            rows.append(("Covariates", escape("; ".join(
                f"{k}: " + ", ".join(f"{a} {getattr(c, a):g}" for a in ("mean", "sd", "min", "max", "proportion")
                                     if getattr(c, a) is not None) for k, c in cov.items()))))
    out = [_kv(rows)]
    # arms: regimen and population
    specs = {a.name: a for a in sc.arms} if sc is not None else {}
    pop = inp.population
    pts = inp.patients
    base_eps = []
    if pts is not None and not pts.empty:
        for arm in s["arms"]:
            for e in arm["endpoints"]:
                if e.get("stat") == "mean" and e["name"] not in base_eps:
                    b = pts.loc[pts["endpoint"] == e["name"], "baseline"]
                    if b.notna().any() and (b.fillna(0) != 0).any():   # not a change-from-baseline endpoint
                        base_eps.append(e["name"])
    header = ["arm", "regimen", "enrolled / planned", "screened (ratio)", "failed simulations",
              "weight kg, mean (SD)", "age, mean (range)"] + [f"baseline {escape(e)}, mean (SD)" for e in base_eps]
    rows = []
    for arm in s["arms"]:
        name = arm["name"]
        reg = regimen_text(specs[name].regimen) if name in specs else "<span class='muted'>scenario not available</span>"
        w = a = "\u2013"
        if pop is not None and "arm" in pop:
            g = pop[pop["arm"] == name]
            if "weight_kg" in g and len(g):
                w = f"{num(g['weight_kg'].mean())} ({num(g['weight_kg'].std(ddof=1) if len(g) > 1 else 0.0)})"
            if "age" in g and len(g):
                a = f"{num(g['age'].mean())} ({num(g['age'].min())}\u2013{num(g['age'].max())})"
        base = []
        for e in base_eps:
            g = pts[(pts["arm"] == name) & (pts["endpoint"] == e)].drop_duplicates("patient")
            base.append(f"{num(g['baseline'].mean())} ({num(g['baseline'].std(ddof=1) if len(g) > 1 else 0.0)})"
                        if len(g) else "\u2013")
        rows.append([escape(name), reg if name not in specs else escape(reg),
                     f"{arm.get('n', '')} / {arm.get('n_planned', arm.get('n', ''))}",
                     f"{arm.get('screened', DASH)} ({num(arm.get('screening_ratio'))})",
                     escape(str(arm.get("failures", 0))), w, a] + base)
    out.append(_table(header, rows, caption="Arms: regimen and virtual population"))
    fit = s.get("population_fit") or []
    if fit:
        def val(m, sd, binary):
            return pct(m, 1) if binary else num(m) + ("" if sd is None else f" ({num(sd)})")
        frows = [[escape(r["arm"]), escape(r["row"]), val(r["target"], r.get("target_sd"), r["kind"] == "proportion"),
                  val(r["achieved"], r.get("achieved_sd"), r["kind"] == "proportion"), num(r.get("smd"), 2),
                  num(r.get("pool_smd"), 2)] for r in fit]
        out.append(_table(["arm", "Table 1 row", "published, mean (SD) / %", "virtual arm at screening",
                           "standardized difference", "before matching"], frows,
                          caption="Virtual population matched to the trial's Table 1 (entropy balancing + "
                                  "cube-method selection; |standardized difference| < 0.1 is a close match)"))
    return "".join(out)


def _bodymap_section(inp: ReportInput, bm: dict | None) -> str:
    if bm is None:
        why = "; ".join(escape(n) for n in inp.notes if "body map" in n) or "no per-organ cell data in this folder"
        return _section("bodymap", _note(f"No body map: {why}."))
    target = bm.get("target")
    tname = f"target: {target.replace('_', ' ')}" if target else None
    svg = bodymap.body_svg(target, target.replace("_", " ") if target else None)
    keys = [k for k in bodymap.ORGAN_ORDER if k in bm["organs"]]
    trows = "".join(
        f'<tr data-row="{k}"><td><span class="swatch" data-swatch="{k}"></span>'
        f'{escape(tname if k == "target" else bm["organs"][k].get("name", k))}</td>'
        '<td class="num" data-cell="viable">-</td>'
        f'<td class="num" data-cell="label">-</td><td class="num" data-cell="cells">-</td></tr>' for k in keys)
    table = (f'<table class="data organ-table" id="bm-table"><thead><tr><th>organ</th><th>viable, % of dose</th>'
             f'<th>label, % of dose</th><th>viable cells</th></tr></thead><tbody>{trows}</tbody></table>')
    controls = (
        '<div class="bm-controls">'
        '<div class="bm-time"><span class="muted">time</span> <strong id="bm-time">-</strong>'
        ' <span class="muted" id="bm-since"></span></div>'
        f'<input type="range" id="bm-slider" min="0" max="{len(bm["times"]) - 1}" step="1" '
        f'value="{bm["initial"]}" aria-label="time">'
        '<div class="bm-buttons"><button type="button" id="bm-play">\u25b6 play</button>'
        '<span id="bm-quick"></span></div>'
        '<div class="bm-mode"><label><input type="radio" name="bm-mode" value="viable" checked> viable MSCs</label>'
        '<label><input type="radio" name="bm-mode" value="label"> label (viable + debris, as imaging sees it)'
        '</label></div></div>')
    intro = (f"The body map shows {escape(bm['source'])}. Organs are shaded by the percent of all cells given "
             "that sit in them at the chosen time (log colour scale); move the slider or press play. An organ's "
             "value includes the target tissue inside it"
             + (f" (here the {escape(target.replace('_', ' '))} target tissue, outlined with a dashed line"
                + ("; the rest of the body is shown without it" if "rest" in bm["organs"]
                   and bm["organs"]["rest"].get("name", "rest") != "rest" else "") + ")"
                if target else "") +
             "; blood is drawn as the large vessels, skin as the outline.")
    body = (f'<div class="bm-wrap"><div class="bm-figure">{controls}{svg}</div>'
            f'<div class="bm-side">{table}</div></div>{_fig("fig-cells")}')
    if inp.kind == "simulate" and inp.summary.get("where_cells_went"):
        w = inp.summary["where_cells_went"]
        cols = list(w[0].keys())
        rows = [[escape(str(r[c])) if c == "organ" else num(r[c]) for c in cols] for r in w]
        body += ("<details><summary>Where the cells went (table, % of all cells given)</summary>"
                 + _table([escape(c) for c in cols], rows) + "</details>")
    return _section("bodymap", body, intro)


def _endpoint_stat(inp: ReportInput, name: str) -> str:
    for arm in inp.summary.get("arms", []):
        for e in arm["endpoints"]:
            if e["name"] == name:
                return e.get("stat", "mean")
    if inp.disease:
        try:
            from mscsim.trial import endpoint_stat

            return endpoint_stat(inp.disease, name)
        except Exception:  # noqa: BLE001
            return "mean"
    return "mean"


def _published_section(inp: ReportInput) -> str:
    v = inp.validation
    if v is None or v.empty:
        if inp.scenario is not None and not inp.scenario.validation:
            return _section("published", _note("This scenario has no published result attached "
                                               "(no <code>validation:</code> entries)."))
        return _section("published", _note("No published comparison: "
                                           + ("; ".join(escape(n) for n in inp.notes) or "not available") + "."))
    rows = []
    for _, r in v.iterrows():
        prop = r["compare"] in ("value", "complement") and _endpoint_stat(inp, r["endpoint"]) == "proportion"
        f = pct if prop else num
        sim = f(r["simulated"])
        if _isnum(r.get("pred_low")):
            sim += f"<br><span class='muted'>95% predictive interval at the published n: {f(r['pred_low'])} to {f(r['pred_high'])}</span>"
        if r["compare"] == "direction":
            pub = escape(str(r["spread"]))
        else:
            lo = r.get("pub_low")
            pub = f(r["published"]) + (f" ({f(lo)} to {f(r['pub_high'])})" if _isnum(lo) else "")
            pub += f"<br><span class='muted'>{escape(str(r['spread']))}</span>"
        inside = r["inside"]
        inside = None if inside is None or (isinstance(inside, float) and math.isnan(inside)) else bool(inside)
        badge = {True: '<span class="ok">yes</span>', False: '<span class="miss">no</span>',
                 None: '<span class="muted">n/a</span>'}[inside]
        ep = escape(r["endpoint"]) + {"change": " (change from baseline)",
                                      "complement": f" (shown as 1 \u2212 {escape(r['endpoint'])})"}.get(r["compare"], "")
        rows.append([escape(r["arm"]), ep, num(r["at_days"]), sim, pub, badge, escape(r["role"]),
                     escape(str(r["record"]))])
    n_in = int(sum(1 for x in v["inside"] if x is True or x == 1))
    n_all = int(sum(1 for x in v["inside"] if x is not None and not (isinstance(x, float) and math.isnan(x))))
    intro = (f"Each row sets a simulated arm beside the published result. \u201cHolds\u201d: the published "
             f"arm result lies inside the model's 95% predictive interval for a trial of the published size "
             f"(for direction records: the published direction is reached with p &lt; 0.05 at the published n "
             f"and the change reaches the endpoint's minimal clinically important difference). "
             f"{n_in} of {n_all} hold. Records marked <em>calibration</em> were used to fit the model; "
             "<em>validation</em> records only check it. Published values are also drawn as diamonds on the "
             "responder and score plots.")
    t = _table(["arm", "endpoint", "day", "simulated (predictive interval)", "published (95% CI / spread)",
                "holds", "use", "record"], rows)
    return _section("published", t, intro)


def _trial_tables(inp: ReportInput) -> str:
    s = inp.summary
    unc = s.get("uncertainty")  # trial --uncertainty N: predictive intervals and assurance

    def pred(d, f):
        return "\u2013" if not d or d.get("median") is None else f"{f(d['median'])} ({f(d['low'])} to {f(d['high'])})"

    rows = []
    for arm in s["arms"]:
        for e in arm["endpoints"]:
            f = pct if e.get("stat") == "proportion" else num
            rows.append([escape(arm["name"]), escape(e["name"]), num(e["at_days"]), escape(e.get("stat", "")),
                         f(e["value"]), f"{f(e['ci_low'])} to {f(e['ci_high'])}",
                         "\u2013" if e.get("stat") == "proportion" else num(e.get("sd"))]
                        + ([pred(e.get("predictive"), f)] if unc else []))
    head = ["arm", "endpoint", "day", "statistic", "value", "95% CI", "SD"]
    caption = "Endpoints per arm"
    if unc:
        head.append("predictive median (95% PI)")
        caption += (f"; predictive interval over {unc['draws']} parameter draws, each with its own virtual "
                    f"patients ({escape(unc['source'])})")
    out = _table(head, rows, caption=caption)
    comps = s.get("comparisons") or []
    if comps:
        rows = []
        for c in comps:
            f = pct if _endpoint_stat(inp, c["endpoint"]) == "proportion" else num
            p = c.get("p_value")
            a = c.get("assurance") or {}
            rows.append([escape(c["endpoint"]), num(c["at_days"]), escape(c["arm"]), escape(c["vs"]),
                         f(c.get("difference")), f"{f(c.get('ci_low'))} to {f(c.get('ci_high'))}",
                         "\u2013" if not _isnum(p) else (f"{p:.3g}" if p >= 1e-4 else "&lt; 0.0001")]
                        + ([pred(c.get("predictive_difference"), f),
                            "\u2013" if not _isnum(a.get("value")) else f"{a['value']:.2f} \u00b1 {a['mc_error']:.2f}"]
                           if unc else []))
        head = ["endpoint", "day", "arm", "vs", "difference", "95% CI", "p"]
        if unc:
            head += ["predictive difference (95% PI)", f"assurance (p &lt; {unc['alpha']:g}) \u00b1 MC error"]
        out += _table(head, rows, caption="Comparisons with the control arm (arm \u2212 control)")
    return out + _safety_table(s)


def _safety_table(s: dict) -> str:
    """Safety events per arm (summary ``safety`` block, mscsim.safety): events drawn, expected risk,
    risk ratio vs the control arm; infection, death and malignancy are the null model."""
    block = s.get("safety") or {}
    arms = block.get("arms") or []
    if not arms:
        return ""
    null = set(block.get("null_model") or [])
    rows = []
    for arm in arms:
        for name, e in arm["events"].items():
            rows.append([escape(arm["name"]), escape(name) + (" (null model)" if name in null else ""),
                         f"{e['events']} / {arm['n']}", pct(e.get("risk"), 1), num(e.get("risk_ratio"))])
        rows.append([escape(arm["name"]), "peak D-dimer (ng/mL)", "\u2013", num(arm.get("d_dimer_peak_mean")), "\u2013"])
    caption = (f"Safety events per arm by the end of follow-up (risk = mean per-patient probability; ratio vs "
               f"{escape(str(block.get('control_arm')))}; docs/safety.md)")
    return _table(["arm", "event", "events / patients", "risk", "risk ratio"], rows, caption=caption)


def _simulate_endpoint_table(inp: ReportInput, mod) -> str:
    ep = inp.endpoints
    if ep is None or ep.empty:
        return ""
    names = [e for e in list(getattr(mod, "SUMMARY_ENDPOINTS", [])) + ["tnf", "il10", "th17_pct", "treg_pct"]
             if e in set(ep["endpoint"])]
    names = list(dict.fromkeys(names))
    times = sorted(ep["time_d"].unique())
    piv = ep.pivot_table(index=["endpoint", "time_d"], columns="arm", values="value")
    rows = []
    for e in names:
        prop = _endpoint_stat(inp, e) == "proportion"
        cells = []
        for t in times:
            if (e, t) not in piv.index:
                cells.append("\u2013")
                continue
            u, tr = piv.loc[(e, t)].get("untreated"), piv.loc[(e, t)].get("treated")
            if prop:
                cells.append(f"{'yes' if _isnum(u) and u > 0.5 else 'no'} \u2192 "
                             f"<strong>{'yes' if _isnum(tr) and tr > 0.5 else 'no'}</strong>")
            else:
                cells.append(f"{num(u)} \u2192 <strong>{num(tr)}</strong>")
        rows.append([escape(e)] + cells)
    return _table(["endpoint"] + [f"day {t:g}" for t in times], rows,
                  caption="Typical patient, without MSCs \u2192 with MSCs (no visit noise; "
                          "responder endpoints as yes/no)")


def _figures_section(inp: ReportInput) -> str:
    """Links to the static PNG copies written beside the report. They are linked, not embedded:
    they repeat the interactive figures above, and inlining them doubled the page's size."""
    if not inp.figures:
        return _section("figures", _note("No PNG figures in the folder."))
    links = "".join(f'<li><a href="{escape(p.name)}">{escape(p.name)}</a></li>' for p in inp.figures)
    body = ("<p>Static PNG copies of the figures (for slides and papers) are written next to this "
            f"report ({len(inp.figures)}):</p><ul class='pngs'>{links}</ul>")
    return _section("figures", body)


# ---------------------------------------------------------------------------------------------

def _published_for_plots(inp: ReportInput) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """(proportion rows for the responder plot, mean rows with a timecourse quantity)."""
    v = inp.validation
    if v is None or v.empty:
        return None, None
    v = v[v["compare"].isin(["value", "complement"]) & v["published"].notna()].copy()
    if v.empty:
        return None, None
    for c in ("published", "pub_low", "pub_high"):
        v[c] = pd.to_numeric(v[c], errors="coerce")
    comp = v["compare"] == "complement"        # published as 1 - endpoint: drawn on the endpoint's scale
    v.loc[comp, ["published", "pub_low", "pub_high"]] = (
        1.0 - v.loc[comp, ["published", "pub_high", "pub_low"]].to_numpy())
    stat = v["endpoint"].map(lambda e: _endpoint_stat(inp, e))
    props = v[stat == "proportion"]
    means = v[(stat != "proportion") & ~comp].copy()
    means["quantity"] = means["endpoint"].map(lambda e: figures.ENDPOINT_QUANTITY.get(e, e))
    return props, means


def _arm_list(inp: ReportInput) -> list[dict]:
    ctrl = set()
    if inp.scenario is not None:
        ctrl = {a.name for a in inp.scenario.arms if not a.regimen}
    else:
        ctrl = {c["vs"] for c in inp.summary.get("comparisons", [])}
    return [{"name": a["name"], "control": a["name"] in ctrl} for a in inp.summary["arms"]]


def build(inp: ReportInput) -> tuple[str, dict, list[str]]:
    """(sections HTML, data blob, section ids) for one report."""
    from mscsim.palette import ORGAN_COLORS

    mod = None
    if inp.disease:
        from mscsim.model import disease_module

        mod = disease_module(inp.disease)
    key_labels = dict(getattr(mod, "KEY_OUTPUTS", []))
    figs: dict[str, dict] = {}
    sections: list[tuple[str, str]] = []

    # what was simulated
    body = _simulated_simulate(inp) if inp.kind == "simulate" else _simulated_trial(inp)
    sections.append(("simulated", _section("simulated", body)))

    # body map
    bm = bodymap_data(inp)
    if bm is not None:
        t0 = bm["times"][bm["initial"]] or (bm["times"][1] if len(bm["times"]) > 1 else None)
        figs["fig-cells"] = figures.cells_figure(inp.organs, ORGAN_COLORS, t0)
    colors = figures.arm_colors(_arm_list(inp)) if inp.kind == "trial" else {}
    sections.append(("bodymap", _bodymap_section(inp, bm)))

    pub_props, pub_means = _published_for_plots(inp)
    # immune
    if inp.kind == "simulate":
        f = None
        if inp.timecourse is not None:
            f = figures.single_patient_figure(inp.timecourse, figures.IMMUNE, figures.LABELS,
                                              "Cytokines (blood) and T cells: with MSCs (line) and without "
                                              "(circles, typical patient)", inp.endpoints, ncols=4)
        if f:
            figs["fig-immune"] = f
            sections.append(("immune", _section("immune", _fig("fig-immune"))))
        else:
            sections.append(("immune", _section("immune", _note(
                "No immune read-outs: the immune network and cytokines are simulated with a disease "
                "(<code>mscsim simulate --disease ...</code>)."))))
    else:
        f = figures.trial_timecourse_figure(inp.timecourse, figures.IMMUNE, figures.LABELS,
                                            "Cytokines (blood) and T cells per arm: mean, band = 5th\u201395th "
                                            "percentile of virtual patients", colors, ncols=4)
        if f:
            figs["fig-immune"] = f
            sections.append(("immune", _section("immune", _fig("fig-immune"))))
        else:
            sections.append(("immune", _section("immune", _note("No immune time courses in timecourse.parquet."))))

    # clinical scores
    score_q = [q for q in key_labels if q not in figures.IMMUNE]
    if inp.kind == "simulate":
        f = None
        if mod is not None and inp.timecourse is not None:
            f = figures.single_patient_figure(inp.timecourse, score_q, key_labels,
                                              f"{inp.disease}: disease and scores with MSCs (line) and without "
                                              "(circles)", inp.endpoints, ncols=3)
        if f:
            figs["fig-scores"] = f
            sections.append(("scores", _section("scores", _fig("fig-scores"))))
        else:
            sections.append(("scores", _section("scores", _note(
                "No clinical scores: no disease was simulated (<code>mscsim simulate --disease ra ...</code>)."))))
    else:
        f = figures.trial_timecourse_figure(inp.timecourse, score_q, key_labels,
                                            "Disease and scores per arm: mean, band = 5th\u201395th percentile; "
                                            "diamonds: published", colors, published=pub_means, ncols=3)
        if f:
            figs["fig-scores"] = f
            sections.append(("scores", _section("scores", _fig("fig-scores"))))
        else:
            sections.append(("scores", _section("scores", _note("No score time courses in timecourse.parquet."))))

    # responders and endpoint tables
    if inp.kind == "trial":
        f = figures.responders_figure(inp.summary, colors, pub_props)
        body = ""
        if f:
            figs["fig-responders"] = f
            body += _fig("fig-responders")
        else:
            body += _note("This trial has no responder (proportion) endpoints.")
        body += _trial_tables(inp)
        sections.append(("responders", _section("responders", body)))
        sections.append(("published", _published_section(inp)))
    elif mod is not None:
        t = _simulate_endpoint_table(inp, mod)
        if t:
            sections.append(("responders", _section(
                "responders", t, "One typical patient has no responder <em>rate</em>: run "
                "<code>mscsim trial</code> for rates in a virtual population.")))

    sections.append(("figures", _figures_section(inp)))
    notes = list(inp.notes) + [str(w) for w in inp.summary.get("warnings", [])]
    fails = inp.summary.get("failures") or []
    if fails:
        notes.append(f"{len(fails)} virtual patient(s) failed to simulate (see failures.csv)")
    body = "".join(f"<li>{escape(n)}</li>" for n in notes) if notes else ""
    about = ("Simulated results from a mechanistic model calibrated on published evidence; not a prediction "
             "for an individual patient. Units: time in days, cytokines pg/mL, cells as counts or percent of "
             "all cells given.")
    sections.append(("notes", _section("notes", (f"<ul>{body}</ul>" if body else "") + f"<p class='muted'>{about}</p>")))

    data = {"figures": figs, "bodymap": bm,
            "scale": {"log_min": bodymap.LOG_MIN, "log_max": bodymap.LOG_MAX,
                      "stops": [[p, c] for p, c in bodymap.COLOR_STOPS], "none": bodymap.NONE_COLOR}}
    return "".join(h for _, h in sections), data, [sid for sid, _ in sections]


# plotly.js "basic" partial bundle (scatter, bar, pie: the only trace types the report draws), from
# the npm package plotly.js-basic-dist-min 4.1.1 (MIT, plotly-LICENSE.txt beside it): 1.2 MB instead
# of the 4.8 MB full bundle that plotly.offline embeds, so a report stays self-contained and small.
PLOTLY_BUNDLE = "plotly-basic.min.js"


def _resource(name: str) -> str:
    return resources.files("mscsim.report").joinpath(name).read_text(encoding="utf-8")


def _script_safe(text: str) -> str:
    """Text that cannot end the <script> element it is embedded in."""
    return re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE).replace("<!--", "<\\!--")


def render(inp: ReportInput) -> str:
    """The complete, self-contained HTML page."""
    import mscsim

    body, data, ids = build(inp)
    s = inp.summary
    if inp.kind == "trial":
        title = str(s.get("scenario", "mscsim trial"))
        subtitle = f"Virtual clinical trial \u00b7 {s.get('disease', '')} \u00b7 " + ", ".join(
            f"{a['name']} (n={a['n']})" for a in s["arms"])
    else:
        bits = [str(s.get("dose") or "no dose"), ROUTE_TEXT.get(s.get("route") or "", s.get("route") or "")]
        if s.get("disease"):
            bits.append(f"disease {s['disease']}")
        if s.get("injury"):
            bits.append(f"injured {s['injury']}")
        title = "mscsim simulation: " + ", ".join(b for b in bits if b)
        subtitle = f"One simulated patient \u00b7 {num(s.get('days'))} days"
    nav = "".join(f'<a href="#{i}">{escape(SECTION_TITLES[i])}</a>' for i in ids)
    blob = json.dumps(_rounded(data), separators=(",", ":"), allow_nan=False, default=_json_default)
    values = {
        "title": escape(title),
        "subtitle": escape(subtitle),
        "nav": nav,
        "sections": body,
        "generated": escape(_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")),
        "version": escape(str(getattr(mscsim, "__version__", ""))),
        "folder": escape(str(inp.folder)),
        "data_json": _script_safe(blob),
        "plotly_js": _script_safe(_resource(PLOTLY_BUNDLE)),
        "report_js": _script_safe(_resource("report.js")),
    }
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], _resource("template.html"))


def _rounded(o, digits: int = 4):
    """``o`` with every float rounded to ``digits`` significant digits (what a plot can show),
    which halves the embedded data."""
    if isinstance(o, float):
        return float(f"{o:.{digits}g}") if math.isfinite(o) else o
    if isinstance(o, dict):
        return {k: _rounded(v, digits) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_rounded(v, digits) for v in o]
    return o


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o) if math.isfinite(o) else None
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
