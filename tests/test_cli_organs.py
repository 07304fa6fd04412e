"""Organ tables partition the cells given (issue 21): no row counts a cell twice, rows match the
model outputs, and the label column sums to 100 % of the cells given so far."""

from __future__ import annotations

import numpy as np
import pytest

from mscsim.dosing import Dose, Regimen
from mscsim.simulate import simulate, where_cells_went


def _check_partition(sim, tol=1e-5):
    org = sim.organs()
    given = sim.states["X_dosed"].to_numpy()
    by_t = org.groupby("time_d", sort=True)
    label_sum = by_t["label_cells"].sum().to_numpy()
    pct_sum = by_t["label_pct_dose"].sum().to_numpy()
    ok = given > 0
    assert np.allclose(label_sum[ok], given[ok], rtol=tol, atol=1.0)
    assert np.allclose(pct_sum[ok], 100.0, atol=100 * tol)
    viable_sum = by_t["viable_cells"].sum().to_numpy()
    assert np.allclose(viable_sum, sim.outputs["msc_viable"].to_numpy(), rtol=tol, atol=1.0)
    return org


@pytest.mark.parametrize("regimen,kw", [
    (Regimen((Dose.parse("1e6 cells/kg", "iv", infusion="30 min"),)), {"injury": ("liver", 0.6)}),
    (Regimen((Dose.parse("1.1e6 cells/kg", "intra_arterial", artery="pancreatic"),)), {"injury": ("pancreas", 0.5)}),
    (Regimen((Dose.parse("1e7 cells", "intrathecal", every="2 wk", times=2),)), {}),
])
def test_organ_rows_partition_what_was_given(regimen, kw):
    sim = simulate(regimen, 20, **kw)
    org = _check_partition(sim)
    if sim.composed.target:
        tg = org[org["organ"] == f"target:{sim.composed.target}"]
        assert (tg["part_of"] != "").all()
        host = tg["part_of"].iloc[0]
        h = org[org["organ"] == host]
        # each row is the model's own output: the host organ without its target part
        assert np.allclose(h["viable_cells"].to_numpy(), sim.outputs[f"cells_{host}"].to_numpy())
        assert np.allclose(tg["viable_cells"].to_numpy(), sim.outputs["cells_target"].to_numpy())
        # no column adds up to more than 100 %
        peak = where_cells_went(sim)
        day1 = peak["day 1 %"].sum()
        assert day1 <= 100.0 + 1e-6


def test_percent_of_dose_is_of_cells_given_so_far():
    """With two doses, the denominator steps up at the second dose (documented in docs/outputs.md)."""
    sim = simulate(Regimen((Dose.parse("1e6 cells/kg", "iv", every="7 d", times=2),)), 10)
    org = sim.organs()
    lung = org[org["organ"] == "lung"].set_index("time_d")
    given = sim.states["X_dosed"]
    t = lung.index.to_numpy()
    k = int(np.argmin(np.abs(t - 6.9)))
    assert given.iloc[k] == pytest.approx(70e6, rel=1e-9)
    assert lung["viable_pct_dose"].iloc[k] == pytest.approx(100 * lung["viable_cells"].iloc[k] / 70e6)
    assert given.iloc[-1] == pytest.approx(140e6, rel=1e-9)
    assert lung["viable_pct_dose"].iloc[-1] == pytest.approx(100 * lung["viable_cells"].iloc[-1] / 140e6)
