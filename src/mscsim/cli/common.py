"""Options and helpers shared by CLI verbs (dose options, output folder, rich printing)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

# wide tables stay readable in logs and pipes (rich would wrap at 80 columns there)
console = Console(stderr=False, highlight=False, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else 160)


# ----------------------------------------------------------------- dose options (simulate, export-sbml)
DoseOpt = Annotated[Optional[str], typer.Option("--dose", help="dose: '1e6 cells/kg', '1.2e8 cells' or '40 mL at 5e5 cells/mL'")]
RouteOpt = Annotated[str, typer.Option("--route", help="iv | intra_arterial | intraportal | intrathecal | local")]
ArteryOpt = Annotated[Optional[str], typer.Option("--artery", help="for intra_arterial: hepatic | pancreatic | carotid | renal | coronary")]
SiteOpt = Annotated[Optional[str], typer.Option("--site", help="for local: joint | perianal_fistula | ...")]
InfusionOpt = Annotated[Optional[str], typer.Option("--infusion", help="infusion time, e.g. '30 min' (default: bolus)")]
EveryOpt = Annotated[Optional[str], typer.Option("--every", help="repeat interval, e.g. '12 wk'")]
TimesOpt = Annotated[int, typer.Option("--times", min=1, max=1000, help="number of doses")]
ProductOpt = Annotated[str, typer.Option("--product", help="MSC product (bm-msc, uc-msc, ad-msc, ...)")]
AtOpt = Annotated[Optional[str], typer.Option("--at", help="time of the first dose, e.g. '0 d'")]
SpeciesOpt = Annotated[str, typer.Option("--species", help="human | mouse | rat")]


def dose_regimen(dose: str | None, route: str, *, at, artery, site, infusion, every, times, product):
    """The regimen of the dose options (empty without ``--dose``)."""
    from mscsim.dosing import Dose, Regimen

    if dose is None:
        return Regimen()
    return Regimen((Dose.parse(dose, route, at=at or 0.0, artery=artery, site=site, infusion=infusion,
                               every=every, times=times, product=product),))


def parse_days(text: str) -> float:
    """``--days``: a number of days or a time such as '12 wk'; positive."""
    from mscsim.errors import MscsimError
    from mscsim.units import parse_time

    try:
        ndays = float(text)
    except ValueError:
        ndays = parse_time(text, field="--days")
    if not ndays > 0:
        raise MscsimError(f"--days must be positive, got {text}", field="--days")
    return ndays


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


def readable_time(days: float) -> str:
    """A time in the unit a reader expects: '2 min', '5.5 h', '85 d' (never '2.04e+03 h')."""
    if days != days:
        return "-"
    minutes = days * 1440.0
    if minutes < 60:
        return f"{minutes:.0f} min"
    if days < 2:
        return f"{days * 24:.3g} h"
    return f"{days:.4g} d"


def clean_number(x, fmt: str = "{:.3g}", tiny: float = 1e-12) -> str:
    """A number for a table: '-' for None/NaN, 0 for rounding noise such as 2.78e-17."""
    if x is None or x != x:
        return "-"
    return fmt.format(0.0 if abs(x) < tiny else x)


def df_table(df, title: str | None = None, floatfmt: str = "{:.3g}", max_rows: int = 60) -> Table:
    """A rich table of ``df``; its texts (arm names and the like, from the user's scenario) shown as
    written, never read as rich markup (a name such as "msc [/high]" would otherwise fail)."""
    from rich.markup import escape

    t = Table(title=title, show_lines=False, header_style="bold")
    for c in df.columns:
        t.add_column(escape(str(c)), justify="right" if df[c].dtype.kind in "fiu" else "left")
    for _, r in df.head(max_rows).iterrows():
        t.add_row(*[clean_number(v, floatfmt) if isinstance(v, float) else escape(str(v)) for v in r.tolist()])
    return t


def out_dir(path: str | Path) -> Path:
    p = Path(path)
    if p.exists() and not p.is_dir():
        from mscsim.errors import MscsimError

        raise MscsimError(f"{p} exists and is not a folder", field="--out")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(p, exc) from None
    return p


def check_scheduler(address: str | None, timeout_s: float = 3.0) -> None:
    """Fail fast, in one line, when ``--scheduler`` cannot be reached (dask's own connect waits
    30 s and ends in an OSError traceback)."""
    if address is None:
        return
    import socket
    from urllib.parse import urlsplit

    from mscsim.errors import MscsimError

    url = urlsplit(address if "://" in address else f"tcp://{address}")
    if url.scheme not in ("tcp", "tls") or not url.hostname or url.port is None:
        raise MscsimError(f"expected a Dask scheduler address such as tcp://host:8786, got {address!r}",
                          field="--scheduler")
    try:
        with socket.create_connection((url.hostname, url.port), timeout=timeout_s):
            pass
    except OSError as exc:
        raise MscsimError(f"cannot reach the Dask scheduler at {address} within {timeout_s:g} s "
                          f"({exc.strerror or exc}); is it running?", field="--scheduler") from None


#: everyday names of the diseases, for the did-you-mean of an unknown --disease
DISEASE_ALIASES = {
    "lupus": "sle", "systemic_lupus_erythematosus": "sle",
    "rheumatoid_arthritis": "ra", "arthritis": "ra",
    "diabetes": "t1d", "type1_diabetes": "t1d", "type_1_diabetes": "t1d", "t1dm": "t1d",
    "multiple_sclerosis": "ms", "sclerosis": "ms",
    "crohn": "ibd", "crohns": "ibd", "crohns_disease": "ibd", "ulcerative_colitis": "ibd", "uc": "ibd",
    "colitis": "ibd", "cd": "ibd",
    "cirrhosis": "liver", "liver_failure": "liver", "aclf": "liver", "hepatitis": "liver",
}


def check_disease(disease: str | None, field: str = "--disease") -> str | None:
    """The disease id, or one line naming the accepted ids (and the id an everyday name means)."""
    from mscsim.errors import MscsimError, unknown
    from mscsim.model import DISEASES

    if disease is None or disease in DISEASES:
        return disease
    key = disease.strip().lower().replace("-", "_").replace(" ", "_").replace("'", "")
    if key in DISEASES:
        return key
    alias = DISEASE_ALIASES.get(key)
    if alias:
        raise MscsimError(f"unknown disease {disease!r} (did you mean {alias!r}?); accepted: "
                          f"{', '.join(sorted(DISEASES))}", field=field)
    raise unknown("disease", disease, DISEASES, field=field)


def check_output_file(path: Path, field: str = "--out") -> Path:
    """An output file whose folder exists (no folders are created for a single file: a typo such as
    ``-o /nonexistent_dir/x.xml`` must not create a folder at the filesystem root)."""
    from mscsim.errors import MscsimError

    path = Path(path)
    if path.exists() and path.is_dir():
        raise MscsimError(f"{path} is a folder; give a file name such as model.xml", field=field)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise MscsimError(f"folder {parent} does not exist (create it first, or write in an existing folder)",
                          field=field)
    return path


def write_error(path: Path, exc: OSError, field: str = "--out"):
    """One line for an output that cannot be written (read-only or virtual file system, permission)."""
    from mscsim.errors import MscsimError

    return MscsimError(f"cannot write {path}: {exc.strerror or exc}"
                       + (" (this folder does not accept new files)" if exc.errno in (2, 13, 30) else ""),
                       field=field)
