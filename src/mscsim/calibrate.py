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

Posterior (issue 14): ``sample_posterior`` draws the joint posterior of the same parameters with
emcee (affine-invariant ensemble sampler, Foreman-Mackey et al. 2013, PASP 125:306). Likelihood:
each published arm summary ~ Normal(simulated arm mean, se_pub^2 + se_sim^2), where se_sim is
the simulated arm's own Monte-Carlo error (SD of the virtual patients / sqrt(n)), so a fit with few
virtual patients is not over-confident; the virtual patients are the same at every evaluation
(common random numbers). Prior: uniform on the transformed scale within the table's bounds (the
parameter table carries no prior distributions). The walkers start in a small ball around the
least-squares optimum, which is also the point value single runs use (with the flat prior it is the
maximum a posteriori on the transformed scale). The chain's acceptance fraction, integrated
autocorrelation time and effective sample size are reported as they are (a short chain is
labelled so). Samples are written beside the calibration file as ``<disease>.posterior.csv``.

One name, one value: a parameter that several disease models share under the same name (an
immune-layer constant) cannot be calibrated for one disease; it must first get a
disease-specific name (``check_not_shared``).
"""

from __future__ import annotations

import contextlib
import functools
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
                     n_min: int = 60, workers: int = 1, scheduler=None, with_se: bool = False):
    """Simulated value of every target under parameters ``theta`` (common random numbers).

    ``with_se``: also return each simulated arm's Monte-Carlo standard error (SD / sqrt(n))."""
    from mscsim.execution import map_tasks
    from mscsim.model import build_model
    from mscsim.trial import assemble, plan_trial, run_patient

    out = np.full(len(targets), np.nan)
    se_sim = np.full(len(targets), np.nan)
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
                se_sim[i] = float(np.std(x, ddof=1) / math.sqrt(len(x))) if len(x) > 1 else np.nan
    return (out, se_sim) if with_se else out


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

    @property
    def x_bounds(self) -> tuple[float, float]:
        """The table's bounds on the transformed scale (the support of the flat prior)."""
        return (math.log(self.lo), math.log(self.hi)) if self.log else (self.lo, self.hi)


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
    posterior: "Posterior | None" = None

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
                "profile-likelihood 95% CI" + (", emcee posterior (median, 95% credible interval)" if self.posterior
                                               else ""), "objective": self.objective, "evaluations": self.evaluations,
                "parameters": {n: {"value": self.values[n], "ci_low": self.ci[n][0], "ci_high": self.ci[n][1],
                                   "unit": reg[n].unit, "table_value": reg[n].value_for("human"),
                                   **({"posterior": self.posterior.summary()[n]} if self.posterior else {})}
                               for n in self.names},
                "records": sorted({t.record for t in self.targets}),
                **({"posterior": self.posterior.to_json(f"{self.disease}{POSTERIOR_SUFFIX}")}
                   if self.posterior else {})}


def fit(scenarios, targets, names: list[str], *, start: dict[str, float] | None = None, maxfev: int = 60,
        profile_points: int = 5, n_min: int = 60, workers: int = 1, scheduler=None,
        progress=None) -> CalibrationResult:
    """Fit ``names`` to ``targets`` (see module docstring)."""
    if not targets:
        raise MscsimError("no calibration targets", field="calibrate")
    tr = transforms(names)
    reg = parameters.registry()
    disease = next(iter(scenarios.values())).disease
    check_not_shared(names, disease)
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
    if maxfev > 0:
        xbest = minimize(objective, x0, method="Nelder-Mead",
                         options={"initial_simplex": simplex, "maxfev": maxfev, "xatol": 1e-3, "fatol": 1e-3}).x
    else:  # keep the start (e.g. the shipped optimum) and only evaluate it
        xbest = x0
    best = theta_of(xbest)
    fbest = objective(xbest)
    ci = {}
    for i, n in enumerate(names):
        ci[n] = _profile(objective, xbest, i, tr, fbest, profile_points) if profile_points else (None, None)
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


# ------------------------------------------------------------------ one name, one value

@functools.lru_cache(maxsize=1)
def model_parameters() -> dict[str, frozenset[str]]:
    """Disease -> names of the parameters in its models (every subtype; built once per process)."""
    import importlib

    from mscsim.model import DISEASES, build_model

    out = {}
    for d in DISEASES:
        names: set[str] = set()
        for sub in importlib.import_module(f"mscsim.diseases.{d}").SUBTYPES:
            names |= set(build_model(d, None, "human", sub).ode.params)
        out[d] = frozenset(names)
    return out


def check_not_shared(names, disease: str, models: dict[str, frozenset[str]] | None = None) -> None:
    """Refuse to calibrate, for one disease, a parameter that other disease models use under the
    same name: a fitted value would silently differ from the one the other diseases use (one name,
    one value). ``models``: disease -> parameter names (default: the shipped models)."""
    models = model_parameters() if models is None else models
    shared = {n: sorted(d for d, ps in models.items() if d != disease and n in ps) for n in names}
    shared = {n: ds for n, ds in shared.items() if ds}
    if shared:
        what = "; ".join(f"{n} (also in the {', '.join(ds)} model{'s' if len(ds) > 1 else ''})"
                         for n, ds in shared.items())
        raise MscsimError(f"cannot calibrate {what} for {disease}: a parameter shared by several disease models "
                          f"has one value; give it a disease-specific name (e.g. {next(iter(shared))}_{disease}) "
                          "first", field="--params")


# ------------------------------------------------------------------ posterior (emcee)

POSTERIOR_SUFFIX = ".posterior.csv"


def log_likelihood(sim, se_sim, obs, se_pub) -> float:
    """Gaussian log-likelihood of published arm summaries ``obs`` (standard errors ``se_pub``)
    given simulated arm means ``sim`` with Monte-Carlo standard errors ``se_sim``."""
    sim, obs = np.asarray(sim, float), np.asarray(obs, float)
    var = np.asarray(se_pub, float) ** 2 + np.nan_to_num(np.asarray(se_sim, float), nan=0.0) ** 2
    if not np.all(np.isfinite(sim)):
        return -np.inf
    return float(-0.5 * np.sum((sim - obs) ** 2 / var + np.log(2 * np.pi * var)))


@dataclass
class Posterior:
    """A posterior sample (after burn-in) and the diagnostics of the chain that drew it."""

    names: list[str]
    samples: np.ndarray          # (draws, parameters), natural units
    log_prob: np.ndarray         # log posterior of each draw (up to a constant)
    walker: np.ndarray
    step: np.ndarray
    walkers: int
    steps: int
    burn: int
    acceptance: float            # mean acceptance fraction of the walkers
    autocorr: dict[str, float]   # integrated autocorrelation time (steps) per parameter
    n_sim: int | None = None     # virtual patients per arm in each likelihood evaluation
    evaluations: int = 0

    @property
    def ess(self) -> float:
        """Effective sample size: kept draws / the largest autocorrelation time."""
        tau = max(self.autocorr.values()) if self.autocorr else float("nan")
        return float(len(self.samples) / tau) if tau > 0 else float("nan")

    @property
    def converged(self) -> bool:
        """emcee's rule of thumb: the kept chain is longer than 50 autocorrelation times."""
        taus = list(self.autocorr.values())
        return bool(taus) and bool(np.all(np.isfinite(taus))) and (self.steps - self.burn) > 50 * max(taus)

    def summary(self) -> dict[str, dict[str, float]]:
        q = np.quantile(self.samples, [0.5, 0.025, 0.975], axis=0)
        return {n: {"median": float(q[0, i]), "low": float(q[1, i]), "high": float(q[2, i])}
                for i, n in enumerate(self.names)}

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.samples, columns=self.names)
        df.insert(0, "step", self.step)
        df.insert(0, "walker", self.walker)
        df["log_prob"] = self.log_prob
        return df

    def write_csv(self, path) -> None:
        from mscsim.io import atomic_path

        with atomic_path(path) as tmp:
            self.frame().to_csv(tmp, index=False, float_format="%.8g")

    def to_json(self, file: str | None = None) -> dict:
        return {"file": file, "sampler": f"emcee {_emcee_version()} (stretch move)",
                "likelihood": "Normal(simulated arm mean, se_pub^2 + se_sim^2), common random numbers",
                "prior": "uniform on the transformed scale within the parameter table's bounds",
                "walkers": self.walkers, "steps": self.steps, "burn_in": self.burn, "draws": int(len(self.samples)),
                "virtual_patients_per_arm": self.n_sim, "evaluations": self.evaluations,
                "acceptance_fraction": _finite(self.acceptance, 4),
                "autocorrelation_time": {n: _finite(v, 3) for n, v in self.autocorr.items()},
                "effective_sample_size": _finite(self.ess, 1), "chain_longer_than_50_tau": self.converged}


def _finite(x: float, digits: int) -> float | None:
    return round(float(x), digits) if np.isfinite(x) else None


def _emcee_version() -> str:
    import emcee

    return emcee.__version__


def sample_posterior(simulate, obs, se_pub, names: list[str], start: dict[str, float], *,
                     tr: list[Transform] | None = None, walkers: int | None = None, steps: int = 60,
                     burn: int | None = None, ball: float = 0.02, seed: int = 0, n_sim: int | None = None,
                     progress=None) -> Posterior:
    """Draw the posterior of ``names`` with emcee (see module docstring).

    ``simulate(theta) -> (simulated means, their Monte-Carlo standard errors)`` per target, with
    common random numbers; ``obs``/``se_pub`` the published values and standard errors;
    ``start`` the least-squares optimum; ``ball`` the walkers' initial spread as a share of each
    parameter's transformed range; ``burn`` (default a third of ``steps``) steps dropped."""
    import emcee

    tr = transforms(names) if tr is None else tr
    nd = len(names)
    walkers = walkers or max(8, 4 * nd)
    if walkers < 2 * nd or walkers % 2:
        raise MscsimError(f"emcee needs an even number of walkers >= 2 x {nd} parameters (got {walkers})",
                          field="--walkers")
    burn = steps // 3 if burn is None else burn
    if not 0 <= burn < steps:
        raise MscsimError(f"burn-in {burn} must be below the {steps} steps", field="--burn")
    lo = np.array([t.x_bounds[0] for t in tr])
    hi = np.array([t.x_bounds[1] for t in tr])
    obs, se_pub = np.asarray(obs, float), np.asarray(se_pub, float)
    count = {"n": 0}

    def log_prob(x):
        if np.any(x < lo) or np.any(x > hi):
            return -np.inf
        th = {n: t.to_v(xi) for n, t, xi in zip(names, tr, x)}
        sim, se_sim = simulate(th)
        lp = log_likelihood(sim, se_sim, obs, se_pub)
        count["n"] += 1
        if progress:
            progress(count["n"], th, lp)
        return lp

    rng = np.random.default_rng(np.random.SeedSequence([seed, nd]))
    x0 = np.array([t.to_x(start[n]) for n, t in zip(names, tr)])
    p0 = x0 + ball * (hi - lo) * rng.standard_normal((walkers, nd))
    p0 = np.where(p0 < lo, 2 * lo - p0, p0)  # reflect into the prior's support
    p0 = np.where(p0 > hi, 2 * hi - p0, p0)
    p0 = np.clip(p0, lo, hi)
    sampler = emcee.EnsembleSampler(walkers, nd, log_prob)
    sampler.random_state = np.random.RandomState(int(rng.integers(2**31))).get_state()
    sampler.run_mcmc(p0, steps, progress=False)
    chain = sampler.get_chain(discard=burn)               # (steps - burn, walkers, nd)
    lp = sampler.get_log_prob(discard=burn)
    import logging

    log = logging.getLogger("emcee.autocorr")
    level = log.level
    log.setLevel(logging.ERROR)  # a short chain is reported in the result (``converged``), not logged
    try:
        with np.errstate(invalid="ignore", divide="ignore"):  # a constant chain gives nan, reported as such
            tau = emcee.autocorr.integrated_time(chain, quiet=True)
    finally:
        log.setLevel(level)
    kept = chain.shape[0]
    xs = chain.reshape(-1, nd)
    samples = np.array([[t.to_v(xi) for t, xi in zip(tr, row)] for row in xs])
    step = np.repeat(np.arange(burn, steps), walkers)
    walker = np.tile(np.arange(walkers), kept)
    return Posterior(list(names), samples, lp.reshape(-1), walker, step, walkers, steps, burn,
                     float(np.mean(sampler.acceptance_fraction)),
                     {n: float(v) for n, v in zip(names, tau)}, n_sim, count["n"])


def posterior_for(scenarios, targets, names, start, *, n_sim: int = 20, workers: int = 1, scheduler=None,
                  **kw) -> Posterior:
    """``sample_posterior`` on the calibration records: each evaluation is a virtual trial with
    ``n_sim`` virtual patients per arm at least (same patients at every evaluation)."""
    disease = next(iter(scenarios.values())).disease
    check_not_shared(names, disease)
    obs = [t.value for t in targets]
    se = [t.se for t in targets]

    def simulate(th):
        return simulate_targets(scenarios, targets, th, n_min=n_sim, workers=workers, scheduler=scheduler,
                                with_se=True)

    return sample_posterior(simulate, obs, se, names, start, n_sim=n_sim, **kw)


def calibration_parameters(disease: str) -> list[str]:
    from mscsim.model import disease_module

    mod = disease_module(disease)
    names = list(getattr(mod, "CALIBRATION_PARAMETERS", []))
    if not names:
        raise MscsimError(f"the {disease} module declares no CALIBRATION_PARAMETERS", field="--disease")
    return names


def save(result: CalibrationResult, path) -> None:
    """Write the calibration JSON and, beside it, the posterior sample (or remove a stale one)."""
    from pathlib import Path

    from mscsim.io import write_json

    path = Path(path)
    post = path.with_name(f"{result.disease}{POSTERIOR_SUFFIX}")
    if result.posterior is not None:
        result.posterior.write_csv(post)
    elif post.exists():  # a sample from an earlier fit would no longer match the saved values
        post.unlink()
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


__all__ = ["calibration_targets", "fit", "save", "sample_posterior", "check_not_shared", "Target",
           "CalibrationResult", "Posterior", "unknown"]
