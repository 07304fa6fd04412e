"""``mscsim demo``: a meaningful default run, end to end, with no arguments."""

from __future__ import annotations

from pathlib import Path

import typer

from mscsim.cli import app
from mscsim.cli.common import console


@app.command("demo")
def demo_cmd(out: Path = typer.Option(Path("mscsim-out/demo"), "-o", "--out", help="output folder")):
    """1e6 cells/kg IV over 30 min in a 70 kg patient with an injured liver: where do the cells go?"""
    from mscsim.cli.simulate import run_simulation

    console.print("[bold]mscsim demo[/bold]: 1e6 MSC/kg IV over 30 min, 70 kg adult, injured liver "
                  "(severity 0.6), 30 days")
    run_simulation(dose="1e6 cells/kg", route="iv", artery=None, site=None, days="30", species="human",
                   weight=70.0, injury="liver:0.6", disease=None, subtype=None, infusion="30 min",
                   every=None, times=1, product="msc", at=None, out=out)
