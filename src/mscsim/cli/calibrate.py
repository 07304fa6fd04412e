"""``mscsim calibrate --disease X``: fit the disease's free parameters to the calibration records
(least squares), then sample their joint posterior with emcee from the optimum."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from mscsim.cli import app
from mscsim.cli.common import console, df_table, err_console


@app.command("calibrate")
def calibrate_cmd(
    disease: str = typer.Option(..., "--disease", help="ra | t1d | ms | sle | ibd | liver | gvhd | ards"),
    params: Optional[str] = typer.Option(None, "--params", help="comma-separated parameters (default: the disease's CALIBRATION_PARAMETERS)"),
    maxfev: int = typer.Option(60, "--maxfev", min=0, max=10000, help="objective evaluations for the fit (0: keep the shipped optimum)"),
    profile_points: int = typer.Option(0, "--profile-points", min=0, max=50, help="grid points per side for profile CIs (0: none; the posterior gives credible intervals)"),
    n_min: int = typer.Option(60, "--n-min", min=5, max=100000, help="virtual patients per arm at least (least-squares fit)"),
    posterior: bool = typer.Option(True, "--posterior/--no-posterior", help="sample the joint posterior with emcee after the fit"),
    walkers: Optional[int] = typer.Option(None, "--walkers", min=2, max=1000, help="emcee walkers (even; default max(8, 4 x parameters))"),
    steps: int = typer.Option(60, "--steps", min=2, max=100000, help="emcee steps per walker"),
    burn: Optional[int] = typer.Option(None, "--burn", min=0, help="steps dropped as burn-in (default a third)"),
    n_sim: int = typer.Option(20, "--n-sim", min=5, max=100000, help="virtual patients per arm at least in each posterior evaluation"),
    seed: int = typer.Option(0, "--seed", min=0, help="seed of the walkers' start and moves"),
    workers: int = typer.Option(1, "--workers", min=1, max=256, help="local worker processes"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address (tcp://host:port)"),
    save: bool = typer.Option(False, "--save", help="write the fitted values to the file the package ships"),
    out: Path = typer.Option(Path("mscsim-out/calibrate"), "-o", "--out", help="output folder (a subfolder per disease)"),
):
    """Fit MSC effect strengths, placebo response and the like to the published calibration records."""
    from mscsim import calibrate as cal
    from mscsim.cli.common import out_dir
    from mscsim.errors import unknown
    from mscsim.io import save_figure, write_json, write_table
    from mscsim.model import DISEASES

    from mscsim.cli.common import check_disease

    disease = check_disease(disease)
    from mscsim.cli.common import check_scheduler

    check_scheduler(scheduler)
    names = [s.strip() for s in params.split(",") if s.strip()] if params else cal.calibration_parameters(disease)
    scen, targets = cal.calibration_targets(disease)
    if not targets:
        from mscsim.errors import MscsimError

        raise MscsimError(f"no shipped scenario marks records of {disease} for calibration", field="--disease")
    cal.check_not_shared(names, disease)
    out = out_dir(out / disease)
    console.print(f"calibrating {', '.join(names)} on {len(targets)} published numbers from "
                  f"{', '.join(sorted(scen))}")

    def progress(k, theta, f):
        err_console.print(f"[dim]eval {k}: objective {f:.3g} at "
                          + ", ".join(f"{n}={v:.4g}" for n, v in theta.items()) + "[/dim]")

    start = None
    if maxfev == 0:  # the shipped least-squares optimum (table value where none)
        from mscsim import parameters

        reg = parameters.registry()
        start = {n: parameters.calibrated(disease).get(n, reg[n].value_for("human")) for n in names}
    res = cal.fit(scen, targets, names, start=start, maxfev=maxfev, profile_points=profile_points, n_min=n_min,
                  workers=workers, scheduler=scheduler, progress=progress)
    if posterior:
        def post_progress(k, theta, lp):
            err_console.print(f"[dim]posterior eval {k}: log-likelihood {lp:.4g} at "
                              + ", ".join(f"{n}={v:.4g}" for n, v in theta.items()) + "[/dim]")

        res.posterior = cal.posterior_for(scen, targets, names, res.values, n_sim=n_sim, workers=workers,
                                          scheduler=scheduler, walkers=walkers, steps=steps, burn=burn, seed=seed,
                                          progress=post_progress)
        res.posterior.write_csv(out / f"{disease}{cal.POSTERIOR_SUFFIX}")
    write_json(res.to_json(), out / "calibration.json")
    write_table(res.table(), out / "parameters")
    write_table(res.fit_table(), out / "fit")
    save_figure(cal.fit_figure(res), out / "fit.png")
    console.print(df_table(res.table(), title=f"{disease}: fitted parameters (profile-likelihood 95% CI)"))
    console.print(df_table(res.fit_table().drop(columns=["scenario"]), title="fit: simulated vs published"))
    if res.posterior is not None:
        import pandas as pd

        p = res.posterior
        console.print(df_table(pd.DataFrame([{"parameter": n, **v} for n, v in p.summary().items()]),
                               title=f"{disease}: posterior median and 95% credible interval"))
        console.print(f"posterior: {len(p.samples)} draws ({p.walkers} walkers x {p.steps - p.burn} steps after "
                      f"{p.burn} burn-in), acceptance {p.acceptance:.2f}, autocorrelation time "
                      + ", ".join(f"{n} {t:.1f}" for n, t in p.autocorr.items())
                      + f" steps, effective sample size {p.ess:.0f}"
                      + ("" if p.converged else " (chain shorter than 50 autocorrelation times: indicative)"))
    if save:
        cal.save(res, cal.package_path(disease))
        console.print(f"saved to {cal.package_path(disease)}")
    console.print(f"output: [bold]{escape(str(out))}[/bold] (calibration.json, parameters.csv, fit.csv, fit.png"
                  + (f", {disease}{cal.POSTERIOR_SUFFIX})" if res.posterior is not None else ")"))
