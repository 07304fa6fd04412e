"""The report's interactive figures are plotly.js figure dicts written without plotly's Python
package (issue 19: building them through ``plotly.graph_objects`` took most of a trial report's
time). Each must be exactly what plotly would write for it: plotly validates every property
(an unknown or misspelt one raises) and normalises the figure, and the normalised figure must
equal ours; the subplot grids must be laid out as ``make_subplots`` lays them out; the template
must be plotly's ``plotly_white``."""

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from plotly.subplots import make_subplots

from mscsim.report import figures


def _plotly_normalised(fig: dict) -> dict:
    """The figure as plotly writes it after validating it (raises on an invalid property)."""
    return json.loads(pio.to_json(go.Figure(fig), validate=True, pretty=False))


def _tc(arms=("msc", "placebo"), quantities=("tnf", "il10", "das28_crp", "crp_out", "th17_pct")):
    t = np.array([0.0, 1.0, 7.0, 30.0, 90.0])
    rows = []
    for k, arm in enumerate(arms):
        for j, q in enumerate(quantities):
            m = 10.0 + j + k * np.exp(-t / 30)
            m[2] = np.nan if q == "crp_out" else m[2]  # a missing value becomes null
            rows.append(pd.DataFrame({"arm": arm, "time_d": t, "quantity": q, "mean": m, "p05": m * 0.8,
                                      "p95": m * 1.2, "value": m}))
    return pd.concat(rows, ignore_index=True)


def _summary():
    def ep(name, v, lo, hi, stat="proportion"):
        return {"name": name, "at_days": 90.0, "stat": stat, "value": v, "sd": None, "ci_low": lo, "ci_high": hi}

    return {"arms": [{"name": "msc", "n": 20, "endpoints": [ep("acr20", 0.55, 0.33, 0.75), ep("acr50", 0.2, None, None),
                                                           ep("das28_crp", 4.1, 3.8, 4.4, "mean")]},
                     {"name": "placebo", "n": 20, "endpoints": [ep("acr20", 0.3, 0.12, 0.5), ep("acr50", None, None, None)]}]}


def sample_figures() -> dict[str, dict]:
    """One figure of every kind and option the report uses."""
    tc = _tc()
    colors = figures.arm_colors([{"name": "msc"}, {"name": "placebo", "control": True}])
    published = pd.DataFrame({"quantity": ["das28_crp", "das28_crp", "tnf"], "arm": ["msc", "placebo", "msc"],
                              "at_days": [90.0, 90.0, 30.0], "published": [4.0, 4.9, 12.0],
                              "pub_low": [3.6, np.nan, 10.0], "pub_high": [4.4, np.nan, 14.0],
                              "study": ["A 2020", "A 2020", "B 2019"]})
    pub_props = pd.DataFrame({"arm": ["msc", "placebo"], "endpoint": ["acr20", "acr20"], "at_days": [90.0, 90.0],
                              "published": [0.5, 0.25], "pub_low": [0.3, np.nan], "pub_high": [0.7, np.nan],
                              "study": ["A 2020", "A 2020"]})
    untreated = pd.DataFrame({"arm": "untreated", "endpoint": ["tnf", "tnf", "crp"], "time_d": [0.0, 90.0, 90.0],
                              "value": [12.0, 12.5, 8.0]})
    organs = pd.DataFrame({"organ": np.repeat(["lung", "liver", "target:joint", "cleared"], 4),
                           "time_d": np.tile([0.0, 0.01, 1.0, 30.0], 4),
                           "viable_pct_dose": [0, 80, 20, 0.001, 0, 5, 30, 1, 0, 0.01, 0.5, 0.1, 0, 1, 40, 90],
                           "label_pct_dose": [0, 80, 25, 2, 0, 5, 35, 20, 0, 0.01, 0.6, 0.3, 0, 1, 30, 70]})
    labels = dict(figures.LABELS, das28_crp="DAS28-CRP", crp_out="CRP (mg/L)")
    return {
        "trial immune": figures.trial_timecourse_figure(tc, figures.IMMUNE, figures.LABELS, "immune", colors,
                                                        ncols=4),
        "trial scores, published": figures.trial_timecourse_figure(tc, ["das28_crp", "crp_out", "tnf"], labels,
                                                                   "scores", colors, published=published),
        "trial, log y, one column": figures.trial_timecourse_figure(tc, ["tnf", "il10"], labels, "log", colors,
                                                                    ncols=1, log_y=True),
        "single patient": figures.single_patient_figure(tc[tc["arm"] == "msc"], ["tnf", "crp_out", "il10", "th17_pct"],
                                                        labels, "one patient", untreated, ncols=3),
        "cells": figures.cells_figure(organs, {"lung": "#1f77b4"}, 0.01),
        "cells, no first time": figures.cells_figure(organs, {}, None),
        "responders, published": figures.responders_figure(_summary(), colors, pub_props),
        "responders": figures.responders_figure(_summary(), colors),
    }


@pytest.mark.parametrize("name", list(sample_figures()))
def test_each_figure_is_what_plotly_writes_for_it(name):
    fig = json.loads(json.dumps(sample_figures()[name]))  # as the page holds it (JSON)
    assert fig["data"], name
    assert _plotly_normalised(fig) == fig


def test_a_misspelt_property_would_fail_the_check():
    fig = sample_figures()["responders"]
    fig["data"][0]["hovertempate"] = "x"
    with pytest.raises(ValueError):
        _plotly_normalised(fig)


@pytest.mark.parametrize("n,ncols", [(1, 3), (2, 3), (3, 3), (5, 3), (6, 3), (7, 3), (10, 4), (11, 4), (4, 1),
                                     (13, 3)])
def test_subplot_grids_are_laid_out_as_make_subplots(n, ncols):
    quantities = [f"q{i}" for i in range(n)]
    layout, rows, cols = figures._subplots(quantities, {}, ncols)
    ref = make_subplots(rows=rows, cols=cols, subplot_titles=quantities, horizontal_spacing=0.07,
                        vertical_spacing=min(0.14, 0.45 / max(rows, 1)))
    ref = json.loads(pio.to_json(ref, pretty=False))["layout"]
    ref.pop("template", None)
    assert layout == ref


def test_the_template_is_plotlys_plotly_white():
    ref = json.loads(pio.to_json(go.Figure(layout={"template": "plotly_white"}), pretty=False))["layout"]["template"]
    assert figures.template() == ref


def test_the_report_draws_only_trace_types_of_the_basic_bundle():
    used = {t["type"] for fig in sample_figures().values() for t in fig["data"]}
    assert used <= {"scatter", "bar", "pie"}, used


def test_building_a_report_does_not_import_plotly():
    import subprocess
    import sys

    code = ("import sys, pandas as pd\n"
            "from mscsim.report import figures, render, inputs\n"
            "tc = pd.DataFrame({'arm': 'a', 'time_d': [0.0, 1.0], 'quantity': 'tnf', 'mean': 1.0, 'p05': 0.5, 'p95': 2.0})\n"
            "assert figures.trial_timecourse_figure(tc, ['tnf'], {}, 't', {})['data']\n"
            "print('plotly' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
