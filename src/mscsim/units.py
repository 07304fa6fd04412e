"""Units and the dose grammar of the design note (contracts: "Units").

Time is in days everywhere inside mscsim. Inputs may say ``min``, ``h``, ``d``, ``wk``,
``mo`` (30 d) or ``y`` (365 d). Doses are strings in one of three forms::

    "1e6 cells/kg"            cells per kg body weight
    "1.2e8 cells"             total cells
    "40 mL at 5e5 cells/mL"   a volume at a concentration

Anything else is a :class:`~mscsim.errors.MscsimError` naming the field and the accepted forms.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from mscsim.errors import MscsimError

#: Days per unit of time (1 month = 30 d, 1 year = 365 d, as in the evidence records).
TIME_UNITS: dict[str, float] = {
    "min": 1.0 / 1440.0,
    "h": 1.0 / 24.0,
    "d": 1.0,
    "wk": 7.0,
    "mo": 30.0,
    "y": 365.0,
}
_TIME_ALIASES = {
    "m": "min", "mins": "min", "minute": "min", "minutes": "min",
    "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "day": "d", "days": "d",
    "w": "wk", "week": "wk", "weeks": "wk", "wks": "wk",
    "month": "mo", "months": "mo",
    "yr": "y", "year": "y", "years": "y", "yrs": "y",
}
TIME_FORMS = "a number and a unit, e.g. '30 min', '2 h', '10 d', '12 wk', '6 mo', '1 y'"
DOSE_FORMS = "'1e6 cells/kg', '1.2e8 cells' or '40 mL at 5e5 cells/mL'"

_NUMBER = r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|nan|inf|infinity)"


def _finite_number(text: str, field: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise MscsimError(f"{what} {text!r} is not a number", field=field) from None
    if not math.isfinite(value):
        raise MscsimError(f"{what} must be a finite number, got {text!r}", field=field)
    return value


def parse_time(text, *, field: str = "time", allow_negative: bool = False) -> float:
    """Parse a duration such as ``"12 wk"`` into days.

    Plain numbers are refused on purpose: the contract asks for units on every time input.
    """
    if isinstance(text, bool) or text is None:
        raise MscsimError(f"expected {TIME_FORMS}, got {text!r}", field=field)
    if isinstance(text, (int, float)):
        raise MscsimError(f"a time needs a unit: write e.g. '{text} d' ({TIME_FORMS})", field=field)
    m = re.fullmatch(rf"\s*({_NUMBER})\s*([A-Za-z]+)\s*", str(text))
    if not m:
        raise MscsimError(f"expected {TIME_FORMS}, got {text!r}", field=field)
    value = _finite_number(m.group(1), field, "time")
    unit = m.group(2).lower()
    unit = _TIME_ALIASES.get(unit, unit)
    if unit not in TIME_UNITS:
        raise MscsimError(
            f"unknown time unit {m.group(2)!r}; accepted: {', '.join(TIME_UNITS)}", field=field
        )
    if value < 0 and not allow_negative:
        raise MscsimError(f"time must not be negative, got {text!r}", field=field)
    return value * TIME_UNITS[unit]


@dataclass(frozen=True)
class DoseAmount:
    """A parsed dose: either per kg of body weight or a total number of cells."""

    cells: float
    per_kg: bool
    text: str

    def total_cells(self, weight_kg: float) -> float:
        """Cells given to a patient of ``weight_kg``."""
        return self.cells * weight_kg if self.per_kg else self.cells

    def cells_per_kg(self, weight_kg: float) -> float:
        return self.cells if self.per_kg else self.cells / weight_kg


def parse_dose(text, *, field: str = "dose") -> DoseAmount:
    """Parse a dose string of the design-note grammar (see module docstring)."""
    if isinstance(text, bool) or text is None or isinstance(text, (int, float)):
        raise MscsimError(f"a dose needs a unit: expected {DOSE_FORMS}, got {text!r}", field=field)
    s = str(text).strip()
    m = re.fullmatch(rf"({_NUMBER})\s*cells?\s*/\s*kg", s, flags=re.I)
    if m:
        cells, per_kg = _finite_number(m.group(1), field, "dose"), True
    elif m := re.fullmatch(rf"({_NUMBER})\s*cells?", s, flags=re.I):
        cells, per_kg = _finite_number(m.group(1), field, "dose"), False
    elif m := re.fullmatch(
        rf"({_NUMBER})\s*mL\s+at\s+({_NUMBER})\s*cells?\s*/\s*mL", s, flags=re.I
    ):
        volume = _finite_number(m.group(1), field, "volume")
        conc = _finite_number(m.group(2), field, "concentration")
        if volume < 0 or conc < 0:
            raise MscsimError(f"volume and concentration must not be negative, got {s!r}", field=field)
        cells, per_kg = volume * conc, False
    else:
        if re.fullmatch(rf"{_NUMBER}", s):
            raise MscsimError(f"a dose needs a unit: expected {DOSE_FORMS}, got {s!r}", field=field)
        raise MscsimError(f"cannot read dose {s!r}; expected {DOSE_FORMS}", field=field)
    if cells < 0:
        raise MscsimError(f"dose must not be negative, got {s!r}", field=field)
    return DoseAmount(cells=cells, per_kg=per_kg, text=s)
