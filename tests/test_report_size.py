"""The report stays self-contained but light (issue 20, item 3): it embeds plotly.js's "basic"
partial bundle (scatter, bar, pie), which holds every trace type the report draws, instead of the
4.8 MB full bundle; a 30-patient trial's report is under 1.5 MB."""

import re

import pytest

from mscsim.report.render import PLOTLY_BUNDLE, _resource


def test_the_bundle_is_plotly_basic_and_small():
    """Every trace type the report draws is in the basic bundle: tests/test_report_figures.py."""
    bundle = _resource(PLOTLY_BUNDLE)
    assert "plotly.js (basic - minified)" in bundle[:200]
    assert len(bundle) < 1.3e6


@pytest.fixture(scope="module")
def trial_report(tmp_path_factory):
    from mscsim.report import write_report
    from mscsim.scenario import load_scenario, shipped_scenarios
    from mscsim.trial import run_trial, write_trial

    sc = load_scenario(shipped_scenarios()["RA_AlvaroGracia2017"])
    n = [8, 8, 7, 7][: len(sc.arms)]
    sc = sc.model_copy(update={"arms": [a.model_copy(update={"n": k}) for a, k in zip(sc.arms, n)]})
    out = tmp_path_factory.mktemp("trial30")
    res = run_trial(sc, progress=False)
    write_trial(res, out)
    return write_report(out, scenario=sc)


def test_a_30_patient_trial_report_is_under_1_5_mb(trial_report):
    html = trial_report.read_text()
    assert sum(1 for _ in re.finditer(r"Plotly\.newPlot|newPlot", html)) >= 1
    assert "plotly.js (basic - minified)" in html
    assert trial_report.stat().st_size < 1.5e6, trial_report.stat().st_size
