"""Where virtual patients run: in this process, in a local process pool, or on a Dask cluster.

Results always come back in task order, and every task carries its own seeds, so the numbers do
not depend on how the work is split (design.md, "Numerics and speed").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class _PlainProgress:
    """Progress as plain lines on stderr (at each tenth done, if 5 s passed since the last line, and at least every minute),
    for logs and pipes, where rich's live bar prints nothing (issue 21)."""

    def __init__(self):
        self.tasks: dict[int, list] = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def add_task(self, desc, total, completed=0, **_):
        import time

        k = len(self.tasks)
        self.tasks[k] = [desc, int(total), int(completed), time.monotonic(), time.monotonic(), -1]
        return k

    def update(self, k, advance=0, **_):
        if advance:
            self.advance(k, advance)

    def advance(self, k, n=1):
        import sys
        import time

        t = self.tasks[k]
        t[2] += n
        now = time.monotonic()
        decile = (10 * t[2]) // max(t[1], 1)
        if t[2] >= t[1] or (decile > t[5] and now - t[4] >= 5.0) or now - t[4] >= 60.0:
            t[4], t[5] = now, decile
            print(f"{t[0]}: {t[2]}/{t[1]} ({now - t[3]:.0f} s)", file=sys.stderr, flush=True)


def _progress(enabled: bool):
    import sys

    if enabled and not sys.stderr.isatty():
        return _PlainProgress()
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    disable=not enabled, transient=True)


def _run_chunk(fn, chunk):
    """``[fn(t) for t in chunk]``; a task function with a ``batch`` attribute (its version for a list of
    tasks, with the same results) runs the chunk at once."""
    batch = getattr(fn, "batch", None)
    return batch(list(chunk)) if batch is not None else [fn(t) for t in chunk]


@contextmanager
def start_up():
    """A command's start-up (imports, scenario, the compiled model) with Python's cyclic garbage
    collector paused, then the objects it made frozen (``gc.freeze``: never scanned again, in this
    process or the workers and figure process it forks) and the collector resumed. Start-up
    allocates about a million long-lived objects (numba, pandas) and collecting over them cost
    ~0.25 s of a 1.8 s trial start-up, while a trial makes almost no cyclic garbage (135 objects
    over 1,000 patients) [design choice; issue 19]. For commands only, never library code."""
    import gc

    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was:
            gc.enable()


def local_pool(workers: int):
    """A local process pool for several ``map_tasks`` calls (``executor=``), so a trial forks its
    workers once, after the model is compiled, instead of once per batch; None for 1 worker."""
    if workers <= 1:
        return None
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing as mp

    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


def map_tasks(fn: Callable, tasks: Sequence, *, workers: int = 1, scheduler: str | None = None,
              chunk_size: int | None = None, desc: str = "patients", progress: bool = True,
              executor=None) -> list:
    """``[fn(t) for t in tasks]``, possibly in parallel; order preserved. ``executor``: a pool
    from `local_pool` to reuse (else one is started and shut down for this call)."""
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

            try:
                client = Client(scheduler, timeout="10s")
            except (OSError, TimeoutError) as exc:
                from mscsim.errors import MscsimError

                raise MscsimError(f"cannot reach the Dask scheduler at {scheduler}: {exc}",
                                  field="scheduler") from None
            with client:
                futs = [client.submit(_run_chunk, fn, c, pure=False) for c in chunks]
                index = {f.key: i for i, f in enumerate(futs)}
                for f in as_completed(futs):
                    i = index[f.key]
                    out[i] = f.result()
                    prog.advance(bar, len(chunks[i]))
        elif workers > 1 or executor is not None:
            from concurrent.futures import as_completed as done
            from contextlib import nullcontext

            with (nullcontext(executor) if executor is not None else local_pool(workers)) as ex:
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


def model_specs() -> list[tuple[str | None, str | None, str | None, str]]:
    """(disease, subtype, target, species) of every shipped model: each disease subtype, and the
    kinetics-only model for each target tissue and species."""
    import importlib

    from mscsim.model import DISEASES
    from mscsim.physiology import target_names

    out: list[tuple[str | None, str | None, str | None, str]] = []
    for d in DISEASES:
        out += [(d, s, None, "human") for s in importlib.import_module(f"mscsim.diseases.{d}").SUBTYPES]
    out += [(None, None, t, "human") for t in target_names()]
    out += [(None, None, None, sp) for sp in ("human", "mouse", "rat")]
    return out


def warm_compile(spec: tuple[str | None, str | None, str | None, str]) -> str:
    """Generate, compile and run once every compiled kernel of one model, so that later processes
    load it from the disk cache. Used to compile the models in parallel (``warm_all``)."""
    from mscsim.numerics import compile_model, warm_up
    from mscsim.dosing import Dose, Regimen
    from mscsim.model import build_model
    from mscsim.simulate import parameter_vector

    disease, subtype, target, species = spec
    composed = build_model(disease, target, species, subtype)
    compiled = compile_model(composed.ode)
    p = parameter_vector(composed, regimen=Regimen((Dose.parse("1e6 cells/kg", "iv"),)),
                         injury=0.5 if target else None)
    warm_up(compiled, p)
    return composed.ode.name


def warm_all(workers: int = 2, specs=None) -> list[str]:
    """Compile every shipped model in ``workers`` fresh processes (first use on a new machine:
    a model compiles in 1-3 s, plus ~15 s once for the engine's kernels; the disk cache makes later
    runs load in < 1 s)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    specs = model_specs() if specs is None else specs
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as ex:
        return list(ex.map(warm_compile, specs))
