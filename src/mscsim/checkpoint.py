"""Interruptible trials: results are saved chunk by chunk, so ``mscsim trial ... --resume``
continues an interrupted run from its last finished chunk and ends with the same summary.json
as an uninterrupted run (each patient carries its own seeds; the plan is deterministic).

Chunk files are numpy ``.npz`` archives read with ``allow_pickle=False`` plus JSON: nothing
is unpickled. A manifest ties the chunks to the scenario (its hash) and the mscsim version.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

import mscsim
from mscsim.diseases.base import Readouts
from mscsim.errors import MscsimError
from mscsim.execution import map_tasks
from mscsim.io import atomic_path, write_json
from mscsim.scenario import Scenario
from mscsim.trial import PatientResult, assemble, plan_trial, run_patient

CHUNK = 64


def chunk_size(n_patients: int) -> int:
    """Patients per checkpoint chunk: at most `CHUNK`, and at least 32 chunks per trial when it has
    128+ patients, so the last chunks keep every worker busy (issue 19: with 64-patient chunks
    one of two workers idled ~0.2 s at the end of a 1,000-patient trial). Depends only on the
    trial's size, so a resumed run cuts the same chunks whatever its ``--workers``."""
    return max(4, min(CHUNK, -(-n_patients // 32)))


def scenario_hash(sc: Scenario) -> str:
    return hashlib.sha256(sc.model_dump_json().encode()).hexdigest()[:20]


def _save_chunk(path: Path, results: list[PatientResult]) -> None:
    ok = [r for r in results if not r.failed]
    cols = list(ok[0].observed.columns) if ok else []
    T = len(ok[0].observed) if ok else 0
    ep = np.full((len(results), T, len(cols)), np.nan)
    tc_shape = ok[0].timecourse.shape if ok else (0, 0)
    tc = np.full((len(results),) + tc_shape, np.nan)
    for i, r in enumerate(results):
        if not r.failed:
            table = r.observed.table(cols)  # one copy per patient, not one per column (issue 19)
            if table is None:
                for j, c in enumerate(cols):
                    ep[i, :, j] = r.observed[c]
            else:
                ep[i] = table
            tc[i] = r.timecourse
    meta = {"pids": [r.pid for r in results], "arms": [r.arm for r in results],
            "failed": [r.failed for r in results], "messages": [r.message for r in results],
            "retried": [r.retried for r in results], "columns": cols,
            "safety": [r.safety for r in results],
            "index": [float(x) for x in (ok[0].observed.index if ok else [])]}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, ep=ep, tc=tc, meta=np.array(json.dumps(meta)))


def _load_chunk(path: Path) -> list[PatientResult]:
    with np.load(path, allow_pickle=False) as z:
        ep, tc, meta = z["ep"], z["tc"], json.loads(str(z["meta"]))
    out = []
    index = pd.Index(meta["index"], name="time_d")
    for i, pid in enumerate(meta["pids"]):
        if meta["failed"][i]:
            out.append(PatientResult(pid, meta["arms"][i], None, None, True, meta["messages"][i], meta["retried"][i]))
        else:
            obs = Readouts.from_array(ep[i], meta["columns"], index)
            out.append(PatientResult(pid, meta["arms"][i], obs, tc[i], False, "", meta["retried"][i],
                                     safety=(meta.get("safety") or [None] * len(meta["pids"]))[i]))
    return out


def run_trial_resumable(sc: Scenario, out, *, fresh: bool = False, workers: int = 1, scheduler: str | None = None,
                        progress: bool = True, chunk: int | None = None, figure_inputs=None):
    """Run a trial with per-chunk checkpoints under ``out/.checkpoint`` (removed when done).
    ``chunk``: patients per chunk (default `chunk_size` of the trial's size); ``figure_inputs``:
    passed to `assemble` (what the figures need, as soon as it is known)."""
    out = Path(out)
    chunk = chunk or chunk_size(sum(arm.n for arm in sc.arms))
    ck = out / ".checkpoint"
    manifest = {"scenario": scenario_hash(sc), "version": mscsim.__version__, "chunk": chunk}
    if fresh and ck.exists():
        shutil.rmtree(ck)
    if ck.exists():
        try:
            old = json.loads((ck / "manifest.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            old = None
        if old != manifest:
            raise MscsimError(f"{ck} belongs to another scenario or version; run without --resume to start over",
                              field="--resume")
    else:
        ck.mkdir(parents=True)
        write_json(manifest, ck / "manifest.json")
    from contextlib import nullcontext

    from mscsim.execution import _progress, _run_chunk, local_pool

    # one local pool for screening and simulation, forked once (lazily, after plan_trial compiled
    # the model), every chunk saved as soon as it is done (issue 19: a pool per batch of chunks
    # made two workers only 9 % faster than one)
    pool = local_pool(workers) if not scheduler else None
    with (pool or nullcontext()):
        plan = plan_trial(sc, workers=workers, scheduler=scheduler, executor=pool)
        tasks = plan.tasks()
        chunks = [tasks[i:i + chunk] for i in range(0, len(tasks), chunk)]
        todo = [i for i in range(len(chunks)) if not (ck / f"chunk_{i:05d}.npz").exists()]
        # results of the chunks run now are kept as they came back (the saved copy is for --resume;
        # a chunk file gives back exactly these numbers, so only earlier runs' chunks are read)
        done: dict[int, list[PatientResult]] = {}
        with _progress(progress) as prog:
            bar = prog.add_task(sc.name, total=len(tasks), completed=sum(len(chunks[i]) for i in range(len(chunks))
                                                                          if i not in todo))
            if pool is not None:
                from concurrent.futures import as_completed

                futs = {pool.submit(_run_chunk, run_patient, chunks[i]): i for i in todo}
                try:
                    for f in as_completed(futs):
                        i = futs[f]
                        done[i] = f.result()
                        _save_chunk(ck / f"chunk_{i:05d}.npz", done[i])
                        prog.advance(bar, len(chunks[i]))
                except BaseException:  # an error or Ctrl-C: drop the chunks not started (saved ones stay)
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
            else:
                batch = max(1, workers)  # checkpoint after every chunk in serial runs
                for b in range(0, len(todo), batch):
                    ids = todo[b:b + batch]
                    flat = [t for i in ids for t in chunks[i]]
                    res = map_tasks(run_patient, flat, workers=workers, scheduler=scheduler,
                                    chunk_size=chunk // 2 or 1, progress=False)
                    k = 0
                    for i in ids:
                        done[i] = res[k:k + len(chunks[i])]
                        _save_chunk(ck / f"chunk_{i:05d}.npz", done[i])
                        k += len(chunks[i])
                        prog.advance(bar, len(chunks[i]))
    results = [r for i in range(len(chunks))
               for r in (done[i] if i in done else _load_chunk(ck / f"chunk_{i:05d}.npz"))]
    result = assemble(plan, tasks, results, figure_inputs=figure_inputs)
    result.checkpoint_dir = ck
    return result


def clear_checkpoint(out) -> None:
    ck = Path(out) / ".checkpoint"
    if ck.exists():
        shutil.rmtree(ck)
