"""Writing results safely: every file is written under a temporary name and renamed when
complete, so an interrupted run never leaves a file that looks finished (design.md,
"Quality rules")."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only annotated here: the figure process saves PNGs without importing pandas
    import pandas as pd


@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def json_text(obj) -> str:
    """``obj`` as written to a JSON file (strict: no NaN or infinity)."""
    return json.dumps(obj, indent=2, sort_keys=False, allow_nan=False) + "\n"


def write_json(obj, path) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(json_text(obj))
    return Path(path)


def write_table(df: pd.DataFrame, base, csv: bool = True) -> list[Path]:
    """Write ``base.parquet`` (and ``base.csv``)."""
    base = Path(base)
    out = []
    with atomic_path(base.with_suffix(".parquet")) as tmp:
        df.to_parquet(tmp, index=False)
    out.append(base.with_suffix(".parquet"))
    if csv:
        with atomic_path(base.with_suffix(".csv")) as tmp:
            df.to_csv(tmp, index=False)
        out.append(base.with_suffix(".csv"))
    return out


#: zlib level of the PNG figures: the same pixels as Pillow's default (6) in about 25 % less time
#: for about 1 % more bytes (a trial's time-course figure, issue 19)
PNG_COMPRESS_LEVEL = 4


def save_figure(fig, path, dpi: int = 120, tight: bool = True) -> Path:
    """Save and close ``fig``; ``tight``: crop to the drawn content (draws the figure twice; a figure
    laid out with tight_layout does not need it). A figure made without pyplot (`plots.new_figure`)
    has nothing to close, and pyplot is not imported for it."""
    import sys

    fmt = Path(path).suffix.lstrip(".") or "png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight" if tight else None, format=fmt,
                    **({"pil_kwargs": {"compress_level": PNG_COMPRESS_LEVEL}} if fmt == "png" else {}))
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close(fig)
    return Path(path)


def write_text(text: str, path) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)
