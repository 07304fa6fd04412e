"""Forest plot (PNG) of a random-effects meta-analysis.

One row per study (square sized by its random-effects weight, 95% CI whisker), the pooled
estimate as a diamond, a dashed line at no effect, labelled axes and the heterogeneity in the
footer. Drawn with matplotlib's object API (no pyplot global state), written to a temporary
name and renamed when complete.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from mscsim.evidence.meta import MEASURES, MetaResult


def forest_plot(result: MetaResult, path: str | Path, *, measure: str | None = None,
                title: str = "", xlabel: str | None = None,
                null_value: float | None = 0.0) -> Path:
    """Draw ``result`` (per-study effects and pooled diamond) to the PNG ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Polygon

    path = Path(path)
    df = result.to_dataframe()
    studies, pooled = df.iloc[:-1], df.iloc[-1]
    k = len(studies)
    fig = Figure(figsize=(8.0, 1.6 + 0.45 * (k + 2)), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)

    ys = np.arange(k, 0, -1, dtype=float) + 1.0  # studies from the top, pooled at y = 1
    w = studies["weight_pct"].to_numpy()
    sizes = 30 + 220 * w / max(w.max(), 1e-12)
    ax.hlines(ys, studies["ci_low"], studies["ci_high"], color="black", lw=1.2)
    ax.scatter(studies["estimate"], ys, s=sizes, marker="s", color="tab:blue", zorder=3)
    lo, est, hi = pooled["ci_low"], pooled["estimate"], pooled["ci_high"]
    ax.add_patch(Polygon([(lo, 1.0), (est, 1.25), (hi, 1.0), (est, 0.75)], closed=True,
                         color="tab:red", zorder=3))
    if null_value is not None:
        ax.axvline(null_value, color="grey", ls="--", lw=1)

    labels = [f"{lab}  [{wt:.0f}%]" for lab, wt in zip(studies["label"], w)]
    ax.set_yticks(list(ys) + [1.0])
    ax.set_yticklabels(labels + [str(pooled["label"])])
    ax.set_ylim(0.3, k + 1.7)
    ax.set_xlabel(xlabel or (MEASURES[measure][2] if measure in MEASURES else "effect")
                  + f"  (estimate, {100 * (1 - result.alpha):.0f}% CI)")
    ax.set_ylabel("study (day of the effect) [weight]")
    if title:
        ax.set_title(title)
    test = f"t({result.df})" if result.df is not None else "z"
    fig.text(0.01, 0.01,
             f"pooled {est:.3g} [{lo:.3g}, {hi:.3g}], {test} p={result.p_value:.3g}; "
             f"tau^2={result.tau2:.3g}, I^2={result.i2:.1f}%, Q={result.q:.2f} "
             f"(df={result.q_df}, p={result.q_p:.3g}); k={result.k}",
             fontsize=8)
    fig.tight_layout(rect=(0, 0.05, 1, 1))

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fig.savefig(fh, format="png")
    os.replace(tmp, path)
    return path
