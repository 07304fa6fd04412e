"""Global sensitivity analysis with SALib: Morris screening and Sobol indices of one endpoint
at one time, over the uncertain parameters of a disease (and the shared immune network).

Parameters vary within the ``bounds`` of the parameter table (log-uniformly when the bounds span
more than a factor 10, else uniformly). The model output is the endpoint of the typical patient
under a regimen (no visit noise), so the indices describe the model, not sampling error.
Evaluations go through ``execution.map_tasks`` (serial, local processes or Dask) and keep their
order, so results do not depend on the number of workers. SALib does the sampling and analysis;
impossible or imprecise indices (S1 < 0, S1 > ST, wide CIs: too few samples) and failed runs are
flagged per parameter (``note``) and summarised by :func:`reliability_warnings`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mscsim import parameters
from mscsim.dosing import Dose, Regimen
from mscsim.errors import MscsimError, unknown
from mscsim.execution import map_tasks

#: default regimen per disease: the headline trials' dose and route
DEFAULT_REGIMENS = {
    "ra": ("1e6 cells/kg", "iv", {}),
    "t1d": ("1.1e6 cells/kg", "intra_arterial", {"artery": "pancreatic"}),
    "ms": ("1e6 cells/kg", "intrathecal", {}),
    "sle": ("1e6 cells/kg", "iv", {"every": "7 d", "times": 2}),
    "ibd": ("1.2e8 cells", "local", {"site": "perianal_fistula"}),
    "liver": ("0.5e6 cells/kg", "iv", {}),
}


def default_regimen(disease: str) -> Regimen:
    dose, route, kw = DEFAULT_REGIMENS[disease]
    return Regimen((Dose.parse(dose, route, **kw),))


def default_parameters(disease: str) -> list[str]:
    """Bounded, non-sourced parameters of the disease and the immune network, plus homing."""
    reg = parameters.registry()
    names = [n for n, s in reg.items() if s.layer in (disease, "immune") and s.bounds is not None
             and s.kind in ("design", "calibrated")]
    return names + [n for n in ("h_max", "E_lung", "k_dep") if n in reg]


@dataclass(frozen=True)
class Problem:
    disease: str
    subtype: str | None
    endpoint: str
    at_days: float
    regimen: Regimen
    names: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]
    log: tuple[bool, ...] = field(default=())

    def salib(self) -> dict:
        b = [[math.log10(lo), math.log10(hi)] if lg else [lo, hi] for (lo, hi), lg in zip(self.bounds, self.log)]
        return {"num_vars": len(self.names), "names": list(self.names), "bounds": b}

    def to_values(self, X: np.ndarray) -> np.ndarray:
        V = np.array(X, dtype=float)
        for j, lg in enumerate(self.log):
            if lg:
                V[:, j] = 10.0 ** V[:, j]
        return V


def make_problem(disease: str, endpoint: str, at_days: float, *, subtype=None, regimen: Regimen | None = None,
                 names: list[str] | None = None) -> Problem:
    from mscsim.model import build_model
    from mscsim.scenario import endpoint_names

    allowed = endpoint_names(disease, subtype)
    if endpoint not in allowed:
        raise unknown(f"endpoint for {disease}", endpoint, allowed, field="--endpoint")
    from mscsim.diseases.base import SAFETY_ENDPOINTS

    if endpoint in SAFETY_ENDPOINTS:
        raise MscsimError(f"{endpoint} is a safety event drawn per patient in a trial (mscsim.safety), not a "
                          "model output; sensitivity analysis takes model endpoints", field="--endpoint")
    composed = build_model(disease, None, "human", subtype)
    reg = parameters.registry()
    names = names or [n for n in default_parameters(disease) if n in composed.ode.params]
    bounds, log = [], []
    for n in names:
        if n not in composed.ode.params:
            raise unknown(f"parameter of the {disease} model", n, composed.ode.param_names, field="--params")
        if reg.get(n) is None or reg[n].bounds is None:
            raise MscsimError(f"parameter {n!r} has no bounds in the parameter table", field="--params")
        lo, hi = reg[n].bounds
        use_log = lo > 0 and hi / lo > 10
        if lo == hi:
            raise MscsimError(f"parameter {n!r} has empty bounds", field="--params")
        bounds.append((float(lo), float(hi)))
        log.append(use_log)
    if len(names) < 2:
        raise MscsimError("sensitivity analysis needs at least 2 parameters", field="--params")
    return Problem(disease, subtype, endpoint, float(at_days), regimen or default_regimen(disease), tuple(names),
                   tuple(bounds), tuple(log))


def _evaluate_point(args) -> float:
    problem, values = args
    from mscsim.diseases.base import endpoint_frame
    from mscsim.simulate import simulate

    over = dict(zip(problem.names, (float(v) for v in values)))
    t = np.array([0.0, problem.at_days]) if problem.at_days > 0 else np.array([0.0])
    try:
        sim = simulate(problem.regimen, max(problem.at_days, 1e-3), disease=problem.disease, subtype=problem.subtype,
                       params=over, times=t)
    except Exception:  # noqa: BLE001 - a failed sample is reported as NaN and counted
        return float("nan")
    ef = endpoint_frame(sim.composed.disease_module, sim.outputs)
    return float(ef[problem.endpoint].iloc[-1])


def evaluate(problem: Problem, X: np.ndarray, *, workers: int = 1, scheduler: str | None = None,
             progress: bool = True) -> np.ndarray:
    V = problem.to_values(X)
    tasks = [(problem, row) for row in V]
    return np.array(map_tasks(_evaluate_point, tasks, workers=workers, scheduler=scheduler, desc="model runs",
                              progress=progress), dtype=float)


def sobol_indices(salib_problem: dict, fn, n: int = 256, seed: int = 1, second_order: bool = False) -> pd.DataFrame:
    """First-order and total Sobol indices with 95 % CIs of ``fn(X) -> Y`` (SALib Saltelli/Sobol)."""
    from SALib.analyze import sobol
    from SALib.sample import sobol as sobol_sample

    X = sobol_sample.sample(salib_problem, n, calc_second_order=second_order, seed=seed)
    Y = fn(X)
    bad = ~np.isfinite(Y)
    if bad.all():
        raise MscsimError("every model run failed; no indices can be computed", field="sensitivity")
    if bad.any():
        Y = np.where(bad, np.nanmean(Y), Y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        Si = sobol.analyze(salib_problem, Y, calc_second_order=second_order, seed=seed)
    df = pd.DataFrame({"parameter": salib_problem["names"], "S1": Si["S1"], "S1_conf": Si["S1_conf"],
                       "ST": Si["ST"], "ST_conf": Si["ST_conf"]})
    df["failed_runs"] = int(bad.sum())
    df["note"] = sobol_notes(df)
    return df


#: a Sobol index whose 95 % CI half-width exceeds this is reported as imprecise
WIDE_CI = 0.1


def sobol_notes(df: pd.DataFrame) -> list[str]:
    """Per parameter: why its indices cannot be trusted yet ('' when nothing is wrong). With too few
    samples the Saltelli/Jansen estimators give S1 < 0 or S1 > ST, which no true index can be
    (0 <= S1 <= ST <= 1, Saltelli et al. 2010, doi:10.1016/j.cpc.2009.09.018)."""
    notes = []
    for _, r in df.iterrows():
        why = []
        if r["S1"] < 0:
            why.append("S1 < 0")
        if r["S1"] > r["ST"]:
            why.append("S1 > ST")
        if max(r["S1_conf"], r["ST_conf"]) > WIDE_CI:
            why.append(f"CI wider than +-{WIDE_CI:g}")
        notes.append("; ".join(why) + ": more samples needed (--n)" if why else "")
    return notes


def reliability_warnings(df: pd.DataFrame, n_runs: int | None = None) -> list[str]:
    """One line per problem of an index table (failed runs, impossible or imprecise indices)."""
    out = []
    failed = int(df["failed_runs"].iloc[0]) if "failed_runs" in df and len(df) else 0
    if failed:
        of = f" of {n_runs}" if n_runs else ""
        out.append(f"{failed}{of} model runs failed (no untreated steady state or the solver failed); "
                   "they were replaced by the mean output, which biases the indices")
    if "note" in df:
        bad = df.loc[df["note"] != "", "parameter"].tolist()
        if bad:
            out.append(f"unreliable Sobol indices for {len(bad)} of {len(df)} parameters "
                       f"({', '.join(bad[:6])}{', ...' if len(bad) > 6 else ''}): S1 < 0, S1 > ST or wide CIs; "
                       "increase --n")
    return out


def morris_indices(salib_problem: dict, fn, r: int = 10, levels: int = 4, seed: int = 1) -> pd.DataFrame:
    """Morris elementary effects (mu*, its 95 % CI, sigma) of ``fn``."""
    from SALib.analyze import morris
    from SALib.sample import morris as morris_sample

    X = morris_sample.sample(salib_problem, r, num_levels=levels, seed=seed)
    Y = fn(X)
    bad = ~np.isfinite(Y)
    if bad.any():
        Y = np.where(bad, np.nanmean(Y), Y)
    Si = morris.analyze(salib_problem, X, Y, num_levels=levels, seed=seed)
    return pd.DataFrame({"parameter": salib_problem["names"], "mu_star": Si["mu_star"],
                         "mu_star_conf": Si["mu_star_conf"], "sigma": Si["sigma"], "failed_runs": int(bad.sum())}
                        ).sort_values("mu_star", ascending=False, ignore_index=True)


def run(problem: Problem, method: str = "sobol", *, n: int = 128, seed: int = 1, workers: int = 1,
        scheduler: str | None = None, progress: bool = True) -> pd.DataFrame:
    fn = (lambda X: evaluate(problem, X, workers=workers, scheduler=scheduler, progress=progress))  # noqa: E731
    if method == "sobol":
        return sobol_indices(problem.salib(), fn, n=n, seed=seed)
    if method == "morris":
        return morris_indices(problem.salib(), fn, r=n, seed=seed)
    raise unknown("method", method, ("sobol", "morris"), field="--method")


def figure(table: pd.DataFrame, title: str):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(table) + 2), 4.2))
    x = np.arange(len(table))
    if "S1" in table:
        ax.bar(x - 0.2, table["S1"], 0.4, yerr=table["S1_conf"], capsize=3, label="first order S1")
        ax.bar(x + 0.2, table["ST"], 0.4, yerr=table["ST_conf"], capsize=3, label="total ST")
        ax.set_ylabel("Sobol index")
    else:
        ax.bar(x, table["mu_star"], 0.6, yerr=table["mu_star_conf"], capsize=3, label="mu*")
        ax.set_ylabel("Morris mu* (endpoint units)")
    ax.set_xticks(x, table["parameter"], rotation=35, ha="right", fontsize=8)
    ax.axhline(0, color="k", lw=0.6)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title)
    fig.tight_layout()
    return fig
