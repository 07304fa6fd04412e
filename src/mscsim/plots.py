"""Static figures (matplotlib, PNG) with labelled axes and units, for papers and the CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # as before: pyplot, where another module imports it, draws off-screen
import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from mscsim.palette import ORGAN_COLORS  # noqa: E402

if TYPE_CHECKING:  # the figures take DataFrames but need no pandas of their own: the trial's figure
    import pandas as pd  # process draws without importing it (issue 19)


def _color(organ: str) -> str:
    return ORGAN_COLORS.get(organ, "#2ca02c")


def split_label(label: str) -> tuple[str, str]:
    """'CRP (mg/L)' -> ('CRP', 'mg/L'): a panel title in words and its axis unit."""
    if label.endswith(")") and " (" in label:
        name, unit = label[:-1].rsplit(" (", 1)
        return name, unit
    return label, ""


def new_figure(figsize: tuple[float, float], dpi: float | None = None) -> Figure:
    """A figure on its own Agg canvas, without pyplot (issue 19: no pyplot import, no global figure
    list to close; the figure is freed with its last reference)."""
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


#: room left above the panels for a figure title (suptitle), so it never overlaps a panel title
SUPTITLE_RECT = (0, 0, 1, 0.94)


def organ_cells_figure(organs: pd.DataFrame, title: str = "", early_hours: float = 48.0):
    """Viable MSCs per organ over time, log scale: first hours (left) and whole run (right)."""
    fig = new_figure((12, 4.8))
    axes = fig.subplots(1, 2, sharey=True)
    for organ, g in organs.groupby("organ", sort=False):
        y = np.maximum(g["viable_cells"].to_numpy(), 1e-1)
        if g["viable_cells"].max() < 1:
            continue
        t = g["time_d"].to_numpy()
        early = t <= early_hours / 24
        ls = "--" if organ.startswith("target") else "-"
        axes[0].plot(t[early] * 24, y[early], ls, color=_color(organ), label=organ, lw=1.6)
        axes[1].plot(t, y, ls, color=_color(organ), lw=1.6)
    axes[0].set_yscale("log")
    axes[0].set_ylim(bottom=1)
    axes[0].set_xlabel("time after first dose (hours)")
    axes[1].set_xlabel("time (days)")
    axes[0].set_ylabel("viable MSCs (cells)")
    axes[0].set_title("first hours")
    axes[1].set_title("whole run")
    axes[0].legend(fontsize=8, ncol=2, loc="lower left")
    for ax in axes:
        ax.grid(alpha=0.3, which="both")
    fig.suptitle(title or "Where the cells are: viable MSCs per organ")
    fig.tight_layout(rect=SUPTITLE_RECT)
    return fig


def organ_label_figure(organs: pd.DataFrame, title: str = ""):
    """MSC label (viable + debris) per organ, percent of dose, as imaging would see it."""
    fig = new_figure((7.5, 4.8))
    ax = fig.subplots()
    for organ, g in organs.groupby("organ", sort=False):
        if g["label_pct_dose"].max() < 0.5 or organ == "cleared":
            continue
        ls = "--" if organ.startswith("target") else "-"
        ax.plot(g["time_d"], g["label_pct_dose"], ls, color=_color(organ), label=organ, lw=1.6)
    ax.set_xlabel("time (days)")
    ax.set_ylabel("MSC label (% of cells given)")
    ax.set_title(title or "Label per organ (viable cells + debris), as imaging sees it")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def comparison_figure(frames: dict[str, pd.DataFrame], quantities: list[tuple[str, str]],
                      title: str = "", ncols: int = 3):
    """Side-by-side time courses (e.g. untreated vs treated) of several read-outs.

    ``frames``: label -> wide DataFrame indexed by time_d; ``quantities``: (column, y label).
    """
    quantities = [(c, lab) for c, lab in quantities if any(c in df for df in frames.values())]
    n = max(len(quantities), 1)
    nrows = int(np.ceil(n / ncols))
    fig = new_figure((4.2 * ncols, 3.1 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    styles = ["-", "--", ":", "-."]
    colors = ["#7f7f7f", "#1f77b4", "#d62728", "#2ca02c"]
    for k, (col, ylabel) in enumerate(quantities):
        ax = axes[k // ncols][k % ncols]
        for j, (label, df) in enumerate(frames.items()):
            if col in df:
                ax.plot(df.index, df[col], styles[j % 4], color=colors[j % 4], label=label, lw=1.6)
        name, unit = split_label(ylabel)
        ax.set_title(name, fontsize=10)
        ax.set_ylabel(unit or name, fontsize=9)
        ax.set_xlabel("time (days)", fontsize=9)
        ax.grid(alpha=0.3)
        if k == 0:
            ax.legend(fontsize=8)
    for k in range(n, nrows * ncols):
        axes[k // ncols][k % ncols].axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=SUPTITLE_RECT if title else None)
    return fig


def trial_timecourse_figure(tc: pd.DataFrame, quantities: list[tuple[str, str]], title: str = "", ncols: int = 3):
    """Per arm: mean (line) and 5-95 % band over time of each quantity."""
    quantities = timecourse_panels(tc, quantities)
    return fill_timecourse_figure(timecourse_layout(quantities, title, ncols), tc, quantities)


def timecourse_panels(tc, quantities: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The panels of `trial_timecourse_figure`: the (quantity, label) pairs that ``tc`` holds (a
    DataFrame, or its columns as a dict of arrays)."""
    present = set(tc["quantity"]) if "quantity" in tc else set()
    return [(q, lab) for q, lab in quantities if q in present]


def timecourse_layout(quantities: list[tuple[str, str]], title: str = "", ncols: int = 3) -> Figure:
    """The empty panels of `trial_timecourse_figure` (axes, titles, axis labels, grid, margins): no
    data needed, so the figure process builds them while the trial runs (issue 19).
    `fill_timecourse_figure` adds the data."""
    n = max(len(quantities), 1)
    nrows = int(np.ceil(n / ncols))
    fig = new_figure((4.3 * ncols, 3.2 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, (q, lab) in enumerate(quantities):
        ax = axes[k // ncols][k % ncols]
        name, unit = split_label(lab)
        ax.set_title(name, fontsize=10, y=1.0)
        ax.set_ylabel(unit or name, fontsize=9)
        ax.set_xlabel("time (days)", fontsize=9)
        ax.grid(alpha=0.3)
    for k in range(len(quantities), nrows * ncols):
        axes[k // ncols][k % ncols].axis("off")
    fig.suptitle(title or "mean and 5-95 % band per arm")
    fixed_margins(fig, nrows, ncols, left=0.8, right=0.2, bottom=0.55, top=0.75, wgap=0.85, hgap=0.8)
    return fig


def fill_timecourse_figure(fig: Figure, tc, quantities: list[tuple[str, str]]) -> Figure:
    """Draw each arm's mean and 5-95 % band into the panels of ``timecourse_layout(quantities)``.
    ``tc``: the time courses (columns quantity, arm, time_d, mean, p05, p95), a DataFrame or its
    columns as a dict of arrays (what the trial's figure process is sent); arms in the order they
    first appear, rows in their order."""
    colors = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    col = {c: np.asarray(tc[c]) for c in ("quantity", "arm", "time_d", "mean", "p05", "p95")} if quantities else {}
    axes = fig.axes
    for k, (q, _) in enumerate(quantities):
        ax = axes[k]
        here = col["quantity"] == q
        for j, arm in enumerate(dict.fromkeys(col["arm"][here].tolist())):
            rows = here & (col["arm"] == arm)
            c = colors[j % len(colors)]
            ax.fill_between(col["time_d"][rows], col["p05"][rows], col["p95"][rows], color=c, alpha=0.18, lw=0)
            ax.plot(col["time_d"][rows], col["mean"][rows], color=c, lw=1.8, label=arm)
        if k == 0:
            ax.legend(fontsize=8)
    return fig


def fixed_margins(fig, nrows: int, ncols: int, *, left: float, right: float, bottom: float, top: float,
                  wgap: float = 0.0, hgap: float = 0.0) -> None:
    """Place a grid of axes with margins and gaps given in inches. Used instead of tight_layout by the
    figures of every trial, whose labels are known in advance: tight_layout measures every text on
    the figure, most of the time of drawing it (issue 19)."""
    w, h = fig.get_size_inches()
    axw = (w - left - right - (ncols - 1) * wgap) / ncols
    axh = (h - bottom - top - (nrows - 1) * hgap) / nrows
    fig.subplots_adjust(left=left / w, right=1 - right / w, bottom=bottom / h, top=1 - top / h,
                        wspace=wgap / axw if ncols > 1 else 0.2, hspace=hgap / axh if nrows > 1 else 0.2)


def responder_figure(summary: dict, title: str = ""):
    """Bars of every proportion endpoint per arm with 95 % CI."""
    rows = []
    for arm in summary["arms"]:
        for e in arm["endpoints"]:
            if e["stat"] == "proportion" and e["value"] is not None:
                rows.append((f"{e['name']} @ {e['at_days']:g} d", arm["name"], e["value"], e["ci_low"], e["ci_high"]))
    fig = new_figure((max(6.0, 1.1 * len(rows) + 2), 4.2))
    ax = fig.subplots()
    if not rows:
        ax.text(0.5, 0.5, "no proportion endpoints", ha="center", va="center")
        ax.axis("off")
        return fig
    labels = list(dict.fromkeys(r[0] for r in rows))
    arms = list(dict.fromkeys(r[1] for r in rows))
    width = 0.8 / len(arms)
    for j, arm in enumerate(arms):
        xs, ys, lo, hi = [], [], [], []
        for r in rows:
            if r[1] == arm:
                xs.append(labels.index(r[0]) + (j - (len(arms) - 1) / 2) * width)
                ys.append(100 * r[2])
                lo.append(max(0.0, 100 * (r[2] - r[3])))
                hi.append(max(0.0, 100 * (r[4] - r[2])))
        ax.bar(xs, ys, width=width * 0.95, label=arm, yerr=[lo, hi], capsize=3)
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("patients (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title or "responders per arm (95 % CI)")
    fixed_margins(fig, 1, 1, left=0.8, right=0.2, bottom=0.85, top=0.45)
    return fig
