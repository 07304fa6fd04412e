"""``mscsim simulate``: one patient, one regimen; where the cells go (and, with --disease,
what happens to the immune system and the disease, untreated vs treated)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from mscsim.cli import app
from mscsim.cli.common import (ArteryOpt, AtOpt, DoseOpt, EveryOpt, InfusionOpt, ProductOpt, RouteOpt, SiteOpt,
                               SpeciesOpt, TimesOpt, console, err_console)


def display_where(table):
    """The where-the-cells-went table for the console: units in the headers, readable times."""
    from mscsim.cli.common import readable_time

    t = table[table["peak %"] >= 0.05].copy()
    t.insert(2, "peak at", [readable_time(h / 24.0) for h in t.pop("at (h)")])
    return t.rename(columns=lambda c: c.replace(" %", " (%)").replace("label % d", "label (%) day "))


def run_simulation(*, dose, route, artery, site, days, species, weight, injury, disease, subtype,
                   infusion, every, times, product, at, out: Path, quiet: bool = False) -> dict:
    """Run, write files, print the summary; return the summary dict (used by `demo`)."""
    from mscsim.cli.common import df_table, dose_regimen, out_dir, parse_days, parse_injury
    from mscsim.errors import MscsimError
    from mscsim.io import save_figure, write_json, write_table
    from mscsim.plots import organ_cells_figure, organ_label_figure
    from mscsim.simulate import simulate, where_cells_went

    from mscsim.cli.common import check_disease

    disease = check_disease(disease)
    inj = parse_injury(injury)
    if dose is None and disease is None:
        raise MscsimError("give a --dose (e.g. --dose '1e6 cells/kg'), or a --disease to see its "
                          "untreated course", field="--dose")
    if dose is None and any(v is not None for v in (artery, site, infusion, every)):
        raise MscsimError("--artery/--site/--infusion/--every need a --dose", field="--dose")
    regimen = dose_regimen(dose, route, at=at, artery=artery, site=site, infusion=infusion, every=every,
                           times=times, product=product)
    ndays = parse_days(days)
    out = out_dir(out)
    grid = None
    if disease is not None:  # make sure the summary's time points are on the output grid
        import numpy as np

        from mscsim.cli.disease_outputs import summary_times
        from mscsim.simulate import default_times

        grid = np.unique(np.concatenate([default_times(ndays, regimen.administrations(weight or 70.0)),
                                          [t for t in summary_times(ndays) if t <= ndays]]))
    sim = simulate(regimen, ndays, disease=disease, subtype=subtype, injury=inj, species=species,
                   weight_kg=weight, times=grid)
    for w in sim.info["warnings"]:
        err_console.print(f"[yellow]warning:[/yellow] {w}")
    organs = sim.organs()
    files = write_table(organs, out / "organs")
    files += write_table(sim.to_frame(), out / "timecourse")
    files.append(save_figure(organ_cells_figure(organs), out / "cells_per_organ.png"))
    files.append(save_figure(organ_label_figure(organs), out / "label_per_organ.png"))
    table = where_cells_went(sim)
    summary = {
        "dose": dose, "route": route, "artery": artery, "site": site, "days": ndays,
        "species": species, "weight_kg": sim.info["weight_kg"], "injury": injury,
        "disease": disease, "subtype": subtype, "product": product,
        "at": at, "every": every, "times": times, "infusion": infusion,
        "cells_given": float(sim.states["X_dosed"].iloc[-1]),
        "peak_lung_occlusion": float(sim.outputs["lung_occlusion"].max()),
        "conservation_error": sim.conservation_error(),
        "warnings": sim.info["warnings"],
        "where_cells_went": table.to_dict(orient="records"),
    }
    if disease is not None:
        from mscsim.cli.disease_outputs import write_disease_outputs

        summary["disease_summary"], more = write_disease_outputs(sim, regimen, ndays, out, disease=disease,
                                                                 subtype=subtype, species=species,
                                                                 weight=weight)
        files += more
    files.append(write_json(summary, out / "summary.json"))
    try:
        from mscsim.report import write_report

        files.append(write_report(out, regimen=regimen, settings={"subtype": subtype}))
    except ModuleNotFoundError:
        pass
    if not quiet:
        console.print(f"[bold]{summary['cells_given']:.3g} cells given[/bold] ({dose or 'no dose'}, {route}"
                      + (f", {artery} artery" if artery else "") + (f", site {site}" if site else "")
                      + f"); {ndays:g} days; {species}, {sim.info['weight_kg']:g} kg"
                      + (f"; injured {inj[0]} {inj[1]:g}" if inj else "")
                      + (f"; disease {disease}" if disease else ""))
        console.print(df_table(display_where(table), title="Where the cells went: viable MSCs, % of all cells given "
                                                          f"({summary['cells_given']:.3g} cells)"))
        console.print(f"peak lung-occlusion signal: {summary['peak_lung_occlusion']:.3g} "
                      "(1 = lung load that killed mice)")
        if disease is not None:
            for line in summary["disease_summary"]["lines"]:
                console.print(line)
        console.print(f"output: [bold]{escape(str(out))}[/bold] ({len(files)} files: organs.parquet/.csv, "
                      "timecourse.parquet/.csv, figures, summary.json, report.html)")
    return summary


@app.command("simulate")
def simulate_cmd(
    dose: DoseOpt = None,
    route: RouteOpt = "iv",
    artery: ArteryOpt = None,
    site: SiteOpt = None,
    days: str = typer.Option("30", "--days", help="days to simulate (or a time such as '12 wk')"),
    species: SpeciesOpt = "human",
    weight: Optional[float] = typer.Option(None, "--weight", help="body weight in kg (default: species reference)"),
    injury: Optional[str] = typer.Option(None, "--injury", help="injured tissue and severity 0..1, e.g. liver:0.6"),
    disease: Optional[str] = typer.Option(None, "--disease", help="ra | t1d | ms | sle | ibd | liver | gvhd | ards"),
    subtype: Optional[str] = typer.Option(None, "--subtype", help="disease subtype (e.g. ms: progressive | relapsing)"),
    infusion: InfusionOpt = None,
    every: EveryOpt = None,
    times: TimesOpt = 1,
    product: ProductOpt = "msc",
    at: AtOpt = None,
    out: Path = typer.Option(Path("mscsim-out/simulate"), "-o", "--out", help="output folder"),
):
    """Simulate one patient: where the MSCs go, and (with --disease) what they do."""
    run_simulation(dose=dose, route=route, artery=artery, site=site, days=days, species=species,
                   weight=weight, injury=injury, disease=disease, subtype=subtype, infusion=infusion,
                   every=every, times=times, product=product, at=at, out=out)
