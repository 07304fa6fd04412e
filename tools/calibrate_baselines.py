"""Calibrate each disease's untreated typical patient to published baselines.

For a disease, a few drive/normalisation constants are fitted (least squares, scipy) so that the
untreated steady state of the typical patient matches published baseline values; everything
else keeps its table value. The targets and their sources are listed in TARGETS. Run:

    python tools/calibrate_baselines.py ra      # prints fitted values for parameters.yaml
"""

from __future__ import annotations

import sys

import numpy as np
from scipy.optimize import least_squares

from mscsim.baseline import baseline_outputs



def targets_of(disease: str):
    """Each disease module declares BASELINE_TARGETS = (free {name: (lo, hi)},
    {output: (target value, scale)}, source note)."""
    from mscsim.model import disease_module

    return disease_module(disease).BASELINE_TARGETS


def fit(disease: str, free=None, targets=None, x0=None):
    free = free or targets_of(disease)[0]
    targets = targets or targets_of(disease)[1]
    names = list(free)
    lo = np.array([free[n][0] for n in names])
    hi = np.array([free[n][1] for n in names])
    from mscsim import parameters

    x0 = np.array(x0) if x0 is not None else np.array([parameters.value(n) for n in names])
    x0 = np.clip(x0, lo + 1e-9, hi - 1e-9)

    def res(x):
        out = baseline_outputs(disease, dict(zip(names, x)))
        return np.array([(out[k] - v) / s for k, (v, s) in targets.items()])

    sol = least_squares(res, x0, bounds=(lo, hi), x_scale="jac")
    out = baseline_outputs(disease, dict(zip(names, sol.x)))
    return dict(zip(names, sol.x)), {k: out[k] for k in targets}, out


if __name__ == "__main__":
    disease = sys.argv[1]
    params, got, out = fit(disease)
    print("fitted:", {k: round(v, 5) for k, v in params.items()})
    for k, (v, s) in targets_of(disease)[1].items():
        print(f"  {k}: {got[k]:.4g} (target {v})")
    print("other baseline outputs:", {k: round(float(v), 4) for k, v in out.items()
                                      if not k.startswith(("msc_", "label_", "cells_"))})
