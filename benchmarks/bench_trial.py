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
"""

from __future__ import annotations

import argparse
import os
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


def run_cli(src: str, scenario: Path, out: Path, workers: int, report: bool) -> float:
    """Wall seconds of one ``mscsim trial`` in a fresh process with ``src`` first on the path."""
    env = dict(os.environ, PYTHONPATH=src)
    cmd = [sys.executable, "-m", "mscsim", "trial", str(scenario), "-o", str(out), "--workers", str(workers)]
    if not report:
        cmd.append("--no-report")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 10000], help="patients per trial (both arms)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--baseline-src", help="src folder of the checkout to compare with")
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement (the fastest is kept)")
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
        for n in args.n:
            sc = tmp / f"ra{n}.yaml"
            sc.write_text(SCENARIO.format(n=n, half=n // 2))
            cases = [(w, False) for w in args.workers] + ([(1, True)] if n == min(args.n) else [])
            for workers, report in cases:
                wall = {}
                for _ in range(args.repeat):
                    for name, src in srcs.items():
                        t = run_cli(src, sc, tmp / f"{name}_{n}_{workers}_{report}", workers, report)
                        wall[name] = min(wall.get(name, float("inf")), t)
                same = ""
                if "baseline" in srcs:
                    a = (tmp / f"this_{n}_{workers}_{report}" / "summary.json").read_bytes()
                    b = (tmp / f"baseline_{n}_{workers}_{report}" / "summary.json").read_bytes()
                    same = "identical" if a == b else "DIFFERENT"
                rows.append((n, workers, report, wall, same))
                r = rows[-1]
                print(_row(r, "baseline" in srcs), flush=True)
        print()
        print("| N | workers | report | wall s | patient-years/s |" + (" baseline wall s | speed-up | summary.json |"
                                                                       if "baseline" in srcs else ""))
        print("|---|---|---|---|---|" + ("---|---|---|" if "baseline" in srcs else ""))
        for r in rows:
            print(_row(r, "baseline" in srcs))
        print(f"\nload average at end: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _row(r, with_base: bool) -> str:
    n, workers, report, wall, same = r
    s = f"| {n} | {workers} | {'yes' if report else 'no'} | {wall['this']:.2f} | {n / wall['this']:.0f} |"
    if with_base:
        s += f" {wall['baseline']:.2f} | {wall['baseline'] / wall['this']:.2f}x | {same} |"
    return s


if __name__ == "__main__":
    main()
