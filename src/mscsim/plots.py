"""Static figures (matplotlib, PNG) with labelled axes and units, for papers and the CLI."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ORGAN_COLORS = {
    "lung": "#1f77b4", "liver": "#8c564b", "spleen": "#d62728", "gut": "#ff7f0e", "kidney": "#9467bd",
    "heart": "#e377c2", "brain": "#7f7f7f", "marrow": "#bcbd22", "muscle": "#17becf", "skin": "#aec7e8",
    "adipose": "#ffbb78", "rest": "#c5b0d5", "blood": "#000000",
}


def _color(organ: str) -> str:
    return ORGAN_COLORS.get(organ, "#2ca02c")


def organ_cells_figure(organs: pd.DataFrame, title: str = "", early_hours: float = 48.0):
    """Viable MSCs per organ over time, log scale: first hours (left) and whole run (right)."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharey=True)
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
    fig.tight_layout()
    return fig


def organ_label_figure(organs: pd.DataFrame, title: str = ""):
    """MSC label (viable + debris) per organ, percent of dose, as imaging would see it."""
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for organ, g in organs.groupby("organ", sort=False):
        if g["label_pct_dose"].max() < 0.5:
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
    n = len(quantities)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.1 * nrows), squeeze=False)
    styles = ["-", "--", ":", "-."]
    colors = ["#7f7f7f", "#1f77b4", "#d62728", "#2ca02c"]
    for k, (col, ylabel) in enumerate(quantities):
        ax = axes[k // ncols][k % ncols]
        for j, (label, df) in enumerate(frames.items()):
            if col in df:
                ax.plot(df.index, df[col], styles[j % 4], color=colors[j % 4], label=label, lw=1.6)
        ax.set_title(col, fontsize=10)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.set_xlabel("time (days)", fontsize=9)
        ax.grid(alpha=0.3)
        if k == 0:
            ax.legend(fontsize=8)
    for k in range(n, nrows * ncols):
        axes[k // ncols][k % ncols].axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
