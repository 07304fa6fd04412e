"""A trial folder's figures (timecourse.png, responders.png) and the process that draws them.

The trial command draws them in a process of its own (issue 19), forked as the command starts,
before this process imports the simulator: the child imports matplotlib (~0.3 s of CPU; it is
sent the time courses as plain arrays, so it never imports pandas) while the command imports the
rest, reads the scenario and loads the compiled model, on the second CPU that would otherwise
wait. Forked later, that work took CPU from the workers while they screened and simulated. Once
the scenario is known the command `aim`s the child (output folder, time-course panels), the child
lays the panels out, and once the trial has run it is `send` the time courses and the summary and
draws while the tables are written. This module imports nothing heavy at import time, so that the
command can fork before it does [design choice].
"""

from __future__ import annotations

#: the PNG figures of a trial folder, in the order they are drawn (responders.png only where the
#: trial has a proportion endpoint: `trial_figure_names`)
TRIAL_FIGURES = ("timecourse.png", "responders.png")

#: tick objects made per axis before the data arrive: what a year's panel uses (6 on the time axis,
#: 6-10 on the other); an axis that needs more makes them when drawn
TICKS_MADE_AHEAD = 10


def timecourse_columns(tc) -> dict:
    """A trial's time courses (a DataFrame) as a dict of its columns' arrays: what the figure
    process is sent, so that it draws without importing pandas (~0.25 s of CPU while the workers
    start; issue 19). `plots.fill_timecourse_figure` draws either."""
    return {c: tc[c].to_numpy() for c in tc.columns}


def has_responder_endpoint(summary: dict) -> bool:
    """Whether the trial has a proportion endpoint (else its responder figure would be empty)."""
    return any(e["stat"] == "proportion" for arm in summary["arms"] for e in arm["endpoints"])


def trial_figure_names(summary: dict) -> tuple[str, ...]:
    """The PNG figures a trial with this summary draws."""
    return TRIAL_FIGURES if has_responder_endpoint(summary) else TRIAL_FIGURES[:1]


def _draw_figures(timecourse, summary: dict, quantities: list, out, prebuilt=None) -> list:
    """Draw and write timecourse.png and, where the trial has a proportion endpoint, responders.png
    (`trial_figure_names`) from the time courses (a DataFrame or its column dict), the summary and the (quantity,
    label) panels. ``prebuilt``: ``((panels, title), figure)`` from `_timecourse_layout`, the empty
    time-course panels built before the trial ended; used where the trial's panels and title are
    those, else the panels are built here."""
    files = [_draw_timecourse(timecourse, summary["scenario"], quantities, out, prebuilt)]
    return files + _draw_responders(summary, out)


def _draw_timecourse(timecourse, title: str, quantities: list, out, prebuilt=None):
    """timecourse.png (see `_draw_figures`); it needs only the scenario's name of the summary."""
    from pathlib import Path

    from mscsim.io import save_figure
    from mscsim.plots import fill_timecourse_figure, timecourse_layout, timecourse_panels

    panels = timecourse_panels(timecourse, quantities)
    if prebuilt is not None and prebuilt[0] == (panels, title):
        fig = prebuilt[1]
    else:
        fig = timecourse_layout(panels, title)
    # the figures are laid out with fixed margins: saved as laid out, not measured and drawn again
    return save_figure(fill_timecourse_figure(fig, timecourse, panels), Path(out) / TRIAL_FIGURES[0], tight=False)


def _draw_responders(summary: dict, out) -> list:
    """[responders.png] where the trial has a proportion endpoint, else [] (see `_draw_figures`)."""
    from pathlib import Path

    if not has_responder_endpoint(summary):
        return []
    from mscsim.io import save_figure
    from mscsim.plots import responder_figure

    fig = responder_figure(summary, title=summary["scenario"])
    return [save_figure(fig, Path(out) / TRIAL_FIGURES[1], tight=False)]


def _timecourse_layout(quantities: list, title: str) -> tuple:
    """The empty panels of a trial's time-course figure, built while the trial runs (issue 19): axes,
    titles, labels and tick objects made (0.6 -> 0.4 s of CPU left once the data are there, RA).
    Drawing the data into it gives the same image as drawing it from scratch."""
    from mscsim.plots import timecourse_layout

    fig = timecourse_layout(quantities, title)
    for ax in fig.axes[:len(quantities)]:
        ax.xaxis.get_major_ticks(TICKS_MADE_AHEAD)
        ax.yaxis.get_major_ticks(TICKS_MADE_AHEAD)
    return (quantities, title), fig


class TrialFigures:
    """The process drawing a trial's figures (issue 19), forked by `fork_trial_figures` before the
    trial's start-up or by ``trial.start_trial_figures`` before it runs. `aim` tells it the output
    folder and the time-course panels the trial will have (it lays them out while the trial runs);
    `send` (from `assemble`, once the time courses and the arms' results are known) or `draw` sends
    it the time courses and the summary through a pipe, and it draws (~0.4 s) while this process
    builds and writes the tables. The child writes the PNGs into a staging folder inside the output
    folder (``.figures-<pid>``); `join` moves them into place, so a trial that fails or is
    interrupted after the inputs were sent leaves no figure of its own (and an earlier run's in
    place), and `cancel` removes the folder. `join` returns the files; if the child failed, the
    figures are drawn here, so an error shows as usual. This process never imports matplotlib on
    this path."""

    def __init__(self):
        import multiprocessing as mp
        import os

        ctx = mp.get_context("fork")
        self.out = self.staging = self.result = None
        self._timecourses_sent = False
        self._recv, self._send = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_figures_child, args=(self._recv, self._send, os.getpid()), daemon=True)
        self.proc.start()
        self._recv.close()

    def aim(self, out, layout: tuple | None = None) -> None:
        """Tell the drawing process the output folder and, where known, the (quantities, title) of
        the time-course panels (``trial._planned_layout``), which it then lays out ahead."""
        import os
        from pathlib import Path

        if self.out is not None:
            raise RuntimeError("TrialFigures.aim twice")
        self.out = Path(out)
        self.staging = self.out / f".figures-{os.getpid()}"
        _remove_stale_staging(self.out)
        self._put((self.staging, layout))

    def send(self, inputs: tuple) -> None:
        """Hand the drawing process what the figures need (``trial._inputs_for_figures``), as soon
        as it is known: `assemble` calls this (``figure_inputs=``) before it builds the patient,
        safety and population tables, so the figures are drawn meanwhile (~0.3 s of a
        10,000-patient trial's wall time; issue 19). Inputs whose summary lacks the ``arms`` are the
        time courses alone (drawn at once, while `assemble` summarises the arms); the next call
        then brings the arms, and only they are sent."""
        if self.out is None:
            raise RuntimeError("TrialFigures.send before aim")
        if self._send.closed:
            return
        timecourse, summary, quantities = inputs
        done = "arms" in summary
        if self._timecourses_sent and not done:
            raise RuntimeError("TrialFigures.send: the time courses went already; the next inputs bring the arms")
        try:
            if self._timecourses_sent:
                self._put(summary)
            else:
                self._put((timecourse_columns(timecourse), summary, quantities))
                self._timecourses_sent = True
        finally:
            if done:
                self._send.close()

    def _put(self, message) -> None:
        try:
            self._send.send(message)
        except OSError:  # the child is gone: `join` draws the figures here
            pass

    def draw(self, result) -> None:
        """Hand the finished trial to the drawing process (its inputs, unless `send` gave them)."""
        from mscsim.trial import _figure_inputs

        self.result = result
        self.send(_figure_inputs(result))

    def cancel(self) -> None:
        """Stop the drawing process of a trial that will not be drawn (it failed or was interrupted)
        and drop what it drew."""
        if self.proc.is_alive():
            self.proc.terminate()
        self.proc.join()
        self._send.close()
        self._discard()

    def join(self) -> list:
        """Wait for the drawing process and move its PNGs into the output folder (drawn here if it
        failed)."""
        import os

        if self.result is None:
            raise RuntimeError("TrialFigures.join before draw")
        self.proc.join()
        try:
            if self.proc.exitcode != 0:
                from mscsim.trial import write_trial_figures

                return write_trial_figures(self.result, self.out)
            files = [self.out / name for name in trial_figure_names(self.result.summary)]
            for f in files:
                os.replace(self.staging / f.name, f)
            return files
        finally:
            self._discard()

    def _discard(self) -> None:
        import shutil

        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)


def _remove_stale_staging(out) -> None:
    """Remove the staging folders (``.figures-<pid>``) that processes no longer running left in
    ``out`` (a command killed with SIGKILL cannot remove its own); a running process's is kept."""
    import os
    import shutil
    from pathlib import Path

    for folder in Path(out).glob(".figures-*"):
        pid = folder.name.removeprefix(".figures-")
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # alive, another user's
            pass


def _figures_child(recv, send, parent: int) -> None:
    """The drawing process: import matplotlib (not pandas) and Pillow's plugins, wait for the output
    folder and the panels (`TrialFigures.aim`; laid out at once where given), wait for the trial's
    time courses (and, where they came alone, then its arms), draw into the staging folder (made
    here). It leaves when the parent is gone even if the pipe stays open (the parent's worker
    processes inherit its write end)."""
    import gc
    import os

    code = 1
    try:
        send.close()  # only the parent writes: its exit ends recv() with EOFError
        gc.freeze()  # the parent's objects: never scanned by this process's collections, nor copied
        gc.enable()  # forked during the command's start-up, when the parent's collector may be paused
        import mscsim.plots  # noqa: F401  (matplotlib, while the parent works)
        _preload_png_writer()

        aim = _next(recv, parent)
        if aim is None:
            return
        staging, layout = aim
        prebuilt = _timecourse_layout(*layout) if layout is not None else None
        inputs = _next(recv, parent)
        if inputs is None:
            return
        timecourse, summary, quantities = inputs
        os.makedirs(staging, exist_ok=True)
        _draw_timecourse(timecourse, summary["scenario"], quantities, staging, prebuilt)
        if "arms" not in summary:  # the time courses came first: the arms follow
            summary = _next(recv, parent)
            if summary is None:
                return
        _draw_responders(summary, staging)
        code = 0
    finally:
        os._exit(code)


def _preload_png_writer() -> None:
    """Load Pillow's image plugins now (``PIL.Image.preinit``; a few ms once matplotlib has loaded the PNG plugin), which saving the
    first PNG would otherwise do after the trial's last patient, in the command's tail (issue 19)."""
    from PIL import Image

    Image.preinit()


def _next(recv, parent: int):
    """The parent's next message, or None once the parent is gone."""
    import os

    while not recv.poll(0.5):
        if os.getppid() != parent:
            return None
    return recv.recv()


def fork_trial_figures() -> TrialFigures | None:
    """Fork the process that will draw a trial's figures, before anything else is known (the
    trial command's first step; `TrialFigures.aim` once the scenario is read); None where fork is
    unavailable (then `write_trial` draws them). For runs that may use a second CPU: the drawing
    takes it."""
    import multiprocessing as mp

    if "fork" not in mp.get_all_start_methods():
        return None
    return TrialFigures()
