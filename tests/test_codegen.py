"""The generated exact Jacobian agrees with finite differences of the generated right-hand side,
for the kinetics model and every disease model that exists."""

import importlib.util

import numpy as np
import pytest

from mscsim.numerics.codegen import compile_model
from mscsim.model import DISEASES, build_model

CASES = [(None, "liver")] + [(d, None) for d in DISEASES if importlib.util.find_spec(f"mscsim.diseases.{d}")]


@pytest.mark.parametrize("disease,target", CASES, ids=[c[0] or "kinetics" for c in CASES])
def test_jacobian_matches_finite_differences(disease, target):
    m = build_model(disease, target).ode
    c = compile_model(m)
    p = np.array([q.value for q in m.params.values()])
    rng = np.random.default_rng(7)
    # cell counts (and cell-equivalents per kg) are ~1e6; finite-difference steps scale with them
    scale = np.array([1e6 if "cell" in s.unit else max(abs(s.init), 1.0) for s in m.states.values()])
    y = np.abs(rng.normal(1.0, 0.3, len(m.states))) * scale
    n = len(y)
    J = np.empty((n, n))
    c.jac(0.0, y, p, J)
    Jfd = np.empty((n, n))
    d1, d2 = np.empty(n), np.empty(n)
    for j in range(n):
        h = 1e-6 * max(abs(y[j]), 1e-3)
        yp, ym = y.copy(), y.copy()
        yp[j] += h
        ym[j] -= h
        c.rhs(0.0, yp, p, d1)
        c.rhs(0.0, ym, p, d2)
        Jfd[:, j] = (d1 - d2) / (2 * h)
    row_scale = np.abs(Jfd).max(axis=1, keepdims=True) + 1e-300
    assert np.max(np.abs(J - Jfd) / row_scale) < 1e-4
    # the declared sparsity covers every non-zero
    # (entries below the finite-difference accuracy are rounding noise of terms that cancel exactly)
    assert not np.any((np.abs(Jfd) > 1e-4 * row_scale) & ~c.jac_sparsity)
