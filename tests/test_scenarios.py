"""Shipped published-trial scenarios (issue 5): all valid, every disease and headline trial present,
records exist; `mscsim validate` runs end to end and reports (it is not a gate)."""

import pandas as pd
import pytest

from mscsim.cli import main
from mscsim.evidence.records import load_records
from mscsim.model import DISEASES
from mscsim.scenario import load_scenario, shipped_scenarios

HEADLINE = ["RA_Ghoryani2019", "RA_WangL2019", "T1D_Cai2016", "MS_Petrou2020", "MS_Harris2018",
            "SLE_WangD2014", "CD_Panes2016_ADMIRE", "CD_Zhang2018", "LIV_ZhangShi2012", "T1D_Madani2022_meta"]


def test_every_shipped_scenario_is_valid_and_cites_existing_records():
    recs = set(load_records()["record_id"])
    scen = shipped_scenarios()
    diseases = set()
    for sid, path in scen.items():
        sc = load_scenario(path)
        diseases.add(sc.disease)
        assert sc.source, sid
        for v in sc.validation:
            assert v.record in recs, (sid, v.record)
            assert any(e.name == v.endpoint for e in sc.endpoints), (sid, v.endpoint)
    assert diseases == set(DISEASES)


@pytest.mark.parametrize("sid", HEADLINE)
def test_headline_trials_are_shipped(sid):
    assert sid in shipped_scenarios()


def test_validate_reports_hits_and_misses(tmp_path, capsys):
    rc = main(["validate", "--only", "RA_Ghoryani2019", "--only", "RA_Park2018", "-o", str(tmp_path)])
    assert rc == 0
    t = pd.read_csv(tmp_path / "validation.csv")
    assert set(t["study"]) == {"RA_Ghoryani2019", "RA_Park2018"}
    assert {"simulated", "sim_ci_low", "published", "inside", "role", "record"} <= set(t.columns)
    md = (tmp_path / "validation.md").read_text()
    assert md.startswith("| trial | arm |") and "RA_Park2018" in md
    assert "validation:" in capsys.readouterr().out


def test_the_report_finds_each_shipped_scenario_by_its_name():
    """`find_shipped_scenario` reads only the names before validating (issue 19): it must still find
    every shipped scenario, the same as loading its file, and none for a name not shipped."""
    from mscsim.report.inputs import find_shipped_scenario

    for sid, path in shipped_scenarios().items():
        sc = load_scenario(path)
        assert find_shipped_scenario(sc.name) == sc, sid
    assert find_shipped_scenario("not a shipped trial") is None


def test_a_yaml_error_names_its_line(tmp_path):
    from mscsim.errors import MscsimError

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ndisease: ra\narms: [unclosed\n")
    with pytest.raises(MscsimError) as ei:
        load_scenario(bad)
    msg = str(ei.value)
    assert "bad.yaml is not valid YAML (line " in msg and len(msg.splitlines()) == 1, msg
