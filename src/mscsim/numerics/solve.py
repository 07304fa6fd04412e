"""Integration engines: advance one patient's composed model through its doses.

Two engines, chosen by ``SolverOptions.engine``:

- ``"compiled"`` (default): the whole patient in one numba nopython call: scipy's variable-order
  BDF/NDF algorithm with modified Newton on the generated exact Jacobian and a static-pivot
  sparse LU (``mscsim.engine``, which documents the algorithm and its measured accuracy).
- ``"scipy"``: SciPy's ``solve_ivp`` (LSODA by default, a maintained stiff/non-stiff switching
  solver from ODEPACK; any ``solve_ivp`` method by ``method``) driven by the same compiled
  right-hand side and Jacobian through Python callbacks. It is the reference and cross-check,
  and ``SolverOptions.stricter()`` (Radau, tighter tolerances) is where a failed compiled
  integration is retried, so failures are still reported.

Doses are piecewise-constant inputs, so the time axis is cut at every infusion start and end
and each piece is integrated with its own input rates (no discontinuity inside a step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mscsim.numerics import engine
from mscsim.numerics.codegen import CompiledModel
from mscsim.numerics.options import ENGINES, Infusion, IntegrationError, SolverOptions

__all__ = ["ENGINES", "IntegrationError", "SolverOptions", "breakpoints", "input_rates", "integrate",
           "integrate_scipy"]


def breakpoints(admins: list[Infusion], t0: float, t1: float) -> np.ndarray:
    pts = {t0, t1}
    for a in admins:
        for t in (a.start, a.end):
            if t0 < t < t1:
                pts.add(t)
    return np.array(sorted(pts))


def input_rates(admins: list[Infusion], t_mid: float, input_index: dict[str, int],
                n_params: int) -> np.ndarray:
    """Sum of infusion rates active at ``t_mid`` per model input (cells/day)."""
    rates = np.zeros(n_params)
    for a in admins:
        if a.start <= t_mid < a.end:
            rates[input_index[a.input]] += a.rate
    return rates


def integrate(compiled: CompiledModel, p: np.ndarray, y0: np.ndarray, t_out: np.ndarray,
              admins: list[Infusion], options: SolverOptions = SolverOptions()) -> np.ndarray:
    """States at the times ``t_out`` (days, sorted, starting at or after 0)."""
    if options.engine == "compiled":
        return engine.integrate(compiled, p, y0, t_out, admins, rtol=options.rtol, atol_scale=options.atol_scale,
                                max_step=options.max_step)
    return integrate_scipy(compiled, p, y0, t_out, admins, options)


def integrate_scipy(compiled: CompiledModel, p: np.ndarray, y0: np.ndarray, t_out: np.ndarray,
                    admins: list[Infusion], options: SolverOptions = SolverOptions(engine="scipy")) -> np.ndarray:
    """The scipy engine (``solve_ivp`` per dosing segment, Python callbacks)."""
    from scipy.integrate import solve_ivp  # here, not at import: the compiled engine never needs it (start-up, issue 19)

    model = compiled.model
    names = model.param_names
    input_index = {n: i for i, n in enumerate(names) if n.startswith("in_")}
    input_mask = np.zeros(len(names), dtype=bool)
    input_mask[list(input_index.values())] = True
    atol = np.array([s.atol for s in model.states.values()]) * options.atol_scale
    rhs, jac = compiled.rhs, compiled.jac
    n = len(y0)
    t_out = np.asarray(t_out, dtype=float)
    Y = np.empty((len(t_out), n))
    bps = breakpoints(admins, min(0.0, float(t_out[0])), float(t_out[-1]))
    y = np.asarray(y0, dtype=float).copy()
    p_seg = np.asarray(p, dtype=float).copy()
    filled = np.zeros(len(t_out), dtype=bool)
    for a, b in zip(bps[:-1], bps[1:]):
        p_seg[input_mask] = 0.0
        p_seg += input_rates(admins, 0.5 * (a + b), input_index, len(names))
        sel = (t_out >= a) & (t_out <= b) & ~filled
        pp = p_seg.copy()

        def f(t, yy, pp=pp):
            dy = np.empty(n)
            rhs(t, yy, pp, dy)
            return dy

        def fj(t, yy, pp=pp):
            J = np.empty((n, n))
            jac(t, yy, pp, J)
            return J

        if b - a <= 0:
            continue
        sol = solve_ivp(f, (a, b), y, method=options.method, jac=fj, rtol=options.rtol, atol=atol,
                        t_eval=t_out[sel] if sel.any() else None, max_step=options.max_step)
        if not sol.success:
            raise IntegrationError(f"{options.method} failed at t={sol.t[-1]:.4g} d: {sol.message}")
        if sel.any():
            Y[sel] = sol.y.T
            filled |= sel
        y = sol.y[:, -1] if not sel.any() or sol.t[-1] != b else sol.y[:, -1]
        if sol.t[-1] != b:
            # t_eval did not include b: integrate once more to land on b
            sol2 = solve_ivp(f, (sol.t[-1], b), sol.y[:, -1], method=options.method, jac=fj,
                             rtol=options.rtol, atol=atol, max_step=options.max_step)
            y = sol2.y[:, -1]
        y = np.maximum(y, 0.0) if False else y
        if not np.all(np.isfinite(y)):
            raise IntegrationError(f"non-finite state at t={b:.4g} d")
    if not filled.all():
        raise IntegrationError("some output times were not reached")
    return Y
