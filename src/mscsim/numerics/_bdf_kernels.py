"""The compiled engine's numba kernels, compiled once for every model (issue 19).

A model's generated module (``codegen``) holds only its right-hand side, Jacobian and read-outs,
compiled as C-callable functions (numba ``cfunc``); the kernels here take their addresses as
integers and call them through ``_call`` (an indirect call, a few nanoseconds against the
hundreds of flops of a right-hand side). So the integrator, the linear algebra and the steady
state are compiled and cached on disk once per installation instead of once per model, and a
model's first run compiles only its own equations. The Python side is ``mscsim.numerics.engine``;
the algorithm and its measured accuracy are documented there.

Contents:
- ``_call``: calls a generated function ``f(t, y, p, out)`` (C signature
  ``void(double, double*, double*, double*)``) at an address, on C-contiguous float64 vectors.
- ``_e_factor``/``_e_dense_tail``/``_e_solve``: the one LU factorisation and solve. Pivots
  k < k0 follow a static order computed once from the Jacobian's sparsity (minimum degree,
  symbolic fill-in), on the compressed values of the symbolic pattern with a precomputed list of
  update targets, while each passes the threshold-pivoting test |a_kk| >= piv_tol max_i |a_ik|;
  from the first pivot that fails (or from k0) the trailing block is factorised densely with
  partial pivoting (``_e_dense_tail``, the LAPACK getrf algorithm), which alone is the steady
  state's dense LU.
- ``_e_bdf_segment``: scipy's variable-order (1-5) variable-step BDF/NDF (Shampine & Reichelt
  1997, the algorithm of ``scipy.integrate.BDF``) with modified Newton, Jacobian reuse (a new
  Jacobian only when Newton fails to converge) and LU reuse until the step size changes, with
  dense output (the BDF interpolating polynomial) at the requested times. With ``newton_carry``
  the first Newton iteration may converge on the rate last measured with the same LU (CVODE's
  carried rate estimate) instead of always iterating twice.
- ``engine_integrate``: the whole patient: every dosing segment, outputs, statistics.
- ``engine_steady``: untreated steady state (damped Newton, then pseudo-transient continuation).
- ``call_vec``/``jac_dense``/``outputs_traj``: Python entry points to a generated function (one
  point, the dense Jacobian, or read-outs along a trajectory).

Index arrays of the LU plan reach the kernels as unsigned integers (``engine.LUPlan.kernel_index``)
and the index arithmetic on them stays unsigned: numba tests every signed index for a negative
(wrap-around) value, which on the sparse LU's indirect accesses cost more than the multiply-add.

The Jacobian is evaluated as the values of its structural non-zeros ``jv[k]`` at (``jrow[k]``,
``jcol[k]``) (the generated order); the kernels scatter them where they are needed.
"""

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import errors
from numba.extending import intrinsic


@intrinsic
def _call(typingctx, addr, t, y, p, out):
    """``f(t, y, p, out)`` for the generated C function at ``addr`` (vectors C-contiguous float64)."""
    for a in (y, p, out):
        if not (isinstance(a, types.Array) and a.dtype == types.float64 and a.ndim == 1 and a.layout == "C"):
            raise errors.TypingError(f"_call needs C-contiguous float64 vectors, got {a}")
    sig = types.void(types.intp, types.float64, y, p, out)

    def codegen(context, builder, signature, args):
        dptr = ir.DoubleType().as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [ir.DoubleType(), dptr, dptr, dptr])
        fn = builder.inttoptr(args[0], fnty.as_pointer())
        ptrs = [context.make_array(ty)(context, builder, v).data for ty, v in zip(signature.args[2:], args[2:])]
        builder.call(fn, [args[1]] + ptrs)
        return context.get_dummy_value()

    return sig, codegen


#: CVODE's CRDOWN: the carried Newton rate decays by at most this factor per iteration
#: (Hindmarsh et al. 2005, doi:10.1145/1089014.1089020; cvode.c)
_E_CRDOWN = 0.3
_E_MAX_ORDER = 5
_E_NEWTON_MAXITER = 4
_E_MIN_FACTOR = 0.2
_E_MAX_FACTOR = 10.0
_E_EPS = 2.220446049250313e-16
#: keep the step size (and so the LU) when the proposed increase is below this factor (CVODE uses
#: 1.5, scipy 1: always change). 1.2 cut LU factorisations by 30% at equal or better accuracy.
_E_STEP_THRESH = 1.2

# statistics slots
_E_ST_STEPS = 0
_E_ST_FEV = 1
_E_ST_JEV = 2
_E_ST_LU = 3
_E_ST_DENSE_LU = 4  # factorisations where a static pivot failed and the dense block grew
_E_ST_REJECT = 5
_E_ST_NEWTON_FAIL = 6
_E_ST_SEGMENTS = 7

# the entry points are compiled (or loaded from numba's cache) when this module is imported
_V, _M, _I, _U = "float64[::1]", "float64[:, ::1]", "int64[::1]", "uint64[::1]"
_SIG_INTEGRATE = (f"int64(intp, intp, {_V}, {_M}, {_V}, {_V}, {_V}, float64, float64, int64, float64, float64, "
                  f"int64, int64, {', '.join([_U] * 7)}, {_M}, {_I})")
_SIG_STEADY = f"int64(intp, intp, {_I}, {_I}, {_V}, {_I}, {_V}, {_V}, float64, {_I})"


@njit(cache=True, nogil=True)
def _e_dense_tail(A, a0, m, piv, poff, dinv):
    """In-place LU with partial pivoting of the m x m block of ``A`` at (a0, a0) (the LAPACK getrf
    algorithm): the dense block of `_e_factor` and the steady state's dense solves (row swaps only
    within the block's columns; ``piv[poff + k]`` = poff + the row swapped with row k; ``dinv[poff + k]``
    = 1 / U's k-th diagonal). False if the block is singular."""
    for k in range(m):
        kk = a0 + k
        p = k
        amax = abs(A[kk, kk])
        for i in range(k + 1, m):
            a = abs(A[a0 + i, kk])
            if a > amax:
                amax = a
                p = i
        piv[poff + k] = poff + p
        if not (amax > 0.0 and amax < np.inf):
            return False
        if p != k:
            for j in range(a0, a0 + m):
                tmp = A[kk, j]
                A[kk, j] = A[a0 + p, j]
                A[a0 + p, j] = tmp
        inv = 1.0 / A[kk, kk]
        dinv[poff + k] = inv
        for i in range(a0 + k + 1, a0 + m):
            li = A[i, kk] * inv
            A[i, kk] = li
            if li != 0.0:
                for j in range(kk + 1, a0 + m):
                    A[i, j] -= li * A[kk, j]
    return True


@njit(cache=True, nogil=True)
def _e_solve(n, k0, perm, lptr, lidx, uptr, uidx, piv, lval, uval, dinv, T, b, x, tmp):
    for k in range(n):
        tmp[k] = b[perm[k]]
    for k in range(k0):
        v = tmp[k]
        if v != 0.0:
            for q in range(lptr[k], lptr[k + 1]):
                tmp[lidx[q]] -= lval[q] * v
    for k in range(k0, n):
        p = piv[k]
        if p != k:
            v = tmp[k]
            tmp[k] = tmp[p]
            tmp[p] = v
    m = n - k0
    for a in range(1, m):
        s = tmp[k0 + a]
        for c in range(a):
            s -= T[a, c] * tmp[k0 + c]
        tmp[k0 + a] = s
    for a in range(m - 1, -1, -1):
        s = tmp[k0 + a]
        for c in range(a + 1, m):
            s -= T[a, c] * tmp[k0 + c]
        tmp[k0 + a] = s * dinv[k0 + a]
    for k in range(k0 - 1, -1, -1):
        s = tmp[k]
        for r in range(uptr[k], uptr[k + 1]):
            s -= uval[r] * tmp[uidx[r]]
        tmp[k] = s * dinv[k]
    for k in range(n):
        x[perm[k]] = tmp[k]


@njit(cache=True, nogil=True)
def _e_factor(jv, jq, c, n, k0, lptr, lidx, uptr, uidx, upd, V, piv, dinv, T, urow, piv_tol, stats):
    """The one LU factorisation of I - c J (permuted by the static order; J's non-zeros ``jv``
    scattered to ``V[jq]``), on the compressed values ``V`` of the symbolic pattern laid out by
    ``engine.lu_plan``: the static columns of L in ``lptr`` order, the static rows of U in ``uptr``
    order, the static diagonal, then the trailing block row by row. Pivots k < k0 are static while
    each passes the threshold test |a_kk| >= piv_tol max_i |a_ik|; each static step applies its
    updates l_ik u_kj to the targets listed in ``upd`` (for each L entry q of column k, each U entry
    r of row k). From the first pivot that fails (or from k0) the trailing block is copied to ``T``
    (zero off the pattern) and factorised densely with partial pivoting (`_e_dense_tail`).
    Afterwards L's values are ``V[:lptr[k0]]``, U's ``V[lptr[k0]:lptr[k0] + uptr[k0]]``, the
    dense block's factors in ``T``. Returns where the dense block starts, or -1 if singular.
    (Until the fourth 2026-12-07 session the same elimination ran on a dense n x n work array
    scattered into and gathered from: the same operations in the same order, so the same bits, in
    about twice the time; tests/test_engine.py keeps that algorithm as the reference.)"""
    stats[_E_ST_LU] += 1
    nl = lptr[k0]
    dg = nl + uptr[k0]
    tb = dg + np.uint64(k0)
    m = n - k0
    for q in range(V.shape[0]):
        V[q] = 0.0
    for q in range(jq.shape[0]):
        V[jq[q]] = -c * jv[q]
    for k in range(k0):
        V[dg + np.uint64(k)] += 1.0
    for a in range(m):
        V[tb + np.uint64(a * m + a)] += 1.0
    kt = k0
    u = np.uint64(0)
    for k in range(k0):
        piv[k] = k
        pv = V[dg + np.uint64(k)]
        apiv = abs(pv)
        amax = apiv
        for q in range(lptr[k], lptr[k + 1]):
            a = abs(V[q])
            if a > amax:
                amax = a
        if not (apiv > 0.0 and apiv < np.inf and apiv >= piv_tol * amax):
            kt = k
            break
        inv = 1.0 / pv
        u0 = nl + uptr[k]
        nu = uptr[k + 1] - uptr[k]
        for r in range(nu):
            urow[r] = V[u0 + r]
        for q in range(lptr[k], lptr[k + 1]):
            li = V[q] * inv
            V[q] = li
            if li != 0.0:
                for r in range(nu):
                    V[upd[u + r]] -= li * urow[r]
            u += nu
        dinv[k] = inv
    mt = n - kt
    if kt < k0:  # a static pivot failed: the rest of the matrix, as it stands, into the dense block
        stats[_E_ST_DENSE_LU] += 1
        for a in range(mt):
            for b in range(mt):
                T[a, b] = 0.0
        for j in range(kt, k0):
            for q in range(lptr[j], lptr[j + 1]):
                T[np.int64(lidx[q]) - kt, j - kt] = V[q]
            for r in range(uptr[j], uptr[j + 1]):
                T[j - kt, np.int64(uidx[r]) - kt] = V[nl + r]
            T[j - kt, j - kt] = V[dg + np.uint64(j)]
    for a in range(m):
        for b in range(m):
            T[k0 - kt + a, k0 - kt + b] = V[tb + np.uint64(a * m + b)]
    if not _e_dense_tail(T, 0, mt, piv, kt, dinv):
        return -1
    return kt


@njit(cache=True, nogil=True)
def _e_rms(x, scale, n):
    s = 0.0
    for i in range(n):
        v = x[i] / scale[i]
        s += v * v
    return math.sqrt(s / n)


@njit(cache=True, nogil=True)
def _e_change_D(D, order, factor, R, U, RU, tmp):
    """Rescale the difference array D to a new step size h * factor (scipy bdf.change_D); ``tmp``:
    a work array shaped like D."""
    m = order + 1
    for which in range(2):
        fac = factor if which == 0 else 1.0
        M = R if which == 0 else U
        for j in range(m):
            M[0, j] = 1.0
        for i in range(1, m):
            M[i, 0] = 0.0
            for j in range(1, m):
                M[i, j] = M[i - 1, j] * (i - 1 - fac * j) / i
    for i in range(m):
        for j in range(m):
            s = 0.0
            for k in range(m):
                s += R[i, k] * U[k, j]
            RU[i, j] = s
    # D[:m] = RU^T D[:m], the states innermost (vectorised; each sum in the same order as a dot product)
    n = D.shape[1]
    for j in range(m):
        for col in range(n):
            tmp[j, col] = 0.0
        for i in range(m):
            r = RU[i, j]
            for col in range(n):
                tmp[j, col] += r * D[i, col]
    for j in range(m):
        for col in range(n):
            D[j, col] = tmp[j, col]


@njit(cache=True, nogil=True)
def _e_initial_step(rhs, t0, y0, f0, p, t_bound, max_step, atol, rtol, y1, f1, scale, stats):
    """scipy.integrate._ivp.common.select_initial_step for order 1."""
    n = y0.shape[0]
    interval = abs(t_bound - t0)
    if interval == 0.0:
        return 0.0
    for i in range(n):
        scale[i] = atol[i] + abs(y0[i]) * rtol
    d0 = _e_rms(y0, scale, n)
    d1 = _e_rms(f0, scale, n)
    if d0 < 1e-5 or d1 < 1e-5:
        h0 = 1e-6
    else:
        h0 = 0.01 * d0 / d1
    h0 = min(h0, interval)
    for i in range(n):
        y1[i] = y0[i] + h0 * f0[i]
    _call(rhs, t0 + h0, y1, p, f1)
    stats[_E_ST_FEV] += 1
    for i in range(n):
        y1[i] = f1[i] - f0[i]
    d2 = _e_rms(y1, scale, n) / h0
    if d1 <= 1e-15 and d2 <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = math.sqrt(0.01 / max(d1, d2))
    return min(100.0 * h0, h1, interval, max_step)


@njit(cache=True, nogil=True)
def _e_bdf_segment(rhs, jac, t0, t1, y, p, atol, rtol, max_step, max_steps, lu_dgmax, piv_tol, newton_carry, t_out,
                   Y, i_out, k0, perm, lptr, lidx, uptr, uidx, jq, upd, stats):
    """Integrate y' = rhs(t, y, p) from t0 to t1 (y updated in place); fill Y[k] for the
    output times t0 < t_out[k] <= t1 starting at index ``i_out``. Returns (status, i_out):
    status 0 ok, 1 step size too small, 2 too many steps, 3 linear algebra failure."""
    n = y.shape[0]
    n_out = t_out.shape[0]
    nmax = _E_MAX_ORDER
    kappa = np.array([0.0, -0.1850, -1.0 / 9.0, -0.0823, -0.0415, 0.0])
    gamma = np.zeros(nmax + 1)
    for k in range(1, nmax + 1):
        gamma[k] = gamma[k - 1] + 1.0 / k
    alpha = np.empty(nmax + 1)
    error_const = np.empty(nmax + 1)
    for k in range(nmax + 1):
        alpha[k] = (1.0 - kappa[k]) * gamma[k]
        error_const[k] = kappa[k] * gamma[k] + 1.0 / (k + 1)
    newton_tol = max(10.0 * _E_EPS / rtol, min(0.03, math.sqrt(rtol)))

    D = np.zeros((nmax + 3, n))
    jv = np.empty(jq.shape[0])
    kt = k0
    # compressed values of the pattern (`_e_factor`); L's and U's factors are views into it
    nl = np.int64(lptr[k0])
    nu = np.int64(uptr[k0])
    V = np.empty(nl + nu + k0 + (n - k0) * (n - k0))
    lval = V[:nl]
    uval = V[nl:nl + nu]
    urow = np.empty(n)
    dinv = np.empty(n)
    T = np.empty((n, n))
    piv = np.zeros(n, dtype=np.int64)
    f = np.empty(n)
    y_pred = np.empty(n)
    y_new = np.empty(n)
    d = np.empty(n)
    dy = np.empty(n)
    b = np.empty(n)
    psi = np.empty(n)
    scale = np.empty(n)
    tmp = np.empty(n)
    R = np.empty((nmax + 1, nmax + 1))
    U = np.empty((nmax + 1, nmax + 1))
    RU = np.empty((nmax + 1, nmax + 1))
    tmpc = np.empty((nmax + 1, n))

    t = t0
    _call(rhs, t, y, p, f)
    stats[_E_ST_FEV] += 1
    h_abs = _e_initial_step(rhs, t, y, f, p, t1, max_step, atol, rtol, y_new, dy, scale, stats)
    for i in range(n):
        D[0, i] = y[i]
        D[1, i] = f[i] * h_abs
    order = 1
    n_equal_steps = 0
    _call(jac, t, y, p, jv)
    stats[_E_ST_JEV] += 1
    lu_mode = 0  # 0: no valid LU
    c_lu = 1.0   # c of the current LU (reused while |c / c_lu - 1| <= lu_dgmax, when lu_dgmax >= 0)
    reuse = lu_dgmax >= 0.0
    n_steps = 0
    # Newton contraction rate seen with the current LU (-1: none yet; CVODE's crate); with
    # newton_carry it lets the first iteration of the next step pass the convergence test
    rate_lu = -1.0

    while t < t1:
        if n_steps >= max_steps:
            return 2, i_out
        min_step = 10.0 * (np.nextafter(t, np.inf) - t)
        if h_abs > max_step:
            _e_change_D(D, order, max_step / h_abs, R, U, RU, tmpc)
            h_abs = max_step
            n_equal_steps = 0
        elif h_abs < min_step:
            _e_change_D(D, order, min_step / h_abs, R, U, RU, tmpc)
            h_abs = min_step
            n_equal_steps = 0

        current_jac = False
        accepted = False
        n_iter = 0
        t_new = t
        error_norm = 0.0
        while not accepted:
            if h_abs < min_step:
                return 1, i_out
            t_new = t + h_abs
            if t_new > t1:
                t_new = t1
                _e_change_D(D, order, (t_new - t) / h_abs, R, U, RU, tmpc)
                n_equal_steps = 0
                if not reuse:
                    lu_mode = 0
            h = t_new - t
            h_abs = h
            # predictor and psi, the states innermost (vectorised; the sums in scipy's order)
            for i in range(n):
                y_pred[i] = 0.0
                psi[i] = 0.0
            for k in range(order + 1):
                for i in range(n):
                    y_pred[i] += D[k, i]
            for k in range(1, order + 1):
                g = gamma[k]
                for i in range(n):
                    psi[i] += D[k, i] * g
            a_ord = alpha[order]
            for i in range(n):
                scale[i] = atol[i] + rtol * abs(y_pred[i])
                psi[i] = psi[i] / a_ord
            c = h / alpha[order]

            converged = False
            while not converged:
                if lu_mode != 0 and reuse and abs(c / c_lu - 1.0) > lu_dgmax:
                    lu_mode = 0
                if lu_mode == 0:
                    c_lu = c
                    kt = _e_factor(jv, jq, c, n, k0, lptr, lidx, uptr, uidx, upd, V, piv, dinv, T, urow, piv_tol,
                                   stats)
                    lu_mode = 1 if kt >= 0 else 0
                    rate_lu = -1.0
                if lu_mode != 0:
                    # modified Newton (scipy bdf.solve_bdf_system); with a reused LU the correction
                    # is scaled by 2 / (1 + c / c_lu) as in CVODE
                    corr = 2.0 / (1.0 + c / c_lu)
                    for i in range(n):
                        d[i] = 0.0
                        y_new[i] = y_pred[i]
                    dy_norm_old = -1.0
                    for k in range(_E_NEWTON_MAXITER):
                        _call(rhs, t_new, y_new, p, f)
                        stats[_E_ST_FEV] += 1
                        finite = True
                        for i in range(n):
                            if not np.isfinite(f[i]):
                                finite = False
                                break
                        n_iter = k + 1
                        if not finite:
                            break
                        for i in range(n):
                            b[i] = c * f[i] - psi[i] - d[i]
                        _e_solve(n, kt, perm, lptr, lidx, uptr, uidx, piv, lval, uval, dinv, T, b, dy, tmp)
                        if corr != 1.0:
                            for i in range(n):
                                dy[i] *= corr
                        dy_norm = _e_rms(dy, scale, n)
                        rate = -1.0
                        if dy_norm_old >= 0.0:
                            rate = dy_norm / dy_norm_old if dy_norm_old > 0.0 else np.inf
                            # CVODE's estimate: crate = max(CRDOWN crate, rate), CRDOWN = 0.3
                            rate_lu = rate if rate_lu < 0.0 else max(_E_CRDOWN * rate_lu, rate)
                        if rate >= 0.0 and (rate >= 1.0 or
                                            rate ** (_E_NEWTON_MAXITER - k) / (1.0 - rate) * dy_norm > newton_tol):
                            break
                        if not np.isfinite(dy_norm):
                            break
                        for i in range(n):
                            y_new[i] += dy[i]
                            d[i] += dy[i]
                        rate_ok = rate
                        if rate < 0.0 and newton_carry != 0 and 0.0 <= rate_lu < 1.0 and abs(c - c_lu) <= 1e-9 * c_lu:
                            rate_ok = rate_lu  # first iteration: the last rate seen with this LU
                        if dy_norm == 0.0 or (rate_ok >= 0.0 and rate_ok / (1.0 - rate_ok) * dy_norm < newton_tol):
                            converged = True
                            break
                        dy_norm_old = dy_norm
                if not converged:
                    stats[_E_ST_NEWTON_FAIL] += 1
                    if current_jac:
                        break
                    _call(jac, t_new, y_pred, p, jv)
                    stats[_E_ST_JEV] += 1
                    lu_mode = 0
                    current_jac = True

            if not converged:
                h_abs *= 0.5
                _e_change_D(D, order, 0.5, R, U, RU, tmpc)
                n_equal_steps = 0
                lu_mode = 0
                stats[_E_ST_REJECT] += 1
                continue

            safety = 0.9 * (2 * _E_NEWTON_MAXITER + 1) / (2 * _E_NEWTON_MAXITER + n_iter)
            for i in range(n):
                scale[i] = atol[i] + rtol * abs(y_new[i])
                tmp[i] = error_const[order] * d[i]
            error_norm = _e_rms(tmp, scale, n)
            if error_norm > 1.0:
                factor = max(_E_MIN_FACTOR, safety * error_norm ** (-1.0 / (order + 1)))
                h_abs *= factor
                _e_change_D(D, order, factor, R, U, RU, tmpc)
                n_equal_steps = 0
                stats[_E_ST_REJECT] += 1
            else:
                accepted = True

        n_steps += 1
        stats[_E_ST_STEPS] += 1
        n_equal_steps += 1
        t = t_new
        for i in range(n):
            y[i] = y_new[i]
            D[order + 2, i] = d[i] - D[order + 1, i]
            D[order + 1, i] = d[i]
        for k in range(order, -1, -1):
            for i in range(n):
                D[k, i] += D[k + 1, i]

        if n_equal_steps >= order + 1:
            if order > 1:
                for i in range(n):
                    tmp[i] = error_const[order - 1] * D[order, i]
                error_m_norm = _e_rms(tmp, scale, n)
            else:
                error_m_norm = np.inf
            if order < nmax:
                for i in range(n):
                    tmp[i] = error_const[order + 1] * D[order + 2, i]
                error_p_norm = _e_rms(tmp, scale, n)
            else:
                error_p_norm = np.inf
            best = -1.0
            delta = 0
            for q in range(3):
                e = error_m_norm if q == 0 else (error_norm if q == 1 else error_p_norm)
                fq = np.inf if e == 0.0 else e ** (-1.0 / (order + q))
                if fq > best:
                    best = fq
                    delta = q - 1
            factor = min(_E_MAX_FACTOR, safety * best)
            if delta != 0 or factor < 1.0 or factor >= _E_STEP_THRESH:
                order += delta
                h_abs *= factor
                _e_change_D(D, order, factor, R, U, RU, tmpc)
                if not reuse:
                    lu_mode = 0
            n_equal_steps = 0

        # dense output on (t_old, t]: the BDF interpolating polynomial (scipy BdfDenseOutput)
        while i_out < n_out and t_out[i_out] <= t:
            tq = t_out[i_out]
            if tq == t:
                for i in range(n):
                    Y[i_out, i] = y[i]
            else:
                for i in range(n):
                    Y[i_out, i] = D[0, i]
                pk = 1.0
                for k in range(order):
                    pk *= (tq - (t - h_abs * k)) / (h_abs * (k + 1))
                    for i in range(n):
                        Y[i_out, i] += D[k + 1, i] * pk
            i_out += 1
    return 0, i_out


@njit(_SIG_INTEGRATE, cache=True, nogil=True)
def engine_integrate(rhs, jac, y0, P_seg, seg_t, t_out, atol, rtol, max_step, max_steps, lu_dgmax, piv_tol,
                     newton_carry, k0, perm, lptr, lidx, uptr, uidx, jq, upd, Y, stats):
    """One patient through all dosing segments of the model whose generated right-hand side and
    Jacobian are at the addresses ``rhs`` and ``jac`` (the Jacobian's non-zeros go to ``jq`` in the
    compressed values of `_e_factor`, whose update list is ``upd``).
    ``P_seg[s]`` is the parameter vector on
    [seg_t[s], seg_t[s+1]] (inputs set to that segment's infusion rates). Fills ``Y`` (one row per
    output time) and ``stats``. Returns 0 on success, else an error code (see mscsim.engine)."""
    n = y0.shape[0]
    n_out = t_out.shape[0]
    y = y0.copy()
    i_out = 0
    for s in range(seg_t.shape[0] - 1):
        a = seg_t[s]
        b = seg_t[s + 1]
        while i_out < n_out and t_out[i_out] <= a:
            for i in range(n):
                Y[i_out, i] = y[i]
            i_out += 1
        if b > a:
            stats[_E_ST_SEGMENTS] += 1
            status, i_out = _e_bdf_segment(rhs, jac, a, b, y, P_seg[s], atol, rtol, max_step, max_steps, lu_dgmax,
                                           piv_tol, newton_carry, t_out, Y, i_out, k0, perm, lptr, lidx, uptr, uidx, jq,
                                           upd, stats)
            if status != 0:
                return status
            for i in range(n):
                if not np.isfinite(y[i]):
                    return 4
    while i_out < n_out and t_out[i_out] <= seg_t[seg_t.shape[0] - 1]:
        for i in range(n):
            Y[i_out, i] = y[i]
        i_out += 1
    if i_out < n_out:
        return 5
    return 0


@njit(cache=True, nogil=True)
def _e_residual(rhs, y, free, p, F, xf):
    """F = rhs on the free states; returns max |F_i| / (1 + |x_i|) (inf if not finite)."""
    n = y.shape[0]
    nf = free.shape[0]
    dy = np.empty(n)
    _call(rhs, 0.0, y, p, dy)
    r = 0.0
    for q in range(nf):
        F[q] = dy[free[q]]
        xf[q] = y[free[q]]
        v = abs(F[q]) / (1.0 + abs(xf[q]))
        if not np.isfinite(v):
            return np.inf
        if v > r:
            r = v
    return r


@njit(cache=True, nogil=True)
def _e_free_jac(jac, jrow, jcol, fpos, y, p, jv, A, shift):
    """A = J[free, free] - shift * I (``fpos``: position of each state among the free ones, or -1)."""
    _call(jac, 0.0, y, p, jv)
    nf = A.shape[0]
    for a in range(nf):
        for b in range(nf):
            A[a, b] = 0.0
    for q in range(jv.shape[0]):
        a = fpos[jrow[q]]
        b = fpos[jcol[q]]
        if a >= 0 and b >= 0:
            A[a, b] = jv[q]
    for a in range(nf):
        A[a, a] -= shift


@njit(cache=True, nogil=True)
def _e_dense_lu_solve(A, b, x, ws):
    """x = A^-1 b by the engine's dense block routine (`_e_dense_tail`: LU with partial pivoting;
    A overwritten by its factors) and `_e_solve`; False if A is singular. ``ws``: workspace of
    ``_e_dense_ws``."""
    nf, ident, noi, nof, piv, dinv, tmp = ws
    if not _e_dense_tail(A, 0, nf, piv, 0, dinv):
        return False
    _e_solve(nf, 0, ident, noi, noi, noi, noi, piv, nof, nof, dinv, A, b, x, tmp)
    return True


@njit(cache=True, nogil=True)
def _e_dense_ws(nf):
    """Workspace of ``_e_dense_lu_solve`` for nf x nf systems."""
    noi = np.zeros(1, dtype=np.uint64)
    return nf, np.arange(nf).astype(np.uint64), noi, np.zeros(1), np.zeros(nf, dtype=np.int64), np.empty(nf), np.empty(nf)


@njit(cache=True, nogil=True)
def _e_wnorm(F, w):
    s = 0.0
    for q in range(F.shape[0]):
        v = F[q] * w[q]
        s += v * v
    return math.sqrt(s)


@njit(cache=True, nogil=True)
def _e_newton(rhs, jac, jrow, jcol, fpos, y, free, p, tol, max_iter, stats):
    """Damped Newton on the free states (backtracking on the weighted residual norm).
    True when max |F_i| / (1 + |x_i|) < tol; y is updated in place."""
    n = y.shape[0]
    nf = free.shape[0]
    F = np.empty(nf)
    Ft = np.empty(nf)
    xf = np.empty(nf)
    w = np.empty(nf)
    dx = np.empty(nf)
    negF = np.empty(nf)
    jv = np.empty(jrow.shape[0])
    A = np.empty((nf, nf))
    ws = _e_dense_ws(nf)
    yt = y.copy()
    r = _e_residual(rhs, y, free, p, F, xf)
    for it in range(max_iter):
        if r < tol:
            return True
        if not np.isfinite(r):
            return False
        stats[0] += 1
        _e_free_jac(jac, jrow, jcol, fpos, y, p, jv, A, 0.0)
        for q in range(nf):
            negF[q] = -F[q]
            w[q] = 1.0 / (1.0 + abs(xf[q]))
        if not _e_dense_lu_solve(A, negF, dx, ws):
            return False
        phi = _e_wnorm(F, w)
        lam = 1.0
        ok = False
        while lam >= 1.0 / 1024.0:
            for i in range(n):
                yt[i] = y[i]
            for q in range(nf):
                yt[free[q]] = y[free[q]] + lam * dx[q]
            rt = _e_residual(rhs, yt, free, p, Ft, xf)
            if np.isfinite(rt) and _e_wnorm(Ft, w) <= (1.0 - 1e-4 * lam) * phi:
                ok = True
                break
            lam *= 0.5
        if not ok:
            return False
        for i in range(n):
            y[i] = yt[i]
        r = _e_residual(rhs, y, free, p, F, xf)
    return r < tol


@njit(cache=True, nogil=True)
def _e_ptc(rhs, jac, jrow, jcol, fpos, y, free, p, atol, max_iter, stats):
    """Pseudo-transient continuation (backward Euler on the free states with the time step
    grown by switched evolution relaxation) towards the stable untreated state; y in place."""
    n = y.shape[0]
    nf = free.shape[0]
    F = np.empty(nf)
    Ft = np.empty(nf)
    xf = np.empty(nf)
    w = np.empty(nf)
    dx = np.empty(nf)
    jv = np.empty(jrow.shape[0])
    A = np.empty((nf, nf))
    ws = _e_dense_ws(nf)
    yt = y.copy()
    for q in range(nf):
        w[q] = 1.0 / (atol[free[q]] + 1e-3 * abs(y[free[q]]))
    dt = 0.1
    r = _e_residual(rhs, y, free, p, F, xf)
    if not np.isfinite(r):
        return False
    fn = _e_wnorm(F, w)
    for it in range(max_iter):
        stats[1] += 1
        _e_free_jac(jac, jrow, jcol, fpos, y, p, jv, A, 1.0 / dt)
        for a in range(nf):
            for b in range(nf):
                A[a, b] = -A[a, b]
        if not _e_dense_lu_solve(A, F, dx, ws):  # (I/dt - J) dx = F
            dt *= 0.25
            continue
        for i in range(n):
            yt[i] = y[i]
        for q in range(nf):
            yt[free[q]] = y[free[q]] + dx[q]
        rt = _e_residual(rhs, yt, free, p, Ft, xf)
        if not np.isfinite(rt):
            dt *= 0.25
            if dt < 1e-12:
                return False
            continue
        fn_new = _e_wnorm(Ft, w)
        for i in range(n):
            y[i] = yt[i]
        for q in range(nf):
            F[q] = Ft[q]
        grow = fn / fn_new if fn_new > 0.0 else 1e3
        dt = min(dt * min(max(grow, 0.5), 10.0), 1e12)
        fn = fn_new
        if dt >= 1e8:
            return True
    return False


@njit(_SIG_STEADY, cache=True, nogil=True)
def engine_steady(rhs, jac, jrow, jcol, y, free, p, atol, tol, stats):
    """Untreated steady state of the free states (y in place) of the model whose generated
    right-hand side and Jacobian (non-zeros at (jrow, jcol)) are at the addresses ``rhs`` and
    ``jac``: Newton from the initial guess, else pseudo-transient continuation then Newton.
    Returns 0 when max|F|/(1+|x|) < tol."""
    fpos = np.full(y.shape[0], -1, dtype=np.int64)
    for q in range(free.shape[0]):
        fpos[free[q]] = q
    y_start = y.copy()
    if _e_newton(rhs, jac, jrow, jcol, fpos, y, free, p, tol, 50, stats):
        return 0
    for i in range(y.shape[0]):
        y[i] = y_start[i]
    _e_ptc(rhs, jac, jrow, jcol, fpos, y, free, p, atol, 400, stats)
    if _e_newton(rhs, jac, jrow, jcol, fpos, y, free, p, tol, 50, stats):
        return 0
    return 1


@njit("void(intp, float64, float64[::1], float64[::1], float64[::1])", cache=True, nogil=True)
def call_vec(fn, t, y, p, out):
    """``fn(t, y, p, out)`` for a generated function at address ``fn`` (from Python)."""
    _call(fn, t, y, p, out)


@njit("void(intp, float64, float64[::1], float64[::1], int64[::1], int64[::1], float64[::1], float64[:, ::1])",
      cache=True, nogil=True)
def jac_dense(fn, t, y, p, rows, cols, jv, J):
    """Dense Jacobian ``J`` from the generated non-zeros function at ``fn`` (from Python)."""
    _call(fn, t, y, p, jv)
    for i in range(J.shape[0]):
        for j in range(J.shape[1]):
            J[i, j] = 0.0
    for q in range(jv.shape[0]):
        J[rows[q], cols[q]] = jv[q]


@njit("void(intp, float64[::1], float64[:, ::1], float64[::1], float64[:, ::1])", cache=True, nogil=True)
def outputs_traj(fn, ts, Y, p, OUT):
    """Read-outs ``OUT[k]`` at every point ``(ts[k], Y[k])`` of a trajectory (``fn``: the model's
    generated read-out function)."""
    for k in range(ts.shape[0]):
        _call(fn, ts[k], Y[k], p, OUT[k])
