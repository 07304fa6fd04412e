"""``mscsim sensitivity``: Sobol (or Morris) indices of one endpoint at one time."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from mscsim.cli import app
from mscsim.cli.common import console, df_table, err_console


@app.command("sensitivity")
def sensitivity_cmd(
    disease: str = typer.Option(..., "--disease", help="ra | t1d | ms | sle | ibd | liver | gvhd | ards"),
    endpoint: str = typer.Option(..., "--endpoint", help="endpoint name, e.g. das28_esr"),
    at: str = typer.Option(..., "--at", help="time of the endpoint, e.g. '12 wk'"),
    method: str = typer.Option("sobol", "--method", help="sobol | morris"),
    n: int = typer.Option(64, "--n", min=2, max=100000, help="Sobol base sample size (or Morris trajectories)"),
    params: Optional[str] = typer.Option(None, "--params", help="comma-separated parameter names (default: the disease's uncertain parameters; with sobol, the 6 most influential by a quick Morris screen)"),
    subtype: Optional[str] = typer.Option(None, "--subtype", help="disease subtype (default: the disease's default)"),
    dose: Optional[str] = typer.Option(None, "--dose", help="dose (default: the headline trials' dose)"),
    route: str = typer.Option("iv", "--route", help="with --dose: iv | intra_arterial | intraportal | intrathecal | local"),
    artery: Optional[str] = typer.Option(None, "--artery", help="for intra_arterial: hepatic | pancreatic | carotid | renal | coronary"),
    site: Optional[str] = typer.Option(None, "--site", help="for local: joint | perianal_fistula | ..."),
    every: Optional[str] = typer.Option(None, "--every", help="repeat interval of --dose, e.g. '12 wk'"),
    times: int = typer.Option(1, "--times", min=1, max=1000, help="number of doses"),
    seed: int = typer.Option(1, "--seed", min=0, help="seed of the parameter sample"),
    workers: int = typer.Option(1, "--workers", min=1, max=256, help="local worker processes"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address (tcp://host:port)"),
    out: Path = typer.Option(Path("mscsim-out/sensitivity"), "-o", "--out", help="output folder"),
):
    """Global sensitivity (SALib): which uncertain parameters drive an endpoint."""
    from mscsim import sensitivity as sens
    from mscsim.cli.common import out_dir
    from mscsim.dosing import Dose, Regimen
    from mscsim.errors import unknown
    from mscsim.io import save_figure, write_table
    from mscsim.model import DISEASES
    from mscsim.units import parse_time

    from mscsim.cli.common import check_disease

    disease = check_disease(disease)
    from mscsim.cli.common import check_scheduler

    check_scheduler(scheduler)
    at_days = parse_time(at, field="--at")
    regimen = (Regimen((Dose.parse(dose, route, artery=artery, site=site, every=every, times=times),))
               if dose else None)
    names = [s.strip() for s in params.split(",") if s.strip()] if params else None
    if method not in ("sobol", "morris"):
        raise unknown("method", method, ("sobol", "morris"), field="--method")
    problem = sens.make_problem(disease, endpoint, at_days, subtype=subtype, regimen=regimen, names=names)
    out = out_dir(out)
    if method == "sobol" and names is None and len(problem.names) > 6:
        err_console.print(f"Morris screen of {len(problem.names)} parameters "
                          f"({6 * (len(problem.names) + 1)} model runs), then Sobol on the top 6")
        screen = sens.run(problem, "morris", n=6, seed=seed, workers=workers, scheduler=scheduler)
        write_table(screen, out / "morris_screen")
        for w in sens.reliability_warnings(screen, 6 * (len(problem.names) + 1)):
            err_console.print(f"[yellow]warning:[/yellow] Morris screen: {w}")
        top = list(screen["parameter"].head(6))
        console.print(f"Morris screen of {len(problem.names)} parameters; Sobol on the top 6: {', '.join(top)}")
        problem = sens.make_problem(disease, endpoint, at_days, subtype=subtype, regimen=regimen, names=top)
    k = len(problem.names)
    n_runs = n * (k + 2) if method == "sobol" else n * (k + 1)
    err_console.print(f"{method}: {n_runs} model runs of {k} parameters")
    table = sens.run(problem, method, n=n, seed=seed, workers=workers, scheduler=scheduler)
    files = write_table(table, out / f"{method}_{endpoint}")
    title = f"{method} indices of {endpoint} at {at_days:g} d ({disease})"
    files.append(save_figure(sens.figure(table, title), out / f"{method}_{endpoint}.png"))
    console.print(df_table(table, title=title))
    for w in sens.reliability_warnings(table, n_runs):
        err_console.print(f"[yellow]warning:[/yellow] {w}")
    console.print(f"output: [bold]{escape(str(out))}[/bold] ({', '.join(f.name for f in files)})")
