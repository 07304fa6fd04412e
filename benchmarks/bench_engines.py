"""Patients per second of mscsim's integration engines and of libRoadRunner, on the full RA model.

    python benchmarks/bench_engines.py            # N = 100, 1,000, 10,000 (several minutes)
    python benchmarks/bench_engines.py --quick    # small N, a minute or two

What is measured (all in one run, so the engines are compared under the same machine load):

- the simulation of N virtual RA patients (kinetics + immune network + RA: 66 states), each with
  his own random effects and body weight, 1e6 cells/kg IV at day 0, read-outs on the trial grid
  (61 points + endpoint days) over one year. Every engine starts from the same untreated steady
  state and gets the same parameters, doses, output times and tolerances (rtol 1e-6, each
  state's own atol):
  * ``scipy``: ``solve_ivp(LSODA)`` per dosing segment with the numba right-hand side and exact
    Jacobian (Python callbacks), the reference engine;
  * ``compiled``: mscsim's compiled BDF engine (``mscsim.numerics.engine``), one numba call per patient;
  * ``compiled-v1``: the same engine with the options of its previous version (scipy's rule of two
    Newton iterations per step, ``newton_carry=False``; the static pivot order without the probe's
    deferred pivots), the baseline of the engine's own speed-up in the same run;
  * ``roadrunner``: libRoadRunner (CVODE) on the project's own SBML export of the same model
    (``mscsim.sbml.export_sbml``), doses as SBML events; per patient: reset, set parameters,
    reset (so the dose events see them), set the baseline state, simulate;
  each serially and in a 2-process pool (one model load per worker, not timed: shown as setup);
- each (engine, mode, N) runs in a fresh process, so peak memory (``ru_maxrss``; pools: parent +
  2 x largest worker) belongs to that measurement; a run whose projected time exceeds ``--budget``
  is skipped and its projection printed;
- the compiled engine against libRoadRunner in paired rounds (serial, N = 1,000, ``--paired``
  rounds): both engines back to back in alternating order, so the machine's drift between
  measurements falls on both; the ratio of each round and their median;
- cost against simulated days (90, 365, 730), agreement with scipy Radau (rtol 1e-10, atol x 1e-3)
  on the RA model and the kinetics model, the compiled engine's work per patient, the untreated
  baseline (compiled Newton vs MINPACK), and the wall time of a whole 1,000-patient virtual trial
  (``run_trial``: screening, simulation, endpoint observation, statistics).

The output is printed and written to ``benchmarks/RESULTS.md``. Speed is never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RTOL = 1e-6
SEED = 20240607


# ----------------------------------------------------------------------------- patients

def _model():
    from mscsim.numerics.codegen import compile_model
    from mscsim.model import build_model

    composed = build_model("ra")
    return composed, compile_model(composed.ode)


def regimen():
    from mscsim.dosing import Dose, Regimen

    return Regimen((Dose.parse("1e6 cells/kg", "iv"),))


def out_times(days: float) -> np.ndarray:
    """The trial's grid: 61 time-course points plus the endpoint days (baseline, mid, end)."""
    return np.unique(np.concatenate([np.linspace(0.0, days, 61), [0.0, round(days / 2), days]]))


def draw_patients(n: int, path: Path) -> None:
    """N virtual RA patients drawn as a trial draws them (random effects, weight), with their own
    untreated steady state; saved for the measurement processes."""
    from mscsim import parameters
    from mscsim.population import VirtualPatient, covariate_specs, draw_candidate, iiv_table
    from mscsim.scenario import load_scenario
    from mscsim.numerics.steady import steady_state
    from mscsim.trial import _patient_vector

    composed, compiled = _model()
    sc = load_scenario({"name": "bench", "disease": "ra", "seed": SEED,
                        "arms": [{"name": "msc", "n": 1, "regimen": [{"dose": "1e6 cells/kg", "route": "iv"}]}],
                        "endpoints": [{"name": "das28_esr", "at": "365 d"}]})
    iiv = iiv_table(composed.ode.params)
    typical = {k: composed.ode.params[k].value for k in iiv}
    typical.update({k: v for k, v in parameters.calibrated("ra").items() if k in typical})
    covs = covariate_specs(sc, composed.disease_module)
    reg = regimen()
    P, Y0, W = [], [], []
    for k in range(n):
        cov, params, seed = draw_candidate(SEED, 0, k, covs, iiv, typical)
        pt = VirtualPatient("msc", k, k, cov, params, seed)
        p = _patient_vector(composed, pt, reg)
        P.append(p)
        Y0.append(steady_state(compiled, p))
        W.append(cov["weight_kg"])
    np.savez(path, P=np.array(P), Y0=np.array(Y0), W=np.array(W))


# ----------------------------------------------------------------------------- engines

class Engine:
    """One engine, loaded once per process; ``run(i)`` simulates patient i (states + read-outs)."""

    def __init__(self, name: str, data: str, days: float, sbml: str | None = None):
        self.name = name
        z = np.load(data)
        self.P, self.Y0, self.W = z["P"], z["Y0"], z["W"]
        self.times = out_times(days)
        self.composed, self.compiled = _model()
        reg = regimen()
        self.admins = [reg.administrations(float(w)) for w in self.W]
        self.n_out = len(self.composed.ode.outputs)
        if name == "roadrunner":
            self._rr_setup(Path(sbml).read_text())
        elif name.startswith("compiled"):
            from mscsim.numerics import engine

            self.stats = np.zeros(len(engine.STAT_NAMES), dtype=np.int64)
            self.options = {}
            if name == "compiled-v1":  # the engine before issue 19's last session: scipy's Newton rule, no probe
                self.options = {"newton_carry": False, "lu": engine.lu_plan(self.compiled.jac_sparsity)}
        self.run(0)  # warm-up: numba cache load / first-call costs

    def _rr_setup(self, sbml: str) -> None:
        import roadrunner

        ode = self.composed.ode
        rr = self.rr = roadrunner.RoadRunner(sbml)
        rr.integrator.relative_tolerance = RTOL
        for s, st in ode.states.items():
            rr.integrator.setIndividualTolerance(s, st.atol)
        rr.integrator.maximum_num_steps = 100000
        rr.timeCourseSelections = ["time"] + ode.state_names
        m = rr.model
        gp = {k: i for i, k in enumerate(m.getGlobalParameterIds())}
        fs = {k: i for i, k in enumerate(m.getFloatingSpeciesIds())}
        # inputs (in_*) are driven by the dose events: setting them by hand would cancel the event
        names = [k for k in ode.param_names if k in gp and not k.startswith("in_")]
        self.rr_pi = np.array([gp[k] for k in names], dtype=np.int32)
        self.rr_pv = np.array([ode.param_names.index(k) for k in names])
        self.rr_dose = np.array([gp["dose1_rate"], gp["dose1_cells"]], dtype=np.int32)
        st = ode.state_names
        self.rr_fs = np.array([fs[s] for s in st if s in fs], dtype=np.int32)
        self.rr_fsv = np.array([i for i, s in enumerate(st) if s in fs])
        self.rr_gs = np.array([gp[s] for s in st if s not in fs], dtype=np.int32)
        self.rr_gsv = np.array([i for i, s in enumerate(st) if s not in fs])
        self.rr_times = [float(t) for t in self.times]

    def run(self, i: int) -> np.ndarray:
        p, y0, admins = self.P[i], self.Y0[i], self.admins[i]
        if self.name == "roadrunner":
            rr, m = self.rr, self.rr.model
            rr.resetAll()
            m.setGlobalParameterValues(self.rr_pi, p[self.rr_pv])
            m.setGlobalParameterValues(self.rr_dose, np.array([admins[0].rate, admins[0].cells]))
            rr.reset()  # re-evaluates the t=0 dose event with this patient's dose
            m.setGlobalParameterValues(self.rr_gs, y0[self.rr_gsv])
            m.setFloatingSpeciesAmounts(self.rr_fs, y0[self.rr_fsv])
            Y = np.empty((len(self.times), len(y0)))
            Y[:] = np.asarray(rr.simulate(times=self.rr_times))[:, 1:]
            return Y
        if self.name.startswith("compiled"):
            from mscsim.numerics import engine

            Y = engine.integrate(self.compiled, p, y0, self.times, admins, rtol=RTOL, stats=self.stats,
                                 **self.options)
        else:
            from mscsim.numerics.solve import SolverOptions, integrate_scipy

            Y = integrate_scipy(self.compiled, p, y0, self.times, admins, SolverOptions(rtol=RTOL, engine="scipy"))
        out = np.empty((len(self.times), self.n_out))
        self.compiled.outputs_traj(self.times, Y, p, out)
        return Y


_ENGINE: Engine | None = None


def _worker_init(name, data, days, sbml):
    global _ENGINE
    _ENGINE = Engine(name, data, days, sbml)


def _worker_run(chunk):
    for i in chunk:
        _ENGINE.run(i)
    return len(chunk)


def measure(name: str, mode: str, n: int, days: float, data: str, sbml: str) -> dict:
    """Runs in a fresh process: time N patients, report setup, pat/s and peak memory."""
    t0 = time.perf_counter()
    if mode == "serial":
        eng = Engine(name, data, days, sbml)
        setup = time.perf_counter() - t0
        t1 = time.perf_counter()
        for i in range(n):
            eng.run(i)
        wall = time.perf_counter() - t1
        extra = {}
        if name.startswith("compiled"):
            from mscsim.numerics import engine

            extra = {k: round(float(v) / (n + 1), 1) for k, v in zip(engine.STAT_NAMES, eng.stats)}
    else:
        import multiprocessing as mp

        workers = int(mode.split("x")[0])
        ctx = mp.get_context("fork")
        with ctx.Pool(workers, initializer=_worker_init, initargs=(name, data, days, sbml)) as pool:
            pool.map(_worker_run, [[0]] * workers, chunksize=1)  # workers loaded and warm
            setup = time.perf_counter() - t0
            t1 = time.perf_counter()
            size = max(1, min(64, n // (4 * workers)))
            done = sum(pool.map(_worker_run, [list(range(i, min(n, i + size))) for i in range(0, n, size)],
                                chunksize=1))
            wall = time.perf_counter() - t1
        assert done == n
        extra = {}
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rss_child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    workers = 1 if mode == "serial" else int(mode.split("x")[0])
    peak = rss_self + (workers * rss_child if mode != "serial" else 0.0)
    return {"engine": name, "mode": mode, "n": n, "days": days, "setup_s": setup, "wall_s": wall,
            "pat_s": n / wall, "peak_mb": peak, **extra}


def run_child(spec: dict, timeout: float) -> dict | None:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if res.returncode != 0:
        raise RuntimeError(f"measurement {spec} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- agreement

def agreement(n_pat: int) -> list[dict]:
    """Max relative error vs scipy Radau (rtol 1e-10, atol x 1e-3) on states and read-outs."""
    import roadrunner  # noqa: F401  (fail early if missing)

    from mscsim.numerics import engine
    from mscsim.numerics.codegen import compile_model
    from mscsim.dosing import Dose, Regimen
    from mscsim.model import build_model
    from mscsim.sbml import export_sbml
    from mscsim.simulate import default_times, parameter_vector
    from mscsim.numerics.solve import SolverOptions, integrate_scipy
    from mscsim.numerics.steady import steady_state

    def relerr(A, R, atol=1e-12):
        """Max relative error; values below 1e-4 of a trajectory's peak, or below the state's atol
        (1e-12 for read-outs), are compared against that floor (a state that stays at zero, e.g.
        an input switched off, would otherwise divide by nothing)."""
        floor = np.maximum(1e-4 * np.abs(R).max(axis=0), atol)
        return float(np.max(np.abs(A - R) / np.maximum(np.abs(R), floor)))

    rows = []
    rng = np.random.default_rng(7)
    cases = [("ra", None, 365.0), (None, ("liver", 0.6), 30.0)]
    for disease, injury, days in cases:
        reg = Regimen((Dose.parse("1e6 cells/kg", "iv"),))
        composed = build_model(disease, injury[0] if injury else None)
        compiled = compile_model(composed.ode)
        ode = composed.ode
        err = {k: [0.0, 0.0] for k in ("scipy", "compiled", "roadrunner")}
        for k in range(n_pat):
            w = float(rng.uniform(50, 100))
            over = {}
            if disease == "ra":
                over = {"D_ra_t": ode.params["D_ra_t"].value * float(np.exp(rng.normal(0, 0.3))),
                        "D_ra_s": ode.params["D_ra_s"].value * float(np.exp(rng.normal(0, 0.3))), "trial_on": 1.0}
            p = parameter_vector(composed, weight_kg=w, regimen=reg, overrides=over,
                                 injury=injury[1] if injury else None)
            y0 = steady_state(compiled, p)
            admins = reg.administrations(w)
            t = default_times(days, admins)
            ref = integrate_scipy(compiled, p, y0, t, admins,
                                  SolverOptions("Radau", rtol=1e-10, atol_scale=1e-3, engine="scipy"))
            res = {"scipy": integrate_scipy(compiled, p, y0, t, admins, SolverOptions(rtol=RTOL, engine="scipy")),
                   "compiled": engine.integrate(compiled, p, y0, t, admins, rtol=RTOL)}
            exp = export_sbml(disease, injury=injury, weight_kg=w, regimen=reg, params=over or None, check=False)
            import roadrunner

            rr = roadrunner.RoadRunner(exp.sbml)
            rr.integrator.relative_tolerance = RTOL
            for s, st in ode.states.items():
                rr.integrator.setIndividualTolerance(s, st.atol)
            rr.timeCourseSelections = ["time"] + ode.state_names
            res["roadrunner"] = np.asarray(rr.simulate(times=[float(x) for x in t]))[:, 1:]
            if np.max(np.abs(np.array([exp.initial_state[s] for s in ode.state_names]) - y0)) > 0:
                raise RuntimeError("SBML export starts from another baseline than the engines")
            O_ref = np.empty((len(t), len(ode.outputs)))
            compiled.outputs_traj(t, ref, p, O_ref)
            for name, Y in res.items():
                O = np.empty_like(O_ref)
                compiled.outputs_traj(t, np.ascontiguousarray(Y), p, O)
                err[name][0] = max(err[name][0], relerr(Y, ref, np.array([st.atol for st in ode.states.values()])))
                err[name][1] = max(err[name][1], relerr(O, O_ref))
        label = f"{disease or 'kinetics'} ({'injured ' + injury[0] if injury else '1 IV dose'}, {days:g} d, " \
                f"{len(ode.states)} states)"
        for name, (es, eo) in err.items():
            rows.append({"model": label, "engine": name, "states": es, "readouts": eo})
    return rows


# ----------------------------------------------------------------------------- other parts

def baseline_cost(data: str, n: int) -> dict:
    from mscsim.numerics.steady import steady_state

    composed, compiled = _model()
    P = np.load(data)["P"][:n]
    out = {}
    for eng in ("compiled", "scipy"):
        steady_state(compiled, P[0], engine=eng)
        t = time.perf_counter()
        for p in P:
            steady_state(compiled, p, engine=eng)
        out[eng] = (time.perf_counter() - t) / len(P) * 1e3
    return out


def trial_wall(n: int, workers: int, days: int = 365) -> dict:
    """Wall time of a whole virtual trial (screening, simulation, observation, statistics)."""
    import mscsim.trial as trial
    from mscsim.scenario import load_scenario

    sc = load_scenario({
        "name": f"bench RA {n}", "disease": "ra", "seed": SEED,
        "population": {"inclusion": {"das28_esr": ">3.2"}},
        "arms": [{"name": "msc", "n": n // 2, "regimen": [{"dose": "1e6 cells/kg", "route": "iv", "at": "0 d"}]},
                 {"name": "placebo", "n": n - n // 2, "regimen": []}],
        "endpoints": [{"name": "das28_esr", "at": f"{days} d"}, {"name": "acr20", "at": f"{days} d"},
                      {"name": "crp", "at": f"{days // 2} d"}]})
    trial.run_trial(sc.model_copy(update={"arms": [a.model_copy(update={"n": 4}) for a in sc.arms]}),
                    progress=False)  # warm-up (model build, numba cache load)
    spent = {"observe": 0.0, "integrate": 0.0, "steady": 0.0}
    if workers == 1:  # where the time goes (serial run only)
        from mscsim.numerics import engine as eng

        depth = {k: 0 for k in spent}

        def timed(key, fn):
            def wrap(*a, **k):  # only the outermost call of a key counts (stacked -> one at a time)
                t = time.perf_counter()
                depth[key] += 1
                try:
                    return fn(*a, **k)
                finally:
                    depth[key] -= 1
                    if depth[key] == 0:
                        spent[key] += time.perf_counter() - t
            return wrap

        orig = (trial.endpoint_readouts, trial.observe_stacked, trial.integrate, trial.steady_state)
        # observation runs one patient at a time or stacked over a chunk (the RA module); never both
        trial.endpoint_readouts = timed("observe", trial.endpoint_readouts)
        trial.observe_stacked = timed("observe", trial.observe_stacked)
        trial.integrate = timed("integrate", trial.integrate)
        trial.steady_state = timed("steady", trial.steady_state)
    t = time.perf_counter()
    try:
        res = trial.run_trial(sc, workers=workers, progress=False)
    finally:
        if workers == 1:
            trial.endpoint_readouts, trial.observe_stacked, trial.integrate, trial.steady_state = orig
    wall = time.perf_counter() - t
    screened = sum(a["screened"] for a in res.summary["arms"])
    return {"n": n, "workers": workers, "wall_s": wall, "screened": screened, **spent}


# ----------------------------------------------------------------------------- main

def fmt_table(header: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(x) for x in r) + " |" for r in rows]
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small N (20, 100, 300), short checks")
    ap.add_argument("--n", type=int, nargs="*", help="patient counts (default 100 1000 10000)")
    ap.add_argument("--budget", type=float, default=240.0, help="skip a measurement projected to take longer (s)")
    ap.add_argument("--no-trial", action="store_true", help="skip the whole-trial timing")
    ap.add_argument("--paired", type=int, default=6, metavar="ROUNDS",
                    help="rounds of the paired compiled-vs-RoadRunner measurement (0: none; default 6)")
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.paired < 0:
        ap.error("--paired: the number of rounds must be 0 or more")
    if args.child:
        spec = json.loads(args.child)
        print(json.dumps(measure(**spec)))
        return 0

    ns = args.n or ([20, 100, 300] if args.quick else [100, 1000, 10000])
    day_list = [90, 365, 730]
    n_days = 20 if args.quick else 100
    lines: list[str] = []

    def say(text=""):
        print(text, flush=True)
        lines.append(text)

    load0 = os.getloadavg()
    t_start = time.time()
    import numba
    import roadrunner
    import scipy

    from mscsim.dosing import Regimen  # noqa: F401
    from mscsim.sbml import export_sbml

    say("# Engine benchmark (benchmarks/bench_engines.py)")
    say()
    say(f"- {time.strftime('%Y-%m-%d %H:%M')}, {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, numba {numba.__version__}, "
        f"libroadrunner {roadrunner.__version__}; {'quick' if args.quick else 'full'} run")
    say(f"- load average at start {load0[0]:.2f} / {load0[1]:.2f} / {load0[2]:.2f} (other processes share "
        "the machine: compare engines within this run, not with other runs)")
    tmp = Path(tempfile.mkdtemp(prefix="mscsim_bench_"))
    data = str(tmp / "patients.npz")
    t = time.perf_counter()
    n_pair = 200 if args.quick else 1000  # patients of the paired rounds
    n_draw = max(ns + ([n_pair] if args.paired else []))
    draw_patients(n_draw, Path(data))
    t_draw = time.perf_counter() - t
    t = time.perf_counter()
    sbml_text = export_sbml("ra", regimen=regimen(), days=365, check=False).sbml
    t_sbml = time.perf_counter() - t
    sbml = str(tmp / "ra_365.xml")
    Path(sbml).write_text(sbml_text)
    composed, _ = _model()
    say(f"- model: RA (kinetics + immune + RA), {len(composed.ode.states)} states, {len(composed.ode.params)} "
        f"parameters; 1e6 cells/kg IV at day 0; {len(out_times(365))} output times over 365 d; rtol {RTOL:g}, "
        "per-state atol")
    say(f"- {n_draw} patients drawn with their untreated baselines in {t_draw:.1f} s; SBML export "
        f"{len(sbml_text) / 1e3:.0f} kB in {t_sbml:.1f} s")
    say()

    # throughput
    results: dict[tuple, dict] = {}
    engines = ["scipy", "compiled-v1", "compiled", "roadrunner"]
    modes = ["serial", "2x"]
    for n in ns:
        for mode in modes:
            for name in engines:
                prev = [r for (e, m, nn), r in results.items() if e == name and m == mode and r]
                if prev:
                    proj = n / prev[-1]["pat_s"] + prev[-1]["setup_s"]
                    if proj > args.budget:
                        results[(name, mode, n)] = {"skipped": True, "projected_s": proj}
                        print(f"  {name:10s} {mode:6s} N={n}: skipped (projected {proj:.0f} s)", flush=True)
                        continue
                spec = {"name": name, "mode": mode, "n": n, "days": 365.0, "data": data, "sbml": sbml}
                r = run_child(spec, timeout=args.budget * 3 + 120)
                results[(name, mode, n)] = r or {"skipped": True, "projected_s": float("nan")}
                if r:
                    print(f"  {name:10s} {mode:6s} N={n}: {r['pat_s']:8.1f} pat/s, setup {r['setup_s']:.1f} s, "
                          f"peak {r['peak_mb']:.0f} MB", flush=True)
    say("## Patients per second (one year, RA model)")
    say()
    say("Throughput excludes one-time setup (model load / numba cache load / RoadRunner JIT, shown as setup). "
        "Ratio = pat/s divided by libRoadRunner's pat/s in the same mode and N.")
    say()
    rows = []
    for n in ns:
        for mode in modes:
            rr = results.get(("roadrunner", mode, n), {})
            for name in engines:
                r = results.get((name, mode, n), {})
                if r.get("skipped"):
                    rows.append([n, "serial" if mode == "serial" else "2 processes", name,
                                 f"skipped (projected {r['projected_s']:.0f} s)", "", "", ""])
                    continue
                ratio = r["pat_s"] / rr["pat_s"] if rr and not rr.get("skipped") else float("nan")
                rows.append([n, "serial" if mode == "serial" else "2 processes", name, f"{r['pat_s']:.1f}",
                             f"{ratio:.2f}", f"{r['setup_s']:.1f}", f"{r['peak_mb']:.0f}"])
    say(fmt_table(["N", "mode", "engine", "pat/s", "ratio to RoadRunner", "setup s", "peak RSS MB"], rows))
    say()
    for label, eng_name in (("Compiled engine", "compiled"), ("compiled-v1 (scipy's Newton rule, no pivot probe)",
                                                               "compiled-v1")):
        comp = [r for (e, m, n), r in results.items() if e == eng_name and m == "serial" and not r.get("skipped")]
        if comp:
            c = comp[-1]
            say(f"{label}, work per patient-year (mean): " + ", ".join(
                f"{k} {c[k]:g}" for k in ("steps", "rhs_evals", "jac_evals", "lu_factorizations", "pivot_fallbacks",
                                          "rejected_steps", "segments")))
            say()

    # paired, interleaved: the engine-vs-RoadRunner ratio without the machine's drift between measurements
    if args.paired:
        say(f"## Compiled engine vs libRoadRunner, paired rounds (serial, N = {n_pair})")
        say()
        say("Each round measures both engines back to back, each in a fresh process on the same patients, in "
            "alternating order (compiled first, then RoadRunner first, ...), so a change in the machine's speed "
            "between measurements minutes apart, which moved single ratios above by up to a third in earlier "
            "runs, falls on both engines alike. Ratio = compiled pat/s / RoadRunner pat/s within the round. "
            "The compiled engine's time includes computing the read-outs from the states (`outputs_traj`, about "
            "20 us per patient); RoadRunner's gives the states only: a small bias against the compiled engine.")
        say()
        rows, ratios = [], []
        for k in range(args.paired):
            order = ("compiled", "roadrunner") if k % 2 == 0 else ("roadrunner", "compiled")
            got = {}
            for name in order:
                got[name] = run_child({"name": name, "mode": "serial", "n": n_pair, "days": 365.0, "data": data,
                                       "sbml": sbml}, timeout=args.budget * 3 + 120)
            pat_s = {e: (f"{r['pat_s']:.1f}" if r else "failed or timed out") for e, r in got.items()}
            ratio = ""
            if got["compiled"] and got["roadrunner"]:
                ratios.append(got["compiled"]["pat_s"] / got["roadrunner"]["pat_s"])
                ratio = f"{ratios[-1]:.2f}"
                print(f"  paired round {k + 1}: {ratio}x", flush=True)
            rows.append([k + 1, " then ".join(order), pat_s["compiled"], pat_s["roadrunner"], ratio or "-"])
        say(fmt_table(["round", "order", "compiled pat/s", "roadrunner pat/s", "ratio"], rows))
        say()
        if ratios:
            say(f"{len(ratios)} of {args.paired} rounds completed; median ratio {float(np.median(ratios)):.2f}x "
                f"(range {min(ratios):.2f}-{max(ratios):.2f}x)"
                + (" (an odd number of rounds: one order ran once more)" if args.paired % 2 else "") + ".")
            say()

    # scaling with N
    say("## Cost against N (serial; s per 1,000 patients)")
    say()
    rows = []
    for name in engines:
        row = [name]
        for n in ns:
            r = results.get((name, "serial", n), {})
            row.append("-" if r.get("skipped") or not r else f"{1000 / r['pat_s']:.2f}")
        rows.append(row)
    say(fmt_table(["engine"] + [f"N={n}" for n in ns], rows))
    say()

    # scaling with days
    say(f"## Cost against simulated days (serial, N={n_days}; ms per patient)")
    say()
    rows = []
    for name in engines:
        row = [name]
        for d in day_list:
            sb = str(tmp / f"ra_{d}.xml")
            if not Path(sb).exists():
                Path(sb).write_text(export_sbml("ra", regimen=regimen(), days=d, check=False).sbml)
            r = run_child({"name": name, "mode": "serial", "n": n_days, "days": float(d), "data": data, "sbml": sb},
                          timeout=args.budget * 3 + 120)
            row.append(f"{1000 / r['pat_s']:.2f}" if r else "-")
        rows.append(row)
    say(fmt_table(["engine"] + [f"{d} d" for d in day_list], rows))
    say()

    # untreated baseline
    bc = baseline_cost(data, 50 if args.quick else 200)
    say("## Untreated baseline (steady state), ms per patient")
    say()
    say(f"compiled Newton {bc['compiled']:.3f} ms; scipy MINPACK (+ relaxation when it fails) {bc['scipy']:.2f} ms "
        f"({bc['scipy'] / bc['compiled']:.0f}x). A trial computes it once per screened candidate and hands it to the "
        "simulation.")
    say()

    # agreement
    n_agree = 3 if args.quick else 8
    say(f"## Agreement with scipy Radau (rtol 1e-10, atol x 1e-3), {n_agree} patients per model")
    say()
    say("Maximum relative error over all output times (daily grid + fine grid after the dose); values below "
        "1e-4 of a trajectory's peak (or below the state's atol) are compared against that floor. Same rtol (1e-6) "
        "and per-state atol for all.")
    say()
    ag = agreement(n_agree)
    say(fmt_table(["model", "engine", "states", "read-outs"],
                  [[r["model"], r["engine"], f"{r['states']:.1e}", f"{r['readouts']:.1e}"] for r in ag]))
    say()

    # whole trial
    if not args.no_trial:
        n_trial = 200 if args.quick else 1000
        say(f"## A whole {n_trial}-patient one-year virtual trial (`run_trial`, RA, 2 arms)")
        say()
        rows = []
        for w in (1, 2):
            tw = trial_wall(n_trial, w)
            extra = (f"observation (disease module, endpoints) {tw['observe']:.1f} s, integration {tw['integrate']:.1f} s, "
                     f"baselines {tw['steady']:.2f} s" if w == 1 else "")
            rows.append([w, f"{tw['wall_s']:.1f}", tw["screened"], extra])
        say(fmt_table(["workers", "wall s", "candidates screened", "where the time goes (serial)"], rows))
        say()

    load1 = os.getloadavg()
    say(f"Run took {time.time() - t_start:.0f} s; load average at end {load1[0]:.2f} / {load1[1]:.2f} / {load1[2]:.2f}.")
    text = "\n".join(lines) + "\n"
    out = Path(args.out)
    tmp_out = out.with_suffix(".md.tmp")
    tmp_out.write_text(text)
    os.replace(tmp_out, out)
    print(f"\nwritten to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
