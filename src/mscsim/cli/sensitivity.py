"""``mscsim sensitivity``: Sobol (or Morris) indices of one endpoint at one time."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mscsim.cli import app
from mscsim.cli.common import console, df_table


@app.command("sensitivity")
def sensitivity_cmd(
    disease: str = typer.Option(..., "--disease", help="ra | t1d | ms | sle | ibd | liver | gvhd | ards"),
    endpoint: str = typer.Option(..., "--endpoint", help="endpoint name, e.g. das28_esr"),
    at: str = typer.Option(..., "--at", help="time of the endpoint, e.g. '12 wk'"),
    method: str = typer.Option("sobol", "--method", help="sobol | morris"),
    n: int = typer.Option(64, "--n", min=2, max=100000, help="Sobol base sample size (or Morris trajectories)"),
    params: Optional[str] = typer.Option(None, "--params", help="comma-separated parameter names (default: the disease's uncertain parameters; with sobol, the 6 most influential by a quick Morris screen)"),
    subtype: Optional[str] = typer.Option(None, "--subtype"),
    dose: Optional[str] = typer.Option(None, "--dose", help="dose (default: the headline trials' dose)"),
    route: str = typer.Option("iv", "--route"),
    artery: Optional[str] = typer.Option(None, "--artery"),
    site: Optional[str] = typer.Option(None, "--site"),
    every: Optional[str] = typer.Option(None, "--every"),
    times: int = typer.Option(1, "--times"),
    seed: int = typer.Option(1, "--seed", min=0),
    workers: int = typer.Option(1, "--workers", min=1, max=256),
    scheduler: Optional[str] = typer.Option(None, "--scheduler"),
    out: Path = typer.Option(Path("mscsim-out/sensitivity"), "-o", "--out"),
):
    """Global sensitivity (SALib): which uncertain parameters drive an endpoint."""
    from mscsim import sensitivity as sens
    from mscsim.cli.common import out_dir
    from mscsim.dosing import Dose, Regimen
    from mscsim.errors import unknown
    from mscsim.io import save_figure, write_table
    from mscsim.model import DISEASES
    from mscsim.units import parse_time

    if disease not in DISEASES:
        raise unknown("disease", disease, DISEASES, field="--disease")
    at_days = parse_time(at, field="--at")
    regimen = (Regimen((Dose.parse(dose, route, artery=artery, site=site, every=every, times=times),))
               if dose else None)
    names = [s.strip() for s in params.split(",") if s.strip()] if params else None
    if method not in ("sobol", "morris"):
        raise unknown("method", method, ("sobol", "morris"), field="--method")
    problem = sens.make_problem(disease, endpoint, at_days, subtype=subtype, regimen=regimen, names=names)
    out = out_dir(out)
    if method == "sobol" and names is None and len(problem.names) > 6:
        screen = sens.run(problem, "morris", n=6, seed=seed, workers=workers, scheduler=scheduler)
        write_table(screen, out / "morris_screen")
        top = list(screen["parameter"].head(6))
        console.print(f"Morris screen of {len(problem.names)} parameters; Sobol on the top 6: {', '.join(top)}")
        problem = sens.make_problem(disease, endpoint, at_days, subtype=subtype, regimen=regimen, names=top)
    table = sens.run(problem, method, n=n, seed=seed, workers=workers, scheduler=scheduler)
    files = write_table(table, out / f"{method}_{endpoint}")
    title = f"{method} indices of {endpoint} at {at_days:g} d ({disease})"
    files.append(save_figure(sens.figure(table, title), out / f"{method}_{endpoint}.png"))
    console.print(df_table(table, title=title))
    console.print(f"output: [bold]{out}[/bold] ({', '.join(f.name for f in files)})")
