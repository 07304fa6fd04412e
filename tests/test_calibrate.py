"""Calibration (issue 9): the fit recovers known parameters from data simulated by the model itself."""

import numpy as np
import pytest

from mscsim import calibrate as cal
from mscsim.scenario import load_scenario

SCEN = load_scenario({
    "name": "calibration recovery", "disease": "ra", "seed": 11,
    "arms": [{"name": "msc", "n": 24, "regimen": [{"dose": "1e6 cells/kg", "route": "iv"}]},
             {"name": "placebo", "n": 24, "regimen": []}],
    "endpoints": [{"name": "das28_esr", "at": "30 d"}, {"name": "tjc28", "at": "30 d"}],
})
TRUE = {"P50_memory_ra": 2.5e6, "placebo_max_ra": 0.3}
START = {"P50_memory_ra": 1.0e6, "placebo_max_ra": 0.12}
POINTS = [("msc", "das28_esr", 30.0), ("placebo", "das28_esr", 30.0), ("placebo", "tjc28", 30.0),
          ("msc", "tjc28", 30.0)]


def synthetic_targets(theta):
    scen = {"rec": SCEN}
    proto = [cal.Target("rec", arm, ep, at, "value", 0.0, 0.05, "synthetic") for arm, ep, at in POINTS]
    data = cal.simulate_targets(scen, proto, theta, n_min=24)
    return scen, [cal.Target(t.scenario, t.arm, t.endpoint, t.at_days, t.compare, float(v), t.se, t.record)
                  for t, v in zip(proto, data)]


def test_fit_recovers_known_parameters():
    scen, targets = synthetic_targets(TRUE)
    res = cal.fit(scen, targets, list(TRUE), start=START, maxfev=60, profile_points=0, n_min=24)
    # stated tolerance: within 10 % of the true value
    for n, v in TRUE.items():
        assert res.values[n] == pytest.approx(v, rel=0.10), (n, res.values[n])
    assert res.objective < 1.0
    assert np.all(np.abs(res.fit_table()["z"]) < 2.0)


def test_profile_interval_covers_the_truth():
    scen, targets = synthetic_targets({"placebo_max_ra": TRUE["placebo_max_ra"]})
    res = cal.fit(scen, targets, ["placebo_max_ra"], start={"placebo_max_ra": 0.2}, maxfev=30,
                  profile_points=3, n_min=24)
    assert res.values["placebo_max_ra"] == pytest.approx(TRUE["placebo_max_ra"], rel=0.10)
    lo, hi = res.ci["placebo_max_ra"]
    assert lo is not None and hi is not None and lo < TRUE["placebo_max_ra"] < hi
