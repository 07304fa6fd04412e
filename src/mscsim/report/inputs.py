"""Reading a ``mscsim simulate`` or ``mscsim trial`` output folder for the report.

A simulate folder has per-organ cell data (``organs.parquet``); a trial folder does not, so the
body map of a trial shows one typical patient of its first MSC arm, simulated here with
:func:`mscsim.simulate.simulate` from the trial's scenario (passed in, or found by name among
the shipped published-trial scenarios), unless the folder holds an ``organs.parquet``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from mscsim.errors import MscsimError

#: at most this many time frames on the body-map slider
MAX_FRAMES = 400


@dataclass
class ReportInput:
    folder: Path
    kind: str                                   # "simulate" | "trial"
    summary: dict
    organs: pd.DataFrame | None = None          # tidy per-organ table for the body map
    organs_source: str = ""                     # what the body map shows (text)
    dose_times: list[float] = field(default_factory=list)
    timecourse: pd.DataFrame | None = None
    endpoints: pd.DataFrame | None = None       # simulate --disease: untreated vs treated
    patients: pd.DataFrame | None = None
    population: pd.DataFrame | None = None
    scenario: object | None = None              # mscsim.scenario.Scenario
    validation: pd.DataFrame | None = None      # published vs simulated (trial)
    settings: dict = field(default_factory=dict)
    regimen: object | None = None               # mscsim.dosing.Regimen of a simulate run
    notes: list[str] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)

    @property
    def disease(self) -> str | None:
        return self.summary.get("disease")


def _read_parquet(path: Path, required: bool = False) -> pd.DataFrame | None:
    if not path.is_file():
        if required:
            raise MscsimError(f"{path.parent} has no {path.name}: the folder is incomplete "
                              "(rerun the simulation)", field="report")
        return None
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - a damaged file is a user-facing problem
        raise MscsimError(f"{path} could not be read as a parquet table ({type(exc).__name__})",
                          field="report") from None


def load_inputs(folder, scenario=None, settings: dict | None = None, *, regimen=None, summary: dict | None = None,
                figures: list | None = None) -> ReportInput:
    """Read an output folder (simulate or trial); raise :class:`MscsimError` on a wrong folder.
    ``summary``, ``figures``: the run's summary (as summary.json will hold it) and PNG files (any
    order), given where they are not in the folder yet."""
    folder = Path(folder)
    if not folder.exists():
        raise MscsimError(f"no folder at {folder}", field="report")
    if not folder.is_dir():
        raise MscsimError(f"{folder} is not a folder: give the output folder of `mscsim simulate` "
                          "or `mscsim trial`", field="report")
    sfile = folder / "summary.json"
    given = summary is not None
    if not given:
        summary = _read_summary(sfile, folder)
    where = "the summary given" if given else str(sfile)
    if not isinstance(summary, dict):
        raise MscsimError(f"{where} is not a mscsim summary (expected a JSON object)", field="report")
    figures = sorted(Path(p) for p in figures) if figures is not None else sorted(
        p for p in folder.glob("*.png") if p.is_file())
    if "arms" in summary:
        inp = ReportInput(folder, "trial", summary, settings=dict(settings or {}), figures=figures)
        _load_trial(inp, scenario)
    elif "cells_given" in summary:
        inp = ReportInput(folder, "simulate", summary, settings=dict(settings or {}), figures=figures,
                          regimen=regimen)
        _load_simulate(inp)
    else:
        raise MscsimError(f"{where} is neither a `mscsim simulate` nor a `mscsim trial` summary",
                          field="report")
    return inp


def _read_summary(sfile: Path, folder: Path):
    if not sfile.is_file():
        raise MscsimError(f"{folder} has no summary.json: give the output folder of `mscsim simulate` "
                          "or `mscsim trial` (a finished run)", field="report")
    try:
        return json.loads(sfile.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise MscsimError(f"{sfile} is not valid JSON", field="report") from None


# ---------------------------------------------------------------------------------------------
# simulate folders

def _dose_schedule(inp: ReportInput) -> list[float]:
    """Start times of every dose (days): from the run's regimen, else the first dose at 0."""
    s = inp.summary
    if inp.regimen is not None:
        w = s.get("weight_kg") if isinstance(s.get("weight_kg"), (int, float)) else 70.0
        try:
            return sorted({round(float(a.start), 9) for a in inp.regimen.administrations(w)})
        except Exception:  # noqa: BLE001 - a schedule is a nicety
            pass
    return [0.0] if s.get("dose") is not None else []


def _load_simulate(inp: ReportInput) -> None:
    f = inp.folder
    inp.organs = _read_parquet(f / "organs.parquet", required=True)
    _check_columns(inp.organs, f / "organs.parquet", {"time_d", "organ", "viable_pct_dose", "label_pct_dose"})
    inp.timecourse = _read_parquet(f / "timecourse.parquet")
    if inp.timecourse is not None:
        _check_columns(inp.timecourse, f / "timecourse.parquet", {"time_d", "quantity", "value"})
    inp.endpoints = _read_parquet(f / "endpoints.parquet")
    s = inp.summary
    who = str(s.get("species") or "human")
    if isinstance(s.get("weight_kg"), (int, float)):
        who += f", {s['weight_kg']:g} kg"
    inp.organs_source = f"the simulated patient ({who})"
    inp.dose_times = _dose_schedule(inp)


def _check_columns(df: pd.DataFrame, path: Path, cols: set[str]) -> None:
    missing = cols - set(df.columns)
    if missing:
        raise MscsimError(f"{path} lacks the columns {', '.join(sorted(missing))}", field="report")


# ---------------------------------------------------------------------------------------------
# trial folders

def find_shipped_scenario(name: str):
    """The shipped published-trial scenario whose ``name`` is ``name`` (or None). Each file's name
    is read from its YAML; only a file of that name is validated (issue 19: validating all 36 took
    most of a trial report's time)."""
    from mscsim.scenario import load_scenario, read_scenario_file, shipped_scenarios

    for path in shipped_scenarios().values():
        try:
            data = read_scenario_file(path)
            if data.get("name") != name:
                continue
            sc = load_scenario(data)  # the mapping already read, not the file again
        except Exception:  # noqa: BLE001 - a broken shipped file must not break a report
            continue
        if sc.name == name:
            return sc
    return None


def _load_trial(inp: ReportInput, scenario) -> None:
    f = inp.folder
    inp.patients = _read_parquet(f / "patients.parquet")
    inp.timecourse = _read_parquet(f / "timecourse.parquet")
    if inp.timecourse is not None and not inp.timecourse.empty:
        _check_columns(inp.timecourse, f / "timecourse.parquet", {"arm", "time_d", "quantity", "mean", "p05", "p95"})
    inp.population = _read_parquet(f / "population.parquet")
    name = inp.summary.get("scenario")
    if scenario is None and name:
        scenario = find_shipped_scenario(name)
        if scenario is None:
            inp.notes.append("the trial's scenario is not a shipped one: regimens, the body map and the "
                             "published comparison need it (mscsim report OUT --scenario FILE.yaml)")
    elif scenario is not None and name and scenario.name != name:
        inp.notes.append(f"the scenario given ({scenario.name!r}) is not the one this trial ran ({name!r})")
    inp.scenario = scenario
    organs = _read_parquet(f / "organs.parquet")
    if organs is not None:
        inp.organs = organs
        inp.organs_source = "organs.parquet in the trial folder"
    elif scenario is not None:
        _typical_patient(inp, scenario)
    if scenario is not None and getattr(scenario, "validation", None) and inp.patients is not None:
        try:
            from mscsim.evidence.validate import validate_result

            inp.validation = validate_result(scenario, SimpleNamespace(patients=inp.patients))
        except Exception as exc:  # noqa: BLE001 - the report goes on without the comparison
            inp.notes.append(f"published comparison not available: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")


def _typical_patient(inp: ReportInput, sc) -> None:
    """Simulate one typical patient of the first MSC arm (no between-patient variability)."""
    arm = next((a for a in sc.arms if a.regimen), None)
    if arm is None:
        inp.notes.append("no arm of this trial gives MSCs: no body map")
        return
    from mscsim.simulate import simulate

    reg = arm.to_regimen()
    days = max(float(sc.end_day), 1.0)
    try:
        sim = simulate(reg, days, disease=sc.disease, subtype=sc.subtype)
    except Exception as exc:  # noqa: BLE001 - the report goes on without a body map
        inp.notes.append(f"the typical patient of arm {arm.name!r} could not be simulated "
                         f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); no body map")
        return
    inp.organs = sim.organs()
    inp.organs_source = (f"one typical patient of arm \u201c{arm.name}\u201d ({sim.info['weight_kg']:g} kg, "
                         "population-typical parameters, no between-patient variability), simulated for "
                         "this report")
    inp.dose_times = sorted({round(float(a.start), 9) for a in reg.administrations(sim.info["weight_kg"])})


# ---------------------------------------------------------------------------------------------
# body-map frames

def frame_times(times: np.ndarray, dose_times: list[float], limit: int = MAX_FRAMES) -> np.ndarray:
    """The simulation's output times, thinned to at most ``limit`` frames (first hours kept)."""
    t = np.unique(np.asarray(times, dtype=float))
    if len(t) <= limit:
        return t
    early = np.zeros(len(t), dtype=bool)
    for d in dose_times or [0.0]:
        early |= (t >= d) & (t <= d + 3.0)
    keep = np.flatnonzero(early)
    rest = np.flatnonzero(~early)
    room = max(limit - len(keep), 2)
    if len(keep) > limit // 2:
        keep = keep[np.linspace(0, len(keep) - 1, limit // 2).round().astype(int)]
        room = limit - len(keep)
    if len(rest) > room:
        rest = rest[np.linspace(0, len(rest) - 1, room).round().astype(int)]
    idx = np.unique(np.concatenate([keep, rest, [0, len(t) - 1]]))
    return t[idx]


def _sig(x, digits: int = 4):
    out = []
    for v in np.asarray(x, dtype=float):
        if not math.isfinite(v):
            out.append(None)
        elif v == 0:
            out.append(0.0)
        else:
            out.append(float(f"{v:.{digits}g}"))
    return out


def _parent_of(target: str) -> str | None:
    try:
        from mscsim.physiology import make_body

        return make_body("human", None, target).target_parent
    except Exception:  # noqa: BLE001
        return None


def bodymap_data(inp: ReportInput) -> dict | None:
    """Per-organ series for the body map (JSON-ready), or None when there is no organ data."""
    org = inp.organs
    if org is None or org.empty:
        return None
    times = frame_times(org["time_d"].to_numpy(), inp.dose_times)
    target = None
    series: dict[str, tuple[str, pd.DataFrame]] = {}
    for name, g in org.groupby("organ", sort=False):
        key = str(name)
        if key in ("cleared", "csf"):  # not drawn on the body map
            continue
        if key.startswith("target:"):
            target = key.split(":", 1)[1]
            key = "target"
        cols = [c for c in ("viable_pct_dose", "label_pct_dose", "viable_cells") if c in g.columns]
        g = g.drop_duplicates("time_d").set_index("time_d").sort_index()[cols].astype(float)
        series[key] = (str(name), g.reindex(g.index.union(times)).interpolate(method="index").loc[times])
    if target is not None and "rest" in series and _parent_of(target) == "rest" and "part_of" not in org:
        # (organ tables with a part_of column already leave the target out of its host organ)
        # "rest" is drawn as the whole body around the organs: leave the target (a joint, a fistula)
        # out of it, or one local injection would colour the whole figure
        rest, tg = series["rest"][1], series["target"][1]
        series["rest"] = ("rest (without the target tissue)", (rest - tg).clip(lower=0.0))
    organs: dict[str, dict] = {}
    for key, (name, g) in series.items():
        entry = {"name": name, "viable": _sig(g["viable_pct_dose"]), "label": _sig(g["label_pct_dose"])}
        if "viable_cells" in g:
            entry["cells"] = _sig(g["viable_cells"], 3)
        organs[key] = entry
    t0 = inp.dose_times[0] if inp.dose_times else 0.0
    want = [("+1 h", t0 + 1 / 24), ("+6 h", t0 + 0.25), ("+1 d", t0 + 1), ("+7 d", t0 + 7),
            ("+30 d", t0 + 30), ("+90 d", t0 + 90)]
    quick = [{"label": lab, "index": int(np.argmin(np.abs(times - t)))} for lab, t in want if t <= times[-1] + 1e-9]
    quick.append({"label": "end", "index": len(times) - 1})
    initial = int(np.argmin(np.abs(times - (t0 + 1.0)))) if times[-1] >= t0 + 1.0 else len(times) // 2
    return {"times": _sig(times, 8), "organs": organs, "target": target, "initial": initial,
            "quick": quick, "doses": [float(d) for d in inp.dose_times], "source": inp.organs_source}
