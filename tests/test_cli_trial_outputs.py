"""`mscsim trial` outputs a user sees (issue 21): CSV beside every Parquet table, no empty
responders.png, console tables with units and no rounding noise."""

from __future__ import annotations

import yaml

from mscsim.cli import main


def _scenario(tmp_path, endpoints):
    sc = {"name": "tiny", "disease": "ra", "seed": 3,
          "arms": [{"name": "msc", "n": 4, "regimen": [{"dose": "1e6 cells/kg"}]}, {"name": "placebo", "n": 4}],
          "endpoints": endpoints}
    p = tmp_path / "tiny.yaml"
    p.write_text(yaml.safe_dump(sc))
    return p


def test_trial_writes_csv_and_no_empty_responder_figure(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    out = tmp_path / "out"
    rc = main(["trial", str(_scenario(tmp_path, [{"name": "das28_esr", "at": "4 wk"}])), "-o", str(out),
               "--no-report"])
    assert rc == 0
    for name in ("patients", "timecourse", "population"):
        assert (out / f"{name}.parquet").exists() and (out / f"{name}.csv").stat().st_size > 0
    assert not (out / "responders.png").exists()
    text = capsys.readouterr().out
    assert "score" in text                      # the unit column of DAS28
    assert "e-1" not in text and "e-0" not in text  # no 2.78e-17 style noise


def test_a_rerun_without_a_proportion_endpoint_leaves_no_responder_figure_before_the_summary(tmp_path, monkeypatch):
    """The responder figure of an earlier run into the same folder is removed with this run's
    files, before summary.json marks the folder complete (nothing changes in it afterwards)."""
    import mscsim.io

    out = tmp_path / "out"
    assert main(["trial", str(_scenario(tmp_path, [{"name": "acr20", "at": "4 wk"}])), "-o", str(out),
                 "--no-report"]) == 0
    assert (out / "responders.png").exists()
    seen = []
    write_json = mscsim.io.write_json

    def watch(obj, path):  # what the folder holds when summary.json is written
        if path.name == "summary.json":
            seen.append((out / "responders.png").exists())
        return write_json(obj, path)

    monkeypatch.setattr(mscsim.io, "write_json", watch)
    assert main(["trial", str(_scenario(tmp_path, [{"name": "das28_esr", "at": "4 wk"}])), "-o", str(out),
                 "--no-report"]) == 0
    assert seen == [False] and not (out / "responders.png").exists() and (out / "timecourse.png").exists()


def test_trial_with_a_proportion_endpoint_keeps_the_responder_figure(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    out = tmp_path / "out"
    rc = main(["trial", str(_scenario(tmp_path, [{"name": "acr20", "at": "4 wk"}])), "-o", str(out), "--no-report"])
    assert rc == 0
    assert (out / "responders.png").exists()
    text = capsys.readouterr().out
    assert "pp" in text                         # difference of proportions in percentage points


def test_readable_numbers():
    from mscsim.cli.common import clean_number, readable_time

    assert clean_number(2.78e-17) == "0"
    assert clean_number(None) == "-" and clean_number(float("nan")) == "-"
    assert readable_time(2 / 1440) == "2 min"
    assert readable_time(0.25) == "6 h"
    assert readable_time(85.0) == "85 d"
