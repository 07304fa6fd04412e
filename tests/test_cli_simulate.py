"""`mscsim simulate` and `mscsim demo` end to end, and bad input (issue 2)."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from mscsim.cli import main


def test_simulate_writes_tidy_outputs_and_figures(tmp_path, capsys):
    rc = main(["simulate", "--dose", "1e6 cells/kg", "--route", "iv", "--days", "10", "--injury", "liver:0.6",
               "--infusion", "30 min", "-o", str(tmp_path)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "Where the cells went" in out and "lung" in out
    for f in ["organs.parquet", "organs.csv", "timecourse.parquet", "timecourse.csv",
              "cells_per_organ.png", "label_per_organ.png", "summary.json"]:
        assert (tmp_path / f).stat().st_size > 0, f
    org = pd.read_parquet(tmp_path / "organs.parquet")
    assert set(org.columns) >= {"time_d", "organ", "viable_cells", "label_pct_dose"}
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["conservation_error"] < 1e-6
    assert summary["where_cells_went"][0]["organ"] == "lung"     # lung first


def test_simulate_routes_and_repeats(tmp_path):
    assert main(["simulate", "--dose", "1.1e6 cells/kg", "--route", "intra_arterial", "--artery", "pancreatic",
                 "--injury", "pancreas:0.5", "--days", "5", "-o", str(tmp_path / "a")]) == 0
    assert main(["simulate", "--dose", "1e7 cells", "--route", "intrathecal", "--every", "12 wk",
                 "--times", "3", "--days", "30 wk", "-o", str(tmp_path / "b")]) == 0
    s = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert s["cells_given"] == pytest.approx(3e7)


@pytest.mark.parametrize("args,needle", [
    (["--dose", "-1e6 cells/kg"], "negative"),
    (["--dose", "1e6"], "needs a unit"),
    (["--dose", "nan cells/kg"], "finite"),
    (["--dose", "1e6 cells/kg", "--route", "oral"], "unknown route"),
    (["--dose", "1e6 cells/kg", "--injury", "elbow:0.5"], "unknown injured tissue"),
    (["--dose", "1e6 cells/kg", "--route", "local", "--site", "spleeen"], "unknown site"),
    (["--dose", "1e6 cells/kg", "--species", "dog"], "unknown species"),
    (["--dose", "1e6 cells/kg", "--days", "-3"], "positive"),
    (["--dose", "1e6 cells/kg", "--injury", "liver:nan"], "between 0 and 1"),
    (["--dose", "1e12 cells/kg"], "hard limit"),
])
def test_bad_input_gives_one_clear_line(args, needle, tmp_path, capsys):
    rc = main(["simulate", *args, "-o", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc != 0
    assert needle in err
    assert "Traceback" not in err
    assert len([ln for ln in err.strip().splitlines() if ln.startswith("error:")]) == 1


def test_real_command_line_has_no_traceback(tmp_path):
    p = subprocess.run([sys.executable, "-m", "mscsim.cli", "simulate", "--dose", "1e6", "-o", str(tmp_path)],
                       capture_output=True, text=True)
    assert p.returncode == 2
    assert p.stderr.strip().startswith("error:") and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_demo_runs_with_no_arguments(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "mscsim-out" in out
    assert (tmp_path / "mscsim-out" / "demo" / "summary.json").exists()
