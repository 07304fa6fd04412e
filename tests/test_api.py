"""The package-level API used in the README's notebook example."""

import numpy as np
import pytest

import mscsim.trial  # noqa: F401 - loads the mscsim.simulate submodule first, as a notebook may
from mscsim import Dose, MscsimError, Regimen, Simulation, simulate


def test_simulate_is_the_function_even_after_the_submodule_was_imported():
    assert callable(simulate) and simulate.__name__ == "simulate"
    sim = simulate(Regimen((Dose.parse("1e6 cells/kg", "iv", infusion="30 min"),)), days=3,
                   injury=("liver", 0.6), times=[0.0, 1.0, 3.0])
    assert isinstance(sim, Simulation) and list(sim.outputs.index) == [0.0, 1.0, 3.0]
    org = sim.organs()
    assert {"organ", "viable_cells", "label_pct_dose"} <= set(org.columns)
    assert org[org.time_d == 1.0]["viable_pct_dose"].sum() < 100.0


@pytest.mark.parametrize("times", [[], [1.0, 0.5], [0.0, np.nan], [-1.0, 2.0]])
def test_bad_output_times_are_one_clear_error(times):
    with pytest.raises(MscsimError, match="times"):
        simulate(Regimen((Dose.parse("1e6 cells/kg", "iv"),)), days=3, times=times)
