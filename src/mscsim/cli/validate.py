"""``mscsim validate``: the shipped published trials, simulated, scored against their published results."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from mscsim.cli import app
from mscsim.cli.common import console


@app.command("validate")
def validate_cmd(
    disease: Optional[str] = typer.Option(None, "--disease", help="ra | t1d | ms | sle | ibd | liver | gvhd | ards (default: all)"),
    out: Path = typer.Option(Path("mscsim-out/validate"), "-o", "--out", help="output folder"),
    workers: int = typer.Option(1, "--workers", min=1, max=256, help="local worker processes"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address"),
    only: Optional[list[str]] = typer.Option(None, "--only", help="run only these scenario ids"),
    n_sim_min: int = typer.Option(100, "--n-sim-min", min=0, max=100_000,
                                  help="simulate at least this many patients per arm (less Monte-Carlo "
                                       "error; the published n still sizes the intervals); 0: published sizes"),
):
    """Simulate every shipped published-trial scenario and score it against the published numbers.

    Numeric rows hold when the published arm result lies inside the 95 % predictive interval for a trial of the published size; direction rows when the published direction is reached with p < 0.05 at the published n and by the endpoint's MCID; between-arm differences are scored like numeric rows (treatment_effects.csv).

    Exits 0 even when trials are missed: it is a report, not a gate."""
    from rich.table import Table

    from mscsim.cli.common import out_dir
    from mscsim.errors import unknown
    from mscsim.evidence.validate import (format_effects_markdown, format_markdown, format_population_fit,
                                          headline_markdown, population_fit_headline, run_validation,
                                          summarize_scores)
    from mscsim.io import write_json, write_table, write_text
    from mscsim.model import DISEASES

    from mscsim.cli.common import check_disease

    disease = check_disease(disease)
    from mscsim.cli.common import check_scheduler

    check_scheduler(scheduler)
    out = out_dir(out)
    table, effects = run_validation(disease, workers=workers, scheduler=scheduler, only=only, with_effects=True,
                                    n_sim_min=n_sim_min)
    if table.empty:
        console.print("no validation entries")
        return
    fit = table.attrs.pop("population_fit", None)
    write_table(table, out / "validation")
    md = format_markdown(table)
    if fit is not None and not fit.empty:
        write_table(fit, out / "population_fit")
        md += "\n## Population fit (Table 1)\n\n" + format_population_fit(fit)
    write_text(md, out / "validation.md")
    if not effects.empty:
        write_table(effects, out / "treatment_effects")
        write_text(format_effects_markdown(effects), out / "treatment_effects.md")
    summary = summarize_scores(table, effects)
    write_json(summary, out / "validation.json")
    write_text(headline_markdown(summary) + population_fit_headline(fit), out / "headline.md")
    num, dirn, eff = summary["numeric"], summary["direction"], summary["effects"]
    t = Table(title=f"validation: numeric {num['held']}/{num['total']} held, direction {dirn['held']}/"
                    f"{dirn['total']}, treatment effects {eff['held']}/{eff['total']} "
                    f"(calibration rows {summary['calibration']['held']}/{summary['calibration']['total']})",
              header_style="bold")
    for c in ("study", "arm", "endpoint", "day", "use", "simulated", "95% PI / p, MCID", "published", "z", "holds",
              "flags"):
        t.add_column(c)
    fmt = (lambda x, nd=3: "" if x is None or x != x else f"{x:.{nd}g}")
    for _, r in table.iterrows():
        if r["kind"] == "direction":
            pi = f"p {fmt(r['p_at_n'], 2)}, MCID {fmt(r['mcid'])}{'' if r['mcid_met'] else ' not met'}"
            pub = str(r["spread"]).split(":")[0]
        else:
            pi = "" if r["pred_low"] is None or r["pred_low"] != r["pred_low"] else \
                f"{fmt(r['pred_low'])} to {fmt(r['pred_high'])}"
            pub = fmt(r["published"])
        h = r["holds"]
        ins = "n/a" if h is None or h != h else ("[green]yes[/green]" if h else "[red]no[/red]")
        ep = r["endpoint"] + (" (chg)" if r["compare"] == "change" else "")
        if isinstance(r["vs"], str) and r["vs"]:
            ep += f" vs {r['vs']}"
        t.add_row(r["study"], r["arm"], ep, f"{r['at_days']:g}", r["role"], fmt(r["simulated"]), pi, pub,
                  fmt(r["z"], 2), ins, r["flags"])
    console.print(t)
    if fit is not None and not fit.empty:
        ft = Table(title="population fit (Table 1): enrolled arm vs published baseline", header_style="bold")
        for c in ("scenario", "arm", "row", "target", "simulated", "SMD"):
            ft.add_column(c)
        for _, r in fit.iterrows():
            ft.add_row(r["scenario"], r["arm"], r["row"], fmt(r["target"]), fmt(r["achieved"]), fmt(r["smd"], 2))
        console.print(ft)
    console.print(f"output: [bold]{escape(str(out))}[/bold] (validation.csv/.parquet/.md, treatment_effects.csv/.md, "
                  "population_fit.csv, validation.json, headline.md)")
