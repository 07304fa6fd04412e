"""The HTML report opened in real headless chromium (Debian's /usr/bin/chromium via Playwright):
the body map and the plotly plots render, nothing is fetched from the network, no console
errors, and the time slider changes the organ shading. A screenshot is saved in the test's
tmp folder (printed; see it with ``pytest -s``)."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium); "
                "the headless-browser test of the HTML report needs it", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the Python package playwright is not installed")

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """A `mscsim simulate` report and a `mscsim trial` report (published-trial scenario, small arms)."""
    from mscsim.cli import main
    from mscsim.report import write_report
    from mscsim.scenario import load_scenario, shipped_scenarios
    from mscsim.trial import run_trial, write_trial

    sim = tmp_path_factory.mktemp("sim")
    assert main(["simulate", "--dose", "1e6 cells/kg", "--days", "10", "--injury", "liver:0.6",
                 "-o", str(sim)]) == 0
    sc = load_scenario(shipped_scenarios()["RA_AlvaroGracia2017"])
    sc = sc.model_copy(update={"arms": [a.model_copy(update={"n": 4}) for a in sc.arms]})
    trial = tmp_path_factory.mktemp("trial")
    write_trial(run_trial(sc, progress=False), trial)
    write_report(trial, scenario=sc)
    return {"simulate": sim / "report.html", "trial": trial / "report.html"}


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _organ_paint(page, computed: bool = False) -> dict:
    """Colour of each organ group as the script set it (or as drawn, after the 0.15 s fade)."""
    return page.evaluate("""(computed) => {
        const out = {};
        for (const g of document.querySelectorAll('#bodymap-svg g.organ[data-organ]')) {
            const st = computed ? getComputedStyle(g) : g.style;
            out[g.dataset.organ] = g.dataset.paint === 'stroke' ? st.stroke : st.fill;
        }
        return out;
    }""", computed)


@pytest.mark.parametrize("kind", ["simulate", "trial"])
def test_report_renders_offline_and_the_slider_moves_the_cells(kind, reports, browser, tmp_path):
    from mscsim.report.bodymap import color_at

    path = reports[kind]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, attempted, failed = [], [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: failed.append(r.url))

    def guard(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:                       # anything else would be the network: refuse and remember
            attempted.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_selector("#bodymap-svg g.organ")

    # every embedded plotly figure rendered
    fig_ids = page.evaluate("Object.keys(window.mscsimReport.data.figures)")
    assert "fig-cells" in fig_ids
    if kind == "trial":
        assert {"fig-immune", "fig-scores", "fig-responders"} <= set(fig_ids)
    for fid in fig_ids:
        page.wait_for_selector(f"#{fid} .main-svg", timeout=20_000)
        assert page.locator(f"#{fid} .main-svg").count() >= 1, fid
        assert page.locator(f"#{fid} .main-svg .trace, #{fid} .main-svg .barlayer .point").count() > 0, fid

    # the body map: all organs drawn, shaded by the data
    assert page.locator("#bodymap-svg").is_visible()
    n_groups = page.locator("#bodymap-svg g.organ").count()
    assert n_groups == 14                      # 12 organs, blood and the target tissue
    # page colours = Python colours (one rule)
    assert page.evaluate("window.mscsimReport.colorFor(1.0)") == color_at(1.0)

    slider = page.locator("#bm-slider")
    n_frames = int(slider.get_attribute("max")) + 1
    assert n_frames > 10
    slider.fill("0")                           # before the cells arrive: nothing anywhere
    assert page.locator("#bm-time").inner_text() == "0 min"
    at_zero = _organ_paint(page)
    assert set(at_zero.values()) == {"rgb(230, 230, 230)"}
    lung_cell_at_zero = page.locator('#bm-table tr[data-row="lung"] [data-cell="viable"]').inner_text()

    initial = page.evaluate("window.mscsimReport.data.bodymap.initial")
    slider.fill(str(initial))                  # one day after the (first) dose
    assert page.locator("#bm-time").inner_text() == "24 h"
    at_one_day = _organ_paint(page)
    page.wait_for_timeout(400)                 # the fade is over: what is drawn is what was set
    assert _organ_paint(page, computed=True) == at_one_day
    changed = [o for o in at_zero if at_zero[o] != at_one_day[o]]
    assert len(changed) >= 12, changed
    assert page.locator('#bm-table tr[data-row="lung"] [data-cell="viable"]').inner_text() != lung_cell_at_zero
    slider.fill(str(n_frames - 1))             # the end: most cells are gone, the map lightens
    at_end = _organ_paint(page)
    assert at_end["lung"] != at_one_day["lung"]

    # the label mode (viable + debris) repaints the map and swaps the plot's traces
    slider.fill(str(initial))
    page.locator('input[name="bm-mode"][value="label"]').check()
    assert "label" in page.locator("#bm-cbtitle").text_content()
    assert _organ_paint(page)["spleen"] != at_one_day["spleen"]
    visible = page.evaluate("document.getElementById('fig-cells').data.filter(t => t.visible).map(t => t.meta)")
    assert visible and set(visible) == {"label"}
    page.locator('input[name="bm-mode"][value="viable"]').check()
    slider.fill(str(initial))
    page.evaluate("window.scrollTo(0, 0)")

    shot = tmp_path / f"report_{kind}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    print(f"screenshot: {shot}")

    page.close()
    assert errors == [], errors
    assert attempted == [], f"the report tried to reach the network: {attempted}"
    assert failed == [], failed
