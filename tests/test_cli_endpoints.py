"""`mscsim endpoints` (issue 21): every endpoint a scenario accepts is listed with its unit,
meaning and statistic, and docs/endpoints.md is the same table."""

from __future__ import annotations

from pathlib import Path

import pytest

from mscsim.cli import main
from mscsim.cli.endpoints import endpoint_table, markdown
from mscsim.model import DISEASES
from mscsim.scenario import endpoint_names


@pytest.mark.parametrize("disease", DISEASES)
def test_every_accepted_endpoint_is_listed(disease):
    import importlib

    t = endpoint_table(disease)
    listed = set(t["endpoint"])
    subtypes = importlib.import_module(f"mscsim.diseases.{disease}").SUBTYPES
    for s in subtypes:
        assert set(endpoint_names(disease, s)) <= listed
    assert (t["unit"].str.len() > 0).all() and (t["meaning"].str.len() > 0).all()
    assert t["statistic"].str.match(r"(arm mean|% of patients)").all()


def test_endpoints_command(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["endpoints", "--disease", "ra"]) == 0
    out = capsys.readouterr().out
    assert "das28_esr" in out and "DAS28-ESR" in out and "acr20" in out and "sledai" not in out


def test_docs_table_is_current():
    doc = Path(__file__).resolve().parents[1] / "docs" / "endpoints.md"
    assert doc.read_text() == markdown(), "regenerate: mscsim endpoints --markdown > docs/endpoints.md"
