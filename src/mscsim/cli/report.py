"""``mscsim report OUT``: the self-contained HTML report of a simulate or trial output folder."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from mscsim.cli import app
from mscsim.cli.common import console


@app.command("report")
def report_cmd(
    folder: Path = typer.Argument(..., help="output folder of `mscsim simulate` or `mscsim trial`"),
    scenario: Optional[str] = typer.Option(
        None, "--scenario",
        help="the trial's scenario YAML or shipped id (default: the shipped scenario of the same name); "
             "gives regimens, the body map and the published comparison"),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="HTML file to write (default FOLDER/report.html)"),
):
    """Write FOLDER/report.html: body map, immune and score time courses, responders, published results."""
    from mscsim.errors import MscsimError
    from mscsim.report import write_report

    sc = None
    if scenario is not None:
        from mscsim.scenario import resolve_scenario

        sc = resolve_scenario(scenario)
    if out is not None and out.is_dir():
        raise MscsimError(f"{out} is a folder; give the HTML file to write", field="--out")
    path = write_report(folder, sc, path=out)
    size = path.stat().st_size / 1e6
    console.print(f"report: [bold]{escape(str(path))}[/bold] ({size:.1f} MB, self-contained; open it in a browser)")
