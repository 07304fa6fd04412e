"""Virtual patients: covariates, inter-individual variability, own baselines, and screening.

Each candidate patient draws covariates (body weight, age) and log-normal random effects on
every parameter whose table entry has an ``iiv_cv`` (median = the table value), from a seed
derived from (scenario seed, arm, candidate number): the same scenario and seed give the same
patients whatever the number of workers. Each patient starts at his own untreated steady
state; inclusion criteria are applied to the values measured at a screening visit (with the
visit noise of the module's ``observe``), and candidates are screened until the arm is full.
The baseline visit (day 0) is a separate noisy measurement, so regression to the mean between
screening and later visits emerges as it does in real trials. Binary traits (e.g. forming
anti-donor antibodies, ``BINARY_TRAITS``) are drawn from their own stream.

Issue 20 added (docs/population.md):

* **Covariates** ``female`` (0/1) and ``disease_duration_y``, drawn from their own stream and
  only when a scenario asks for them (covariates or Table 1), so older scenarios keep their
  patients. With ``female`` drawn, body weight is sex-specific (ICRP 89 reference adults,
  ``weight_diff_male_female``) around the same population mean and SD. Covariate effects on
  parameters (``COVARIATE_EFFECTS``) are sourced entries of the parameter table.
* **IIV on any parameter** from the scenario (``population.iiv``), product knobs and the dose
  included: the CV replaces the table's ``iiv_cv`` for that name (same random number, so only the
  spread changes); names without a table CV get their own stream. ``dose`` scales each patient's
  cells by a log-normal factor of mean 1.
* **Matching to Table 1** (``match_table1``): a pool of ``match.pool`` x n candidates that pass
  screening is weighted by entropy balancing (Hainmueller 2012, Political Analysis 20:25,
  DOI 10.1093/pan/mpr025) so that its weighted means (and second moments, where Table 1 gives an
  SD) equal Table 1's, and n patients are then drawn with inclusion probabilities n x weight by
  the cube method (Deville & Tille 2004, Biometrika 91:893, DOI 10.1093/biomet/91.4.893), a
  balanced sample whose own unweighted moments reproduce the weighted ones up to the landing
  phase. The fit (target vs achieved, standardized difference) is reported per row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mscsim import parameters
from mscsim.errors import MscsimError
from mscsim.memo import cached_when_hashable
from mscsim.scenario import BINARY_COVARIATES, CovariateSpec, Scenario, Table1Row, parse_criterion
from mscsim.streams import generators

DEFAULT_COVARIATES = {
    "weight_kg": CovariateSpec(mean=70.0, sd=12.0, min=40.0, max=140.0),
    "age": CovariateSpec(min=18.0, max=75.0),
}
#: covariates drawn from the first stream (kept as they were before issue 20); others from their own
CLASSIC_COVARIATES = ("weight_kg", "age")
#: the range a Table 1 row's covariate is drawn in when the scenario gives no covariate spec
COVARIATE_RANGE = {"weight_kg": (40.0, 140.0), "age": (18.0, 75.0), "disease_duration_y": (0.0, 60.0)}
MAX_SCREEN_FACTOR = 200  # give up when this many candidates per enrolled patient fail screening


@dataclass
class VirtualPatient:
    """One enrolled (or screened) virtual patient."""

    arm: str
    index: int                    # within the arm, 0..n-1
    candidate: int                # candidate number in the arm's screening stream
    covariates: dict[str, float]
    params: dict[str, float]      # parameter overrides (random effects)
    noise_seed: tuple             # SeedSequence entropy for visit noise
    baseline: dict = field(default_factory=dict)   # values measured at the screening visit
    #: model inputs of this patient beyond random effects: binary traits, background therapy, design
    settings: dict = field(default_factory=dict)
    #: multiplies every dose's cells (IIV on ``dose``; 1 = the nominal dose)
    dose_factor: float = 1.0

    @property
    def pid(self) -> str:
        return f"{self.arm}-{self.index:05d}"


def iiv_table(model_params) -> dict[str, float]:
    """Parameters of this model that vary between patients: name -> CV."""
    reg = parameters.registry()
    return {n: reg[n].iiv_cv for n in model_params if n in reg and reg[n].iiv_cv}


def _draw_covariate(rng: np.random.Generator, spec: CovariateSpec) -> float:
    if spec.proportion is not None:
        return float(rng.random() < spec.proportion)
    if spec.mean is None:
        return float(rng.uniform(spec.min, spec.max))
    lo = -math.inf if spec.min is None else spec.min
    hi = math.inf if spec.max is None else spec.max
    for _ in range(1000):
        x = float(spec.mean + (spec.sd or 0.0) * rng.standard_normal())
        if lo <= x <= hi:
            return x
    raise MscsimError("covariate distribution leaves almost no mass inside [min, max]", field="covariates")


def sex_weight_spec(spec: CovariateSpec, female: float, p_female: float) -> CovariateSpec:
    """Body weight of one sex, keeping the population's mean and SD: men are heavier by
    ``weight_diff_male_female`` (ICRP 89 reference adults), women lighter, in the proportion given."""
    if spec.mean is None:  # a uniform range: no sex shift
        return spec
    delta = parameters.value("weight_diff_male_female")
    mean = spec.mean - delta * (1.0 - p_female) if female else spec.mean + delta * p_female
    sd = spec.sd or 0.0
    within = math.sqrt(max(sd**2 - delta**2 * p_female * (1.0 - p_female), (0.5 * sd) ** 2))
    return spec.model_copy(update={"mean": mean, "sd": within})


def draw_candidate(seed: int, arm_index: int, k: int, covariates: dict[str, CovariateSpec],
                   iiv: dict[str, float], typical: dict[str, float], *, bounds: dict | None = None,
                   rng: np.random.Generator | None = None) -> tuple[dict, dict, tuple]:
    """Covariates, random-effect parameters and a noise seed for candidate ``k`` of an arm.

    ``iiv``: name -> CV. Names with a table ``iiv_cv`` draw from the first stream in name order
    (as before issue 20, whatever CV the scenario gives); other names and the new covariates
    draw from their own streams, so adding them changes no earlier draw. ``rng``: the first stream
    when already made (`candidate_streams`)."""
    if rng is None:
        rng = candidate_stream(seed, arm_index, k)
    # the other streams are made only when drawn from (making one costs ~20 us; issue 19)
    new = sorted((name, spec) for name, spec in covariates.items() if name not in CLASSIC_COVARIATES)
    cov = {}
    if new:
        rng_new = candidate_stream(seed, arm_index, k, 3)
        cov = {name: _draw_covariate(rng_new, spec) for name, spec in new}
    for name, spec in covariates.items():
        if name in CLASSIC_COVARIATES:
            if name == "weight_kg" and "female" in cov:
                spec = sex_weight_spec(spec, cov["female"], covariates["female"].proportion)
            cov[name] = _draw_covariate(rng, spec)
    params = {}
    tabled, others = _iiv_plan(tuple(iiv.items()), tuple((bounds or {}).items()))
    rng_iiv = candidate_stream(seed, arm_index, k, 4) if others else None
    for plan, r in ((tabled, rng), (others, rng_iiv)):
        for name, omega, b in plan:
            v = typical[name] * math.exp(omega * r.standard_normal())
            if b is not None:
                v = min(max(v, b[0]), b[1])
            params[name] = v
    return cov, params, (seed, arm_index, k, 1)


@cached_when_hashable(maxsize=64)
def _iiv_plan(iiv: tuple, bounds: tuple) -> tuple[tuple, tuple]:
    """The order, log-normal omega and bounds of each varying parameter of `draw_candidate`, for
    the first stream (names with a table ``iiv_cv``) and the own stream (the others); computed once
    per IIV table (a trial draws thousands of candidates with one; bounds given as lists are
    planned for each call)."""
    reg = parameters.registry()
    cv, bound = dict(iiv), dict(bounds)
    tabled = sorted(n for n in cv if n in reg and reg[n].iiv_cv)
    others = sorted(n for n in cv if n not in tabled)

    def plan(names):
        return tuple((n, math.sqrt(math.log(1.0 + cv[n] ** 2)), bound.get(n, reg[n].bounds if n in reg else None))
                     for n in names)

    return plan(tabled), plan(others)


def draw_dose_factor(seed: int, arm_index: int, k: int, cv: float) -> float:
    """A patient's dose multiplier: log-normal with mean 1 and the CV asked (own stream)."""
    if not cv:
        return 1.0
    rng = candidate_stream(seed, arm_index, k, 5)
    omega = math.sqrt(math.log(1.0 + cv**2))
    return float(math.exp(omega * rng.standard_normal() - 0.5 * omega**2))


@dataclass(frozen=True)
class CovariateEffect:
    """``parameter`` x exp(coefficient x (min(c, cap) - min(reference, cap))) for covariate c;
    coefficient, reference and cap are parameter-table entries (each with its source)."""

    covariate: str
    parameter: str
    coefficient: str
    reference: str
    cap: str | None = None

    def factor(self, c: float) -> float:
        cap = parameters.value(self.cap) if self.cap else math.inf
        ref = parameters.value(self.reference)
        return math.exp(parameters.value(self.coefficient) * (min(c, cap) - min(ref, cap)))


#: covariate effects on parameters (applied only when the covariate is drawn and the model has the parameter)
COVARIATE_EFFECTS = (
    # residual beta-cell function falls 47 %/year over the first 7 years from diagnosis (Shields 2018)
    CovariateEffect("disease_duration_y", "beta0_t1d_new", "cov_duration_beta0_t1d",
                    "duration_ref_t1d_new", "duration_cap_beta0_t1d"),
)


def apply_covariate_effects(params: dict[str, float], cov: dict[str, float], typical: dict[str, float],
                            model_params) -> dict[str, float]:
    """Parameters with the covariate effects of ``COVARIATE_EFFECTS`` applied (bounds kept)."""
    reg = parameters.registry()
    out = dict(params)
    for e in COVARIATE_EFFECTS:
        if e.covariate in cov and e.parameter in model_params:
            v = out.get(e.parameter, typical.get(e.parameter, model_params[e.parameter].value)) * e.factor(cov[e.covariate])
            b = reg[e.parameter].bounds if e.parameter in reg else None
            out[e.parameter] = min(max(v, b[0]), b[1]) if b is not None else v
    return out


#: 0/1 model inputs drawn per patient: input parameter -> table parameter giving its probability
BINARY_TRAITS = {"allo_sensitised": "p_allo_sensitised"}


def draws_traits(model_params) -> bool:
    """Whether candidates of a model with these parameters draw binary traits (`draw_traits`)."""
    return any(name in model_params for name in BINARY_TRAITS)


def draw_traits(seed: int, arm_index: int, k: int, model_params,
                rng: np.random.Generator | None = None) -> dict[str, float]:
    """Binary traits of candidate ``k`` (own random stream: adding one changes no other draw;
    ``rng``: that stream when already made, `candidate_streams` with purpose 2)."""
    out = {}
    for name in sorted(BINARY_TRAITS):
        if name in model_params:
            if rng is None:
                rng = candidate_stream(seed, arm_index, k, 2)
            out[name] = float(rng.random() < parameters.value(BINARY_TRAITS[name]))
    return out


def screening_rng(noise_seed: tuple) -> np.random.Generator:
    """Visit noise of the screening visit: a stream apart from the trial visits' (``noise_seed``)."""
    return screening_rngs([noise_seed])[0]


def screening_rngs(noise_seeds: list) -> list[np.random.Generator]:
    """`screening_rng` of each noise seed, made together (`streams.generators`: the same streams)."""
    return generators([(list(s), (9,)) for s in noise_seeds])


def candidate_streams(seed: int, arm_index: int, ks, purpose: int | None = None) -> list[np.random.Generator]:
    """The stream of each candidate ``k`` of an arm for one purpose, made together: ``None`` the
    first stream (classic covariates, tabled IIV: `draw_candidate`), 2 the binary traits
    (`draw_traits`), 3 the newer covariates, 4 the IIV without a table CV, 5 the dose factor."""
    tail = () if purpose is None else (purpose,)
    return generators([(seed, (arm_index, k) + tail) for k in ks])


def candidate_stream(seed: int, arm_index: int, k: int, purpose: int | None = None) -> np.random.Generator:
    """One candidate's stream for one purpose (`candidate_streams`)."""
    return candidate_streams(seed, arm_index, [k], purpose)[0]


def covariate_specs(scenario: Scenario, module, table1: dict[str, Table1Row] | None = None,
                    n_arm: int = 100) -> dict[str, CovariateSpec]:
    """Covariate distributions of an arm's candidates: defaults, the module's, the arm's Table 1
    rows (as the candidates' prior: normal with Table 1's mean and SD in the covariate's range, or
    its proportion), the scenario's own specs last."""
    specs = dict(DEFAULT_COVARIATES)
    specs.update(getattr(module, "COVARIATES", {}))
    for name, row in (table1 or {}).items():
        if name in BINARY_COVARIATES:
            specs[name] = CovariateSpec(proportion=row.proportion)
        elif name in COVARIATE_RANGE:
            mean, sd, _ = row.target(n_arm)
            lo, hi = COVARIATE_RANGE[name]
            base = specs.get(name)
            if base is not None and base.min is not None:
                lo, hi = base.min, base.max
            sd = sd if sd is not None else (base.sd if base is not None and base.sd else 0.25 * abs(mean))
            specs[name] = CovariateSpec(mean=mean, sd=sd, min=min(lo, mean), max=max(hi, mean))
    specs.update(scenario.population.covariates)
    return specs


def inclusion_mask(frame: pd.Series | dict, covariates: dict, inclusion: dict) -> bool:
    """Whether one candidate meets every criterion (criteria on endpoints or covariates)."""
    for key, crit in inclusion.items():
        lo, hi, lo_inc, hi_inc = parse_criterion(f"population.inclusion.{key}", crit)
        x = covariates[key] if key in covariates else frame[key]
        x = float(x)
        if not (x > lo or (lo_inc and x == lo)) or not (x < hi or (hi_inc and x == hi)):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Matching the enrolled arm to the trial's Table 1
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """One Table 1 row as a target: mean, SD (None: not published) and whether it is 0/1."""

    name: str
    mean: float
    sd: float | None
    binary: bool


def targets_for(rows: dict[str, Table1Row], n_arm: int) -> list[Target]:
    return [Target(k, *row.target(n_arm)) for k, row in rows.items()]


def _features(values: dict[str, np.ndarray], targets: list[Target]) -> tuple[np.ndarray, np.ndarray]:
    """Balancing features (one column per moment, standardized by the pool) and their targets."""
    cols, goal = [], []
    for t in targets:
        x = np.asarray(values[t.name], dtype=float)
        loc, sc = float(np.mean(x)), float(np.std(x)) or 1.0
        z = (x - loc) / sc
        cols.append(z)
        goal.append((t.mean - loc) / sc)
        if t.sd is not None and not t.binary:
            m = (t.mean - loc) / sc
            cols.append(z**2)
            goal.append((t.sd / sc) ** 2 + m**2)
    return np.column_stack(cols), np.array(goal)


def entropy_balance(C: np.ndarray, goal: np.ndarray, ridge: float = 1e-4) -> np.ndarray:
    """Entropy-balancing weights (Hainmueller 2012): the weights closest to uniform (in
    Kullback-Leibler divergence) whose weighted feature means equal ``goal``. Solved in the
    dual, min_l log sum exp((C - goal) l) + ridge |l|^2 / 2, with scipy (the ridge keeps an
    infeasible target finite: the weights then come as close as the pool allows)."""
    from scipy.optimize import minimize
    from scipy.special import logsumexp, softmax

    D = C - goal

    def f(lam):
        a = D @ lam
        w = softmax(a)
        return logsumexp(a) - math.log(len(a)) + 0.5 * ridge * lam @ lam, D.T @ w + ridge * lam

    def hess(lam):
        w = softmax(D @ lam)
        m = D.T @ w
        return (D.T * w) @ D - np.outer(m, m) + ridge * np.eye(D.shape[1])

    res = minimize(f, np.zeros(D.shape[1]), jac=True, hess=hess, method="trust-exact",
                   options={"gtol": 1e-9, "maxiter": 500})
    return softmax(D @ res.x)


def inclusion_probabilities(w: np.ndarray, n: int) -> np.ndarray:
    """pi = n w, with any pi above 1 set to 1 and the rest rescaled (the usual iteration)."""
    w = np.maximum(np.asarray(w, dtype=float), 1e-15 / len(w))  # all-but-few weights may underflow to 0
    pi = np.zeros_like(w)
    fixed = np.zeros(len(w), dtype=bool)
    for _ in range(len(w)):
        rest = n - fixed.sum()
        pi[~fixed] = rest * w[~fixed] / w[~fixed].sum()
        pi[fixed] = 1.0
        over = (pi > 1.0) & ~fixed
        if not over.any():
            break
        fixed |= over
    return np.clip(pi, 0.0, 1.0)


#: the landing phase enumerates the completions of at most this many undecided units
MAX_LANDING_UNITS = 14


def cube_sample(pi: np.ndarray, X: np.ndarray, rng: np.random.Generator, eps: float = 1e-10) -> np.ndarray:
    """Balanced sample by the cube method (Deville & Tille 2004, Biometrika 91:893): each unit is
    selected with probability ``pi`` and sum_{selected} X_i / pi_i = sum_all X_i.

    Flight phase in the fast form of Chauvet & Tille 2006 (exact balance; it ends with at most p
    units undecided, p = columns of X). Landing: of the completions of those units that keep the
    sample size, the one with the smallest squared balancing error (Deville & Tille's landing
    minimises a cost over these samples by linear programming; this takes its cost-minimising
    sample outright, which changes the inclusion probabilities of at most p units). With more
    than ``MAX_LANDING_UNITS`` undecided units the last columns are relaxed first.

    Hand-written: no maintained Python package implements it (R: ``sampling::samplecube``).
    The first column of ``X`` should be ``pi`` itself (fixed sample size)."""
    from itertools import combinations

    pi = pi.astype(float).copy()
    A = X / np.where(pi > eps, pi, 1.0)[:, None]
    goal = X.sum(axis=0)
    order = rng.permutation(len(pi))
    p = A.shape[1]
    while p >= 1:
        live = order[(pi[order] > eps) & (pi[order] < 1 - eps)]
        if len(live) <= p:
            if len(live) <= MAX_LANDING_UNITS:
                break
            p -= 1  # too many to enumerate: relax the last balancing constraint
            continue
        sub = live[: p + 1]
        # A[sub, :p].T is p x (p + 1): the last right-singular vector lies in its null space
        u = np.linalg.svd(A[sub, :p].T)[2][-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            up = np.where(u > 0, (1 - pi[sub]) / u, np.where(u < 0, -pi[sub] / u, np.inf))
            dn = np.where(u > 0, pi[sub] / u, np.where(u < 0, -(1 - pi[sub]) / u, np.inf))
        l1, l2 = float(np.min(up)), float(np.min(dn))
        if rng.random() < l2 / (l1 + l2):
            pi[sub] = pi[sub] + l1 * u
        else:
            pi[sub] = pi[sub] - l2 * u
        pi[sub] = np.where(pi[sub] < eps, 0.0, np.where(pi[sub] > 1 - eps, 1.0, pi[sub]))
    live = np.flatnonzero((pi > eps) & (pi < 1 - eps))
    if len(live):
        k = int(round(pi[live].sum()))
        base = A[pi >= 1 - eps].sum(axis=0)
        if len(live) <= MAX_LANDING_UNITS:
            combos = np.array(list(combinations(range(len(live)), k)), dtype=int).reshape(-1, k)
            ind = np.zeros((len(combos), len(live)))
            np.put_along_axis(ind, combos, 1.0, axis=1)
            err = ((base + ind @ A[live] - goal)[:, 1:] ** 2).sum(axis=1)
            keep = live[combos[int(np.argmin(err))]]
        else:  # not reached: the loop relaxes columns until few units are left
            keep = live[np.argsort(-pi[live], kind="stable")[:k]]
        pi[live] = 0.0
        pi[keep] = 1.0
    return np.flatnonzero(pi > 0.5)


#: ridge penalties of the entropy-balancing dual, tried in order (docs/population.md)
RIDGES = (1e-4, 1e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0)


def match_table1(values: dict[str, np.ndarray], targets: list[Target], n: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Select ``n`` of the pool so that the arm matches Table 1: entropy-balancing weights, then a
    cube-method balanced sample with inclusion probabilities n x weight. Returns (selected pool
    indices, sorted; the pool weights)."""
    size = len(next(iter(values.values())))
    if size < n:
        raise MscsimError(f"the pool ({size}) is smaller than the arm ({n})", field="population.match.pool")
    C, goal = _features(values, targets)
    # a target the pool cannot reach would put all weight on a few patients; then a stronger
    # ridge keeps every n x weight <= 1 (the arm comes as close as n distinct patients allow)
    for ridge in RIDGES:
        w = entropy_balance(C, goal, ridge)
        reached = float(np.max(np.abs(w @ C - goal))) < 1e-2
        if reached or n * w.max() <= 1.0:
            break
    pi = inclusion_probabilities(w, n)
    X = np.column_stack([pi, pi[:, None] * C])
    sel = cube_sample(pi, X, rng)
    if len(sel) != n:  # numerical edge: complete / trim by weight, deterministically
        rest = np.setdiff1d(np.arange(size), sel)
        if len(sel) < n:
            sel = np.union1d(sel, rest[np.argsort(-w[rest], kind="stable")[: n - len(sel)]])
        else:
            sel = np.sort(sel[np.argsort(-w[sel], kind="stable")[:n]])
    return np.sort(sel), w


def standardized_difference(x: np.ndarray, t: Target) -> float | None:
    """(achieved - target) / pooled SD (Austin 2009, Stat Med 28:3083, DOI 10.1002/sim.3697):
    means use sqrt((s_achieved^2 + s_target^2) / 2) (s_target = s_achieved when Table 1 gives no
    SD), proportions sqrt((p_a (1 - p_a) + p_t (1 - p_t)) / 2)."""
    x = np.asarray(x, dtype=float)
    m = float(np.mean(x))
    if t.binary:
        s2 = (m * (1 - m) + t.mean * (1 - t.mean)) / 2
    else:
        sa = float(np.std(x, ddof=1)) if len(x) > 1 else 0.0
        st = sa if t.sd is None else t.sd
        s2 = (sa**2 + st**2) / 2
    if s2 <= 0:
        return 0.0 if m == t.mean else None
    return (m - t.mean) / math.sqrt(s2)


def fit_rows(arm: str, values: dict[str, np.ndarray], selected: np.ndarray | None,
             targets: list[Target]) -> list[dict]:
    """Per Table 1 row: target and achieved mean/SD (or proportion), the standardized difference
    and variance ratio of the enrolled arm (Austin 2009), and the standardized difference of the
    unmatched pool (what matching changed)."""
    rows = []
    for t in targets:
        pool = np.asarray(values[t.name], dtype=float)
        x = pool if selected is None else pool[selected]
        smd = standardized_difference(x, t)
        sd_a = float(np.std(x, ddof=1)) if len(x) > 1 and not t.binary else None
        rows.append({"arm": arm, "row": t.name, "kind": "proportion" if t.binary else "mean",
                     "target": t.mean, "target_sd": t.sd, "achieved": float(np.mean(x)),
                     "achieved_sd": sd_a,
                     "variance_ratio": None if sd_a is None or not t.sd else (sd_a / t.sd) ** 2,
                     "smd": smd, "pool_smd": standardized_difference(pool, t), "n": int(len(x)),
                     "pool": int(len(pool))})
    return rows
