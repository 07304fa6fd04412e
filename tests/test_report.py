"""The HTML report (issue 11): content, self-containment, both folder kinds, errors.

The headless-browser test that the page actually renders is tests/test_report_browser.py.
"""

import json
import re

import numpy as np
import pytest

from mscsim.cli import main
from mscsim.report import build_report, write_report
from mscsim.report.bodymap import COLOR_STOPS, NONE_COLOR, ORGAN_ORDER, body_svg, color_at
from mscsim.report.inputs import frame_times

SECTIONS = ["simulated", "bodymap", "immune", "scores", "figures", "notes"]


def _data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="mscsim-data">(.*?)</script>', html, re.S)
    assert m, "data blob missing"
    return json.loads(m.group(1))


def _assert_self_contained(html: str) -> None:
    # no script, link, image or frame loaded from the network
    for tag, attr in re.findall(r"<(script|link|img|iframe|source|audio|video)\b([^>]*)>", html, re.I):
        m = re.search(r"""\b(?:src|href)\s*=\s*["']?([^"'\s>]+)""", attr, re.I)
        if m:
            assert not re.match(r"(https?:)?//", m.group(1), re.I), f"<{tag}> loads {m.group(1)}"
    assert not re.search(r"""<link\b[^>]*href=["']?https?:""", html, re.I)
    assert not re.search(r"""url\(\s*["']?(https?:)?//|@import""", html, re.I)   # no remote CSS or fonts
    assert re.search(r"plotly\.js[^\n]*v\d+\.\d+", html)  # plotly.js is inline
    assert "cdn.plot.ly/plotly" not in html.split("<script>", 1)[0]


@pytest.fixture(scope="module")
def sim_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    assert main(["simulate", "--dose", "1e6 cells/kg", "--days", "10", "--injury", "liver:0.6",
                 "--infusion", "30 min", "-o", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def ra_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("ra")
    assert main(["simulate", "--disease", "ra", "--dose", "1e6 cells/kg", "--days", "60", "-o", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def small_trial(tmp_path_factory):
    """The shipped Alvaro-Gracia 2017 RA scenario (published results attached), 5 patients per arm."""
    from mscsim.scenario import load_scenario, shipped_scenarios
    from mscsim.trial import run_trial, write_trial

    sc = load_scenario(shipped_scenarios()["RA_AlvaroGracia2017"])
    sc = sc.model_copy(update={"arms": [a.model_copy(update={"n": 5}) for a in sc.arms]})
    out = tmp_path_factory.mktemp("trial")
    write_trial(run_trial(sc, progress=False), out)
    return out, sc


def test_simulate_writes_a_self_contained_report(sim_folder):
    path = sim_folder / "report.html"          # written by `mscsim simulate` itself
    assert path.is_file() and path.stat().st_size > 1_000_000
    html = path.read_text(encoding="utf-8")
    _assert_self_contained(html)
    for sid in SECTIONS:
        assert f'<section id="{sid}">' in html, sid
    assert 'id="bodymap-svg"' in html and 'id="bm-slider"' in html and 'id="bm-colorbar"' in html
    for organ in ORGAN_ORDER:                  # every organ, blood and the target are drawn
        assert f'data-organ="{organ}"' in html, organ
    assert "infused over 30 min" in html       # the schedule comes from the simulate call
    for png in ("cells_per_organ.png", "label_per_organ.png"):   # the PNGs, linked beside the report
        assert f'<a href="{png}">' in html and (sim_folder / png).exists()
    data = _data(html)
    bm = data["bodymap"]
    assert bm["target"] == "liver"
    assert set(bm["organs"]) == set(ORGAN_ORDER)
    assert len(bm["times"]) == len(bm["organs"]["lung"]["viable"]) > 10
    assert bm["organs"]["lung"]["viable"][0] == 0.0 and max(bm["organs"]["lung"]["viable"]) > 10
    assert "fig-cells" in data["figures"]
    assert "No immune read-outs" in html       # kinetics only: said, not hidden


def test_disease_simulation_report_has_immune_scores_and_endpoints(ra_folder):
    html = (ra_folder / "report.html").read_text(encoding="utf-8")
    _assert_self_contained(html)
    data = _data(html)
    assert {"fig-cells", "fig-immune", "fig-scores"} <= set(data["figures"])
    names = {t.get("name") for t in data["figures"]["fig-immune"]["data"]}
    assert {"with MSCs", "without MSCs"} <= names
    titles = " ".join(a["text"] for a in data["figures"]["fig-immune"]["layout"]["annotations"])
    for q in ("TNF", "IFN", "IL-17A", "IL-10", "Th17", "Treg"):
        assert q in titles
    assert "DAS28-ESR" in " ".join(a["text"] for a in data["figures"]["fig-scores"]["layout"]["annotations"])
    assert '<section id="responders">' in html and "das28_esr" in html
    assert data["bodymap"]["target"] == "joint"


def test_trial_report_sets_published_beside_simulated(small_trial):
    out, sc = small_trial
    path = write_report(out, scenario=sc)
    html = path.read_text(encoding="utf-8")
    _assert_self_contained(html)
    for sid in SECTIONS + ["responders", "published"]:
        assert f'<section id="{sid}">' in html, sid
    assert "RA_AlvaroGracia2017#1" in html and "overlap" in html
    assert "ad-msc IV, at 0 d, every 7 d \u00d7 3" in html     # regimen per arm
    data = _data(html)
    assert {"fig-cells", "fig-immune", "fig-scores", "fig-responders"} <= set(data["figures"])
    traces = data["figures"]["fig-responders"]["data"]
    pub = [t for t in traces if t.get("name") == "published (95% CI)"]
    assert pub and len(pub[0]["y"]) == len(sc.validation)
    # bands in the score plots: a filled 5-95th percentile trace per arm
    assert any(t.get("fill") == "toself" for t in data["figures"]["fig-scores"]["data"])
    bm = data["bodymap"]
    assert bm["target"] == "joint" and "typical patient" in bm["source"]
    assert bm["doses"] == [0.0, 7.0, 14.0]


def test_trial_report_finds_the_shipped_scenario_by_name(small_trial):
    out, _ = small_trial
    html = build_report(out)                    # no scenario given: found by the name in summary.json
    assert "RA_AlvaroGracia2017#2" in html and _data(html)["bodymap"] is not None


def test_trial_of_an_unknown_scenario_still_reports(small_trial, tmp_path):
    out, _ = small_trial
    for f in out.iterdir():
        if f.suffix in (".json", ".parquet"):
            (tmp_path / f.name).write_bytes(f.read_bytes())
    s = json.loads((tmp_path / "summary.json").read_text())
    s["scenario"] = "a private scenario"
    (tmp_path / "summary.json").write_text(json.dumps(s))
    html = build_report(tmp_path)
    _assert_self_contained(html)
    assert "No body map" in html and "--scenario" in html
    assert "fig-responders" in _data(html)["figures"]


def test_report_command(sim_folder, tmp_path, capsys):
    dest = tmp_path / "r.html"
    assert main(["report", str(sim_folder), "-o", str(dest)]) == 0
    assert dest.stat().st_size > 1_000_000
    assert "report:" in capsys.readouterr().out


@pytest.mark.parametrize("make,needle", [
    (lambda p: p / "missing", "no folder"),
    (lambda p: p, "has no summary.json"),
    (lambda p: (p / "summary.json").write_text("{not json") and p, "not valid JSON"),
    (lambda p: (p / "summary.json").write_text('{"x": 1}') and p, "neither"),
    (lambda p: (p / "summary.json").write_text('{"cells_given": 1}') and p, "organs.parquet"),
])
def test_report_errors_are_one_clear_line(make, needle, tmp_path, capsys):
    folder = make(tmp_path)
    rc = main(["report", str(folder)])
    err = capsys.readouterr().err
    assert rc == 2
    assert needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "report.html").exists()


def test_frame_times_are_thinned_but_keep_the_first_hours():
    t = np.unique(np.concatenate([np.arange(0, 1000.0, 1.0), np.linspace(0, 3, 200)]))
    f = frame_times(t, [0.0], limit=300)
    assert len(f) <= 300 and f[0] == 0 and f[-1] == t[-1]
    assert np.sum(f <= 3) >= 100                # the early grid is not thinned away
    assert np.all(np.diff(f) > 0)


def test_colour_scale_ends_and_svg():
    assert color_at(0) == NONE_COLOR and color_at(float("nan")) == NONE_COLOR
    assert color_at(1e-9) == COLOR_STOPS[0][1] and color_at(1e6) == COLOR_STOPS[-1][1]
    assert color_at(1.0) != color_at(10.0)
    svg = body_svg("cns", "cns")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count('class="organ"') == len(ORGAN_ORDER) and 'data-organ="target"' in svg
    assert 'data-organ="target"' not in body_svg(None)
