"""Predictive intervals and probability of trial success (issue 14).

``predict(scenario, n_draws)`` runs the scenario's virtual trial once per parameter draw. Draw k
takes one row of the disease's posterior sample (``data/calibration/<disease>.posterior.csv``,
written by ``mscsim calibrate --save``) and its own virtual patients (trial seed derived from the
scenario seed and k, as ``trial.power`` does), so the spread of the results holds all three
sources: parameter uncertainty, between-patient variability and the trial's own sampling.
Common random numbers: draw k's patients (their random effects, covariates and visit noise)
depend only on (seed, k), never on the parameter values, so two designs or two posterior files
compared with the same seed are compared draw by draw. (The same patients in every draw would
leave the trial's sampling out of the predictive interval and of the assurance.)

Per arm and endpoint the result is the median and the 95 % predictive interval (2.5 and 97.5
percentiles) of the arm-level result (mean or proportion) over the draws; per comparison the
assurance (O'Hagan, Stevens and Campbell 2005, Pharm Stat 4:187): the share of draws in which the
comparison is significant at ``alpha``, with its Monte-Carlo standard error sqrt(a(1-a)/N).

Without a posterior sample for the disease, draws come from the calibration file's
profile-likelihood 95 % CIs (independent split normals on the fitting scale, an open side
reaching the table bound), correlations ignored; the summary says so. A disease with no
calibration file has no parameter uncertainty to propagate and is refused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mscsim.errors import MscsimError
from mscsim.scenario import Scenario


def posterior_path(disease: str):
    from mscsim.calibrate import POSTERIOR_SUFFIX, package_path

    return package_path(disease).with_name(f"{disease}{POSTERIOR_SUFFIX}")


def load_posterior(disease: str) -> pd.DataFrame | None:
    """The shipped posterior sample of ``disease`` (parameter columns only), or None."""
    path = posterior_path(disease)
    if not path.is_file():
        return None
    df = pd.read_csv(path)
    return df.drop(columns=[c for c in ("walker", "step", "log_prob") if c in df.columns])


def _calibration_file(disease: str) -> dict | None:
    import json

    from mscsim.calibrate import package_path

    path = package_path(disease)
    return json.loads(path.read_text()) if path.is_file() else None


def profile_draws(calibration: dict, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Independent draws from the profile-likelihood CIs of a calibration file: on the fitting scale
    (see ``calibrate.transforms``) a split normal with its mode at the fitted value and its 2.5 and
    97.5 percentiles at the CI ends; an open side (null) reaches the parameter's table bound."""
    from mscsim.calibrate import transforms

    names = list(calibration["parameters"])
    cols = {}
    for name, t in zip(names, transforms(names)):
        v = calibration["parameters"][name]
        lo = v.get("ci_low") if v.get("ci_low") is not None else t.lo
        hi = v.get("ci_high") if v.get("ci_high") is not None else t.hi
        x = t.to_x(min(max(float(v["value"]), t.lo), t.hi)) if not (t.log and v["value"] <= 0) else t.x_bounds[0]
        s_lo = max(x - t.to_x(max(lo, t.lo)), 0.0) / 1.96
        s_hi = max(t.to_x(min(hi, t.hi)) - x, 0.0) / 1.96
        z = rng.standard_normal(n)
        cols[name] = [t.to_v(x + zi * (s_hi if zi > 0 else s_lo)) for zi in z]
    return pd.DataFrame(cols)


def parameter_draws(disease: str, n: int, seed: int) -> tuple[pd.DataFrame, str]:
    """``n`` parameter draws for ``disease`` and a line that says where they come from."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(14,)))
    post = load_posterior(disease)
    if post is not None and len(post):
        idx = rng.choice(len(post), size=n, replace=n > len(post))
        return (post.iloc[idx].reset_index(drop=True),
                f"posterior sample {posterior_path(disease).name} ({len(post)} draws)")
    cal = _calibration_file(disease)
    if not cal or not cal.get("parameters"):
        raise MscsimError(f"{disease} has no calibration file and no posterior sample, so there is no parameter "
                          f"uncertainty to propagate; run `mscsim calibrate --disease {disease} --save` first",
                          field="--uncertainty")
    return (profile_draws(cal, n, rng),
            f"no posterior sample for {disease}: independent draws from the profile-likelihood 95% CIs of "
            f"{disease}.json (open sides to the table bounds, correlations ignored)")


@dataclass(frozen=True)
class DrawTask:
    """One virtual trial under one parameter draw (picklable; runs in any worker)."""

    scenario: Scenario
    theta: dict
    seed: int


def run_draw(task: DrawTask) -> dict:
    """Arm-level results and comparisons of one virtual trial under ``task.theta``."""
    from mscsim.calibrate import overridden
    from mscsim.trial import assemble, plan_trial, run_patients

    sc = task.scenario.model_copy(update={"seed": task.seed})
    with overridden(sc.disease, task.theta):
        plan = plan_trial(sc)
        tasks = plan.tasks()
        res = assemble(plan, tasks, run_patients(tasks), tables=False)
    s = res.summary
    return {"arms": {(a["name"], e["name"], e["at_days"]): e["value"] for a in s["arms"] for e in a["endpoints"]},
            "comparisons": {(c["endpoint"], c["at_days"], c["arm"], c["vs"]): (c["difference"], c["p_value"])
                            for c in s["comparisons"]},
            "failures": len(s["failures"])}


def predictive_interval(x: list) -> dict:
    """Median and 95 % predictive interval (2.5 and 97.5 percentiles) of the finite values of ``x``."""
    v = np.array([np.nan if a is None else a for a in x], dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return {"median": None, "low": None, "high": None, "draws": 0}
    q = np.quantile(v, [0.5, 0.025, 0.975])
    return {"median": float(q[0]), "low": float(q[1]), "high": float(q[2]), "draws": int(len(v))}


def assurance(p_values: list, alpha: float) -> dict:
    """Share of draws with p < alpha (a missing p-value counts as not significant) and its
    Monte-Carlo standard error."""
    n = len(p_values)
    k = sum(1 for p in p_values if p is not None and np.isfinite(p) and p < alpha)
    a = k / n if n else float("nan")
    return {"value": a, "mc_error": math.sqrt(a * (1 - a) / n) if n else None, "draws": n, "alpha": alpha}


def predict(scenario: Scenario, n_draws: int, *, alpha: float = 0.05, workers: int = 1,
            scheduler: str | None = None, progress: bool = True) -> dict:
    """Predictive intervals and assurance of ``scenario`` over ``n_draws`` parameter draws (see
    module docstring). Deterministic in the scenario seed, however the work is split."""
    from mscsim import parameters
    from mscsim.execution import map_tasks

    if n_draws < 2:
        raise MscsimError(f"--uncertainty needs at least 2 draws (got {n_draws})", field="--uncertainty")
    draws, source = parameter_draws(scenario.disease, n_draws, scenario.seed)
    base = parameters.calibrated(scenario.disease)
    tasks = [DrawTask(scenario, {**base, **{k: float(v) for k, v in row.items()}},
                      int(np.random.SeedSequence([scenario.seed, k]).generate_state(1)[0]))
             for k, row in enumerate(draws.to_dict("records"))]
    if workers > 1 and not scheduler:  # forked workers inherit the loaded model instead of each loading it
        _warm(scenario)
    # one draw per chunk: a draw is a whole trial (~0.5 s), so bigger chunks left a worker idle at the end
    results = map_tasks(run_draw, tasks, workers=workers, scheduler=scheduler, desc="uncertainty",
                        progress=progress, chunk_size=1)
    arms = {key: predictive_interval([r["arms"].get(key) for r in results]) for key in results[0]["arms"]}
    comps = {}
    for key in results[0]["comparisons"]:
        vals = [r["comparisons"].get(key, (None, None)) for r in results]
        comps[key] = {"assurance": assurance([p for _, p in vals], alpha),
                      "predictive_difference": predictive_interval([d for d, _ in vals])}
    return {"arms": arms, "comparisons": comps,
            "info": {"draws": n_draws, "alpha": alpha, "parameters": list(draws.columns), "source": source,
                     "failed_patients": int(sum(r["failures"] for r in results)),
                     "seeds": "draw k: patients from SeedSequence([seed, k]); parameter rows chosen with "
                              "SeedSequence(seed, spawn_key=(14,))"}}


def _warm(scenario: Scenario) -> None:
    """Load the scenario's compiled model (and the engine's kernels) in this process."""
    from mscsim.dosing import Regimen
    from mscsim.model import build_model
    from mscsim.numerics import compile_model, warm_up
    from mscsim.simulate import parameter_vector

    composed = build_model(scenario.disease, None, "human", scenario.subtype)
    warm_up(compile_model(composed.ode), parameter_vector(composed, regimen=Regimen()))


def attach(summary: dict, prediction: dict) -> dict:
    """Add ``predictive`` to every arm endpoint and ``assurance`` to every comparison of a trial
    summary (in place), and the run's description as ``summary['uncertainty']``."""
    for arm in summary["arms"]:
        for e in arm["endpoints"]:
            e["predictive"] = prediction["arms"].get((arm["name"], e["name"], e["at_days"]))
    for c in summary["comparisons"]:
        p = prediction["comparisons"].get((c["endpoint"], c["at_days"], c["arm"], c["vs"]), {})
        c["assurance"] = p.get("assurance")
        c["predictive_difference"] = p.get("predictive_difference")
    summary["uncertainty"] = prediction["info"]
    return summary


def uncertainty_table(summary: dict) -> pd.DataFrame:
    """Per arm and endpoint: point result, predictive median and 95 % interval; per comparison the
    assurance (for printing)."""
    rows = []
    for arm in summary["arms"]:
        for e in arm["endpoints"]:
            p = e.get("predictive") or {}
            rows.append({"arm": arm["name"], "endpoint": e["name"], "day": e["at_days"], "point": e["value"],
                         "predictive median": p.get("median"), "95% PI low": p.get("low"),
                         "95% PI high": p.get("high"), "assurance": "\u2013"})
    for c in summary["comparisons"]:
        a = c.get("assurance") or {}
        if a.get("value") is None:
            continue
        rows.append({"arm": f"{c['arm']} vs {c['vs']}", "endpoint": c["endpoint"], "day": c["at_days"],
                     "point": c["difference"], **{k: (c.get("predictive_difference") or {}).get(j) for k, j in
                                                  (("predictive median", "median"), ("95% PI low", "low"),
                                                   ("95% PI high", "high"))},
                     "assurance": f"{a['value']:.3f} ± {a['mc_error']:.3f}"})
    return pd.DataFrame(rows)
