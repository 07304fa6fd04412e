"""Where virtual patients run: in this process, in a local process pool, or on a Dask cluster.

Results always come back in task order, and every task carries its own seeds, so the numbers do
not depend on how the work is split (design.md, "Numerics and speed").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


def _progress(enabled: bool):
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    disable=not enabled, transient=True)


def _run_chunk(fn, chunk):
    return [fn(t) for t in chunk]


def map_tasks(fn: Callable, tasks: Sequence, *, workers: int = 1, scheduler: str | None = None,
              chunk_size: int | None = None, desc: str = "patients", progress: bool = True) -> list:
    """``[fn(t) for t in tasks]``, possibly in parallel; order preserved."""
    tasks = list(tasks)
    if not tasks:
        return []
    if chunk_size is None:
        chunk_size = max(1, min(64, len(tasks) // max(4 * max(workers, 1), 1) or 1))
    chunks = [tasks[i:i + chunk_size] for i in range(0, len(tasks), chunk_size)]
    out: list = [None] * len(chunks)
    with _progress(progress) as prog:
        bar = prog.add_task(desc, total=len(tasks))
        if scheduler:
            from distributed import Client, as_completed

            with Client(scheduler) as client:
                futs = [client.submit(_run_chunk, fn, c, pure=False) for c in chunks]
                index = {f.key: i for i, f in enumerate(futs)}
                for f in as_completed(futs):
                    i = index[f.key]
                    out[i] = f.result()
                    prog.advance(bar, len(chunks[i]))
        elif workers > 1:
            from concurrent.futures import ProcessPoolExecutor, as_completed as done
            import multiprocessing as mp

            ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
                futs = {ex.submit(_run_chunk, fn, c): i for i, c in enumerate(chunks)}
                for f in done(futs):
                    i = futs[f]
                    out[i] = f.result()
                    prog.advance(bar, len(chunks[i]))
        else:
            for i, c in enumerate(chunks):
                out[i] = _run_chunk(fn, c)
                prog.advance(bar, len(c))
    return [r for chunk in out for r in chunk]
