"""The HTML report: one self-contained ``report.html`` per output folder.

    >>> from mscsim.report import write_report
    >>> write_report("mscsim-out/trial/ADMIRE_CD")          # doctest: +SKIP

It reads a ``mscsim simulate`` or ``mscsim trial`` folder and shows what was simulated, a body
map of where the cells are over time (an SVG figure with a time slider), cytokine and T-cell
time courses, clinical scores per arm with bands, responder rates, and, for published-trial
scenarios, the published result beside the simulated one. plotly.js, the data and the PNG
figures are embedded, so the file opens without a network.

Files: ``template.html`` (page and style), ``report.js`` (the page's script),
``bodymap.py`` (the SVG figure), ``figures.py`` (plotly figures), ``inputs.py`` (reading the
folder), ``render.py`` (sections and assembly).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_report", "build_report", "save_report"]


def build_report(folder, scenario=None, *, regimen=None, settings: dict | None = None,
                 summary: dict | None = None, figures: list | None = None) -> str:
    """The report of an output folder as an HTML string.

    ``scenario``: the trial's :class:`mscsim.scenario.Scenario` (regimens, body map of a typical
    patient, published comparison); when omitted it is looked up among the shipped scenarios by
    the name in ``summary.json``. ``regimen``: the :class:`mscsim.dosing.Regimen` of a simulate
    run (its schedule is not in ``summary.json``). ``settings``: other run settings missing
    from a simulate folder's ``summary.json`` (``subtype``).
    ``summary`` and ``figures`` (the PNG files the report links to): the run's summary and figures
    when they are not in the folder yet (the trial command builds the report while its figures are
    drawn and before summary.json is written, which marks the folder complete; issue 19).
    """
    from mscsim.report.inputs import load_inputs
    from mscsim.report.render import render

    return render(load_inputs(folder, scenario, settings, regimen=regimen, summary=summary, figures=figures))


def write_report(folder, scenario=None, *, regimen=None, settings: dict | None = None, path=None) -> Path:
    """Write ``folder/report.html`` (or ``path``), atomically; return its path."""
    return save_report(build_report(folder, scenario, regimen=regimen, settings=settings), folder, path=path)


def save_report(html: str, folder, *, path=None) -> Path:
    """Write a built report to ``folder/report.html`` (or ``path``), atomically; return its path."""
    from mscsim.io import atomic_path

    dest = Path(path) if path is not None else Path(folder) / "report.html"
    with atomic_path(dest) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return dest
