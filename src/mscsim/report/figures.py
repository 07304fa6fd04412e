"""Interactive figures of the report, built as plotly.js figure dicts (``{"data", "layout"}``).

The report's script draws each with ``Plotly.newPlot`` (plotly.js is embedded in the page, so
the report opens offline). The dicts are written here directly, in the form plotly's Python
package would produce (``tests/test_report_figures.py`` validates each against it): building
them through ``plotly.graph_objects`` took ~0.35 s of a trial report's ~0.5 s (property
validation and template copies; issue 19), so the package is needed only by the tests.
Static PNG figures stay with matplotlib (``mscsim.plots``).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

#: immune read-outs shown in the cytokine / T-cell section, in this order
IMMUNE = ["tnf", "ifng", "il17", "il6", "il10", "il4", "tgfb", "th17_pct", "treg_pct", "th17_treg_ratio"]
LABELS = {
    "tnf": "TNF-\u03b1 (pg/mL)", "ifng": "IFN-\u03b3 (pg/mL)", "il17": "IL-17A (pg/mL)", "il6": "IL-6 (pg/mL)",
    "il10": "IL-10 (pg/mL)", "il4": "IL-4 (pg/mL)", "tgfb": "TGF-\u03b21 (pg/mL)", "th17_pct": "Th17 (% of CD4)",
    "treg_pct": "Treg (% of CD4)", "th17_treg_ratio": "Th17/Treg ratio", "msc_viable_pct": "viable MSCs (% of dose)",
}
#: an endpoint whose time course has another name
ENDPOINT_QUANTITY = {"crp": "crp_out"}
ARM_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
              "#bcbd22"]
CONTROL_COLOR = "#7f7f7f"
PUBLISHED_COLOR = "#111111"
_FONT = dict(family="system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif", size=12)


#: plotly's "plotly_white" template (plotly.py 7.1, MIT, plotly-LICENSE.txt), as plotly writes it
#: into each figure's layout; the tests check it against the installed plotly
TEMPLATE_FILE = "plotly_white.json"


@lru_cache(maxsize=1)
def _template_json() -> str:
    return resources.files("mscsim.report").joinpath(TEMPLATE_FILE).read_text(encoding="utf-8")


def template() -> dict:
    """A fresh copy of the figures' template (``layout.template``)."""
    return json.loads(_template_json())


def _figure(data: list[dict], layout: dict) -> dict:
    return {"data": data, "layout": {**layout, "template": template()}}


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def arm_colors(arms: list[dict]) -> dict[str, str]:
    """A colour per arm name; arms marked as control (no MSCs) are grey."""
    out, k = {}, 0
    for a in arms:
        if a.get("control"):
            out[a["name"]] = CONTROL_COLOR
        else:
            out[a["name"]] = ARM_COLORS[k % len(ARM_COLORS)]
            k += 1
    return out


def _label(q: str, labels: dict[str, str]) -> str:
    return labels.get(q) or LABELS.get(q) or q


def _grid(n: int, ncols: int = 3) -> tuple[int, int]:
    ncols = max(1, min(ncols, n))
    return math.ceil(n / ncols), ncols


def _subplots(quantities: list[str], labels: dict[str, str], ncols: int = 3) -> tuple[dict, int, int]:
    """(layout, rows, cols) of a grid of x-y plots, one per quantity, titled with their labels: the
    axes' domains and the titles as plotly's ``make_subplots(rows, cols, subplot_titles,
    horizontal_spacing=0.07, vertical_spacing=min(0.14, 0.45 / rows))`` lays them out (equal
    widths and heights, first row on top; the same arithmetic)."""
    rows, cols = _grid(len(quantities), ncols)
    hs, vs = 0.07, min(0.14, 0.45 / max(rows, 1))
    widths = [(1.0 - hs * (cols - 1)) / cols] * cols
    heights = [(1.0 - vs * (rows - 1)) / rows] * rows
    layout: dict = {}
    titles = []
    for r in range(rows):
        for c in range(cols):
            k = r * cols + c + 1
            x0 = sum(widths[:c]) + c * hs
            y0 = sum(heights[:rows - 1 - r]) + (rows - 1 - r) * vs  # row 1 on top
            x_dom = [max(0.0, x0), min(1.0, x0 + widths[c])]
            y_dom = [max(0.0, y0), min(1.0, y0 + heights[rows - 1 - r])]
            sfx = _suffix(k - 1)
            layout[f"xaxis{sfx}"] = {"anchor": f"y{sfx}", "domain": x_dom}
            layout[f"yaxis{sfx}"] = {"anchor": f"x{sfx}", "domain": y_dom}
            if k <= len(quantities):
                titles.append({"font": {"size": 16}, "showarrow": False, "text": _label(quantities[k - 1], labels),
                               "x": sum(x_dom) / 2.0, "xanchor": "center", "xref": "paper", "y": y_dom[1],
                               "yanchor": "bottom", "yref": "paper"})
    layout["annotations"] = titles
    return layout, rows, cols


def _suffix(i: int) -> str:
    """plotly's suffix of subplot ``i``'s axes (0-based, row by row): x, x2, x3, ..."""
    return "" if i == 0 else str(i + 1)


def _axes(i: int) -> dict:
    """The axis references of subplot ``i`` (0-based, row by row) for a trace."""
    return {"xaxis": f"x{_suffix(i)}", "yaxis": f"y{_suffix(i)}"}


def _layout(layout: dict, rows: int, cols: int, n: int, title: str, height_per_row: int = 250) -> dict:
    """Title, then legend (both above the plots, in pixels from the top), x titles under each column."""
    height = 110 + height_per_row * rows
    layout.update(font=dict(_FONT), height=height, margin=dict(l=55, r=20, t=105, b=45),
                  title=dict(text=title, x=0.01, xanchor="left", yref="container", y=1 - 8 / height,
                             yanchor="top", font=dict(size=14)),
                  legend=dict(orientation="h", yref="container", y=1 - 38 / height, yanchor="top", x=0),
                  hovermode="x unified")
    for a in layout["annotations"]:
        a["font"]["size"] = 12
    for i in range(n):
        if i + cols >= n:                   # the lowest plot of its column
            layout[f"xaxis{_suffix(i)}"]["title"] = {"text": "days"}
    return layout


def _clean(y) -> list:
    return [None if (v is None or not np.isfinite(v)) else float(v) for v in np.asarray(y, dtype=float)]


# ---------------------------------------------------------------------------------------------

def cells_figure(organs: pd.DataFrame, organ_colors: dict[str, str], first_time: float | None) -> dict:
    """Percent of dose per organ over time (log-log); viable and label traces (the page shows one set)."""
    data = []
    for mode, col in (("viable", "viable_pct_dose"), ("label", "label_pct_dose")):
        for organ, g in organs.groupby("organ", sort=False):
            if organ == "cleared":
                continue
            g = g[g["time_d"] > 0].sort_values("time_d")
            y = g[col].to_numpy(dtype=float)
            if not np.any(y >= 1e-4):
                continue
            y = np.where(y >= 1e-4, y, np.nan)
            is_target = str(organ).startswith("target:")
            color = "#2ca02c" if is_target else organ_colors.get(str(organ), "#444444")
            data.append({"hovertemplate": "%{y:.3g} %<extra>" + str(organ) + "</extra>", "legendgroup": str(organ),
                         "line": {"color": color, "dash": "dash" if is_target else "solid", "width": 1.8},
                         "meta": mode, "mode": "lines", "name": str(organ), "visible": mode == "viable",
                         "x": g["time_d"].to_numpy(dtype=float).tolist(), "y": _clean(y), "type": "scatter"})
    shapes = []
    if first_time is not None:
        shapes.append(dict(line=dict(color="#333", dash="dot", width=1.2), type="line", x0=first_time, x1=first_time,
                           xref="x", y0=0, y1=1, yref="paper"))
    ticks = [(1 / 1440, "1 min"), (1 / 24, "1 h"), (0.25, "6 h"), (1, "1 d"), (7, "7 d"), (30, "30 d"),
             (90, "90 d"), (365, "1 y"), (1825, "5 y")]
    layout = dict(font=dict(_FONT), height=450, margin=dict(l=60, r=20, t=60, b=50),
                  title=dict(text="MSCs per organ over time (% of cells given)", x=0.01, font=dict(size=14)),
                  xaxis=dict(type="log", title=dict(text="time (days)"), tickvals=[t for t, _ in ticks],
                             ticktext=[lab for _, lab in ticks]),
                  updatemenus=[dict(type="buttons", direction="right", x=1.0, xanchor="right", y=1.13,
                                    yanchor="top", showactive=True, pad=dict(r=0, t=0), font=dict(size=11),
                                    buttons=[dict(label="log time", method="relayout",
                                                  args=[{"xaxis.type": "log", "xaxis.tickvals": [t for t, _ in ticks]}]),
                                             dict(label="linear time", method="relayout",
                                                  args=[{"xaxis.type": "linear", "xaxis.tickvals": None}])])],
                  yaxis=dict(type="log", title=dict(text="% of cells given"), range=[-3, 2.1], dtick=1,
                             tickvals=[1e-3, 1e-2, 0.1, 1, 10, 100],
                             ticktext=["0.001", "0.01", "0.1", "1", "10", "100"]),
                  hovermode="x unified", legend=dict(font=dict(size=11)))
    if shapes:
        layout["shapes"] = shapes
    return _figure(data, layout)


def single_patient_figure(tc: pd.DataFrame, quantities: list[str], labels: dict[str, str], title: str,
                          untreated: pd.DataFrame | None = None, ncols: int = 3) -> dict | None:
    """Time courses of one simulated patient (``simulate``), untreated values as markers."""
    have = set(tc["quantity"].unique())
    quantities = [q for q in quantities if q in have]
    if not quantities:
        return None
    layout, rows, cols = _subplots(quantities, labels, ncols)
    data = []
    unt = {}
    if untreated is not None and not untreated.empty:
        u = untreated[untreated["arm"] == "untreated"]
        for e, g in u.groupby("endpoint"):
            unt[ENDPOINT_QUANTITY.get(str(e), str(e))] = g.sort_values("time_d")
    for i, q in enumerate(quantities):
        g = tc[tc["quantity"] == q].sort_values("time_d")
        data.append({"legendgroup": "treated", "line": {"color": ARM_COLORS[0], "width": 2}, "mode": "lines",
                     "name": "with MSCs", "showlegend": i == 0, "x": g["time_d"].tolist(), "y": _clean(g["value"]),
                     "type": "scatter", **_axes(i)})
        if q in unt:
            u = unt[q]
            data.append({"legendgroup": "untreated", "line": {"color": CONTROL_COLOR, "dash": "dot", "width": 1},
                         "marker": {"size": 7, "symbol": "circle-open"}, "mode": "lines+markers",
                         "name": "without MSCs", "showlegend": i == 0 or not any(qq in unt for qq in quantities[:i]),
                         "x": u["time_d"].tolist(), "y": _clean(u["value"]), "type": "scatter", **_axes(i)})
    return _figure(data, _layout(layout, rows, cols, len(quantities), title))


def trial_timecourse_figure(tc: pd.DataFrame, quantities: list[str], labels: dict[str, str], title: str,
                            colors: dict[str, str], published: pd.DataFrame | None = None,
                            ncols: int = 3, log_y: bool = False) -> dict | None:
    """Per-arm mean over time with a 5th-95th percentile band; published values as diamonds."""
    if tc is None or tc.empty:
        return None
    have = set(tc["quantity"].unique())
    quantities = [q for q in quantities if q in have]
    if not quantities:
        return None
    layout, rows, cols = _subplots(quantities, labels, ncols)
    data = []
    arms = list(dict.fromkeys(tc["arm"]))
    shown_pub = False
    for i, q in enumerate(quantities):
        for arm in arms:
            g = tc[(tc["arm"] == arm) & (tc["quantity"] == q)].sort_values("time_d")
            if g.empty:
                continue
            col = colors.get(arm, CONTROL_COLOR)
            x = g["time_d"].tolist()
            data.append({"fill": "toself", "fillcolor": _rgba(col, 0.16), "hoverinfo": "skip", "legendgroup": arm,
                         "line": {"width": 0}, "name": f"{arm} 5-95th pct", "showlegend": False, "x": x + x[::-1],
                         "y": _clean(g["p95"]) + _clean(g["p05"])[::-1], "type": "scatter", **_axes(i)})
            data.append({"hovertemplate": "%{y:.3g}<extra>" + arm + "</extra>", "legendgroup": arm,
                         "line": {"color": col, "width": 2}, "mode": "lines", "name": arm, "showlegend": i == 0,
                         "x": x, "y": _clean(g["mean"]), "type": "scatter", **_axes(i)})
        if published is not None and not published.empty:
            p = published[published["quantity"] == q]
            for _, row in p.iterrows():
                lo, hi, v = row["pub_low"], row["pub_high"], row["published"]
                trace = {"hovertemplate": f"published, {row['arm']}: " + "%{y:.3g}<extra>" + str(row["study"]) + "</extra>",
                         "legendgroup": "published",
                         "marker": {"color": colors.get(row["arm"], PUBLISHED_COLOR),
                                    "line": {"color": PUBLISHED_COLOR, "width": 1.5}, "size": 11, "symbol": "diamond"},
                         "mode": "markers", "name": "published (95% CI)", "showlegend": not shown_pub,
                         "x": [row["at_days"]], "y": [v], "type": "scatter", **_axes(i)}
                if lo is not None and hi is not None and np.isfinite(lo) and np.isfinite(hi):
                    trace["error_y"] = {"array": [hi - v], "arrayminus": [v - lo], "color": PUBLISHED_COLOR,
                                        "symmetric": False, "thickness": 1.5, "type": "data", "width": 6}
                data.append(trace)
                shown_pub = True
    _layout(layout, rows, cols, len(quantities), title)
    if log_y:
        for key, axis in layout.items():
            if key.startswith("yaxis"):
                axis.update(exponentformat="power", type="log")
    return _figure(data, layout)


def responders_figure(summary: dict, colors: dict[str, str], published: pd.DataFrame | None = None) -> dict | None:
    """Responder rates (proportion endpoints) per arm with 95% CI; published rates as diamonds."""
    groups = []
    for arm in summary["arms"]:
        for e in arm["endpoints"]:
            if e.get("stat") == "proportion":
                key = (e["name"], float(e["at_days"]))
                if key not in groups:
                    groups.append(key)
    if not groups:
        return None
    arms = [a["name"] for a in summary["arms"]]
    k = len(arms)
    w = 0.8 / k
    data = []
    pos = {}
    for i, arm in enumerate(summary["arms"]):
        xs, ys, lo, hi, txt = [], [], [], [], []
        by = {(e["name"], float(e["at_days"])): e for e in arm["endpoints"] if e.get("stat") == "proportion"}
        for gi, key in enumerate(groups):
            x = gi + (i - (k - 1) / 2) * w
            pos[(arm["name"],) + key] = x
            e = by.get(key)
            if e is None or e["value"] is None:
                continue
            v = 100 * e["value"]
            xs.append(x)
            ys.append(v)
            lo.append(v - 100 * (e["ci_low"] if e["ci_low"] is not None else e["value"]))
            hi.append(100 * (e["ci_high"] if e["ci_high"] is not None else e["value"]) - v)
            txt.append(f"{v:.0f}%")
        col = colors.get(arm["name"], CONTROL_COLOR)
        data.append({"error_y": {"array": hi, "arrayminus": lo, "color": "#333", "symmetric": False, "thickness": 1.2,
                                 "type": "data", "width": 4},
                     "hovertemplate": "%{y:.1f} %<extra>" + arm["name"] + "</extra>", "insidetextanchor": "start",
                     "marker": {"color": col}, "name": f"{arm['name']} (n={arm['n']})", "text": txt,
                     "textposition": "inside", "width": w * 0.92, "x": xs, "y": ys, "type": "bar"})
    if published is not None and not published.empty:
        xs, ys, lo, hi, names = [], [], [], [], []
        for _, r in published.iterrows():
            key = (r["arm"], r["endpoint"], float(r["at_days"]))
            if key not in pos or r["published"] is None or not np.isfinite(r["published"]):
                continue
            v = 100 * float(r["published"])
            xs.append(pos[key])
            ys.append(v)
            has_ci = r["pub_low"] is not None and np.isfinite(r["pub_low"])
            lo.append(v - 100 * float(r["pub_low"]) if has_ci else 0.0)
            hi.append(100 * float(r["pub_high"]) - v if has_ci else 0.0)
            names.append(str(r["study"]))
        if xs:
            data.append({"error_y": {"array": hi, "arrayminus": lo, "color": PUBLISHED_COLOR, "symmetric": False,
                                     "thickness": 1.5, "type": "data", "width": 7},
                         "hovertemplate": "published %{y:.1f} %<extra>%{text}</extra>",
                         "marker": {"color": "#ffffff", "line": {"color": PUBLISHED_COLOR, "width": 2}, "size": 12,
                                    "symbol": "diamond"},
                         "mode": "markers", "name": "published (95% CI)", "text": names, "x": xs, "y": ys,
                         "type": "scatter"})
    layout = dict(font=dict(_FONT), height=430, barmode="overlay", margin=dict(l=60, r=20, t=60, b=60),
                  title=dict(text="Responder rates per arm (simulated, 95% CI)", x=0.01, font=dict(size=14)),
                  xaxis=dict(tickvals=list(range(len(groups))),
                             ticktext=[f"{n} at day {d:g}" for n, d in groups], range=[-0.6, len(groups) - 0.4]),
                  yaxis=dict(title=dict(text="% of patients"), range=[0, 105]),
                  legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    return _figure(data, layout)
