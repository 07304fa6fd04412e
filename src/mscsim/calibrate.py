"""Calibration: fit a disease's few free parameters to the published arm-level results of the
evidence records marked for calibration (``role: calibration`` in the shipped scenarios).

Objective: weighted least squares on arm-level summaries, each residual divided by the
published standard error (SD/sqrt(n) for means, sqrt(p(1-p)/n) for proportions with p kept
within [0.05, 0.95]), i.e. the Gaussian negative log-likelihood up to a constant. Each
evaluation runs the scenarios' virtual trials with common random numbers (fixed seeds), so the
objective changes only through the parameters. Optimiser: scipy.optimize Nelder-Mead on
transformed parameters (log for positive ranges over a decade, otherwise linear, clipped to the
table's bounds). Confidence intervals: profile likelihood (each parameter on a grid, the others
re-fitted; 95 % where the objective rises by 3.84). Results are written to a versioned JSON
that the package ships (``data/calibration/<disease>.json``) and that overrides the table.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize

import mscsim
from mscsim import parameters
from mscsim.errors import MscsimError, unknown
from mscsim.scenario import Scenario, load_scenario, shipped_scenarios


@dataclass(frozen=True)
class Target:
    """One published arm-level number the fit must reproduce."""

    scenario: str
    arm: str
    endpoint: str
    at_days: float
    compare: str
    value: float
    se: float
    record: str


def published_se(rec, stat: str) -> float | None:
    n = rec.get("n")
    n = None if n is None or pd.isna(n) else int(n)
    v = float(rec["value"])
    if stat == "proportion":
        ev, tot = rec.get("events"), rec.get("total")
        if pd.notna(ev) and pd.notna(tot):
            n = int(tot)
        if not n:
            return None
        p = min(max(v, 0.05), 0.95)
        return math.sqrt(p * (1 - p) / n)
    sd = rec.get("sd")
    if pd.isna(sd):
        if pd.notna(rec.get("ci_low")) and pd.notna(rec.get("ci_high")):
            return (float(rec["ci_high"]) - float(rec["ci_low"])) / (2 * 1.96)
        return None
    return float(sd) / math.sqrt(n) if n else float(sd)


def calibration_targets(disease: str) -> tuple[dict[str, Scenario], list[Target]]:
    """Scenarios and targets marked ``role: calibration`` for ``disease``."""
    from mscsim.evidence.records import load_records
    from mscsim.trial import endpoint_stat
    from mscsim.units import parse_time

    recs = load_records().set_index("record_id", drop=False)
    scen, targets = {}, []
    for sid, path in shipped_scenarios(disease).items():
        sc = load_scenario(path)
        for v in sc.validation:
            if v.role != "calibration" or v.compare == "direction":
                continue
            rec = recs.loc[v.record].copy()
            if v.n is not None and pd.isna(rec.get("n")):
                rec["n"] = v.n
            stat = "mean" if v.compare == "change" else endpoint_stat(sc.disease, v.endpoint)
            se = published_se(rec, stat)
            if se is None or pd.isna(rec["value"]):
                raise MscsimError(f"record {v.record} has no value or spread to calibrate on", field="validation")
            scen[sid] = sc
            targets.append(Target(sid, v.arm, v.endpoint, parse_time(v.at), v.compare, float(rec["value"]) * v.scale,
                                  max(se * v.scale, 1e-6), v.record))
    return scen, targets


@contextlib.contextmanager
def overridden(disease: str, theta: dict[str, float]):
    """Temporarily make ``theta`` the disease's calibrated values (typical values of the population).

    Only ``theta``: previously shipped values of other parameters do not carry over, so the fit is
    made under exactly the values that `save` writes (the file is replaced, not merged)."""
    orig = parameters.calibrated

    def patched(d):
        return dict(theta) if d == disease else orig(d)

    parameters.calibrated = patched
    try:
        yield
    finally:
        parameters.calibrated = orig


def simulate_targets(scenarios: dict[str, Scenario], targets: list[Target], theta: dict[str, float],
                     n_min: int = 60, workers: int = 1, scheduler=None) -> np.ndarray:
    """Simulated value of every target under parameters ``theta`` (common random numbers)."""
    from mscsim.execution import map_tasks
    from mscsim.model import build_model
    from mscsim.trial import assemble, plan_trial, run_patient

    out = np.full(len(targets), np.nan)
    disease = next(iter(scenarios.values())).disease
    with overridden(disease, theta):
        for sid, sc in scenarios.items():
            arms = [a.model_copy(update={"n": max(a.n, n_min)}) for a in sc.arms]
            sc2 = sc.model_copy(update={"arms": arms})
            plan = plan_trial(sc2)
            known = build_model(sc.disease, None, "human", sc.subtype).ode.params  # subtype-specific
            for pts in plan.patients.values():
                for pt in pts:
                    for k, v in theta.items():
                        if k not in pt.params and k in known:
                            pt.params[k] = v
            tasks = plan.tasks()
            res = assemble(plan, tasks, map_tasks(run_patient, tasks, workers=workers, scheduler=scheduler,
                                                  progress=False))
            pts = res.patients
            for i, t in enumerate(targets):
                if t.scenario != sid:
                    continue
                sel = pts[(pts.arm == t.arm) & (pts.endpoint == t.endpoint) & np.isclose(pts.at_days, t.at_days)]
                x = sel["value"].to_numpy(float)
                if t.compare == "change":
                    x = x - sel["baseline"].to_numpy(float)
                elif t.compare == "complement":
                    x = 1.0 - x
                out[i] = float(np.mean(x)) if len(x) else np.nan
    return out


@dataclass
class Transform:
    lo: float
    hi: float
    log: bool

    def to_x(self, v):
        return math.log(v) if self.log else v

    def to_v(self, x):
        v = math.exp(x) if self.log else x
        return min(max(v, self.lo), self.hi)


def transforms(names) -> list[Transform]:
    reg = parameters.registry()
    out = []
    for n in names:
        if n not in reg or reg[n].bounds is None:
            raise MscsimError(f"calibration parameter {n!r} needs bounds in the parameter table", field="parameters")
        lo, hi = reg[n].bounds
        out.append(Transform(lo, hi, lo > 0 and hi / lo > 10))
    return out


@dataclass
class CalibrationResult:
    disease: str
    names: list[str]
    values: dict[str, float]
    ci: dict[str, tuple[float | None, float | None]]
    objective: float
    targets: list[Target]
    simulated: np.ndarray
    start: dict[str, float]
    evaluations: int

    def table(self) -> pd.DataFrame:
        reg = parameters.registry()
        def side(v, bound):  # None: the profile never rose 3.84 above the optimum up to the bound
            return f"{v:.4g}" if v is not None else f"open (to the table bound {bound:g})"

        rows = []
        for n in self.names:
            lo, hi = reg[n].bounds or (float("nan"), float("nan"))
            rows.append({"parameter": n, "start": self.start[n], "fitted": self.values[n],
                         "ci_low": side(self.ci[n][0], lo), "ci_high": side(self.ci[n][1], hi), "unit": reg[n].unit})
        return pd.DataFrame(rows)

    def fit_table(self) -> pd.DataFrame:
        return pd.DataFrame([{"scenario": t.scenario, "arm": t.arm, "endpoint": t.endpoint, "at_days": t.at_days,
                              "compare": t.compare, "published": t.value, "se": t.se, "simulated": s,
                              "z": (s - t.value) / t.se, "record": t.record}
                             for t, s in zip(self.targets, self.simulated)])

    def to_json(self) -> dict:
        reg = parameters.registry()
        return {"disease": self.disease, "mscsim_version": mscsim.__version__,
                "date": _dt.date.today().isoformat(), "method": "weighted least squares (Nelder-Mead), "
                "profile-likelihood 95% CI", "objective": self.objective, "evaluations": self.evaluations,
                "parameters": {n: {"value": self.values[n], "ci_low": self.ci[n][0], "ci_high": self.ci[n][1],
                                   "unit": reg[n].unit, "table_value": reg[n].value_for("human")}
                               for n in self.names},
                "records": sorted({t.record for t in self.targets})}


def fit(scenarios, targets, names: list[str], *, start: dict[str, float] | None = None, maxfev: int = 60,
        profile_points: int = 5, n_min: int = 60, workers: int = 1, scheduler=None,
        progress=None) -> CalibrationResult:
    """Fit ``names`` to ``targets`` (see module docstring)."""
    if not targets:
        raise MscsimError("no calibration targets", field="calibrate")
    tr = transforms(names)
    reg = parameters.registry()
    disease = next(iter(scenarios.values())).disease
    start = start or {n: parameters.calibrated(disease).get(n, reg[n].value_for("human")) for n in names}
    obs = np.array([t.value for t in targets])
    se = np.array([t.se for t in targets])
    cache: dict[tuple, float] = {}
    count = {"n": 0}

    def theta_of(x):
        return {n: t.to_v(xi) for n, t, xi in zip(names, tr, x)}

    def objective(x):
        th = theta_of(x)
        key = tuple(round(v, 12) for v in th.values())
        if key not in cache:
            sim = simulate_targets(scenarios, targets, th, n_min=n_min, workers=workers, scheduler=scheduler)
            r = (sim - obs) / se
            cache[key] = float(np.sum(np.where(np.isfinite(r), r, 10.0) ** 2))
            count["n"] += 1
            if progress:
                progress(count["n"], th, cache[key])
        return cache[key]

    x0 = np.array([t.to_x(start[n]) for n, t in zip(names, tr)])
    steps = np.array([0.4 if t.log else 0.15 * (t.hi - t.lo) for t in tr])
    simplex = np.vstack([x0] + [x0 + np.eye(len(x0))[i] * steps[i] for i in range(len(x0))])
    res = minimize(objective, x0, method="Nelder-Mead",
                   options={"initial_simplex": simplex, "maxfev": maxfev, "xatol": 1e-3, "fatol": 1e-3})
    best = theta_of(res.x)
    fbest = objective(res.x)
    ci = {}
    for i, n in enumerate(names):
        ci[n] = _profile(objective, res.x, i, tr, fbest, profile_points) if profile_points else (None, None)
    sim = simulate_targets(scenarios, targets, best, n_min=n_min, workers=workers, scheduler=scheduler)
    return CalibrationResult(disease, list(names), best, ci, fbest, targets, sim, dict(start), count["n"])


def _profile(objective, xbest, i, tr, fbest, points):
    """95 % profile-likelihood interval of parameter i (others re-fitted briefly)."""
    t = tr[i]
    lo_x, hi_x = (math.log(t.lo), math.log(t.hi)) if t.log else (t.lo, t.hi)
    others = [j for j in range(len(xbest)) if j != i]

    def prof(xi):
        if not others:
            x = xbest.copy()
            x[i] = xi
            return objective(x)

        def g(z):
            x = xbest.copy()
            x[i] = xi
            x[others] = z
            return objective(x)

        return minimize(g, xbest[others], method="Nelder-Mead", options={"maxfev": 12, "xatol": 1e-2}).fun

    bounds = []
    for edge in (lo_x, hi_x):
        found = None
        prev = xbest[i]
        for k in range(1, points + 1):
            xi = xbest[i] + (edge - xbest[i]) * k / points
            if prof(xi) - fbest > 3.84:
                a, b = prev, xi          # the 95 % crossing lies between a (inside) and b (outside)
                for _ in range(3):       # refine by bisection
                    mid = 0.5 * (a + b)
                    a, b = (mid, b) if prof(mid) - fbest <= 3.84 else (a, mid)
                found = t.to_v(0.5 * (a + b))
                break
            prev = xi
        bounds.append(found)  # None: the data do not bound the parameter on this side
    return bounds[0], bounds[1]


def calibration_parameters(disease: str) -> list[str]:
    from mscsim.model import disease_module

    mod = disease_module(disease)
    names = list(getattr(mod, "CALIBRATION_PARAMETERS", []))
    if not names:
        raise MscsimError(f"the {disease} module declares no CALIBRATION_PARAMETERS", field="--disease")
    return names


def save(result: CalibrationResult, path) -> None:
    from mscsim.io import write_json

    write_json(result.to_json(), path)
    parameters.calibrated.cache_clear()


def package_path(disease: str):
    from pathlib import Path

    return Path(__file__).parent / "data" / "calibration" / f"{disease}.json"


def fit_figure(result: CalibrationResult):
    import matplotlib.pyplot as plt

    ft = result.fit_table()
    fig, ax = plt.subplots(figsize=(5.5, 5.2))
    ax.errorbar(ft["published"], ft["simulated"], xerr=1.96 * ft["se"], fmt="o", capsize=3)
    for _, r in ft.iterrows():
        ax.annotate(f"{r['arm']} {r['endpoint']} d{r['at_days']:g}", (r["published"], r["simulated"]), fontsize=6,
                    xytext=(3, 3), textcoords="offset points")
    lim = [min(ft["published"].min(), ft["simulated"].min()), max(ft["published"].max(), ft["simulated"].max())]
    pad = 0.1 * (lim[1] - lim[0] or 1)
    ax.plot([lim[0] - pad, lim[1] + pad], [lim[0] - pad, lim[1] + pad], "k--", lw=0.8)
    ax.set_xlabel("published (95 % CI)")
    ax.set_ylabel("simulated (fitted)")
    ax.set_title(f"{result.disease}: calibration fit")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


__all__ = ["calibration_targets", "fit", "save", "Target", "CalibrationResult", "unknown"]
