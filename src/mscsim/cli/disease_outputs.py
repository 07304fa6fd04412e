"""Disease read-outs of `mscsim simulate --disease`: untreated vs treated, side by side."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

IMMUNE_OUTPUTS = [("tnf", "TNF-alpha (pg/mL)"), ("ifng", "IFN-gamma (pg/mL)"), ("il17", "IL-17A (pg/mL)"),
                  ("il6", "IL-6 (pg/mL)"), ("il10", "IL-10 (pg/mL)"), ("il4", "IL-4 (pg/mL)"),
                  ("tgfb", "TGF-beta1 (pg/mL)"), ("th17_pct", "Th17 (% of CD4)"), ("treg_pct", "Treg (% of CD4)"),
                  ("tnf_tissue", "tissue TNF-alpha (pg/mL)"), ("il10_tissue", "tissue IL-10 (pg/mL)"),
                  ("msc_memory", "tolerogenic phagocyte effect (0-1)")]


def summary_times(days: float) -> list[float]:
    cands = [7, 30, 90, 180, 365, 730, 1095, 1825]
    return [float(t) for t in cands if t <= days] or [float(days)]


def write_disease_outputs(sim, regimen, days, out: Path, *, disease, subtype, species, weight):
    """Simulate the same patient without MSCs; write comparison figures and endpoint tables."""
    from mscsim.diseases.base import endpoint_frame
    from mscsim.io import save_figure, write_table
    from mscsim.plots import comparison_figure
    from mscsim.simulate import simulate

    mod = sim.composed.disease_module
    untreated = simulate(None, days, disease=disease, subtype=subtype, species=species, weight_kg=weight,
                         times=sim.times)
    frames = {"untreated": untreated.outputs, "treated": sim.outputs}
    files = [save_figure(comparison_figure(frames, mod.KEY_OUTPUTS, title=f"{disease}: untreated vs treated"),
                         out / "disease.png"),
             save_figure(comparison_figure(frames, IMMUNE_OUTPUTS, title="immune network: untreated vs treated",
                                           ncols=4), out / "immune.png")]
    ts = [0.0] + summary_times(days)
    sel = np.isin(np.round(sim.times, 9), ts)
    rows = []
    for arm, s in (("untreated", untreated), ("treated", sim)):
        ef = endpoint_frame(mod, s.outputs)
        ef = ef[sel].reset_index().melt(id_vars="time_d", var_name="endpoint", value_name="value")
        ef.insert(0, "arm", arm)
        rows.append(ef)
    # an endpoint undefined at a time (ventilator-free days before day 28, an organ response of an
    # uninvolved organ) is NaN: left out, so the summary stays valid JSON
    endpoints = pd.concat(rows, ignore_index=True).dropna(subset=["value"])
    files += write_table(endpoints, out / "endpoints")
    lines = [f"[bold]{disease}[/bold] endpoints (typical patient, no visit noise): untreated -> treated"]
    piv = endpoints.pivot_table(index=["endpoint", "time_d"], columns="arm", values="value")
    for e in mod.SUMMARY_ENDPOINTS + ["tnf", "il10", "th17_pct", "treg_pct"]:
        if e not in piv.index.get_level_values(0):
            continue
        vals = "  ".join(f"d{t:g}: {piv.loc[(e, t), 'untreated']:.3g}->{piv.loc[(e, t), 'treated']:.3g}"
                         for t in ts if (e, t) in piv.index)
        lines.append(f"  {e:16s} {vals}")
    summary = {"endpoints": endpoints.to_dict(orient="records"), "lines": lines}
    return summary, files
