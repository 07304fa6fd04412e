"""The trial's figures drawn by a process forked before the trial runs (issue 19): same files,
no matplotlib (nor scipy.stats/statsmodels) in the process that runs the trial, and a failed
child falls back to drawing in the parent."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the figure process is forked")

SCEN = {"name": "figures", "disease": "ra", "seed": 5,
        "arms": [{"name": "msc", "n": 2, "regimen": [{"dose": "1e6 cells/kg"}]}, {"name": "placebo", "n": 2}],
        "endpoints": [{"name": "das28_crp", "at": "30 d"}, {"name": "acr20", "at": "30 d"}]}


@pytest.fixture(scope="module")
def result():
    from mscsim.scenario import Scenario
    from mscsim.trial import run_trial

    return run_trial(Scenario.model_validate(SCEN), progress=False)


@pytest.mark.parametrize("laid_out_ahead", [False, True])
def test_forked_figures_are_the_files_drawn_here(result, tmp_path, laid_out_ahead):
    """Whichever process draws, and whether the time-course panels were built before the results
    came (from the scenario) or after, the files are the same."""
    from mscsim.scenario import Scenario
    from mscsim.trial import start_trial_figures, write_trial_figures

    job = start_trial_figures(tmp_path / "forked", Scenario.model_validate(SCEN) if laid_out_ahead else None)
    job.draw(result)
    files = job.join()
    assert job.proc.exitcode == 0
    assert [f.name for f in files] == ["timecourse.png", "responders.png"]
    here = write_trial_figures(result, tmp_path / "here")
    for f, g in zip(files, here):
        assert f.stat().st_size > 10_000 and f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f.read_bytes() == g.read_bytes(), f.name  # same drawing, whichever process draws it


def test_panels_laid_out_ahead_are_the_trials_and_draw_the_same_image(result, tmp_path):
    """The time-course panels built from the scenario before the trial ends are the trial's (so the
    figure process uses them), and drawing the data into them gives the files drawn from scratch."""
    from mscsim.plots import timecourse_panels
    from mscsim.scenario import Scenario
    from mscsim.trial import _draw_figures, _figure_inputs, _planned_layout, _timecourse_layout

    timecourse, summary, quantities = _figure_inputs(result)
    planned, title = _planned_layout(Scenario.model_validate(SCEN))
    assert (planned, title) == (timecourse_panels(timecourse, quantities), summary["scenario"])
    ahead = _draw_figures(timecourse, summary, quantities, tmp_path / "ahead", _timecourse_layout(planned, title))
    here = _draw_figures(timecourse, summary, quantities, tmp_path / "here")
    for f, g in zip(ahead, here):
        assert f.read_bytes() == g.read_bytes(), f.name
    # panels planned wrongly (a quantity the time courses lack) are not used: the figure is the same
    wrong = _timecourse_layout(planned + [("no_such_output", "nothing (mg)")], title)
    other = _draw_figures(timecourse, summary, quantities, tmp_path / "other", wrong)
    assert other[0].read_bytes() == here[0].read_bytes()


def test_figure_inputs_handed_over_before_the_tables_draw_the_finished_trials_figures(result, tmp_path):
    """`assemble` hands the figure process its inputs before it builds the patient, safety and
    population tables; they are the finished trial's time courses and arms, so the files drawn from
    them are the ones drawn from the finished result, and the forked process sends nothing twice."""
    import pandas as pd

    from mscsim.trial import _draw_figures, _figure_inputs, assemble, run_patients, start_trial_figures

    plan = result.plan
    tasks = plan.tasks()
    results = run_patients(tasks)
    early: list = []
    again = assemble(plan, tasks, results, figure_inputs=early.append)
    assert len(early) == 2  # the time courses first, with the scenario's name only; then with the arms
    (first_timecourse, first_summary, first_quantities), (timecourse, summary, quantities) = early
    assert first_summary == {"scenario": again.summary["scenario"]} and first_quantities == quantities
    pd.testing.assert_frame_equal(first_timecourse, again.timecourse)
    pd.testing.assert_frame_equal(timecourse, again.timecourse)
    assert summary == {"scenario": again.summary["scenario"], "arms": again.summary["arms"]}
    assert quantities == _figure_inputs(again)[2]
    before = _draw_figures(timecourse, summary, quantities, tmp_path / "early")
    after = _draw_figures(*_figure_inputs(again), tmp_path / "after")
    for f, g in zip(before, after, strict=True):
        assert f.read_bytes() == g.read_bytes(), f.name
    job = start_trial_figures(tmp_path / "forked")
    assemble(plan, tasks, results, figure_inputs=job.send)
    job.draw(again)  # the inputs went already: nothing more is sent
    assert [f.read_bytes() for f in job.join()] == [f.read_bytes() for f in after]
    assert job.proc.exitcode == 0
    assemble(plan, tasks, results, tables=False, figure_inputs=early.append)
    assert len(early) == 2  # a summary-only assembly (the uncertainty runs) has no figures to hand over


def test_no_responder_figure_without_a_proportion_endpoint(result, tmp_path):
    """A trial whose endpoints are all scores has nothing for the responder figure: only the time
    courses are drawn, whichever process draws them."""
    import copy

    from mscsim.trial import _draw_figures, _figure_inputs, trial_figure_names

    timecourse, summary, quantities = _figure_inputs(result)
    scores = copy.deepcopy(summary)
    for arm in scores["arms"]:
        arm["endpoints"] = [e for e in arm["endpoints"] if e["stat"] != "proportion"]
    assert trial_figure_names(summary) == ("timecourse.png", "responders.png")
    assert trial_figure_names(scores) == ("timecourse.png",)
    files = _draw_figures(timecourse, scores, quantities, tmp_path)
    assert [f.name for f in files] == ["timecourse.png"] and not (tmp_path / "responders.png").exists()


def test_a_failed_drawing_process_falls_back_to_this_one(result, tmp_path, monkeypatch):
    import mscsim.trial as trial
    import mscsim.trial_figures as trial_figures

    parent, draw = os.getpid(), trial_figures._draw_timecourse

    def draw_fails_in_child(*args):
        if os.getpid() != parent:
            raise RuntimeError("child fails")
        return draw(*args)

    monkeypatch.setattr(trial_figures, "_draw_timecourse", draw_fails_in_child)
    job = trial.start_trial_figures(tmp_path)
    job.draw(result)
    files = job.join()
    assert job.proc.exitcode == 1
    assert all(f.exists() and f.stat().st_size > 10_000 for f in files)


@pytest.mark.parametrize("workers,report", [("2", "--no-report"), ("1", "--no-report"), ("2", "--report")])
def test_trial_process_imports_no_matplotlib_nor_scipy_stats(tmp_path, workers, report):
    """Start-up cost: the process that runs a trial leaves matplotlib to the figure process (with
    workers, or one worker where it may use a second CPU), also when it writes the report (its
    organ colours come from mscsim.palette), and the statistics need neither scipy.stats nor
    statsmodels."""
    if workers == "1" and len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: the figures are drawn in the trial process")
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(SCEN))
    code = ("import sys; from mscsim.cli import main; "
            f"rc = main(['trial', {str(p)!r}, '-o', {str(tmp_path / 'out')!r}, {report!r}, '--workers', "
            f"{workers!r}]); "
            "print(rc, sorted(m for m in ('matplotlib', 'scipy.stats', 'statsmodels') if m in sys.modules))")
    env = dict(os.environ, MSCSIM_NO_WARM="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "0 []"
    assert (tmp_path / "out" / "timecourse.png").exists() and (tmp_path / "out" / "responders.png").exists()
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["arms"][0]["n"] == 2
    assert (tmp_path / "out" / "report.html").exists() == (report == "--report")


def _masked(html: str) -> str:
    """A report without its minute of generation."""
    return re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "<generated>", html)


@pytest.mark.parametrize("endpoints", ["score and responders", "score only"])
def test_report_built_while_the_figures_are_drawn_is_the_report_of_the_finished_folder(tmp_path, endpoints,
                                                                                      monkeypatch):
    """The trial command builds report.html from the tables and the summary in memory while the
    figure process draws: the page is the one built afterwards from the finished folder, which
    links to the PNG files the folder holds (no responders.png without a proportion endpoint)."""
    import mscsim.report
    from mscsim.cli import main
    from mscsim.report import build_report
    from mscsim.scenario import Scenario

    calls = []

    def spy(folder, *args, **kwargs):  # which way the trial command built its report
        calls.append("ahead" if kwargs.get("summary") is not None else "from the folder")
        return build_report(folder, *args, **kwargs)

    monkeypatch.setattr(mscsim.report, "build_report", spy)
    scen = dict(SCEN, endpoints=SCEN["endpoints"][:1] if endpoints == "score only" else SCEN["endpoints"])
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(scen))
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # a file of the user's in the folder: listed as before
    (out / "responders.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # an earlier run's: redrawn, or removed
    assert main(["trial", str(p), "-o", str(out), "--workers", "2"]) == 0
    assert calls == ["ahead"]  # built while the figures were drawn, and that copy written
    assert (out / "responders.png").exists() == (endpoints != "score only")
    after = build_report(out, scenario=Scenario.model_validate(scen))
    assert _masked((out / "report.html").read_text()) == _masked(after)
    assert ("responders.png" in after) == (endpoints != "score only") and "mine.png" in after


def test_report_that_fails_while_drawing_is_built_from_the_finished_folder(tmp_path, monkeypatch):
    """Whatever goes wrong while the figures are drawn, the report is built as before from the
    finished folder (where an error would show)."""
    import mscsim.report
    from mscsim.cli import main

    build, calls = mscsim.report.build_report, []

    def fails_ahead(folder, *args, **kwargs):
        calls.append(kwargs.get("summary") is not None)
        if kwargs.get("summary") is not None:
            raise RuntimeError("not now")
        return build(folder, *args, **kwargs)

    monkeypatch.setattr(mscsim.report, "build_report", fails_ahead)
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(SCEN))
    assert main(["trial", str(p), "-o", str(tmp_path / "out"), "--workers", "2"]) == 0
    assert calls == [True, False]
    assert "<html" in (tmp_path / "out" / "report.html").read_text()[:2000].lower()


def test_a_report_that_cannot_be_built_fails_the_command_as_before(tmp_path, monkeypatch, capsys):
    """An error in the report shows once the folder is complete (summary.json written), as before
    the report was built while the figures are drawn: the command fails with the message."""
    import mscsim.report
    from mscsim.cli import main
    from mscsim.errors import MscsimError

    def broken(*args, **kwargs):
        raise MscsimError("the report cannot be built", field="report")

    monkeypatch.setattr(mscsim.report, "build_report", broken)
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(SCEN))
    assert main(["trial", str(p), "-o", str(tmp_path / "out"), "--workers", "2"]) != 0
    assert "the report cannot be built" in capsys.readouterr().err
    assert (tmp_path / "out" / "summary.json").exists() and not (tmp_path / "out" / "report.html").exists()


def test_a_trial_that_fails_leaves_no_drawing_process(tmp_path, monkeypatch, capsys):
    import multiprocessing as mp

    import mscsim.checkpoint
    from mscsim.cli import main
    from mscsim.errors import MscsimError

    def fails(*args, **kwargs):
        raise MscsimError("the trial failed", field="arms")

    monkeypatch.setattr(mscsim.checkpoint, "run_trial_resumable", fails)
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(SCEN))
    before = set(mp.active_children())
    assert main(["trial", str(p), "-o", str(tmp_path / "out"), "--no-report", "--workers", "2"]) != 0
    assert "the trial failed" in capsys.readouterr().err
    assert set(mp.active_children()) <= before
    assert not (tmp_path / "out" / "timecourse.png").exists()


def test_figures_of_a_trial_that_fails_after_its_inputs_were_sent_stay_out_of_the_folder(result, tmp_path):
    """The drawing process writes into a staging folder: a trial that fails once the figure inputs
    went (in its tables, or in the uncertainty runs that follow) leaves the folder as it was, an
    earlier run's figures included, and no staging folder; a finished one gets its files moved in."""
    import time

    from mscsim.trial import _figure_inputs, start_trial_figures

    out = tmp_path / "out"
    out.mkdir()
    (out / "timecourse.png").write_bytes(b"an earlier run's figure")
    job = start_trial_figures(out)
    job.send(_figure_inputs(result))
    deadline = time.monotonic() + 120
    while job.proc.is_alive() and time.monotonic() < deadline:  # let it finish drawing
        time.sleep(0.05)
    assert job.proc.exitcode == 0 and sorted(p.name for p in job.staging.iterdir()) == ["responders.png",
                                                                                         "timecourse.png"]
    job.cancel()  # the trial failed after the inputs were sent
    assert sorted(p.name for p in out.iterdir()) == ["timecourse.png"]
    assert (out / "timecourse.png").read_bytes() == b"an earlier run's figure"
    again = start_trial_figures(out)
    again.draw(result)
    files = again.join()
    assert [f.name for f in files] == ["timecourse.png", "responders.png"]
    assert all(f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for f in files)
    assert sorted(p.name for p in out.iterdir()) == ["responders.png", "timecourse.png"]  # no staging left


def test_a_figure_process_forked_before_the_trial_is_imported_draws_the_same_files(tmp_path):
    """The trial command forks the drawing process first thing, before pandas, matplotlib or the
    simulator are imported, and aims it once the scenario is read: the child imports what it needs
    itself (never pandas: it is sent plain arrays) and draws the files drawn here."""
    code = f"""
import sys
class NoPandas:  # the child inherits it: a DataFrame sent to it would fail to unpickle (exit code 1)
    def find_spec(self, name, path=None, target=None):
        if name == 'pandas' or name.startswith('pandas.'):
            raise ImportError('the figure process must not import pandas')
sys.meta_path.insert(0, NoPandas())
from mscsim.trial_figures import fork_trial_figures
job = fork_trial_figures()
sys.meta_path.pop(0)
early = sorted(m for m in ('pandas', 'matplotlib', 'mscsim.trial', 'numba') if m in sys.modules)
from mscsim.scenario import Scenario
from mscsim.trial import _planned_layout, run_trial, write_trial_figures
sc = Scenario.model_validate({SCEN!r})
job.aim({str(tmp_path / 'forked')!r}, _planned_layout(sc))
result = run_trial(sc, progress=False)
job.draw(result)
files = job.join()
here = write_trial_figures(result, {str(tmp_path / 'here')!r})
print(early, job.proc.exitcode, [f.name for f in files], [f.read_bytes() == g.read_bytes() for f, g in zip(files, here)])
"""
    env = dict(os.environ, MSCSIM_NO_WARM="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[] 0 ['timecourse.png', 'responders.png'] [True, True]"
    assert sorted(p.name for p in (tmp_path / "forked").iterdir()) == ["responders.png", "timecourse.png"]


def test_a_figure_process_never_aimed_is_stopped_cleanly(tmp_path):
    """A trial command that fails before its scenario is read (or runs no trial) cancels the
    process it forked: nothing is left running and nothing is written; it cannot be handed
    inputs before it knows its folder."""
    from mscsim.trial_figures import fork_trial_figures

    job = fork_trial_figures()
    with pytest.raises(RuntimeError, match="before aim"):
        job.send(({}, {}, []))
    job.cancel()
    assert not job.proc.is_alive() and job.staging is None
    job = fork_trial_figures()
    job.aim(tmp_path / "out")
    with pytest.raises(RuntimeError, match="aim twice"):
        job.aim(tmp_path / "other")
    job.cancel()
    assert not job.proc.is_alive() and not (tmp_path / "out").exists()


def test_a_trial_interrupted_once_its_figures_went_leaves_none_of_them(tmp_path, monkeypatch, capsys):
    """Ctrl-C after the trial ran, while its figures are drawn and before the folder is written:
    the command exits 130, and neither the drawing process, its staging folder nor a PNG is left."""
    import multiprocessing as mp
    import time

    import mscsim.trial_figures
    from mscsim.cli import main

    def interrupted(self, result):
        deadline = time.monotonic() + 120
        while self.proc.is_alive() and time.monotonic() < deadline:  # it drew into its staging folder
            time.sleep(0.05)
        assert sorted(p.name for p in self.staging.iterdir()) == ["responders.png", "timecourse.png"]
        raise KeyboardInterrupt

    monkeypatch.setattr(mscsim.trial_figures.TrialFigures, "draw", interrupted)
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(SCEN))
    before = set(mp.active_children())
    assert main(["trial", str(p), "-o", str(tmp_path / "out"), "--no-report", "--workers", "2"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert set(mp.active_children()) <= before
    assert sorted(f.name for f in (tmp_path / "out").iterdir()) == [".checkpoint"]


def test_staging_folders_of_commands_no_longer_running_are_removed(tmp_path):
    """A command killed outright cannot remove its staging folder: the next one aimed at the folder
    does, and keeps a running process's."""
    from mscsim.trial_figures import fork_trial_figures

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead, alive = tmp_path / f".figures-{int(done.stdout)}", tmp_path / f".figures-{os.getppid()}"
    for folder in (dead, alive):
        folder.mkdir()
        (folder / "timecourse.png").write_bytes(b"half drawn")
    job = fork_trial_figures()
    job.aim(tmp_path)
    job.cancel()
    assert not dead.exists() and alive.exists()


def test_time_courses_are_sent_once(result, tmp_path):
    """After the time courses, the next inputs must bring the arms."""
    from mscsim.trial import _figure_inputs, start_trial_figures

    timecourse, summary, quantities = _figure_inputs(result)
    job = start_trial_figures(tmp_path)
    job.send((timecourse, {"scenario": summary["scenario"]}, quantities))
    with pytest.raises(RuntimeError, match="bring the arms"):
        job.send((timecourse, {"scenario": summary["scenario"]}, quantities))
    job.cancel()


def test_the_figure_process_draws_from_plain_arrays_without_pandas(result, tmp_path):
    """The figure process is sent the time courses as a dict of column arrays
    (`trial_figures.timecourse_columns`), so it never imports pandas (~0.25 s of CPU while the
    workers start): drawing from them in an interpreter without pandas gives the bytes drawn from
    the DataFrame. Pillow's plugins are loaded before the data come, so saving imports none."""
    import pickle

    from mscsim.trial import _draw_figures, _figure_inputs
    from mscsim.trial_figures import timecourse_columns

    timecourse, summary, quantities = _figure_inputs(result)
    columns = timecourse_columns(timecourse)
    assert sorted(columns) == sorted(timecourse.columns) and all(len(v) == len(timecourse) for v in columns.values())
    (tmp_path / "inputs.pkl").write_bytes(pickle.dumps((columns, summary, quantities)))
    code = f"""
import pickle, sys
columns, summary, quantities = pickle.loads(open({str(tmp_path / 'inputs.pkl')!r}, 'rb').read())
from mscsim.trial_figures import _draw_figures, _preload_png_writer
_preload_png_writer()
before = set(sys.modules)
files = _draw_figures(columns, summary, quantities, {str(tmp_path / 'arrays')!r})
late = sorted(m for m in set(sys.modules) - before if m.endswith('ImagePlugin'))
print('pandas' in sys.modules, late, [f.name for f in files])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    # ... and Pillow's PNG writer was loaded ahead (`_preload_png_writer`), not after the last patient
    assert out.stdout.strip().splitlines()[-1] == "False [] ['timecourse.png', 'responders.png']"
    here = _draw_figures(timecourse, summary, quantities, tmp_path / "frame")
    for f in here:
        assert (tmp_path / "arrays" / f.name).read_bytes() == f.read_bytes(), f.name
