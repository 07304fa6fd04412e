"""Whole-trial throughput from the command line (issue 19, item 1).

Times ``mscsim trial`` end to end (start-up, screening, simulation, statistics, tables, figures;
``--no-report`` and, for the smallest N, also with the report) on an RA scenario like the README's
(two arms, das28_crp and acr20 at 365 d), for each N and 1 and 2 workers. Wall time of a fresh
process, so imports and loading the compiled model are included.

``--baseline-src DIR`` runs the same commands with another checkout's ``src`` (for example main
before a change) in the same run, alternating baseline and candidate per measurement, prints the
ratios, and checks that both write the same summary.json. Machines shared with other work: compare
ratios within one run, not absolute times across runs (the load average is printed).

    PYTHONPATH=$PWD/src python benchmarks/bench_trial.py --n 1000 10000 --baseline-src /path/to/main/src

Every row also gives the CPU seconds of the command and all its processes (``getrusage`` of the
finished children): on a machine shared with other work wall time grows with the load, CPU time much
less, so the CPU ratio is the steadier comparison. Further sections (each in fresh processes, this
checkout and the baseline alternated):

- ``--startup``: the fixed cost, ``mscsim trial`` of a 2-patient trial;
- ``--inprocess N``: ``run_trial`` of an N-patient trial inside one process with 1 and 2 workers
  (no start-up, no writing): the two-worker speed-up of target 1;
- ``--uncertainty D``: ``uncertainty.predict`` with D parameter draws of a 2-arm 100-patient
  one-year trial (target 2 is 200 draws in < 30 s on 2 cores), 1 and 2 workers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCENARIO = """name: RA bench {n}
disease: ra
seed: 42
population: {{inclusion: {{das28_crp: ">3.2"}}}}
arms:
  - {{name: msc, n: {half}, regimen: [{{dose: "1e6 cells/kg", route: iv, at: 0 d}}]}}
  - {{name: placebo, n: {half}, regimen: []}}
endpoints:
  - {{name: das28_crp, at: 365 d}}
  - {{name: acr20, at: 365 d}}
"""


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


CPU: dict[str, float] = {}  # CPU seconds of the last command run for each src


def run_cli(src: str, scenario: Path, out: Path, workers: int, report: bool) -> float:
    """Wall seconds of one ``mscsim trial`` in a fresh process with ``src`` first on the path
    (its CPU seconds, with its workers', in ``CPU[src]``)."""
    env = dict(os.environ, PYTHONPATH=src)
    cmd = [sys.executable, "-m", "mscsim", "trial", str(scenario), "-o", str(out), "--workers", str(workers)]
    if not report:
        cmd.append("--no-report")
    c0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    CPU[src] = _children_cpu() - c0
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return wall


INPROCESS = """
import json, resource, sys, time
from mscsim.scenario import load_scenario
from mscsim.trial import run_trial
sc = load_scenario(sys.argv[1])
run_trial(sc.model_copy(update={"arms": [a.model_copy(update={"n": 4}) for a in sc.arms]}), progress=False)  # load
out = {}
for w in (1, 2):
    r0 = resource.getrusage(resource.RUSAGE_SELF); c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    s = run_trial(sc, workers=w, progress=False).summary
    wall = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_SELF); c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(getattr(b, f) - getattr(a, f) for a, b in ((r0, r1), (c0, c1)) for f in ("ru_utime", "ru_stime"))
    out[w] = {"wall": wall, "cpu": cpu, "summary": json.dumps(s, sort_keys=True)}
print(json.dumps(out))
"""

UNCERTAINTY = """
import json, sys, time
from mscsim.scenario import load_scenario
from mscsim.trial import run_trial
from mscsim.uncertainty import predict
sc = load_scenario(sys.argv[1])
run_trial(sc.model_copy(update={"arms": [a.model_copy(update={"n": 2}) for a in sc.arms]}), progress=False)  # load
t = time.perf_counter()
p = predict(sc, int(sys.argv[2]), workers=int(sys.argv[3]), progress=False)
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "result": repr(sorted(p["arms"].items())) + repr(sorted(p["comparisons"].items()))}))
"""


def run_snippet(src: str, code: str, *args) -> tuple[dict, float, float]:
    """(JSON printed by ``code``, wall s, CPU s of it and its workers) in a fresh process."""
    env = dict(os.environ, PYTHONPATH=src)
    c0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, *map(str, args)], env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
    if proc.returncode:
        raise SystemExit(f"snippet failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 10000], help="patients per trial (both arms)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--baseline-src", help="src folder of the checkout to compare with")
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement (the fastest is kept)")
    ap.add_argument("--startup", action="store_true", help="also time a 2-patient trial (the fixed cost)")
    ap.add_argument("--inprocess", type=int, default=0, metavar="N",
                    help="also run_trial of N patients in one process, 1 vs 2 workers")
    ap.add_argument("--uncertainty", type=int, default=0, metavar="D",
                    help="also uncertainty.predict with D draws of a 2-arm 100-patient trial")
    ap.add_argument("--skip-cli", action="store_true", help="only the extra sections")
    args = ap.parse_args()
    here = str(Path(__file__).resolve().parents[1] / "src")
    srcs = {"this": here} | ({"baseline": args.baseline_src} if args.baseline_src else {})
    print(f"load average at start: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    tmp = Path(tempfile.mkdtemp(prefix="bench_trial_"))
    try:
        for src in srcs.values():  # warm the compile cache and the OS file cache
            sc = tmp / "warm.yaml"
            sc.write_text(SCENARIO.format(n=20, half=10))
            run_cli(src, sc, tmp / "warm", 1, report=False)
        rows = []
        if args.startup:
            sc = tmp / "ra2.yaml"
            sc.write_text(SCENARIO.format(n=2, half=1))
            best = {}
            for _ in range(max(args.repeat, 3)):
                for name, src in srcs.items():
                    t = run_cli(src, sc, tmp / f"{name}_startup", 1, False)
                    if t < best.get(name, (float("inf"),))[0]:
                        best[name] = (t, CPU[src])
            print("\nstart-up: `mscsim trial` of a 2-patient trial (fixed cost), best of 3: "
                  + "; ".join(f"{k} {w:.2f} s wall, {c:.2f} s CPU" for k, (w, c) in best.items())
                  + (f"; ratio {best['baseline'][0] / best['this'][0]:.2f}x wall, "
                     f"{best['baseline'][1] / best['this'][1]:.2f}x CPU" if "baseline" in best else ""), flush=True)
        if args.inprocess:
            sc = tmp / f"ra{args.inprocess}.yaml"
            sc.write_text(SCENARIO.format(n=args.inprocess, half=args.inprocess // 2))
            print(f"\nrun_trial in one process, {args.inprocess} patients (after loading the model):")
            print("| checkout | 1 worker wall s | 2 workers wall s | speed-up | CPU s 1 / 2 workers | same summary |")
            print("|---|---|---|---|---|---|")
            for name, src in srcs.items():
                res, _, _ = run_snippet(src, INPROCESS, sc)
                one, two = res["1"], res["2"]
                print(f"| {name} | {one['wall']:.2f} | {two['wall']:.2f} | {one['wall'] / two['wall']:.2f}x | "
                      f"{one['cpu']:.2f} / {two['cpu']:.2f} | {one['summary'] == two['summary']} |", flush=True)
        if args.uncertainty:
            sc = tmp / "ra100.yaml"
            sc.write_text(SCENARIO.format(n=100, half=50))
            print(f"\nuncertainty.predict, {args.uncertainty} draws of a 2-arm 100-patient one-year trial:")
            print("| workers | this wall s | this CPU s | baseline wall s | baseline CPU s | speed-up wall | same result |")
            print("|---|---|---|---|---|---|---|")
            for w in args.workers:
                got = {name: run_snippet(src, UNCERTAINTY, sc, args.uncertainty, w) for name, src in srcs.items()}
                this = got["this"]
                line = f"| {w} | {this[1]:.2f} | {this[2]:.2f} |"
                if "baseline" in got:
                    b = got["baseline"]
                    line += (f" {b[1]:.2f} | {b[2]:.2f} | {b[1] / this[1]:.2f}x | "
                             f"{b[0]['result'] == this[0]['result']} |")
                print(line, flush=True)
        for n in ([] if args.skip_cli else args.n):
            sc = tmp / f"ra{n}.yaml"
            sc.write_text(SCENARIO.format(n=n, half=n // 2))
            cases = [(w, False) for w in args.workers] + ([(1, True)] if n == min(args.n) else [])
            for workers, report in cases:
                wall, cpu = {}, {}
                for _ in range(args.repeat):
                    for name, src in srcs.items():
                        t = run_cli(src, sc, tmp / f"{name}_{n}_{workers}_{report}", workers, report)
                        if t < wall.get(name, float("inf")):
                            wall[name], cpu[name] = t, CPU[src]
                same = ""
                if "baseline" in srcs:
                    a = (tmp / f"this_{n}_{workers}_{report}" / "summary.json").read_bytes()
                    b = (tmp / f"baseline_{n}_{workers}_{report}" / "summary.json").read_bytes()
                    same = "identical" if a == b else "DIFFERENT"
                rows.append((n, workers, report, wall, same, cpu))
                r = rows[-1]
                print(_row(r, "baseline" in srcs), flush=True)
        print()
        print("| N | workers | report | wall s | patient-years/s | CPU s |"
              + (" baseline wall s | speed-up | baseline CPU s | CPU ratio | summary.json |" if "baseline" in srcs else ""))
        print("|---|---|---|---|---|---|" + ("---|---|---|---|---|" if "baseline" in srcs else ""))
        for r in rows:
            print(_row(r, "baseline" in srcs))
        print(f"\nload average at end: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _row(r, with_base: bool) -> str:
    n, workers, report, wall, same, cpu = r
    s = f"| {n} | {workers} | {'yes' if report else 'no'} | {wall['this']:.2f} | {n / wall['this']:.0f} | {cpu['this']:.2f} |"
    if with_base:
        s += (f" {wall['baseline']:.2f} | {wall['baseline'] / wall['this']:.2f}x | {cpu['baseline']:.2f} | "
              f"{cpu['baseline'] / cpu['this']:.2f}x | {same} |")
    return s


if __name__ == "__main__":
    main()
