"""First-run compile time per model (issue 19, item 4), with a fresh compile cache.

Each model is compiled in its own fresh Python process with ``MSCSIM_CACHE`` pointing at a new
empty folder, so nothing is reused from memory or disk; the phases are timed separately: building
the model, generating the source (sympy), importing it, and numba's compilation of each kernel on
its first call (right-hand side, Jacobian, read-outs, steady state, integrator). A second run in
another fresh process on the same folder times the load from numba's disk cache.

``--baseline-src DIR`` runs the same measurement with another checkout's ``src`` (for example the
main branch before a change) in the same run, one model after the other, and prints the ratio.

    PYTHONPATH=$PWD/src python benchmarks/bench_compile.py ra liver --baseline-src /path/to/old/src
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import importlib.util, json, sys, time
t0 = time.perf_counter()
import numpy as np
from mscsim.model import build_model
from mscsim.simulate import parameter_vector
from mscsim.numerics import codegen, engine
from mscsim.numerics.codegen import compile_model
ph = {"import": time.perf_counter() - t0}
cpu = {}
disease, target = sys.argv[1] or None, sys.argv[2] or None

def tick(name, t):
    ph[name] = time.perf_counter() - t[0]
    cpu[name] = time.process_time() - t[1]
    return time.perf_counter(), time.process_time()

t = time.perf_counter(), time.process_time()
if hasattr(codegen, "kernels"):  # kernels shared by every model: compiled once per installation
    codegen.kernels()
t = tick("engine kernels (once)", t)
composed = build_model(disease, target).symbolic()   # the equations (sympy), as a first run builds them
m = composed.ode
t = tick("build_model", t)
gen = codegen.generate_source
spent = [0.0, 0.0]

def timed_generate(model):
    g0, c0 = time.perf_counter(), time.process_time()
    try:
        return gen(model)
    finally:
        spent[0] += time.perf_counter() - g0
        spent[1] += time.process_time() - c0

codegen.generate_source = timed_generate
c = compile_model(m)
ph["generate_source (sympy)"], cpu["generate_source (sympy)"] = spent
t = tick("compile_model (write + import)", t)
ph["compile_model (write + import)"] -= spent[0]
cpu["compile_model (write + import)"] -= spent[1]
p = np.ascontiguousarray(parameter_vector(composed, weight_kg=70.0), dtype=float)
n = len(m.states)
y = np.array([s.init for s in m.states.values()], dtype=float)
c.rhs(0.0, y, p, np.empty(n))
t = tick("numba rhs", t)
c.jac(0.0, y, p, np.empty((n, n)))
t = tick("numba jac", t)
c.outputs(0.0, y, p, np.empty(len(m.outputs)))
t = tick("numba outputs", t)
y0 = engine.steady_state(c, p)
t = tick("numba engine_steady", t)
y0 = y if y0 is None else y0
ts = np.array([0.0, 1.0])
Y = engine.integrate(c, p, y0, ts, [])
t = tick("numba engine_integrate", t)
c.outputs_traj(ts, Y, p, np.empty((2, len(m.outputs))))
t = tick("numba outputs_traj", t)
ph["n_states"] = n
ph["source_lines"] = len(c.path.read_text().splitlines())
print("RESULT " + json.dumps({"wall": ph, "cpu": cpu}))
"""

MODELS = {"ra": ("ra", ""), "t1d": ("t1d", ""), "ms": ("ms", ""), "sle": ("sle", ""), "ibd": ("ibd", ""),
          "liver": ("liver", ""), "kinetics": ("", "liver")}


def measure(src: str, model: str, cache: str) -> dict:
    env = dict(os.environ, PYTHONPATH=src, MSCSIM_CACHE=cache, NUMBA_CACHE_DIR=cache, MSCSIM_NO_WARM="1")
    out = subprocess.run([sys.executable, "-c", CHILD, *MODELS[model]], env=env, capture_output=True, text=True)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(out.stderr[-2000:])


def first_and_cached(src: str, model: str) -> tuple[dict, dict]:
    with tempfile.TemporaryDirectory(prefix="mscsim-bench-compile-") as cache:
        first = measure(src, model, cache)
        again = measure(src, model, cache)
    return first, again


SKIP = ("import", "n_states", "source_lines")


def total(r: dict, kind: str = "wall", per_model: bool = False) -> float:
    return sum(v for k, v in r[kind].items() if k not in SKIP and not (per_model and k.startswith("engine kernels")))


def report(label: str, first: dict, again: dict) -> None:
    w = first["wall"]
    print(f"  {label}: first run {total(first):6.1f} s wall, {total(first, 'cpu'):6.1f} s CPU "
          f"(this model alone, without the shared kernels: {total(first, per_model=True):.1f} s wall, "
          f"{total(first, 'cpu', per_model=True):.1f} s CPU); cached run {total(again):.1f} s wall, "
          f"{total(again, 'cpu'):.1f} s CPU; "
          f"{w['n_states']} states, {w['source_lines']} generated lines")
    for k, v in w.items():
        if k not in SKIP:
            print(f"      {k:32s} {v:7.2f} s wall {first['cpu'][k]:7.2f} s CPU")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", default=["ra", "liver", "kinetics"], choices=sorted(MODELS))
    ap.add_argument("--baseline-src", help="src folder of the checkout to compare with, measured in the same run")
    args = ap.parse_args()
    here = str(Path(__file__).resolve().parents[1] / "src")
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    for model in args.models:
        print(f"{model}:")
        t0 = time.perf_counter()
        first, again = first_and_cached(here, model)
        report("this checkout", first, again)
        if args.baseline_src:
            bf, ba = first_and_cached(args.baseline_src, model)
            report("baseline     ", bf, ba)
            print(f"  first-run ratio baseline / this: {total(bf) / total(first):.1f}x wall, "
                  f"{total(bf, 'cpu') / total(first, 'cpu'):.1f}x CPU (first model of a fresh installation); "
                  f"{total(bf) / total(first, per_model=True):.1f}x wall for this model once the shared "
                  "kernels are compiled")
        print(f"  (wall {time.perf_counter() - t0:.0f} s, load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
