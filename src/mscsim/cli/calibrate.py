"""``mscsim calibrate --disease X``: fit the disease's free parameters to the calibration records."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mscsim.cli import app
from mscsim.cli.common import console, df_table, err_console


@app.command("calibrate")
def calibrate_cmd(
    disease: str = typer.Option(..., "--disease", help="ra | t1d | ms | sle | ibd | liver | gvhd | ards"),
    params: Optional[str] = typer.Option(None, "--params", help="comma-separated parameters (default: the disease's CALIBRATION_PARAMETERS)"),
    maxfev: int = typer.Option(60, "--maxfev", min=5, max=10000, help="objective evaluations for the fit"),
    profile_points: int = typer.Option(4, "--profile-points", min=0, max=50, help="grid points per side for profile CIs (0: none)"),
    n_min: int = typer.Option(60, "--n-min", min=5, max=100000, help="virtual patients per arm at least"),
    workers: int = typer.Option(1, "--workers", min=1, max=256),
    scheduler: Optional[str] = typer.Option(None, "--scheduler"),
    save: bool = typer.Option(False, "--save", help="write the fitted values to the file the package ships"),
    out: Path = typer.Option(Path("mscsim-out/calibrate"), "-o", "--out"),
):
    """Fit MSC effect strengths, placebo response and the like to the published calibration records."""
    from mscsim import calibrate as cal
    from mscsim.cli.common import out_dir
    from mscsim.errors import unknown
    from mscsim.io import save_figure, write_json, write_table
    from mscsim.model import DISEASES

    if disease not in DISEASES:
        raise unknown("disease", disease, DISEASES, field="--disease")
    names = [s.strip() for s in params.split(",") if s.strip()] if params else cal.calibration_parameters(disease)
    scen, targets = cal.calibration_targets(disease)
    if not targets:
        from mscsim.errors import MscsimError

        raise MscsimError(f"no shipped scenario marks records of {disease} for calibration", field="--disease")
    out = out_dir(out / disease)
    console.print(f"calibrating {', '.join(names)} on {len(targets)} published numbers from "
                  f"{', '.join(sorted(scen))}")

    def progress(k, theta, f):
        err_console.print(f"[dim]eval {k}: objective {f:.3g} at "
                          + ", ".join(f"{n}={v:.4g}" for n, v in theta.items()) + "[/dim]")

    res = cal.fit(scen, targets, names, maxfev=maxfev, profile_points=profile_points, n_min=n_min,
                  workers=workers, scheduler=scheduler, progress=progress)
    write_json(res.to_json(), out / "calibration.json")
    write_table(res.table(), out / "parameters")
    write_table(res.fit_table(), out / "fit")
    save_figure(cal.fit_figure(res), out / "fit.png")
    console.print(df_table(res.table(), title=f"{disease}: fitted parameters (profile-likelihood 95% CI)"))
    console.print(df_table(res.fit_table().drop(columns=["scenario"]), title="fit: simulated vs published"))
    if save:
        cal.save(res, cal.package_path(disease))
        console.print(f"saved to {cal.package_path(disease)}")
    console.print(f"output: [bold]{out}[/bold] (calibration.json, parameters.csv, fit.csv, fit.png)")
