"""The compiled engine: a whole patient (every dosing segment, every step, every linear solve,
the read-out times) in one numba nopython call, plus the compiled untreated steady state.

Algorithm (kernels in ``numerics/_bdf_kernels.py``, compiled once for every model; they call the
model's generated right-hand side and Jacobian by address):

- **Integrator**: the variable-order (1-5), variable-step BDF/NDF method of Shampine & Reichelt
  (1997) exactly as implemented by ``scipy.integrate.BDF`` (quasi-constant step size with the
  difference array rescaled on a step change, NDF coefficients kappa, RMS error norm with
  ``atol + rtol |y|``, order and step selection every ``order + 1`` equal steps, at most 4
  modified-Newton iterations with the same convergence-rate test). The Newton matrix
  ``I - h/alpha J`` uses the generated exact Jacobian, which is re-evaluated only when Newton
  fails to converge; its LU factorisation is reused until the step size or order changes. One
  departure from scipy (``NEWTON_CARRY``): the first Newton iteration of a step may pass the
  convergence test with the contraction rate last measured with the same LU, as CVODE carries
  its rate estimate across steps (Hindmarsh et al. 2005, doi:10.1145/1089014.1089020); scipy
  always iterates twice. On the RA model: 1.4 instead of 2.0 right-hand sides per step, same
  order of error against Radau (tests/test_engine.py).
- **Linear solver**: LU with a static pivot order chosen once per model from the Jacobian's
  sparsity pattern (minimum degree on the symmetrised pattern, symbolic fill-in computed here),
  working only on the ~1,000 pattern entries (about 1,700 multiply-adds per factorisation for
  the RA model, against ~96,000 for a dense LU). Each pivot must pass the threshold-pivoting test
  ``|a_kk| >= 0.1 max_i |a_ik|``; from the first one that fails, the rest of that factorisation
  is done densely with partial pivoting (the dense block routine is also the steady state's dense
  LU), so stability never rests on the static order. The factorisation works on the pattern's
  values in one compressed array with a precomputed list of update targets (``_e_factor``: 2.2
  us on the RA model; until the fourth 2026-12-07 session the same operations, in the same order
  and so with the same bits, ran on a dense n x n work array in 6.7 us). The kernels take the
  plan's integers as unsigned views (``LUPlan.kernel_index``): numba then drops its test for
  negative, wrap-around indices on every sparse access, which took an LU from 3.3 to 2.2 us and
  a solve from 1.10 to 0.73 us (the same operations and bits; second 2026-12-08 session). The predictor, ``psi``
  and the rescaling of the difference array on a step-size change run
  with the states innermost (vectorised, sums in scipy's order: the same bits). The kinetic block is a
  conservative compartment system, so ``I - cJ`` is column diagonally dominant there. States
  whose static pivot fails on a probe run of the model (its default parameters, a typical dose,
  one year: ``deferred_pivots``; the probe depends only on the model, not on the species a
  process built first or the patients it ran, so the plan is the same in every process) are
  ordered into the dense block instead: on the RA model 8 states (methotrexate,
  the tolerance set point, synovitis, donor sensitisation, product states, T-cell subsets), which
  took the dense fallback from 70 % of the factorisations to under 1 %. The count of fallbacks
  is in the statistics.
- **Dosing**: infusions are piecewise-constant inputs, so the time axis is cut at every
  infusion start and end and the integrator restarts (order 1, new initial step, fresh Jacobian)
  on each piece, inside the compiled loop.
- **Outputs**: at the requested times by the BDF interpolating polynomial of the step that
  covers them (scipy's ``BdfDenseOutput``), exact at segment ends.
- **Steady state**: damped Newton on the free states with the exact Jacobian (backtracking on
  the weighted residual), else pseudo-transient continuation (backward Euler with the time step
  grown by switched evolution relaxation) followed by Newton; the acceptance test is the one of
  ``steady.steady_state`` (``max |F_i| / (1 + |x_i|) < tol``).

Why hand-written, and the evidence (``benchmarks/bench_engines.py``, numbers in
``benchmarks/RESULTS.md``): no maintained solver runs a whole patient without a Python call per
step; SciPy LSODA costs about one Python round trip per step (~10-25 ms per patient-year) and
libRoadRunner must go through SBML. Against scipy Radau at rtol 1e-10 (atol x 1e-3), over
8 patients of the RA model (1 IV dose, 1 year, daily + early output grid) and the kinetics model
(liver injury, 30 days), maximum relative error on states and read-outs (values below 1e-4 of a
trajectory's peak, or below the state's atol, compared against that floor) is of the same order as LSODA's at the same
tolerances (see RESULTS.md, "Agreement"; every shipped model is checked against Radau in
tests/test_engine_every_model.py). Serially it runs 6.0-7.8x (N = 100 to 10,000) as many
patients per second as LSODA with the same compiled right-hand side, and 4.3-5.3x libRoadRunner
on the exported SBML in single measurements (1.4-1.7x ``compiled-v1``, the engine with scipy's
Newton rule and no pivot probe); measured back to back in alternating order, the median over 10
rounds of 1,000 patients is 5.15x libRoadRunner (5.03-5.37x; RESULTS.md, 2026-12-08 05:32 run,
"paired rounds"; 5.19x, 4.81-5.34x, at 05:06). Before the unsigned indexing the same engine's
median was 3.92x over 36 rounds (RESULTS.md, "Engine history"). What bounds it: on the RA model
about 430 steps per patient-year (CVODE in libRoadRunner takes about 500), half of them in the
hour after an infusion, where rtol 1e-6 on the cell counts' fast lung arrest sets the step; per
step 1.4 right-hand sides (0.3 us each), 1.4 sparse solves (0.73 us each) and one LU in seven
steps (2.2 us; both timed in a loop on one factorised RA matrix). Derived from those counts and
timings, of a patient-year's 1.2 ms the solves take about 37 %, the LUs 11 %, the right-hand
sides 15 %, and the step's own vector work (predictor, error norms, difference array, dense
output) most of the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from mscsim.numerics.codegen import CompiledModel
from mscsim.numerics.options import Infusion, IntegrationError

#: error codes of ``engine_integrate``
_STATUS = {
    1: "step size became too small",
    2: "too many steps",
    3: "linear algebra failure",
    4: "non-finite state",
    5: "some output times were not reached",
}
#: an LU of I - c J is reused while |c / c_lu - 1| <= LU_REUSE (CVODE's dgmax; -1: refactorise on every
#: step-size change, as scipy's BDF does)
LU_REUSE = -1.0
#: threshold-pivoting test of the static pivots: |a_kk| >= PIVOT_TOL * max_i |a_ik|
PIVOT_TOL = 0.1
#: Newton's first iteration may pass the convergence test with the contraction rate seen with the
#: same LU (CVODE keeps its rate estimate ``crate`` across steps likewise, decaying by at most
#: CRDOWN = 0.3 per iteration; scipy's BDF needs two iterations on every step): 1.4 instead of
#: 2.0 right-hand sides per step on the RA model, at 3.6 instead of 0.4 rejected steps per year
NEWTON_CARRY = True
STAT_NAMES = ("steps", "rhs_evals", "jac_evals", "lu_factorizations", "pivot_fallbacks", "rejected_steps",
              "newton_failures", "segments")


@dataclass(frozen=True)
class LUPlan:
    """Static pivot order and symbolic LU pattern of ``I - c J`` (permuted coordinates)."""

    perm: np.ndarray   # new index -> original state index
    lptr: np.ndarray   # for pivot k, rows i > k of L: lidx[lptr[k]:lptr[k+1]]
    lidx: np.ndarray
    uptr: np.ndarray   # for pivot k, columns j > k of U: uidx[uptr[k]:uptr[k+1]]
    uidx: np.ndarray
    pi: np.ndarray     # every pattern position (row, col), diagonal and fill included
    pj: np.ndarray
    k0: int            # pivots k >= k0 form a dense trailing block, factorised with partial pivoting
    inpat: np.ndarray  # uint8 n x n: 1 on the symbolic pattern (fill and dense block included)
    flops: int         # multiply-adds per numeric factorisation
    #: n x n: index of each pattern position in the compressed values of ``_e_factor`` (static L by
    #: column, static U by row, static diagonal, trailing block by row), -1 off the pattern
    vmap: np.ndarray
    #: target index (in the compressed values) of each update l_ik u_kj of the static elimination,
    #: for k < k0, each L entry of column k, each U entry of row k
    upd: np.ndarray

    @property
    def nnz(self) -> int:
        return int(self.pi.shape[0])

    @cached_property
    def kernel_index(self) -> tuple[np.ndarray, ...]:
        """(perm, lptr, lidx, uptr, uidx, upd) as the kernels take them: unsigned views of the same
        integers, so that numba's indexing drops its test for negative (wrap-around) indices. Same
        operations, same bits; measured on the RA model: LU 3.3 -> 2.2 us, solve 1.10 -> 0.73 us
        (second 2026-12-08 session)."""
        arrays = (self.perm, self.lptr, self.lidx, self.uptr, self.uidx, self.upd)
        if any(a.dtype != np.int64 for a in arrays):
            raise TypeError("LUPlan: the index arrays must be int64 (as lu_plan makes them)")
        return tuple(np.ascontiguousarray(a).view(np.uint64) for a in arrays)


def minimum_degree(pattern: np.ndarray) -> np.ndarray:
    """Minimum-degree elimination order of the symmetrised pattern (ties: lowest index)."""
    n = pattern.shape[0]
    G = pattern | pattern.T
    np.fill_diagonal(G, False)
    G = G.copy()
    alive = np.ones(n, dtype=bool)
    order = []
    for _ in range(n):
        deg = np.where(alive, (G & alive[None, :]).sum(axis=1), n + 1)
        k = int(np.argmin(deg))
        order.append(k)
        alive[k] = False
        nb = np.flatnonzero(G[k] & alive)
        G[np.ix_(nb, nb)] = True
        G[nb, nb] = False
    return np.array(order, dtype=np.int64)


#: the trailing block of the elimination order whose symbolic density reaches this is factorised
#: densely with partial pivoting (for the RA model: the immune/disease core)
TAIL_DENSITY = 0.9


def lu_plan(pattern: np.ndarray, tail_density: float = TAIL_DENSITY, last: "list[int] | tuple" = ()) -> LUPlan:
    """Symbolic factorisation of a square sparsity pattern (diagonal added): minimum-degree
    order, fill-in, and the dense trailing block. ``last``: indices placed at the end of the order,
    inside the dense block (pivots that fail the threshold test when static)."""
    n = pattern.shape[0]
    S = pattern.astype(bool) | np.eye(n, dtype=bool)
    last = [int(i) for i in last]
    deferred = set(last)
    rest = np.array([i for i in range(n) if i not in deferred], dtype=np.int64)
    perm = np.concatenate([rest[minimum_degree(S[np.ix_(rest, rest)])], np.array(last, dtype=np.int64)])
    A = S[np.ix_(perm, perm)].copy()
    lptr, lidx, uptr, uidx = [0], [], [0], []
    for k in range(n):
        rows = np.flatnonzero(A[k + 1:, k]) + k + 1
        cols = np.flatnonzero(A[k, k + 1:]) + k + 1
        for i in rows:
            A[i, cols] = True
        lidx += rows.tolist()
        uidx += cols.tolist()
        lptr.append(len(lidx))
        uptr.append(len(uidx))
    A[n - len(last):, n - len(last):] = True
    k0 = n - len(last)
    for k in range(n - 1, -1, -1):
        if A[k:, k:].mean() < tail_density:
            break
        k0 = min(k0, k)
    A[k0:, k0:] = True
    flops = 0
    for k in range(k0):
        flops += (lptr[k + 1] - lptr[k]) * (uptr[k + 1] - uptr[k])
    m = n - k0
    flops += m * (m - 1) * (2 * m - 1) // 6
    pi, pj = np.nonzero(A)
    vmap = np.full((n, n), -1, dtype=np.int64)
    nl, nu = lptr[k0], uptr[k0]
    for k in range(k0):
        vmap[lidx[lptr[k]:lptr[k + 1]], k] = np.arange(lptr[k], lptr[k + 1])
        vmap[k, uidx[uptr[k]:uptr[k + 1]]] = nl + np.arange(uptr[k], uptr[k + 1])
        vmap[k, k] = nl + nu + k
    vmap[k0:, k0:] = nl + nu + k0 + np.arange(m * m).reshape(m, m)
    if not ((vmap >= 0) == A).all() or len(np.unique(vmap[A])) != len(pi):
        raise AssertionError("lu_plan: the compressed layout does not cover the pattern once")
    upd = [vmap[lidx[q], uidx[r]] for k in range(k0) for q in range(lptr[k], lptr[k + 1])
           for r in range(uptr[k], uptr[k + 1])]
    if any(v < 0 for v in upd):
        raise AssertionError("lu_plan: an update outside the symbolic pattern")
    i64 = lambda x: np.ascontiguousarray(x, dtype=np.int64)  # noqa: E731
    return LUPlan(i64(perm), i64(lptr), i64(lidx), i64(uptr), i64(uidx), i64(pi), i64(pj), int(k0),
                  np.ascontiguousarray(A, dtype=np.uint8), flops, vmap, i64(upd))


def jac_positions(lu: LUPlan, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each Jacobian non-zero (rows[k], cols[k]) sits in the permuted matrix of ``lu``."""
    iperm = np.empty_like(lu.perm)
    iperm[lu.perm] = np.arange(len(lu.perm))
    return np.ascontiguousarray(iperm[rows]), np.ascontiguousarray(iperm[cols])


def jac_values_index(lu: LUPlan, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Where each Jacobian non-zero (rows[k], cols[k]) sits in the compressed values of ``lu``."""
    q = lu.vmap[jac_positions(lu, rows, cols)]
    if (q < 0).any():
        raise AssertionError("a Jacobian non-zero outside the LU pattern")
    return np.ascontiguousarray(q)


class EnginePlan:
    """Everything the engine needs about one compiled model, computed once per process."""

    def __init__(self, compiled: CompiledModel):
        m = compiled.model
        self.kernels = compiled._kernels
        self.rhs, self.jac = compiled.addresses[0], compiled.addresses[1]
        self.jac_rows, self.jac_cols = compiled.module.JAC_ROWS, compiled.module.JAC_COLS
        self.n = len(m.states)
        self.names = m.param_names
        self.atol = np.array([s.atol for s in m.states.values()], dtype=float)
        self.input_index = {nm: i for i, nm in enumerate(self.names) if nm.startswith("in_")}
        self.input_cols = np.array(sorted(self.input_index.values()), dtype=np.int64)
        pidx = {nm: i for i, nm in enumerate(self.names)}
        self.init = np.array([s.init for s in m.states.values()], dtype=float)
        self.from_param = [(i, pidx[s.init_mode[6:]]) for i, s in enumerate(m.states.values())
                           if s.init_mode.startswith("param:")]
        self.free = np.array([i for i, s in enumerate(m.states.values()) if s.init_mode == "steady"],
                             dtype=np.int64)
        probe = m.meta.get("pivot_probe")
        #: states whose static pivot failed on the model's probe, placed in the dense block
        self.deferred: list[int] = cached_deferred_pivots(compiled, self, probe) if probe else []
        self.lu = lu_plan(compiled.jac_sparsity, last=self.deferred)
        self.jac_q = jac_values_index(self.lu, self.jac_rows, self.jac_cols)
        self.jac_q_u = self.jac_q.view(np.uint64)  # as the kernels take it (`LUPlan.kernel_index`)


@dataclass(frozen=True)
class _Input:
    """A constant-rate input (the ``Infusion`` protocol) of the pivot probe."""

    start: float
    end: float
    rate: float
    input: str


#: values of c = h / alpha at which the probe tests the static pivots of I - c J (days; from a
#: step of seconds to the largest steps of a year-long run) [design choice]
PROBE_C = (1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0)


def first_failing_pivots(lu: LUPlan, mats: np.ndarray, piv_tol: float = PIVOT_TOL) -> np.ndarray:
    """For each matrix of ``mats`` (S x n x n, original order), the original index of the first
    static pivot of ``lu`` that fails the threshold test, or -1 (the elimination ``_e_factor`` does,
    in numpy over all matrices at once)."""
    A = mats[:, lu.perm][:, :, lu.perm].copy()
    fail = np.full(A.shape[0], -1, dtype=np.int64)
    alive = np.ones(A.shape[0], dtype=bool)
    with np.errstate(all="ignore"):  # an overflowing elimination fails its pivot test (NaN compares False)
        for k in range(lu.k0):
            col = np.abs(A[:, k + 1:, k]).max(axis=1, initial=0.0)
            piv = np.abs(A[:, k, k])
            bad = alive & ~((piv > 0.0) & np.isfinite(piv) & (piv >= piv_tol * np.maximum(col, piv)))
            fail[bad] = lu.perm[k]
            alive &= ~bad
            if not alive.any():
                break
            L = A[:, k + 1:, k] / np.where(alive, A[:, k, k], 1.0)[:, None]
            A[:, k + 1:, k + 1:] -= L[:, :, None] * A[:, k, None, k + 1:]
    return fail


def deferred_pivots(compiled: CompiledModel, plan: "EnginePlan", probe: dict) -> list[int]:
    """States to factorise in the dense block rather than as static pivots: those whose static
    pivot fails the threshold test on the Newton matrices I - c J of a probe run (the model's
    default parameters at their untreated steady state, then ``probe["inputs"]`` (input name ->
    rate) for ``probe["duration"]`` days, Jacobians at log-spaced times up to ``probe["days"]``).

    A failing static pivot sends the rest of that factorisation, and every solve with it, to the
    dense partial-pivoting routine (70 % of the RA model's factorisations before this). The probe
    depends only on the model, so every process and worker count uses the same plan. Greedy:
    defer the states that fail, re-plan, until none fails (at most n rounds). Design choice; any
    pivot that still fails for some patient falls back to dense pivoting as before."""
    n = plan.n
    p = np.array(probe["params"] if "params" in probe else [prm.value for prm in compiled.model.params.values()],
                 dtype=float)
    if p.shape != (len(plan.names),):
        raise ValueError(f"pivot probe: {p.shape[0]} parameter values for {len(plan.names)} parameters")
    y = _steady(plan, p)
    if y is None:  # no untreated steady state: the probe starts from the table values
        y = _guess(plan, p)
    dur = float(probe.get("duration", 1e-3))
    admins = [_Input(0.0, dur, float(rate), name) for name, rate in probe.get("inputs", {}).items()
              if name in plan.input_index]
    t_out = np.concatenate([[0.0], np.geomspace(1e-4, float(probe.get("days", 365.0)), 24)])
    base = lu_plan(compiled.jac_sparsity)
    try:
        Y = _run(plan, base, p, y, t_out, admins)
    except IntegrationError:
        Y = y[None, :]
    J = np.zeros((len(Y), n, n))
    jv = np.empty(len(plan.jac_rows))
    for k, yk in enumerate(Y):
        plan.kernels.call_vec(plan.jac, float(t_out[k]), np.ascontiguousarray(yk), p, jv)
        J[k, plan.jac_rows, plan.jac_cols] = jv
    mats = np.concatenate([np.eye(n)[None] - c * J for c in PROBE_C])
    mats = mats[np.isfinite(mats).all(axis=(1, 2))]
    last: list[int] = []
    for _ in range(n):
        lu = lu_plan(compiled.jac_sparsity, last=last) if last else base
        fail = first_failing_pivots(lu, mats)
        new = sorted(set(int(i) for i in fail[fail >= 0]) - set(last))
        if not new:
            break
        last += new
    return last


def cached_deferred_pivots(compiled: CompiledModel, plan: "EnginePlan", probe: dict) -> list[int]:
    """`deferred_pivots`, kept on disk next to the compiled model (the probe costs ~0.3 s of every
    start-up otherwise). The key holds everything the probe's result depends on: the compiled
    model's file (its equations), the probe (parameters, dose, span), the states' atol and initial
    values, the source of this module and of the kernels (the integrator, the steady state, the
    pivot test and the probe's own settings), numba's version and the CPU, so a cached result
    equals a fresh one; a file that does not hold a valid list is recomputed."""
    import hashlib
    import json
    from pathlib import Path

    import numba

    from mscsim.numerics.codegen import _cpu_tag, write_cache_file

    h = hashlib.sha256()
    h.update(str(compiled.path.name).encode())
    h.update(json.dumps(probe, sort_keys=True).encode())
    for arr in (plan.atol, plan.init, np.array(plan.from_param, dtype=np.int64), plan.free):
        h.update(np.ascontiguousarray(arr).tobytes())
    here = Path(__file__).parent
    for src in ("engine.py", "_bdf_kernels.py"):
        h.update((here / src).read_bytes())
    h.update(f"{numba.__version__}|{_cpu_tag()}".encode())
    path = compiled.path.with_name(f"{compiled.path.stem}.pivots.{h.hexdigest()[:16]}.json")
    try:
        last = json.loads(path.read_text())
        if (isinstance(last, list) and all(isinstance(i, int) and 0 <= i < plan.n for i in last)
                and len(set(last)) == len(last) < plan.n):
            return last
    except (OSError, ValueError):
        pass
    last = deferred_pivots(compiled, plan, probe)
    try:
        write_cache_file(path, json.dumps(last).encode())
    except OSError:  # a read-only cache only costs the probe again next time
        pass
    return last


_PLANS: dict[str, EnginePlan] = {}


def plan_for(compiled: CompiledModel) -> EnginePlan:
    key = str(compiled.path)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = EnginePlan(compiled)
    return plan


def segments(admins: list[Infusion], p: np.ndarray, plan: EnginePlan, t0: float, t1: float):
    """Cut points and one parameter vector per piece (inputs = that piece's infusion rates)."""
    pts = {t0, t1}
    for a in admins:
        for t in (a.start, a.end):
            if t0 < t < t1:
                pts.add(t)
    cuts = sorted(pts)
    P = np.empty((max(len(cuts) - 1, 1), len(p)))
    P[:] = p
    if len(plan.input_cols):
        P[:, plan.input_cols] = 0.0
    # a handful of pieces: plain floats (the same sums as array operations, without their overhead)
    mids = [0.5 * (a + b) for a, b in zip(cuts[:-1], cuts[1:])]
    for a in admins:
        col, rate, start, end = plan.input_index[a.input], a.rate, a.start, a.end
        for k, mid in enumerate(mids):
            if start <= mid < end:
                P[k, col] += rate
    return np.array(cuts, dtype=float), P


def integrate(compiled: CompiledModel, p: np.ndarray, y0: np.ndarray, t_out: np.ndarray,
              admins: list[Infusion], rtol: float = 1e-6, atol_scale: float = 1.0,
              max_step: float = np.inf, max_steps: int = 50_000, lu_reuse: float = LU_REUSE, piv_tol: float = PIVOT_TOL,
              newton_carry: bool = NEWTON_CARRY, stats: np.ndarray | None = None,
              lu: LUPlan | None = None) -> np.ndarray:
    """States at ``t_out`` (sorted, >= 0). Raises ``solve.IntegrationError`` on failure."""
    plan = plan_for(compiled)
    return _run(plan, plan.lu if lu is None else lu, p, y0, t_out, admins, rtol, atol_scale, max_step, max_steps,
                lu_reuse, piv_tol, newton_carry, stats)


def _run(plan: EnginePlan, lu: LUPlan, p, y0, t_out, admins, rtol=1e-6, atol_scale=1.0, max_step=np.inf,
         max_steps=50_000, lu_reuse=LU_REUSE, piv_tol=PIVOT_TOL, newton_carry=NEWTON_CARRY, stats=None) -> np.ndarray:
    """`integrate` on a plan and an LU plan (the plan's own, or another: the probe, the tests)."""
    t_out = np.ascontiguousarray(t_out, dtype=float)
    if t_out.ndim != 1 or len(t_out) == 0 or np.any(np.diff(t_out) < 0) or t_out[0] < 0:
        raise IntegrationError("output times must be sorted and start at or after 0")
    seg_t, P = segments(admins, p, plan, min(0.0, float(t_out[0])), float(t_out[-1]))
    Y = np.empty((len(t_out), plan.n))
    st = np.zeros(len(STAT_NAMES), dtype=np.int64)
    jq = (plan.jac_q_u if lu is getattr(plan, "lu", None)
          else jac_values_index(lu, plan.jac_rows, plan.jac_cols).view(np.uint64))
    y0 = np.ascontiguousarray(y0, dtype=float)
    perm, lptr, lidx, uptr, uidx, upd = lu.kernel_index
    code = plan.kernels.engine_integrate(plan.rhs, plan.jac, y0, P, seg_t, t_out, plan.atol * atol_scale, float(rtol),
                                         float(max_step), int(max_steps), float(lu_reuse), float(piv_tol),
                                         int(newton_carry), lu.k0, perm, lptr, lidx, uptr, uidx, jq, upd, Y, st)
    if stats is not None:
        stats += st
    if code != 0:
        raise IntegrationError(f"compiled BDF failed: {_STATUS.get(int(code), f'code {code}')} "
                               f"(after {st[0]} steps)")
    return Y


_WARM: set[str] = set()


def warm_up(compiled: CompiledModel, p: np.ndarray) -> None:
    """Load (or compile) every compiled kernel of the model in this process, once. Call it before
    forking worker processes, so they inherit the machine code instead of each loading it."""
    key = str(compiled.path)
    if key in _WARM:
        return
    y = steady_state(compiled, p)
    if y is None:
        y, _ = baseline_guess(compiled, p)
    try:
        Y = integrate(compiled, p, y, np.array([0.0, 1e-3]), [])
        out = np.empty((2, len(compiled.model.outputs)))
        compiled.outputs_traj(np.array([0.0, 1e-3]), Y, np.asarray(p, dtype=float), out)
        compiled.outputs(0.0, Y[0], np.asarray(p, dtype=float), out[0])
    except Exception:  # noqa: BLE001 - warming up must never fail a run
        pass
    _WARM.add(key)


def baseline_guess(compiled: CompiledModel, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Initial guess of every state (table values; param-initialised states) and the free states."""
    plan = plan_for(compiled)
    return _guess(plan, p), plan.free


def steady_state(compiled: CompiledModel, p: np.ndarray, tol: float = 1e-9,
                 stats: np.ndarray | None = None) -> np.ndarray | None:
    """Compiled untreated steady state, or None when it does not converge."""
    return _steady(plan_for(compiled), p, tol, stats)


def _guess(plan: EnginePlan, p: np.ndarray) -> np.ndarray:
    y = plan.init.copy()
    for i, k in plan.from_param:
        y[i] = p[k]
    return y


def _steady(plan: EnginePlan, p: np.ndarray, tol: float = 1e-9, stats: np.ndarray | None = None) -> np.ndarray | None:
    """`steady_state` on a plan (also while the plan is being built: the pivot probe)."""
    y = _guess(plan, p)
    if len(plan.free) == 0:
        return y
    st = np.zeros(2, dtype=np.int64)
    code = plan.kernels.engine_steady(plan.rhs, plan.jac, plan.jac_rows, plan.jac_cols, y, plan.free,
                                      np.ascontiguousarray(p, dtype=float), plan.atol, float(tol), st)
    if stats is not None:
        stats += st
    return y if code == 0 else None
