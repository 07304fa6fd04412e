"""Options and helpers shared by CLI verbs (dose options, output folder, rich printing)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

import sys

# wide tables stay readable in logs and pipes (rich would wrap at 80 columns there)
console = Console(stderr=False, highlight=False, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 160)


def parse_injury(text: str | None) -> tuple[str, float] | None:
    """``"liver:0.6"`` -> ("liver", 0.6)."""
    from mscsim.errors import MscsimError
    from mscsim.physiology import target_names

    if text is None:
        return None
    if ":" not in text:
        raise MscsimError(f"expected TISSUE:SEVERITY such as 'liver:0.6', got {text!r}", field="--injury")
    tissue, sev = text.split(":", 1)
    if tissue not in target_names():
        from mscsim.errors import unknown

        raise unknown("injured tissue", tissue, target_names(), field="--injury")
    try:
        s = float(sev)
    except ValueError:
        raise MscsimError(f"severity {sev!r} is not a number (0..1)", field="--injury") from None
    if not (0.0 <= s <= 1.0):
        raise MscsimError(f"severity must be between 0 and 1, got {sev}", field="--injury")
    return tissue, s


def df_table(df, title: str | None = None, floatfmt: str = "{:.3g}", max_rows: int = 60) -> Table:
    t = Table(title=title, show_lines=False, header_style="bold")
    for c in df.columns:
        t.add_column(str(c), justify="right" if df[c].dtype.kind in "fiu" else "left")
    for _, r in df.head(max_rows).iterrows():
        t.add_row(*[floatfmt.format(v) if isinstance(v, float) else str(v) for v in r.tolist()])
    return t


def out_dir(path: str | Path) -> Path:
    p = Path(path)
    if p.exists() and not p.is_dir():
        from mscsim.errors import MscsimError

        raise MscsimError(f"{p} exists and is not a folder", field="--out")
    p.mkdir(parents=True, exist_ok=True)
    return p
