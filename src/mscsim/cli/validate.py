"""``mscsim validate``: the shipped published trials, simulated, beside their published results."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from mscsim.cli import app
from mscsim.cli.common import console


@app.command("validate")
def validate_cmd(
    disease: Optional[str] = typer.Option(None, "--disease", help="ra | t1d | ms | sle | ibd | liver | gvhd | ards (default: all)"),
    out: Path = typer.Option(Path("mscsim-out/validate"), "-o", "--out", help="output folder"),
    workers: int = typer.Option(1, "--workers", min=1, max=256, help="local worker processes"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address"),
    only: Optional[list[str]] = typer.Option(None, "--only", help="run only these scenario ids"),
):
    """Simulate every shipped published-trial scenario and compare with the published numbers.

    Exits 0 even when trials are missed: it is a report, not a gate."""
    from rich.table import Table

    from mscsim.cli.common import out_dir
    from mscsim.errors import unknown
    from mscsim.evidence.validate import format_markdown, run_validation
    from mscsim.io import write_json, write_table, write_text
    from mscsim.model import DISEASES

    if disease is not None and disease not in DISEASES:
        raise unknown("disease", disease, DISEASES, field="--disease")
    out = out_dir(out)
    table = run_validation(disease, workers=workers, scheduler=scheduler, only=only)
    if table.empty:
        console.print("no validation entries")
        return
    write_table(table, out / "validation")
    write_text(format_markdown(table), out / "validation.md")
    n_in = int((table["inside"] == True).sum())  # noqa: E712
    n_known = int(table["inside"].notna().sum())
    write_json({"inside": n_in, "compared": n_known, "rows": len(table)}, out / "validation.json")
    t = Table(title=f"validation: {n_in} of {n_known} comparisons inside the published spread", header_style="bold")
    for c in ("study", "arm", "endpoint", "day", "simulated (95% CI)", "published", "inside", "use"):
        t.add_column(c)
    fmt = (lambda x: "" if x is None or x != x else f"{x:.3g}")
    for _, r in table.iterrows():
        pub = r["spread"] if r["compare"] == "direction" else (
            f"{fmt(r['published'])} ({fmt(r['pub_low'])} to {fmt(r['pub_high'])})")
        ins = {True: "[green]yes[/green]", False: "[red]no[/red]"}.get(r["inside"], "n/a")
        ep = r["endpoint"] + (" (chg)" if r["compare"] == "change" else "")
        t.add_row(r["study"], r["arm"], ep, f"{r['at_days']:g}",
                  f"{fmt(r['simulated'])} ({fmt(r['sim_ci_low'])} to {fmt(r['sim_ci_high'])})", pub, ins, r["role"])
    console.print(t)
    console.print(f"output: [bold]{out}[/bold] (validation.csv/.parquet, validation.md)")
