"""Sensitivity analysis (issue 9): Sobol indices of the Ishigami function are recovered (known
analytic values), and the model wrapper runs end to end."""

import numpy as np
import pytest

from mscsim import sensitivity as sens

# Ishigami (a=7, b=0.1): analytic S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437)
S1_TRUE = np.array([0.3139, 0.4424, 0.0])
ST_TRUE = np.array([0.5576, 0.4424, 0.2437])


def ishigami(X, a=7.0, b=0.1):
    return np.sin(X[:, 0]) + a * np.sin(X[:, 1]) ** 2 + b * X[:, 2] ** 4 * np.sin(X[:, 0])


def test_sobol_recovers_ishigami_indices():
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    t = sens.sobol_indices(problem, ishigami, n=4096, seed=3)
    assert np.allclose(t["S1"], S1_TRUE, atol=0.03)
    assert np.allclose(t["ST"], ST_TRUE, atol=0.03)
    # the CIs cover the truth
    assert np.all(np.abs(t["ST"] - ST_TRUE) <= t["ST_conf"] + 0.01)


def test_morris_ranks_ishigami_inputs():
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    t = sens.morris_indices(problem, ishigami, r=40, seed=2)
    assert t["parameter"].iloc[-1] in ("x1", "x3") and t["mu_star"].max() > 1.0


def test_model_sensitivity_runs_and_is_worker_independent():
    p = sens.make_problem("ra", "das28_esr", 30.0, names=["P50_memory_ra", "iota_P_ra", "k_syn"])
    a = sens.run(p, "sobol", n=8, seed=5, progress=False)
    b = sens.run(p, "sobol", n=8, seed=5, workers=2, progress=False)
    assert list(a["parameter"]) == ["P50_memory_ra", "iota_P_ra", "k_syn"]
    assert np.allclose(a[["S1", "ST"]].to_numpy(), b[["S1", "ST"]].to_numpy(), equal_nan=True)
    assert (a["failed_runs"] == 0).all()
    # the MSC memory strength matters for the 30-day DAS28; total indices are finite
    assert np.isfinite(a["ST"]).all()


def test_bad_sensitivity_input():
    from mscsim.errors import MscsimError

    with pytest.raises(MscsimError, match="unknown endpoint"):
        sens.make_problem("ra", "cdai", 30.0)
    with pytest.raises(MscsimError, match="unknown parameter"):
        sens.make_problem("ra", "das28_esr", 30.0, names=["nope", "k_syn"])


def test_small_sobol_flags_impossible_indices():
    """With few samples the estimators give S1 < 0 or S1 > ST; the table says so (issue 21)."""
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    t = sens.sobol_indices(problem, ishigami, n=8, seed=3)
    bad = (t["S1"] < 0) | (t["S1"] > t["ST"]) | (t[["S1_conf", "ST_conf"]].max(axis=1) > sens.WIDE_CI)
    assert bad.any()
    assert (t.loc[bad, "note"] != "").all() and (t.loc[~bad, "note"] == "").all()
    assert any("increase --n" in w for w in sens.reliability_warnings(t))
    big = sens.sobol_indices(problem, ishigami, n=4096, seed=3)
    assert not any("unreliable" in w for w in sens.reliability_warnings(big))


def test_runaway_baseline_fails_fast_with_bounded_memory():
    """A Morris point of the RA model whose untreated state runs away (near t = 105 d) made the
    steady-state fallback integrate for ever and grow memory by ~55 MB/s (issue 21)."""
    import resource
    import time

    from mscsim.simulate import simulate

    from SALib.sample import morris as morris_sample

    from mscsim.model import build_model
    from mscsim.numerics import compile_model, engine
    from mscsim.simulate import parameter_vector

    p = sens.make_problem("ra", "das28_esr", 84.0)
    # the README command's Morris screen (r = 6, seed 1): its points without an untreated steady
    # state (the compiled Newton finds none) are the ones that made the fallback run away
    V = p.to_values(morris_sample.sample(p.salib(), 6, num_levels=4, seed=1))
    comp = build_model("ra")
    c = compile_model(comp.ode)
    no_steady = [r for r in V if engine.steady_state(
        c, parameter_vector(comp, regimen=p.regimen, overrides=dict(zip(p.names, map(float, r))))) is None]
    assert no_steady, "the screen has no point without a steady state: pick another seed"
    row = no_steady[0]
    simulate(p.regimen, 1.0, disease="ra")           # load the compiled model first
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    y = sens._evaluate_point((p, row))
    assert time.perf_counter() - t0 < 60.0
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024 < 200   # MB
    assert np.isnan(y)                               # reported as a failed run, not a hang


def test_cli_sensitivity_with_default_parameters_finishes(tmp_path):
    """The README command (default parameters: Morris screen of ~31, then Sobol on the top 6), with a
    small --n so it stays a test; without a terminal it prints plain progress lines."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"))
    res = subprocess.run([sys.executable, "-m", "mscsim", "sensitivity", "--disease", "ra", "--endpoint",
                          "das28_esr", "--at", "12 wk", "--n", "4", "-o", str(tmp_path)],
                         capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "model runs: " in res.stderr and "Morris screen of" in res.stderr
    assert (tmp_path / "sobol_das28_esr.csv").exists() and (tmp_path / "morris_screen.csv").exists()
    assert "unreliable Sobol indices" in res.stderr        # n = 4 cannot give trustworthy indices
