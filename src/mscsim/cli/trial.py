"""``mscsim trial scenario.yaml -o OUT``: a virtual clinical trial (and ``--power``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Optional

import typer

from mscsim.cli import app
from mscsim.cli.common import console, err_console


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:60] or "trial"


def print_summary(summary: dict) -> None:
    from rich.table import Table

    t = Table(title=f"{summary['scenario']} ({summary['disease']}, seed {summary['seed']})", header_style="bold")
    for c in ("arm", "n", "endpoint", "day", "value", "95% CI"):
        t.add_column(c, justify="right" if c in ("n", "day", "value") else "left")
    for arm in summary["arms"]:
        for e in arm["endpoints"]:
            val = "-" if e["value"] is None else (f"{100 * e['value']:.1f} %" if e["stat"] == "proportion"
                                                   else f"{e['value']:.3g}")
            ci = "-" if e["ci_low"] is None else (
                f"{100 * e['ci_low']:.1f} to {100 * e['ci_high']:.1f} %" if e["stat"] == "proportion"
                else f"{e['ci_low']:.3g} to {e['ci_high']:.3g}")
            t.add_row(arm["name"], str(arm["n"]), e["name"], f"{e['at_days']:g}", val, ci)
    console.print(t)
    if summary["comparisons"]:
        c = Table(title="comparisons (arm - control)", header_style="bold")
        for col in ("endpoint", "day", "arm", "vs", "difference", "95% CI", "p"):
            c.add_column(col)
        for r in summary["comparisons"]:
            fmt = (lambda x: "-" if x is None else f"{x:.3g}")
            c.add_row(r["endpoint"], f"{r['at_days']:g}", r["arm"], r["vs"], fmt(r["difference"]),
                      f"{fmt(r['ci_low'])} to {fmt(r['ci_high'])}", "-" if r["p_value"] is None else f"{r['p_value']:.3g}")
        console.print(c)
    for arm in summary["arms"]:
        console.print(f"arm {arm['name']}: screened {arm['screened']} to enrol {arm['n_planned']} "
                      f"(screening ratio {arm['screening_ratio']:.2f}); failed simulations: {arm['failures']}")


def regimen_warnings(sc) -> list[str]:
    """Doses of each arm that start after the last endpoint (the trial never gives them)."""
    out = []
    for arm in sc.arms:
        w = arm.to_regimen().horizon_warning(sc.end_day, "the last endpoint")
        if w:
            out.append(f"arm {arm.name}: {w}")
    return out


@app.command("trial")
def trial_cmd(
    scenario: str = typer.Argument(..., help="scenario YAML file, or the id of a shipped published-trial scenario"),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="output folder (default mscsim-out/trial/<name>)"),
    workers: int = typer.Option(1, "--workers", min=1, max=256, help="local worker processes"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address (tcp://host:port)"),
    power: bool = typer.Option(False, "--power", help="estimate power over repeated virtual trials"),
    replicates: int = typer.Option(50, "--replicates", min=2, max=100000, help="replicate trials for --power"),
    alpha: float = typer.Option(0.05, "--alpha", min=1e-6, max=0.5, help="significance level for --power"),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="override the scenario's seed"),
    resume: bool = typer.Option(False, "--resume", help="continue an interrupted trial from its last finished chunk"),
    report: bool = typer.Option(True, "--report/--no-report", help="write report.html"),
):
    """Run a virtual clinical trial: every arm, every endpoint, comparisons; or its power."""
    from mscsim.cli.common import out_dir
    from mscsim.io import write_table
    from mscsim.scenario import resolve_scenario
    from mscsim.trial import power as trial_power
    from mscsim.trial import write_trial

    from mscsim.cli.common import check_scheduler

    check_scheduler(scheduler)
    sc = resolve_scenario(scenario)
    if seed is not None:
        sc = sc.model_copy(update={"seed": seed})
    out = out_dir(out or Path("mscsim-out/trial") / _slug(sc.name))
    for line in regimen_warnings(sc):
        err_console.print(f"[yellow]warning:[/yellow] {line}")
    if power:
        table = trial_power(sc, replicates=replicates, alpha=alpha, workers=workers, scheduler=scheduler)
        files = write_table(table, out / "power")
        from mscsim.cli.common import df_table

        console.print(df_table(table, title=f"power over {replicates} virtual trials (p < {alpha})"))
        console.print(f"output: [bold]{out}[/bold] ({', '.join(f.name for f in files)})")
        return
    from mscsim.checkpoint import clear_checkpoint, run_trial_resumable

    result = run_trial_resumable(sc, out, fresh=not resume, workers=workers, scheduler=scheduler)
    for w in result.summary["warnings"]:
        err_console.print(f"[yellow]warning:[/yellow] {w}")
    files = write_trial(result, out)
    if report:
        try:
            from mscsim.report import write_report

            files.append(write_report(out, scenario=sc))
        except ImportError:  # the report package is optional
            pass
    clear_checkpoint(out)
    print_summary(result.summary)
    console.print(f"output: [bold]{out}[/bold] ({len(files)} files: summary.json, patients.parquet, "
                  "timecourse.parquet, figures)")

