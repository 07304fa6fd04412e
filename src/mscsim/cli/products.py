"""``mscsim products [NAME] [--json]``: the MSC products of data/products.yaml, their attributes
and the source of every value (docs/products.md)."""

from __future__ import annotations

import json
from typing import Optional

import typer

from mscsim.cli import app
from mscsim.cli.common import console

#: columns of the table: attribute, header
COLUMNS = (("tissue", "tissue"), ("diameter_um", "diam. um"), ("cxcr4", "CXCR4"), ("potency", "potency"),
           ("tissue_factor", "TF (CD142)"), ("viability", "viable"), ("cryopreserved", "thawed"),
           ("allogeneic", "allo"), ("licensed", "primed"))


def product_rows(name: str | None = None) -> list[dict]:
    """One dict per product: name, desc, the attributes and ``sources`` (attribute -> source)."""
    from mscsim.products import get_product, product_names

    rows = []
    for n in [name] if name else product_names():
        p = get_product(n)
        row = {"name": p.name, "desc": p.desc, **{a: getattr(p, a) for a, _ in COLUMNS}}
        row["sources"] = dict(p.attr_sources)
        rows.append(row)
    return rows


@app.command("products")
def products_cmd(
    name: Optional[str] = typer.Argument(None, help="one product (default: all)"),
    as_json: bool = typer.Option(False, "--json", help="print the table as JSON (with every source)"),
):
    """List the MSC products: tissue, size, potency, tissue factor, fresh or thawed, donor, priming, sources."""
    from rich.markup import escape
    from rich.table import Table

    rows = product_rows(name)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="MSC products (data/products.yaml; relative values: bone-marrow MSC = 1)",
                  header_style="bold")
    table.add_column("product")
    for _, head in COLUMNS:
        table.add_column(head)
    for r in rows:
        table.add_row(r["name"], *[("yes" if r[a] else "no") if isinstance(r[a], bool) else f"{r[a]:g}"
                                   if isinstance(r[a], float) else str(r[a]) for a, _ in COLUMNS])
    console.print(table)
    if name:
        console.print(f"[bold]{rows[0]['name']}[/bold]: {escape(rows[0]['desc'])}")
        for a, s in rows[0]["sources"].items():
            console.print(f"  {a}: {escape(s)}")
    else:
        console.print("sources of every value: mscsim products NAME, or --json; scenarios may override "
                      "attributes inline: product: {name: uc-msc, cryopreserved: true}")
