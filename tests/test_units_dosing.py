"""Dose grammar, time units and regimen expansion (design.md contract 'Units')."""

import math

import pytest

from mscsim.dosing import BOLUS_DAYS, Dose, Regimen
from mscsim.errors import MscsimError
from mscsim.units import parse_dose, parse_time


@pytest.mark.parametrize("text,days", [("30 min", 30 / 1440), ("2 h", 2 / 24), ("10 d", 10), ("12 wk", 84),
                                       ("6 mo", 180), ("1 y", 365), ("1.5 weeks", 10.5)])
def test_time_units(text, days):
    assert parse_time(text) == pytest.approx(days, rel=1e-12)


@pytest.mark.parametrize("bad", ["12", 12, "12 parsecs", "-3 d", "nan d", "inf d", "", None, "d 3"])
def test_time_errors(bad):
    with pytest.raises(MscsimError):
        parse_time(bad)


def test_dose_forms():
    a = parse_dose("1e6 cells/kg")
    assert a.per_kg and a.total_cells(70) == pytest.approx(7e7)
    b = parse_dose("1.2e8 cells")
    assert not b.per_kg and b.total_cells(70) == pytest.approx(1.2e8)
    c = parse_dose("40 mL at 5e5 cells/mL")
    assert c.total_cells(55) == pytest.approx(2e7)
    assert c.cells_per_kg(50) == pytest.approx(4e5)


@pytest.mark.parametrize("bad,needle", [("1e6", "needs a unit"), ("-1e6 cells/kg", "negative"),
                                        ("nan cells", "finite"), ("1e6 mice/kg", "cannot read"),
                                        (1e6, "needs a unit"), ("40 mL", "cannot read")])
def test_dose_errors(bad, needle):
    with pytest.raises(MscsimError, match=needle):
        parse_dose(bad)


def test_regimen_expansion_repeats_and_bolus():
    d = Dose.parse("1e7 cells", "intrathecal", every="12 wk", times=3)
    admins = Regimen((d,)).administrations(70)
    assert [a.start for a in admins] == [0, 84, 168]
    assert all(math.isclose(a.duration, BOLUS_DAYS) for a in admins)
    assert sum(a.cells for a in admins) == pytest.approx(3e7)
    inf = Dose.parse("1e6 cells/kg", "iv", infusion="30 min")
    (a,) = Regimen((inf,)).administrations(80)
    assert a.duration == pytest.approx(30 / 1440) and a.rate * a.duration == pytest.approx(8e7)


@pytest.mark.parametrize("kwargs,needle", [
    (dict(route="oral"), "unknown route"),
    (dict(route="intra_arterial"), "needs an artery"),
    (dict(route="intra_arterial", artery="femoral"), "unknown artery"),
    (dict(route="local"), "needs a site"),
    (dict(route="local", site="elbow"), "unknown site"),
    (dict(route="iv", artery="hepatic"), "only for route intra_arterial"),
    (dict(route="iv", times=3), "needs 'every'"),
])
def test_dose_route_errors(kwargs, needle):
    route = kwargs.pop("route")
    with pytest.raises(MscsimError, match=needle):
        Dose.parse("1e6 cells/kg", route, **kwargs)
