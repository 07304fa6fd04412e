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
    # a row whose derivatives all underflow (e.g. a smoothed step far from its switch, ~1e-196) is zero
    row_scale = np.abs(Jfd).max(axis=1, keepdims=True) + 1e-12
    assert np.max(np.abs(J - Jfd) / row_scale) < 1e-4
    # the declared sparsity covers every non-zero
    # (entries below the finite-difference accuracy are rounding noise of terms that cancel exactly)
    assert not np.any((np.abs(Jfd) > 1e-4 * row_scale) & ~c.jac_sparsity)


def test_generated_module_holds_only_the_model_and_the_engine_is_shared():
    """A model's generated module holds only its three functions (the engine's kernels are compiled
    once for every model and call them by address); the Python entry points check array shapes."""
    from mscsim.numerics import _bdf_kernels as K
    from mscsim.numerics import engine

    m = build_model(None, "liver").ode
    c = compile_model(m)
    src = c.path.read_text()
    assert all(f"def {f}(t, y_ptr, p_ptr, out_ptr)" in src for f in ("rhs", "jac", "outputs"))
    assert "def engine_integrate" not in src and any(c.path.parent.glob(c.path.stem + ".*.o"))  # machine code cached
    n, npar = len(m.states), len(m.params)
    with pytest.raises(ValueError, match="expected"):
        c.rhs(0.0, np.zeros(n - 1), np.zeros(npar), np.empty(n))
    p = np.array([q.value for q in m.params.values()])
    y = engine.steady_state(c, p)
    Y = engine.integrate(c, p, y, np.array([0.0, 1.0]), [])
    J = np.empty((n, n))
    c.jac(0.0, Y[-1], p, J)
    jv = np.empty(c.module.N_JAC)
    c.jac_values(0.0, Y[-1], p, jv)
    assert np.array_equal(J[c.module.JAC_ROWS, c.module.JAC_COLS], jv)
    assert len(K.engine_integrate.overloads) == 1 and len(K.engine_steady.overloads) == 1


def test_llvm_translation_computes_what_numba_computes_from_the_same_source():
    """The model's functions are compiled by translating their generated source to LLVM IR; numba
    compiling the same source (the fallback) gives bit-identical results."""
    from numba import cfunc

    from mscsim.numerics import codegen

    m = build_model(None, "liver").ode
    c = compile_model(m)
    n, no = len(m.states), len(m.outputs)
    by_numba = [cfunc(c.module.SIG, error_model="numpy")(getattr(c.module, f)).address
                for f in ("rhs", "jac", "outputs")]
    p = np.array([q.value for q in m.params.values()])
    rng = np.random.default_rng(1)
    for _ in range(20):
        y = np.abs(rng.normal(1.0, 0.5, n)) * np.array([1e6 if "cell" in s.unit else 1.0 for s in m.states.values()])
        for addr_llvm, addr_numba, size in zip(c.addresses, by_numba, (n, c.module.N_JAC, no)):
            a, b = np.empty(size), np.empty(size)
            c._call(addr_llvm, size, 0.7, y, p, a)
            c._call(addr_numba, size, 0.7, y, p, b)
            assert np.array_equal(a, b, equal_nan=True)
    with pytest.raises(codegen._Unsupported):   # anything else is compiled by numba instead
        codegen.llvm_ir("def rhs(t, y_ptr, p_ptr, out_ptr):\n    x = math.tanh(t)\n", "x_")


def test_python_entry_points_accept_any_layout_and_agree():
    """rhs/jac called with non-contiguous or int arrays give what the contiguous float call gives."""
    m = build_model(None, "liver").ode
    c = compile_model(m)
    n = len(m.states)
    p = np.array([q.value for q in m.params.values()])
    y = np.abs(np.random.default_rng(2).normal(1.0, 0.3, n)) * 1e3
    d1, d2 = np.empty(n), np.empty((n, 2))
    c.rhs(0.0, y, p, d1)
    c.rhs(0, np.repeat(y[:, None], 2, axis=1)[:, 0], p, d2[:, 1])
    assert np.array_equal(d1, d2[:, 1])
    J1, J2 = np.empty((n, n)), np.empty((n, n), order="F")
    c.jac(0.0, y, p, J1)
    c.jac(0.0, y, p, J2)
    assert np.array_equal(J1, J2)


_KERNEL_RUN = """
import hashlib, sys
import numpy as np
if sys.argv[1] == "numba":   # numba's own cache loading, its target context refreshed first
    import mscsim.numerics._bdf_kernels  # noqa: F401
import numba.core.base
refreshed = []
numba.core.base.BaseContext.refresh = lambda self, _r=numba.core.base.BaseContext.refresh: (refreshed.append(1), _r(self))[1]
import threading
from numba.core import caching
from mscsim.numerics.codegen import kernels
threads = [threading.Thread(target=kernels) for _ in range(3)]  # first loads from several threads at once
[t.start() for t in threads]
[t.join() for t in threads]
assert caching.Cache.load_overload.__module__ == "numba.core.caching", "numba's loader left patched"
from mscsim.dosing import Dose, Regimen
from mscsim.model import build_model
from mscsim.numerics import compile_model, integrate, steady_state
from mscsim.simulate import parameter_vector
from mscsim.trial import patient_administrations
composed = build_model("ra")
c = compile_model(composed.ode)
reg = Regimen((Dose.parse("1e6 cells/kg", "iv"),))
p = parameter_vector(composed, weight_kg=70.0, regimen=reg)
y0 = steady_state(c, p)
Y = integrate(c, p, y0, np.linspace(0.0, 60.0, 31), [a for d in reg.doses for a in Regimen((d,)).administrations(70.0)])
out = np.empty((31, c.n_outputs)); c.outputs_traj(np.linspace(0.0, 60.0, 31), Y, p, out)
J = np.empty((c.n_states, c.n_states)); c.jac(0.0, y0, p, J)
print(hashlib.sha256(b"".join(a.tobytes() for a in (y0, Y, out, J))).hexdigest(), len(refreshed))
"""


def test_kernels_loaded_without_numbas_refresh_compute_the_same_bits():
    """The engine's kernels loaded from numba's cache without its target-context refresh (a start-up
    cost) compute what they compute when loaded through numba's own path, in fresh processes, with
    no refresh in the run itself; loaded from several threads at once, numba's loader is restored."""
    import subprocess
    import sys

    runs = {how: subprocess.run([sys.executable, "-c", _KERNEL_RUN, how], capture_output=True, text=True,
                                timeout=300) for how in ("numba", "mscsim")}
    for how, r in runs.items():
        assert r.returncode == 0, (how, r.stderr[-2000:])
    digest = {how: r.stdout.split()[-2] for how, r in runs.items()}
    assert digest["numba"] == digest["mscsim"]
    assert runs["mscsim"].stdout.split()[-1] == "0"  # nothing in the run needed the refreshed context


def test_cache_loads_fall_back_to_numbas_own_path(monkeypatch):
    """A miss or an error of the load without refresh goes through numba's own load_overload, and
    leaving restores numba's method."""
    from numba.core import caching

    from mscsim.numerics.codegen import _CacheLoadsWithoutRefresh

    orig = caching.Cache.load_overload
    calls = []
    monkeypatch.setattr(caching.Cache, "load_overload", lambda self, sig, ctx: calls.append(sig) or "numba's")

    class Broken:
        def _guard_against_spurious_io_errors(self):
            raise RuntimeError("changed numba internals")

    with _CacheLoadsWithoutRefresh():
        assert caching.Cache.load_overload(Broken(), "sig", None) == "numba's"
    assert calls == ["sig"]
    assert caching.Cache.load_overload is not orig  # the test's stand-in is back, not replaced
    monkeypatch.undo()
    assert caching.Cache.load_overload is orig
