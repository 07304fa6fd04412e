"""The trial's figures drawn by a process forked before the trial runs (issue 19): same files,
no matplotlib (nor scipy.stats/statsmodels) in the process that runs the trial, and a failed
child falls back to drawing in the parent."""

from __future__ import annotations

import json
import os
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


def test_a_failed_drawing_process_falls_back_to_this_one(result, tmp_path, monkeypatch):
    import mscsim.trial as trial

    parent, draw = os.getpid(), trial._draw_figures

    def draw_fails_in_child(*args):
        if os.getpid() != parent:
            raise RuntimeError("child fails")
        return draw(*args)

    monkeypatch.setattr(trial, "_draw_figures", draw_fails_in_child)
    job = trial.start_trial_figures(tmp_path)
    job.draw(result)
    files = job.join()
    assert job.proc.exitcode == 1
    assert all(f.exists() and f.stat().st_size > 10_000 for f in files)


@pytest.mark.parametrize("workers", ["2", "1"])
def test_trial_process_imports_no_matplotlib_nor_scipy_stats(tmp_path, workers):
    """Start-up cost: the process that runs a trial leaves matplotlib to the figure process (with
    workers, or one worker where it may use a second CPU), and the statistics need neither
    scipy.stats nor statsmodels."""
    if workers == "1" and len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: the figures are drawn in the trial process")
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(SCEN))
    code = ("import sys; from mscsim.cli import main; "
            f"rc = main(['trial', {str(p)!r}, '-o', {str(tmp_path / 'out')!r}, '--no-report', '--workers', "
            f"{workers!r}]); "
            "print(rc, sorted(m for m in ('matplotlib', 'scipy.stats', 'statsmodels') if m in sys.modules))")
    env = dict(os.environ, MSCSIM_NO_WARM="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "0 []"
    assert (tmp_path / "out" / "timecourse.png").exists() and (tmp_path / "out" / "responders.png").exists()
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["arms"][0]["n"] == 2


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
