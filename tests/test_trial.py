"""Virtual trials (issue 5): scenario contract, outputs, determinism across workers, power."""

import json
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from mscsim.cli import main
from mscsim.errors import MscsimError
from mscsim.scenario import load_scenario
from mscsim.trial import run_trial

SCEN = {
    "name": "RA unit-test trial", "disease": "ra", "seed": 7,
    "population": {"inclusion": {"das28_esr": ">5.1"}, "covariates": {"weight_kg": {"mean": 70, "sd": 12}}},
    "arms": [
        {"name": "msc", "n": 12, "regimen": [{"dose": "1e6 cells/kg", "route": "iv", "at": "0 d"}]},
        {"name": "placebo", "n": 8, "regimen": []},
    ],
    "endpoints": [{"name": "das28_esr", "at": "30 d"}, {"name": "acr20", "at": "30 d"},
                  {"name": "treg_pct", "at": "4 wk"}],
}


def write(tmp_path, data, name="s.yaml"):
    import yaml

    p = tmp_path / name
    p.write_text(yaml.safe_dump(data))
    return p


def test_trial_outputs_follow_the_contract(tmp_path, capsys):
    p = write(tmp_path, SCEN)
    assert main(["trial", str(p), "-o", str(tmp_path / "out"), "--no-report"]) == 0
    out = tmp_path / "out"
    s = json.loads((out / "summary.json").read_text())
    assert set(s) >= {"scenario", "seed", "version", "arms", "comparisons"}
    arm = s["arms"][0]
    assert set(arm) >= {"name", "n", "endpoints"} and arm["n"] == 12
    assert set(arm["endpoints"][0]) >= {"name", "at_days", "stat", "value", "sd", "ci_low", "ci_high"}
    assert {e["stat"] for e in arm["endpoints"]} == {"mean", "proportion"}
    assert s["comparisons"][0].keys() >= {"endpoint", "at_days", "arm", "vs", "difference", "p_value"}
    assert s["comparisons"][0]["vs"] == "placebo"
    pts = pd.read_parquet(out / "patients.parquet")
    assert len(pts) == 20 * 3 and set(pts["arm"]) == {"msc", "placebo"}
    tc = pd.read_parquet(out / "timecourse.parquet")
    assert {"arm", "time_d", "quantity", "mean", "p05", "p95"} <= set(tc.columns)
    assert (out / "timecourse.png").exists() and (out / "responders.png").exists()
    assert not (out / ".checkpoint").exists()
    # each patient starts at his own baseline; the msc arm improves more than placebo
    das = pts[pts.endpoint == "das28_esr"]
    assert das["baseline"].std() > 0.1
    chg = (das["value"] - das["baseline"]).groupby(das["arm"]).mean()
    assert chg["msc"] < chg["placebo"]
    assert "screening ratio" in capsys.readouterr().out


def test_same_seed_same_summary_and_workers_do_not_matter(tmp_path):
    sc = load_scenario(SCEN)
    a = run_trial(sc, progress=False).summary
    b = run_trial(sc, progress=False).summary
    c = run_trial(sc, workers=2, progress=False).summary
    dump = lambda s: json.dumps(s, sort_keys=True)  # noqa: E731
    assert dump(a) == dump(b) == dump(c)
    d = run_trial(sc.model_copy(update={"seed": 8}), progress=False).summary
    assert dump(d) != dump(a)


def test_inclusion_criteria_screen_patients():
    data = dict(SCEN, population={"inclusion": {"das28_esr": ">7.0"}})
    res = run_trial(load_scenario(data), progress=False)
    base = res.patients[res.patients.endpoint == "das28_esr"]["baseline"]
    assert (base > 7.0).all()
    assert res.summary["arms"][0]["screened"] > res.summary["arms"][0]["n"]


@pytest.mark.parametrize("patch,needle", [
    ({"disease": "flu"}, "unknown disease"),
    ({"colour": "red"}, "Extra inputs are not permitted"),
    ({"endpoints": [{"name": "cdai", "at": "4 wk"}]}, "unknown endpoint for ra"),
    ({"endpoints": [{"name": "acr20", "at": "4"}]}, "a number and a unit"),
    ({"arms": [{"name": "a", "n": 0, "regimen": []}]}, "greater than or equal to 1"),
    ({"arms": [{"name": "a", "n": 5, "regimen": [{"dose": "1e6", "route": "iv"}]}]}, "needs a unit"),
    ({"arms": [{"name": "a", "n": 5, "regimen": [{"dose": "1e6 cells/kg", "route": "oral"}]}]}, "unknown route"),
    ({"population": {"inclusion": {"das28": ">5"}}}, "unknown inclusion criterion"),
    ({"population": {"inclusion": {"das28_esr": "about 5"}}}, "expected a criterion"),
    ({"subtype": "juvenile"}, "unknown ra subtype"),
])
def test_scenario_errors_name_the_field(patch, needle):
    with pytest.raises((MscsimError, ValueError)) as ei:
        load_scenario(dict(SCEN, **patch))
    assert needle in str(ei.value)


def test_cli_scenario_error_is_one_line(tmp_path, capsys):
    p = write(tmp_path, dict(SCEN, disease="flu"))
    assert main(["trial", str(p), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "unknown disease 'flu'" in err and len(err.splitlines()) == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    assert main(["trial", str(bad)]) == 2
    assert "not valid YAML" in capsys.readouterr().err


def test_power_estimate(tmp_path):
    from mscsim.trial import power

    sc = load_scenario(dict(SCEN, endpoints=[{"name": "das28_esr", "at": "30 d"}]))
    table = power(sc, replicates=4, progress=False)
    assert len(table) == 1 and 0.0 <= table["power"].iloc[0] <= 1.0
    assert table["replicates"].iloc[0] == 4


def test_interrupted_trial_resumes_to_the_same_summary(tmp_path):
    """Kill `mscsim trial` mid-run, resume it, compare with an uninterrupted run (issue 10)."""
    data = dict(SCEN, arms=[{"name": "msc", "n": 120, "regimen": [{"dose": "1e6 cells/kg", "route": "iv"}]},
                            {"name": "placebo", "n": 72, "regimen": []}])
    p = write(tmp_path, data)
    ref = tmp_path / "ref"
    assert main(["trial", str(p), "-o", str(ref), "--no-report"]) == 0
    out = tmp_path / "int"
    proc = subprocess.Popen([sys.executable, "-m", "mscsim", "trial", str(p), "-o", str(out), "--no-report"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ck = out / ".checkpoint"
    t0 = time.time()
    while time.time() - t0 < 120 and not list(ck.glob("chunk_*.npz")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert list(ck.glob("chunk_*.npz")), "no chunk was finished before the kill"
    assert not (out / "summary.json").exists()         # nothing that looks complete
    assert main(["trial", str(p), "-o", str(out), "--resume", "--no-report"]) == 0
    assert (out / "summary.json").read_text() == (ref / "summary.json").read_text()
