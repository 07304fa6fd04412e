"""NONMEM-style dosing event tables: read a regimen from a pharmacometrician's tools, write one back.

A table has one row per dose record (the columns of NONMEM, mrgsolve and rxode2)::

    ID,TIME,AMT,CMT,EVID,RATE,II,ADDL,SITE
    1,0,7e7,iv,1,0,0,0,.
    1,0,1.2e8,local,1,0,0,0,perianal_fistula
    2,0,1e7,it,1,0,84,2,.

=========  ========  ===================================================================
column     required  meaning
=========  ========  ===================================================================
ID         no (1)    patient; integers (or labels); one :class:`~mscsim.dosing.Regimen` each
TIME       yes       dose time in days (>= 0)
AMT        yes       cells given in this dose (> 0 for a dose record)
CMT        yes       route input that receives the dose (codes below; name or number)
EVID       no (1)    1 dose; 0 observation and 2 other-type records are read and skipped;
                     3/4 (reset) are refused
RATE       no (0)    infusion rate in cells/day; 0 = bolus (a 1-minute push in mscsim);
                     -1/-2 (rate or duration modelled) are refused
II         no (0)    interval between repeats, days
ADDL       no (0)    number of additional doses after this one (needs II > 0)
SS         no (0)    steady-state dosing is refused unless 0
SITE       for local injection site (CMT ``local``): ``joint``, ``perianal_fistula``, an organ...;
           must be empty or ``.`` for other routes
PRODUCT    no (msc)  MSC product name (``bm-msc``, ``uc-msc``, ...); a patient's products must
                     agree on every model input (docs/products.md)
WT         no        body weight (kg); written when doses per kg were converted to cells,
                     read by :func:`read_event_table_weights`
=========  ========  ===================================================================

Any other column (DV, MDV, covariates such as AGE) is allowed and not read. Column names are
case-insensitive; ``.`` or an empty cell means "missing" (the default). Lines starting with
``#`` are comments (a ``#ID,TIME,...`` first line is read as the header), as are rows whose ID
is ``C`` (NONMEM ``IGNORE=C``). Commas, tabs or blanks separate the columns.

CMT codes (name, or the number NONMEM needs):

======  ================  =================================================
number  name              route
======  ================  =================================================
1       ``iv``            intravenous (venous blood; the lung sees it first)
2       ``portal``        intraportal (liver inflow)
3       ``it``            intrathecal (CSF)
4       ``local``         local injection into a depot at SITE
5       ``ia_hepatic``    intra-arterial, hepatic artery
6       ``ia_pancreatic`` intra-arterial, pancreatic artery
7       ``ia_carotid``    intra-arterial, carotid artery
8       ``ia_renal``      intra-arterial, renal artery
9       ``ia_coronary``   intra-arterial, coronary artery
======  ================  =================================================

The names are the model's input parameters without the ``in_`` prefix (``in_iv``, ...), which
are also accepted, as are the route names ``intraportal`` and ``intrathecal``.
Errors name the file, the line, the column and the accepted values (:class:`MscsimError`).
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

from mscsim.dosing import ARTERIES, INPUT_OF_ROUTE, Dose, Regimen
from mscsim.errors import MscsimError, did_you_mean
from mscsim.units import DoseAmount

#: CMT name -> (route, artery)
CMT_ROUTES: dict[str, tuple[str, str | None]] = {
    "iv": ("iv", None),
    "portal": ("intraportal", None),
    "it": ("intrathecal", None),
    "local": ("local", None),
    **{f"ia_{a}": ("intra_arterial", a) for a in ARTERIES},
}
#: NONMEM compartment numbers (stable: append new routes, never renumber)
CMT_NUMBERS: dict[int, str] = {1: "iv", 2: "portal", 3: "it", 4: "local", 5: "ia_hepatic",
                               6: "ia_pancreatic", 7: "ia_carotid", 8: "ia_renal", 9: "ia_coronary"}
_CMT_ALIASES = {"intraportal": "portal", "intrathecal": "it", "intravenous": "iv"}

COLUMNS = ("ID", "TIME", "AMT", "CMT", "EVID", "RATE", "II", "ADDL", "SS", "SITE", "PRODUCT", "WT")
REQUIRED = ("TIME", "AMT", "CMT")
PatientId = int | str


def cmt_of(route: str, artery: str | None = None) -> str:
    """The CMT name of a route (``intra_arterial`` + ``hepatic`` -> ``ia_hepatic``)."""
    if route == "intra_arterial":
        return f"ia_{artery}"
    return INPUT_OF_ROUTE[route].removeprefix("in_")


def _cmt_route(value: str, where: str) -> tuple[str, str | None]:
    v = value.strip()
    if re.fullmatch(r"\d+(\.0*)?", v):
        n = int(float(v))
        if n in CMT_NUMBERS:
            return CMT_ROUTES[CMT_NUMBERS[n]]
        raise MscsimError(f"unknown CMT number {v}; accepted: "
                          + ", ".join(f"{k}={n_}" for k, n_ in CMT_NUMBERS.items()), field=where)
    key = v.lower()
    key = key.removeprefix("in_")
    key = _CMT_ALIASES.get(key, key)
    if key in CMT_ROUTES:
        return CMT_ROUTES[key]
    raise MscsimError(f"unknown CMT {v!r}{did_you_mean(key, CMT_ROUTES)}; accepted: "
                      + ", ".join(CMT_ROUTES) + " (or their numbers 1-9)", field=where)


def _missing(v: str | None) -> bool:
    return v is None or v.strip() in ("", ".")


def _number(v: str | None, where: str, *, default: float | None = None, what: str = "a number") -> float:
    if _missing(v):
        if default is None:
            raise MscsimError(f"missing value ({what} is required)", field=where)
        return default
    try:
        x = float(v)
    except ValueError:
        raise MscsimError(f"{v.strip()!r} is not a number", field=where) from None
    if not math.isfinite(x):
        raise MscsimError(f"{v.strip()!r} is not a finite number", field=where)
    return x


def _split(line: str, delim: str | None) -> list[str]:
    if delim is None:
        return line.split()
    return next(csv.reader([line], delimiter=delim))


def parse_rows(text: str, source: str = "<table>") -> tuple[list[dict[str, str]], list[int]]:
    """Rows (column name -> raw text, upper-case names) and their line numbers."""
    header: list[str] | None = None
    delim: str | None = None
    rows, lines = [], []
    for lineno, line in enumerate(io.StringIO(text), start=1):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        if header is None:
            raw = line.lstrip()
            if raw.startswith("#"):
                raw = raw[1:]
                if not {"TIME", "AMT"} <= {c.strip().upper() for c in re.split(r"[,\t ]+", raw)}:
                    continue
            delim = "," if "," in raw else ("\t" if "\t" in raw else None)
            header = [c.strip().upper() for c in _split(raw, delim)]
            dup = {c for c in header if header.count(c) > 1 and c}
            if dup:
                raise MscsimError(f"column {sorted(dup)[0]} appears twice in the header", field=f"{source}, line {lineno}")
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise MscsimError(f"missing required column(s) {', '.join(missing)}; a table needs "
                                  f"{', '.join(REQUIRED)} (and optionally ID, EVID, RATE, II, ADDL, SITE, "
                                  "PRODUCT, WT)", field=f"{source}, line {lineno}")
            continue
        if line.lstrip().startswith("#"):
            continue
        cells = _split(line, delim)
        if cells and cells[0].strip().upper() == "C":
            continue
        if len(cells) != len(header):
            raise MscsimError(f"{len(cells)} values for {len(header)} columns", field=f"{source}, line {lineno}")
        rows.append({h: c for h, c in zip(header, cells) if h})
        lines.append(lineno)
    if header is None:
        raise MscsimError("no header line (expected e.g. ID,TIME,AMT,CMT,EVID,RATE,II,ADDL)", field=source)
    return rows, lines


def _id(v: str | None, where: str) -> PatientId:
    if _missing(v):
        return 1
    s = v.strip()
    try:
        f = float(s)
    except ValueError:
        return s
    if math.isfinite(f) and f == int(f):
        return int(f)
    raise MscsimError(f"ID {s!r} must be an integer or a label", field=where)


def rows_to_regimens(rows: list[dict[str, str]], lines: list[int] | None = None,
                     source: str = "<rows>") -> dict[PatientId, Regimen]:
    """Dose records -> one Regimen per ID (order of first appearance)."""
    lines = lines or list(range(2, len(rows) + 2))
    doses: dict[PatientId, list[Dose]] = {}
    for row, lineno in zip(rows, lines):
        row = {k.upper(): v for k, v in row.items()}

        def at(col: str) -> str:
            return f"{source}, line {lineno}, column {col}"

        pid = _id(row.get("ID"), at("ID"))
        evid = _number(row.get("EVID"), at("EVID"), default=1.0)
        if evid not in (0, 1, 2, 3, 4):
            raise MscsimError(f"EVID {row['EVID'].strip()} is not a NONMEM event id; accepted: 0 "
                              "(observation), 1 (dose), 2 (other)", field=at("EVID"))
        if evid in (3, 4):
            raise MscsimError(f"EVID {int(evid)} (reset) is not supported: an mscsim patient starts at "
                              "his untreated steady state; accepted: 0, 1, 2", field=at("EVID"))
        doses.setdefault(pid, [])
        if evid != 1:
            continue
        time = _number(row.get("TIME"), at("TIME"), what="TIME (days)")
        if time < 0:
            raise MscsimError(f"TIME must not be negative, got {time:g}", field=at("TIME"))
        amt = _number(row.get("AMT"), at("AMT"), what="AMT (cells)")
        if amt <= 0:
            raise MscsimError(f"AMT (cells) of a dose record must be positive, got {amt:g}", field=at("AMT"))
        if _missing(row.get("CMT")):
            raise MscsimError("missing value (CMT is required for a dose record)", field=at("CMT"))
        route, artery = _cmt_route(row["CMT"], at("CMT"))
        rate = _number(row.get("RATE"), at("RATE"), default=0.0)
        if rate < 0:
            raise MscsimError(f"RATE {rate:g} (modelled rate or duration) is not supported; give the "
                              "infusion rate in cells/day, or 0 for a bolus", field=at("RATE"))
        ii = _number(row.get("II"), at("II"), default=0.0)
        if ii < 0:
            raise MscsimError(f"II must not be negative, got {ii:g}", field=at("II"))
        addl = _number(row.get("ADDL"), at("ADDL"), default=0.0)
        if addl < 0 or addl != int(addl):
            raise MscsimError(f"ADDL must be a whole number >= 0, got {row['ADDL'].strip()}", field=at("ADDL"))
        if addl > 0 and ii <= 0:
            raise MscsimError("ADDL > 0 needs an interval II > 0 (days)", field=at("II"))
        ss = _number(row.get("SS"), at("SS"), default=0.0)
        if ss != 0:
            raise MscsimError("SS (steady-state dosing) is not supported; give the doses with II/ADDL",
                              field=at("SS"))
        site = None if _missing(row.get("SITE")) else row["SITE"].strip()
        if route == "local" and site is None:
            from mscsim.dosing import local_sites

            raise MscsimError(f"CMT local needs a SITE; accepted: {', '.join(local_sites())}", field=at("SITE"))
        if route != "local" and site is not None:
            raise MscsimError(f"SITE is only for CMT local, not {row['CMT'].strip()} (leave it empty or '.')",
                              field=at("SITE"))
        product = "msc" if _missing(row.get("PRODUCT")) else row["PRODUCT"].strip()
        duration = amt / rate if rate > 0 else 0.0
        try:
            dose = Dose(amount=DoseAmount(cells=amt, per_kg=False, text=f"{amt:.10g} cells"), route=route,
                        at=time, artery=artery, site=site, duration=duration,
                        every=ii if addl > 0 else None, times=int(addl) + 1, product=product)
        except MscsimError as exc:
            col = {"site": "SITE", "product": "PRODUCT", "infusion": "RATE", "every": "II",
                   "times": "ADDL", "artery": "CMT", "route": "CMT"}.get(exc.field or "", "CMT")
            msg = str(exc).removeprefix(f"{exc.field}: ") if exc.field else str(exc)
            raise MscsimError(msg, field=at(col)) from None
        doses[pid].append(dose)
    out: dict[PatientId, Regimen] = {}
    for pid, ds in doses.items():
        reg = Regimen(tuple(sorted(ds, key=lambda d: d.at)))
        try:
            reg.product
            reg.local_site
        except MscsimError as exc:
            msg = str(exc).removeprefix(f"{exc.field}: ") if exc.field else str(exc)
            raise MscsimError(msg, field=f"{source}, ID {pid}") from None
        out[pid] = reg
    return out


def read_event_table(path) -> dict[PatientId, Regimen]:
    """Read a NONMEM-style event table (see module docstring): ID -> Regimen."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    rows, lines = parse_rows(text, source=path.name)
    return rows_to_regimens(rows, lines, source=path.name)


def read_event_table_weights(path) -> dict[PatientId, float]:
    """Body weights (kg) from a WT column, per ID (empty when the table has none)."""
    path = Path(path)
    rows, lines = parse_rows(path.read_text(encoding="utf-8-sig"), source=path.name)
    out: dict[PatientId, float] = {}
    for row, lineno in zip(rows, lines):
        if _missing(row.get("WT")):
            continue
        where = f"{path.name}, line {lineno}, column WT"
        pid = _id(row.get("ID"), f"{path.name}, line {lineno}, column ID")
        w = _number(row["WT"], where)
        if w <= 0:
            raise MscsimError(f"WT must be a positive weight in kg, got {w:g}", field=where)
        if pid in out and out[pid] != w:
            raise MscsimError(f"ID {pid} has two weights ({out[pid]:g} and {w:g} kg)", field=where)
        out[pid] = w
    return out


def regimen_to_rows(regimen: Regimen, pid: PatientId = 1, *, weight_kg: float | None = None,
                    numeric_cmt: bool = False) -> list[dict[str, object]]:
    """One dose record per dose line (repeats as II/ADDL). Doses per kg need ``weight_kg``."""
    rows = []
    for d in regimen:
        if d.amount.per_kg and weight_kg is None:
            raise MscsimError(f"dose {d.amount.text!r} is per kg: AMT is in cells, so give the patient's "
                              "weight (weight_kg)", field="weight_kg")
        if d.product_attrs:
            raise MscsimError(f"PRODUCT holds a product name; the inline attributes of {d.product_spec.label} "
                              "cannot be written to an event table", field="product")
        cells = d.amount.total_cells(weight_kg if weight_kg is not None else 1.0)
        cmt = cmt_of(d.route, d.artery)
        if numeric_cmt:
            cmt = {v: k for k, v in CMT_NUMBERS.items()}[cmt]
        row: dict[str, object] = {
            "ID": pid, "TIME": d.at, "AMT": cells, "CMT": cmt, "EVID": 1,
            "RATE": cells / d.duration if d.duration > 0 else 0.0,
            "II": d.every if d.times > 1 else 0.0, "ADDL": d.times - 1,
            "SITE": d.site if d.site else ".", "PRODUCT": d.product,
        }
        if weight_kg is not None:
            row["WT"] = weight_kg
        rows.append(row)
    return rows


def _fmt(v) -> str:
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v == int(v) and abs(v) < 1e15 else repr(v)
    return str(v)


def write_event_table(regimens, path, *, weight_kg=None, numeric_cmt: bool = False) -> Path:
    """Write ``{ID: Regimen}`` (or one Regimen, ID 1) as a CSV event table, atomically.

    ``weight_kg`` (a number, or ``{ID: kg}``) converts doses per kg into cells and adds a WT
    column; ``numeric_cmt`` writes CMT as NONMEM compartment numbers (1-9, see module docstring).
    """
    from mscsim.io import atomic_path

    if isinstance(regimens, Regimen):
        regimens = {1: regimens}
    rows: list[dict[str, object]] = []
    for pid, reg in regimens.items():
        w = weight_kg.get(pid) if isinstance(weight_kg, dict) else weight_kg
        rows += regimen_to_rows(reg, pid, weight_kg=w, numeric_cmt=numeric_cmt)
    cols = ["ID", "TIME", "AMT", "CMT", "EVID", "RATE", "II", "ADDL", "SITE", "PRODUCT"]
    if any("WT" in r for r in rows):
        cols.append("WT")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([_fmt(r.get(c, ".")) for c in cols])
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(buf.getvalue())
    return path
