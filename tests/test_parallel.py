"""Where patients run does not change the result (issue 7): the same summary.json from one process,
a local pool of two, and a Dask cluster (two worker processes on loopback)."""

import json

import pytest
import yaml

from mscsim.cli import main

distributed = pytest.importorskip("distributed")

SCEN = {
    "name": "RA parallel check", "disease": "ra", "seed": 17,
    "population": {"inclusion": {"das28_esr": ">5.1"}},
    "arms": [
        {"name": "msc", "n": 10, "regimen": [{"dose": "1e6 cells/kg", "route": "iv", "at": "0 d"}]},
        {"name": "placebo", "n": 6, "regimen": []},
    ],
    "endpoints": [{"name": "das28_esr", "at": "12 wk"}, {"name": "acr20", "at": "12 wk"},
                  {"name": "treg_pct", "at": "4 wk"}],
}


def run_cli(tmp_path, name, *extra):
    scen = tmp_path / "s.yaml"
    scen.write_text(yaml.safe_dump(SCEN))
    out = tmp_path / name
    assert main(["trial", str(scen), "-o", str(out), "--no-report", *extra]) == 0
    return (out / "summary.json").read_text()


def test_serial_pool_and_dask_give_identical_summary(tmp_path):
    serial = run_cli(tmp_path, "serial")
    pool = run_cli(tmp_path, "pool", "--workers", "2")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        dask = run_cli(tmp_path, "dask", "--scheduler", cluster.scheduler_address)
        with distributed.Client(cluster) as client:
            assert len(client.scheduler_info()["workers"]) == 2
    assert serial == pool == dask
    s = json.loads(serial)
    assert [a["n"] for a in s["arms"]] == [10, 6] and not s["failures"]


def test_run_trial_on_dask_matches_local(tmp_path):
    from mscsim.scenario import load_scenario
    from mscsim.trial import run_trial

    sc = load_scenario(dict(SCEN, arms=[dict(a, n=4) for a in SCEN["arms"]]))
    local = run_trial(sc, progress=False).summary
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        remote = run_trial(sc, scheduler=cluster.scheduler_address, progress=False).summary
    assert json.dumps(local, sort_keys=True) == json.dumps(remote, sort_keys=True)
