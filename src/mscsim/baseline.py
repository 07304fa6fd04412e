"""The untreated typical patient of a disease: baseline read-outs without simulating time."""

from __future__ import annotations

import numpy as np

from mscsim.numerics import compile_model
from mscsim.model import build_model
from mscsim.simulate import parameter_vector
from mscsim.numerics import steady_state


def baseline_outputs(disease: str, params: dict | None = None, subtype: str | None = None,
                     weight_kg: float | None = None) -> dict[str, float]:
    """Read-outs of the untreated steady state (time 0) for parameter overrides ``params``."""
    composed = build_model(disease, None, "human", subtype)
    compiled = compile_model(composed.ode)
    p = parameter_vector(composed, weight_kg=weight_kg, overrides=params)
    y = steady_state(compiled, p)
    out = np.empty(len(composed.ode.outputs))
    compiled.outputs(0.0, y, p, out)
    res = dict(zip(composed.ode.outputs, out))
    res.update(dict(zip(composed.ode.state_names, y)))
    return res
