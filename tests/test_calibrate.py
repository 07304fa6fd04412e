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


def test_shared_parameters_are_refused_by_fit():
    scen, targets = synthetic_targets({"placebo_max_ra": 0.2})
    shared = _a_shared_parameter()
    with pytest.raises(cal.MscsimError, match=f"cannot calibrate {shared} .*disease-specific name"):
        cal.fit(scen, targets, ["placebo_max_ra", shared], maxfev=5, profile_points=0, n_min=24)


def _a_shared_parameter():
    """A parameter of the immune layer (every disease model has it)."""
    models = cal.model_parameters()
    common = frozenset.intersection(*models.values())
    reg = cal.parameters.registry()
    return sorted(n for n in common if n in reg and reg[n].bounds is not None)[0]


def test_posterior_from_the_model_runs_and_round_trips(tmp_path):
    """Plumbing of the emcee posterior on the real model (a few steps; the statistics are tested on
    synthetic data in test_inference.py)."""
    import pandas as pd

    scen, targets = synthetic_targets({"placebo_max_ra": 0.3})
    post = cal.posterior_for(scen, targets, ["placebo_max_ra"], {"placebo_max_ra": 0.25}, n_sim=24, walkers=4,
                             steps=3, burn=1, seed=2)
    assert post.samples.shape == (4 * 2, 1) and post.evaluations > 0
    assert np.all((post.samples >= 0.0) & (post.samples <= 0.6))
    res = cal.CalibrationResult("ra", ["placebo_max_ra"], {"placebo_max_ra": 0.25}, {"placebo_max_ra": (None, None)},
                                0.0, targets, np.zeros(len(targets)), {"placebo_max_ra": 0.25}, 1, post)
    cal.save(res, tmp_path / "ra.json")  # not the shipped file
    back = pd.read_csv(tmp_path / "ra.posterior.csv")
    assert list(back.columns) == ["walker", "step", "placebo_max_ra", "log_prob"] and len(back) == 8
    import json

    js = json.loads((tmp_path / "ra.json").read_text())
    s = js["parameters"]["placebo_max_ra"]["posterior"]
    assert s["low"] <= s["median"] <= s["high"] and js["posterior"]["file"] == "ra.posterior.csv"
    cal.parameters.calibrated.cache_clear()
