"""The untreated baseline: each patient starts at his own steady state.

States marked ``init_mode="steady"`` (immune network, disease activity) are solved so that
they are at rest given the others (damage and natural-history states start from patient
parameters, kinetics from zero), started from the healthy state.

Two solvers, same acceptance test (``max |F_i| / (1 + |x_i|) < tol`` on the free states):

- compiled (default, ``mscsim.engine.steady_state``, ~0.05 ms): damped Newton with the exact
  Jacobian in numba, else pseudo-transient continuation then Newton;
- scipy (the fallback when the compiled one does not converge, and ``engine="scipy"``):
  ``scipy.optimize.root`` (MINPACK hybrj) with the exact compiled Jacobian; if it fails, the free
  states are relaxed by integrating with the others frozen, then solved again.

Over 40 random patients of each disease the two agree to <1e-7 relative (the tolerance).
A trial computes each patient's baseline once, at screening, and hands the same vector to the
simulation (``trial.PatientTask.y0``).
"""

from __future__ import annotations

import numpy as np

from mscsim.numerics import engine as _engine
from mscsim.numerics.codegen import CompiledModel


class SteadyStateError(RuntimeError):
    pass


#: right-hand-side evaluations allowed to the relaxation of the scipy fallback. A parameter set whose
#: untreated state runs away (found by Morris sampling of the RA model: a state grows without bound
#: near t = 105 d while LSODA's step collapses) would otherwise integrate for ever, and, with every
#: step stored by ``solve_ivp``, grow memory by ~55 MB/s (issue 21). A converging relaxation needs
#: a few thousand evaluations.
RELAX_MAX_EVALS = 50_000


class _RelaxBudget(Exception):
    pass


def baseline_vector(compiled: CompiledModel, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Initial guess for every state and the mask of states to solve."""
    m = compiled.model
    names = m.param_names
    y0 = np.empty(len(m.states))
    free = np.zeros(len(m.states), dtype=bool)
    for i, s in enumerate(m.states.values()):
        if s.init_mode.startswith("param:"):
            y0[i] = p[names.index(s.init_mode[6:])]
        else:
            y0[i] = s.init
            free[i] = s.init_mode == "steady"
    return y0, free


def steady_state(compiled: CompiledModel, p: np.ndarray, tol: float = 1e-9, engine: str = "compiled") -> np.ndarray:
    """Untreated baseline state for parameter vector ``p``."""
    if engine == "compiled":
        y = _engine.steady_state(compiled, np.asarray(p, dtype=float), tol)
        if y is not None:
            return y
    elif engine != "scipy":
        raise ValueError(f"unknown engine {engine!r}")
    return steady_state_scipy(compiled, p, tol)


def steady_state_scipy(compiled: CompiledModel, p: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """The scipy path (MINPACK hybrj, relaxation if it fails)."""
    from scipy.integrate import solve_ivp  # imported here: the compiled engine never needs scipy (start-up, issue 19)
    from scipy.optimize import root

    y0, free = baseline_vector(compiled, p)
    if not free.any():
        return y0
    idx = np.flatnonzero(free)
    n = len(y0)
    rhs, jac = compiled.rhs, compiled.jac
    dy = np.empty(n)
    J = np.empty((n, n))

    def F(x):
        y = y0.copy()
        y[idx] = x
        rhs(0.0, y, p, dy)
        return dy[idx].copy()

    def FJ(x):
        y = y0.copy()
        y[idx] = x
        jac(0.0, y, p, J)
        return J[np.ix_(idx, idx)].copy()

    def ok(x):
        return np.all(np.isfinite(x)) and np.max(np.abs(F(x)) / (1.0 + np.abs(x))) < tol

    x = y0[idx]
    sol = root(F, x, jac=FJ, method="hybr")
    if not ok(sol.x):
        evals = [0]

        def G(t, xx):
            evals[0] += 1
            if evals[0] > RELAX_MAX_EVALS:
                raise _RelaxBudget
            return F(xx)

        try:  # only the end point is kept (t_eval), so memory stays bounded
            relax = solve_ivp(G, (0.0, 5000.0), x, method="LSODA", rtol=1e-8, atol=1e-10, t_eval=[5000.0],
                              jac=lambda t, xx: FJ(xx))
        except _RelaxBudget:
            raise SteadyStateError(f"no untreated steady state found (the baseline runs away: relaxation "
                                   f"stopped after {RELAX_MAX_EVALS} evaluations)") from None
        if not relax.success or relax.y.shape[1] == 0:
            raise SteadyStateError(f"no untreated steady state found (relaxation failed: {relax.message})")
        sol = root(F, relax.y[:, -1], jac=FJ, method="hybr")
        if not ok(sol.x):
            raise SteadyStateError(f"no untreated steady state found (residual {np.max(np.abs(F(sol.x))):.3g})")
    y = y0.copy()
    y[idx] = sol.x
    return y
