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
    """Arm results and comparisons with units; proportions in %, differences of proportions in
    percentage points; rounding noise printed as 0."""
    from rich.markup import escape
    from rich.table import Table

    from mscsim.cli.common import clean_number
    from mscsim.cli.endpoints import endpoint_table

    units = dict(zip(*endpoint_table(summary["disease"])[["endpoint", "unit"]].to_dict("list").values()))
    stats = {e["name"]: e["stat"] for arm in summary["arms"] for e in arm["endpoints"]}

    def unit_of(name):
        return "%" if stats.get(name) == "proportion" else units.get(name, "% of dose" if name.startswith("label_") else "")

    def pct(x):
        return clean_number(None if x is None else 100 * x, "{:.1f}")

    # names from the scenario are shown as written, never read as rich markup
    t = Table(title=escape(f"{summary['scenario']} ({summary['disease']}, seed {summary['seed']})"), header_style="bold")
    for c in ("arm", "n", "endpoint", "unit", "day", "value", "95% CI"):
        t.add_column(c, justify="right" if c in ("n", "day", "value") else "left")
    for arm in summary["arms"]:
        for e in arm["endpoints"]:
            prop = e["stat"] == "proportion"
            val = pct(e["value"]) if prop else clean_number(e["value"])
            ci = "-" if e["ci_low"] is None else (
                f"{pct(e['ci_low'])} to {pct(e['ci_high'])}" if prop
                else f"{clean_number(e['ci_low'])} to {clean_number(e['ci_high'])}")
            t.add_row(escape(arm["name"]), str(arm["n"]), e["name"], unit_of(e["name"]), f"{e['at_days']:g}", val, ci)
    console.print(t)
    if summary["comparisons"]:
        c = Table(title="comparisons (arm - control; proportions in percentage points)", header_style="bold")
        for col in ("endpoint", "unit", "day", "arm", "vs", "difference", "95% CI", "p"):
            c.add_column(col)
        for r in summary["comparisons"]:
            prop = stats.get(r["endpoint"]) == "proportion"
            fmt = pct if prop else clean_number
            c.add_row(r["endpoint"], "pp" if prop else unit_of(r["endpoint"]), f"{r['at_days']:g}", escape(r["arm"]),
                      escape(r["vs"]),
                      fmt(r["difference"]), f"{fmt(r['ci_low'])} to {fmt(r['ci_high'])}",
                      clean_number(r["p_value"]))
        console.print(c)
    for arm in summary["arms"]:
        console.print(f"arm {escape(arm['name'])}: screened {arm['screened']} to enrol {arm['n_planned']} "
                      f"(screening ratio {arm['screening_ratio']:.2f}); failed simulations: {arm['failures']}")
    fit = summary.get("population_fit") or []
    if fit:
        worst = max(fit, key=lambda r: abs(r["smd"]) if r["smd"] is not None else -1.0)
        console.print(f"Table 1: {len({r['row'] for r in fit})} rows matched in {len({r['arm'] for r in fit})} "
                      f"arm(s) (pool {worst['pool']} candidates "
                      f"per arm); largest |standardized difference| {abs(worst['smd'] or 0):.3f} "
                      f"({escape(worst['arm'])}, {escape(worst['row'])}); population_fit.csv")


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
    alpha: float = typer.Option(0.05, "--alpha", min=1e-6, max=0.5, help="significance level for --power and the assurance of --uncertainty"),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="override the scenario's seed"),
    resume: bool = typer.Option(False, "--resume", help="continue an interrupted trial from its last finished chunk"),
    report: bool = typer.Option(True, "--report/--no-report", help="write report.html"),
    uncertainty: int = typer.Option(0, "--uncertainty", min=0, max=100000,
                                    help="also run N parameter draws: predictive intervals and assurance (at --alpha)"),
):
    """Run a virtual clinical trial: every arm, every endpoint, comparisons; or its power."""
    from rich.markup import escape

    from mscsim.execution import start_up

    # where this process may use more than one CPU (or runs workers), the figures are drawn in a
    # second process, forked first thing so that it imports matplotlib and pandas while this one
    # imports the rest and loads the model (the second CPU is idle then), and draws while the
    # tables are written; on one CPU they are drawn here
    figures = None
    if not power and not scheduler and (workers > 1 or _cpus() > 1):
        from mscsim.trial_figures import fork_trial_figures

        figures = fork_trial_figures()
    # from here until the folder is written, any error or Ctrl-C stops the figure process too (and
    # drops what it drew), so a failed or interrupted trial leaves no figure of its own
    try:
        with start_up():
            sc, out = _start_trial(scenario, out, seed, scheduler, power, figures)
        from mscsim.io import write_table
        from mscsim.trial import power as trial_power
        from mscsim.trial import write_trial

        if power:
            table = trial_power(sc, replicates=replicates, alpha=alpha, workers=workers, scheduler=scheduler)
            files = write_table(table, out / "power")
            from mscsim.cli.common import df_table

            console.print(df_table(table, title=f"power over {replicates} virtual trials (p < {alpha})"))
            console.print(f"output: [bold]{escape(str(out))}[/bold] ({', '.join(f.name for f in files)})")
            return
        from mscsim.checkpoint import clear_checkpoint, run_trial_resumable

        result = run_trial_resumable(sc, out, fresh=not resume, workers=workers, scheduler=scheduler,
                                     figure_inputs=None if figures is None else figures.send)
        if uncertainty:
            from mscsim.uncertainty import attach, predict

            attach(result.summary, predict(sc, uncertainty, alpha=alpha, workers=workers, scheduler=scheduler))
            err_console.print(f"uncertainty: {escape(result.summary['uncertainty']['source'])}")
        for w in result.summary["warnings"]:
            err_console.print(f"[yellow]warning:[/yellow] {escape(w)}")
        if figures is not None:
            figures.draw(result)
        built: list[str] = []  # the report, when it could be built while the figures were drawn
        ahead = (lambda: _report_while_drawing(result, out, sc, built)) if report and figures is not None else None
        files = write_trial(result, out, csv=True, figures=figures, while_drawing=ahead)
    except BaseException:
        if figures is not None:
            figures.cancel()
        raise
    if report:
        try:
            from mscsim.report import save_report, write_report

            files.append(save_report(built[0], out) if built else write_report(out, scenario=sc))
        except ImportError:  # the report package is optional
            pass
    clear_checkpoint(out)
    print_summary(result.summary)
    if uncertainty:
        from mscsim.cli.common import df_table
        from mscsim.uncertainty import uncertainty_table

        console.print(df_table(uncertainty_table(result.summary),
                               title=f"{uncertainty} parameter draws: 95% predictive intervals and assurance (p < {alpha})"))
    console.print(f"output: [bold]{escape(str(out))}[/bold] ({len(files)} files: summary.json, patients.parquet/.csv, "
                  "timecourse.parquet/.csv, figures)")


def _report_while_drawing(result, out: Path, sc, built: list) -> None:
    """Build the report into ``built`` from the tables just written while the figure process draws
    the PNGs (issue 19: 0.4-1 s of the command's wall time), with the summary as summary.json will
    hold it and the PNG files the folder will hold. Any error leaves ``built`` empty: the report is
    then built from the finished folder as before, where the error shows as usual."""
    import json

    try:
        from mscsim.io import json_text
        from mscsim.report import build_report
        from mscsim.trial_figures import TRIAL_FIGURES, trial_figure_names

        summary = json.loads(json_text(result.summary))  # as summary.json will hold it
        drawn = trial_figure_names(summary)  # write_trial removes an earlier run's figure this run lacks
        pngs = {p for p in out.glob("*.png") if p.is_file() and p.name not in TRIAL_FIGURES}
        pngs |= {out / name for name in drawn}
        built.append(build_report(out, scenario=sc, summary=summary, figures=pngs))
    except Exception:  # noqa: BLE001 - built again, and any error shown, once the folder is complete
        built.clear()


def _start_trial(scenario: str, out, seed, scheduler, power: bool, figures):
    """(scenario, output folder): the trial command's start-up, run in `execution.start_up`
    (imports, the scenario, aiming the figure process ``figures`` if any, the compiled model)."""
    from rich.markup import escape

    from mscsim.cli.common import check_scheduler, out_dir
    from mscsim.scenario import resolve_scenario

    check_scheduler(scheduler)
    sc = resolve_scenario(scenario)
    if seed is not None:
        sc = sc.model_copy(update={"seed": seed})
    out = out_dir(out or Path("mscsim-out/trial") / _slug(sc.name))
    for line in regimen_warnings(sc):
        err_console.print(f"[yellow]warning:[/yellow] {escape(line)}")
    if power:
        return sc, out
    if figures is not None:  # the folder, and the time-course panels it lays out while the trial runs
        from mscsim.trial import _planned_layout

        figures.aim(out, _planned_layout(sc))
    # the model and the engine's kernels (loaded once; the trial finds them loaded)
    import gc

    from mscsim.model import build_model
    from mscsim.numerics import compile_model, model_is_compiled

    ode = build_model(sc.disease, None, "human", sc.subtype).ode
    cold = not model_is_compiled(ode)
    compile_model(ode)
    if cold:  # building and compiling left ~100,000 objects of garbage: not to be frozen
        gc.collect()
    return sc, out


def _cpus() -> int:
    """CPUs this process may run on (its affinity set: a batch job given one core gets 1)."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1
