"""Virtual clinical trials: ``run_trial(scenario)`` runs every arm, computes every endpoint at its
time, and compares arms (design.md layer 6 and "Trial output folder").

Flow: screen virtual patients per arm until the arm is full (inclusion on the observed
baseline) -> simulate each enrolled patient under the arm's regimen (placebo/participation on
in every arm) -> observe endpoints with visit noise at the endpoint times -> summarize per arm
(mean/SD/CI or proportion/CI) and compare each arm with the control arm (the arm without
MSCs, else the last arm). A patient whose integration fails is retried with stricter settings,
then reported (id, parameters, solver message), never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np
import pandas as pd

import mscsim
from mscsim.diseases.base import COMMON_ENDPOINTS, Readouts, endpoint_readouts, label_endpoint, readout_positions
from mscsim.dosing import Regimen
from mscsim.errors import MscsimError
from mscsim.execution import map_tasks
from mscsim.model import build_model, derived, disease_module
from mscsim.diseases.base import background_settings, background_started
from mscsim.population import (MAX_SCREEN_FACTOR, VirtualPatient, apply_covariate_effects, candidate_streams,
                               covariate_specs, draw_candidate, draw_dose_factor, draw_traits, draws_traits, fit_rows,
                               iiv_table, inclusion_mask, match_table1, screening_rngs, targets_for)
from mscsim.scenario import Scenario
from mscsim.simulate import check_regimen_safety, parameter_vector
from mscsim.numerics import (IntegrationError, SolverOptions, SteadyStateError, compile_model, integrate,
                             steady_state, warm_up)
from mscsim.safety import (EVENTS as SAFETY_EVENTS, arm_block, patient_safety, regimen_administrations, safety_rngs,
                           safety_times)
from mscsim.streams import generators
from mscsim.trial_figures import (TRIAL_FIGURES, TrialFigures, _draw_figures, _timecourse_layout,  # noqa: F401
                                  fork_trial_figures, has_responder_endpoint, trial_figure_names)
from mscsim.stats import compare, summarize, wilson_interval

TIMECOURSE_EXTRA = [("tnf", "TNF-alpha (pg/mL)"), ("il10", "IL-10 (pg/mL)"), ("th17_pct", "Th17 (% of CD4)"),
                    ("treg_pct", "Treg (% of CD4)"), ("msc_viable_pct", "viable MSCs (% of dose)")]


def endpoint_stat(disease: str, name: str) -> str:
    mod = disease_module(disease)
    if name in mod.ENDPOINTS:
        return mod.ENDPOINTS[name].stat
    if name in COMMON_ENDPOINTS:
        return COMMON_ENDPOINTS[name].stat
    if label_endpoint(name):
        return "mean"
    raise MscsimError(f"unknown endpoint {name!r}")


@dataclass
class PatientTask:
    disease: str
    subtype: str | None
    patient: VirtualPatient
    regimen: Regimen
    obs_times: np.ndarray
    tc_times: np.ndarray
    tc_outputs: list[str]
    #: the untreated baseline state computed at screening (None: computed in run_patient); the
    #: simulation starts from exactly this vector, so screening and run see the same baseline
    y0: np.ndarray | None = None
    #: integration engine ("compiled" or "scipy", see solve.SolverOptions)
    engine: str = "compiled"
    #: the patient's parameter vector computed at screening (None: computed in run_patient)
    p: np.ndarray | None = None


@dataclass
class PatientResult:
    pid: str
    arm: str
    #: observed endpoints, rows = obs_times (arrays, not a DataFrame: cheap to build, pickle and
    #: read per patient; ``endpoints`` gives the DataFrame)
    observed: Readouts | None
    timecourse: np.ndarray | None       # (len(tc_times), len(tc_outputs))
    failed: bool = False
    message: str = ""
    retried: bool = False
    #: safety: event -> probability by the end of follow-up, ``d_dimer_peak`` (mscsim.safety)
    safety: dict | None = None

    def __post_init__(self):
        if isinstance(self.observed, pd.DataFrame):
            self.observed = Readouts.from_frame(self.observed)

    @property
    def endpoints(self) -> pd.DataFrame | None:
        """The observed endpoints as a DataFrame (rows = obs_times)."""
        return None if self.observed is None else self.observed.to_frame()


def _patient_vector(composed, patient: VirtualPatient, regimen: Regimen) -> np.ndarray:
    over = dict(patient.params)
    over.update({k: v for k, v in patient.settings.items() if k in composed.ode.params})
    if "trial_on" in composed.ode.params:
        over["trial_on"] = 1.0
    return parameter_vector(composed, weight_kg=patient.covariates.get("weight_kg"), regimen=regimen,
                            overrides=over)


@lru_cache(maxsize=16)
def _time_index(times: tuple) -> pd.Index:
    """The observation times as an index, one object per trial (shared by its patients' results,
    so a worker's chunk of results pickles it once)."""
    return pd.Index(np.asarray(times, dtype=float), name="time_d")


def patient_infusions(regimen: Regimen, pt: VirtualPatient) -> list[tuple]:
    """(administration, tissue factor) of every infusion one patient gets: the regimen at his
    weight (`safety.regimen_administrations`, the order of `Regimen.administrations`), each dose's
    cells times his ``dose_factor`` (IIV on the dose)."""
    given = regimen_administrations(regimen, pt.covariates.get("weight_kg", 70.0))
    if pt.dose_factor != 1.0:
        given = [(replace(a, cells=a.cells * pt.dose_factor), tf) for a, tf in given]
    return given


def patient_administrations(regimen: Regimen, pt: VirtualPatient) -> list:
    """The infusions one patient gets (`patient_infusions` without the tissue factors)."""
    return [a for a, _ in patient_infusions(regimen, pt)]


def run_patient(task: PatientTask) -> PatientResult:
    """Simulate one enrolled patient and observe his endpoints (runs in any worker)."""
    return run_patients([task])[0]


def run_patients(tasks: list[PatientTask]) -> list[PatientResult]:
    """`run_patient` of each task, the observations of all of them computed at once where the disease
    module allows it (`observe_stacked`); the same numbers as one at a time."""
    sims = [_simulate(t, rng) for t, rng in zip(tasks, safety_rngs([t.patient.noise_seed for t in tasks]))]
    ok = [i for i, s in enumerate(sims) if not isinstance(s, PatientResult)]
    results: list = list(sims)
    for group in _groups(tasks, ok):
        t0 = tasks[group[0]]
        composed = build_model(t0.disease, None, "human", t0.subtype)
        seeds = [tasks[i].patient.noise_seed for i in group]
        observed = observe_stacked(composed.disease_module, np.stack([sims[i][0] for i in group]),
                                   composed.ode.outputs, _time_index(tuple(t0.obs_times)),
                                   lambda: generators([(s, ()) for s in seeds]))
        for i, ef in zip(group, observed):
            pt = tasks[i].patient
            _, tc, retried, ps = sims[i]
            ef = _with_columns(ef, ps.columns(tasks[i].obs_times))
            safety = {e: ps.risk[e] for e in SAFETY_EVENTS} | {"d_dimer_peak": ps.d_dimer_peak()}
            results[i] = PatientResult(pt.pid, pt.arm, ef, tc, retried=retried, safety=safety)
    return results


def _groups(tasks: list[PatientTask], idx: list[int]) -> list[list[int]]:
    """Task indices grouped by model and observation times (one group in a trial's chunk)."""
    out: dict[tuple, list[int]] = {}
    for i in idx:
        t = tasks[i]
        out.setdefault((t.disease, t.subtype, tuple(t.obs_times)), []).append(i)
    return list(out.values())


def _with_columns(ef: Readouts, extra: dict) -> Readouts:
    """``ef`` with the columns of ``extra`` added (or replacing those of the same name, in place), as
    one float table when ``ef`` is one (a worker then sends each patient's observations as one array)."""
    base = ef.table()
    if base is None:
        return Readouts({**{c: ef._column(c) for c in ef.columns}, **extra}, ef.index)
    names, pos = _merged_names(tuple(ef.columns), tuple(extra))
    table = np.empty((len(ef), len(names)))
    table[:, :base.shape[1]] = base
    for k, v in extra.items():
        table[:, pos[k]] = v
    return Readouts.from_array(table, names, ef.index)


@lru_cache(maxsize=64)
def _merged_names(names: tuple, extra: tuple) -> tuple[tuple, dict]:
    """``names`` then the names of ``extra`` not among them (the order of ``{**a, **b}``), and each
    name's column; one tuple object per pair, so a chunk of results pickles it once."""
    merged = names + tuple(k for k in extra if k not in set(names))
    return merged, {n: i for i, n in enumerate(merged)}


@dataclass(frozen=True)
class _Layout:
    """Where a trial's patients' numbers sit in a model's arrays (the same for every patient)."""

    names: tuple
    tc_columns: np.ndarray           # columns of the time-course outputs
    lung: int | None                 # column of lung_occlusion
    anti_donor: int | None           # state index of anti_donor


def _layout(ode, tc_outputs: tuple) -> _Layout:
    """The `_Layout` of a model (computed once per model object and time-course outputs)."""
    def make() -> _Layout:
        col = {c: i for i, c in enumerate(ode.outputs)}
        states = list(ode.states)
        return _Layout(tuple(ode.outputs), np.array([col[c] for c in tc_outputs], dtype=np.intp),
                       col.get("lung_occlusion"), states.index("anti_donor") if "anti_donor" in states else None)

    return derived(ode, ("layout", tc_outputs), make)


@lru_cache(maxsize=256)
def _output_times(obs: bytes, tc: bytes, extra: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(all output times, rows of the observation times, rows of the time-course times) from the
    float64 bytes of each: one patient's output grid, shared by every patient with the same
    infusion times (the arrays are not to be written to)."""
    obs, tc, extra = (np.frombuffer(b, dtype=np.float64) for b in (obs, tc, extra))
    times = np.unique(np.concatenate([obs, tc, extra]))
    return times, np.searchsorted(times, obs), np.searchsorted(times, tc)


def _simulate(task: PatientTask, safety_stream: np.random.Generator):
    """(read-outs at the observation times, time-course table, retried, safety events) of one patient,
    or his failed `PatientResult`; ``safety_stream``: his `safety.safety_rng`."""
    composed = build_model(task.disease, None, "human", task.subtype)
    compiled = compile_model(composed.ode)
    pt = task.patient
    p = task.p if task.p is not None else _patient_vector(composed, pt, task.regimen)
    weight = pt.covariates.get("weight_kg", 70.0)
    infusions = patient_infusions(task.regimen, pt)
    admins = [a for a, _ in infusions]
    # safety_times resolve each infusion's lung-occlusion peak (dense output: the steps are unchanged)
    times, obs_rows, tc_rows = _output_times(*(np.ascontiguousarray(a, dtype=np.float64).tobytes() for a in
                                               (task.obs_times, task.tc_times, safety_times(admins))))
    retried = False
    options = SolverOptions(engine=task.engine)
    try:
        y0 = task.y0 if task.y0 is not None else steady_state(compiled, p, engine=task.engine)
        try:
            Y = integrate(compiled, p, y0, times, admins, options)
        except IntegrationError:
            retried = True
            Y = integrate(compiled, p, y0, times, admins, options.stricter())
    except (IntegrationError, SteadyStateError, FloatingPointError, ValueError) as exc:
        return PatientResult(pt.pid, pt.arm, None, None, failed=True, message=str(exc)[:300], retried=True)
    lay = _layout(composed.ode, tuple(task.tc_outputs))
    out = np.empty((len(times), len(lay.names)))
    compiled.outputs_traj(times, Y, p, out)
    if not np.isfinite(out).all():
        return PatientResult(pt.pid, pt.arm, None, None, failed=True, message="non-finite read-outs",
                             retried=retried)
    tc = out[tc_rows][:, lay.tc_columns]
    ps = _patient_safety(lay, task, infusions, weight, times, Y, out, safety_stream)
    return out[obs_rows], tc, retried, ps


def _patient_safety(lay: _Layout, task: PatientTask, infusions: list, weight: float, times, Y, out, rng):
    """The patient's safety events (mscsim.safety) from his regimen and the model's lung-occlusion
    signal and anti-donor antibody state, over follow-up to the last endpoint time."""
    lung = (0.0, 0.0)
    if lay.lung is not None:
        occ = out[:, lay.lung]
        i = int(np.argmax(occ))
        lung = (float(occ[i]), float(times[i]))
    ab = (times, Y[:, lay.anti_donor]) if lay.anti_donor is not None else None
    horizon = float(task.obs_times[-1])
    return patient_safety(infusions, weight, horizon,
                          rng, lung_peak=lung, anti_donor=ab)


class _NotRowWise(Exception):
    """A draw the stacked observation cannot split per patient (then patients are observed one by one)."""


#: numpy.random.Generator methods the stacked observation splits per patient: position of ``size``
_SIZE_POSITION = {"random": 0, "standard_normal": 0, "standard_exponential": 0, "exponential": 1, "poisson": 1,
                  "normal": 2, "uniform": 2, "lognormal": 2, "gamma": 2, "binomial": 2, "beta": 2}


class _StackedRng:
    """Random draws for the rows of P patients stacked in blocks of T rows: a draw of P*T values is
    made block by block, each patient's block from his own generator, so every patient gets exactly
    the numbers his generator gives him when he is observed alone (same calls in the same order,
    T values each). Any other draw raises `_NotRowWise`."""

    def __init__(self, rngs: list, rows: int):
        self.rngs, self.rows = rngs, rows

    def __getattr__(self, name: str):
        if name.startswith("_"):  # copy, pickle, hasattr probes: not a draw
            raise AttributeError(name)
        rngs, T = self.rngs, self.rows
        n = len(rngs) * T

        def part(x, i):
            a = np.asarray(x)
            if a.ndim == 0:
                return x
            if a.shape != (n,):
                raise _NotRowWise(name)
            return a[i * T:(i + 1) * T]

        pos = _SIZE_POSITION.get(name)
        if pos is None:
            raise _NotRowWise(name)

        def draw(*args, size=None, **kw):
            if len(args) > pos:  # size given by position, e.g. rng.random(n)
                args, size = args[:pos], args[pos]
            if size is None or tuple(np.atleast_1d(size)) != (n,):
                raise _NotRowWise(name)
            if all(np.ndim(a) == 0 for a in (*args, *kw.values())):  # scalar arguments: no split
                return np.concatenate([getattr(g, name)(*args, size=T, **kw) for g in rngs])
            return np.concatenate([getattr(g, name)(*[part(a, i) for a in args], size=T,
                                                    **{k: part(v, i) for k, v in kw.items()})
                                   for i, g in enumerate(rngs)])

        return draw


def observe_stacked(module, values: np.ndarray, names, index: pd.Index, make_rngs) -> list[Readouts]:
    """`endpoint_readouts` of P patients: ``values`` (P x times x read-outs), ``make_rngs()`` their
    visit-noise generators. A module whose observation works row by row (``ROW_WISE_OBSERVATION``:
    each time's observation depends only on that time's read-outs and the baseline row, noise drawn
    as one value per row) observes all patients as one stacked table: NumPy calls per trial chunk
    instead of per patient (issue 19: observation cost a quarter of the integration). The numbers
    equal observing each patient alone (tests/test_trial_speed.py); anything else, or a module
    without the flag, is observed patient by patient."""
    P, T, _ = values.shape
    if P > 1 and getattr(module, "ROW_WISE_OBSERVATION", False):
        try:
            return _observe_rows(module, values, names, index, make_rngs())
        except Exception:  # noqa: BLE001 - not row-wise after all: the one-by-one path gives the answer or the error
            pass
    rngs = make_rngs()
    return [endpoint_readouts(module, Readouts.from_array(values[i], names, index), rngs[i]) for i in range(P)]


def _observe_rows(module, values: np.ndarray, names, index: pd.Index, rngs: list) -> list[Readouts]:
    from mscsim.diseases.base import _arrays, observe_common

    P, T, K = values.shape
    n = P * T
    flat = Readouts.from_array(values.reshape(n, K), names, pd.Index(np.tile(index.to_numpy(), P), name=index.name))
    obs = observe_common(flat)
    dis = _arrays(module.observe(flat, _StackedRng(rngs, T)), n)
    obs = {k: v for k, v in obs.items() if k not in dis} | dis
    # each row's baseline is its patient's first row
    baseline = {k: np.repeat(np.asarray(v).reshape(P, T)[:, 0], T) for k, v in obs.items()}
    resp = _arrays(module.responders(Readouts(obs, flat.index), baseline), n)
    cols = obs | {k: v for k, v in resp.items() if k not in obs}
    arrs = [np.asarray(v) for v in cols.values()]
    if any(a.shape != (n,) for a in arrs):
        raise _NotRowWise("shape")
    if all(a.dtype == np.float64 for a in arrs):
        table = np.column_stack(arrs).reshape(P, T, len(arrs))
        return [Readouts.from_array(table[i], tuple(cols), index) for i in range(P)]
    return [Readouts({k: a[i * T:(i + 1) * T] for k, a in zip(cols, arrs)}, index) for i in range(P)]


run_patient.batch = run_patients  # execution._run_chunk runs a chunk of tasks with it


@dataclass
class TrialPlan:
    scenario: Scenario
    module: object
    obs_times: np.ndarray
    tc_times: np.ndarray
    tc_outputs: list[str]
    patients: dict[str, list[VirtualPatient]]
    screened: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    #: pid -> untreated baseline state found at screening (handed to the simulation)
    baselines: dict[str, np.ndarray] = field(default_factory=dict)
    engine: str = "compiled"
    #: Table 1 fit per arm and row (population.fit_rows); empty when the scenario gives no Table 1
    population_fit: list[dict] = field(default_factory=list)
    #: pid -> (parameter vector found at screening, the inputs it was made from: random effects,
    #: settings, weight, regimen, calibrated values), handed to the simulation while those inputs are
    #: unchanged
    vectors: dict[str, tuple] = field(default_factory=dict)

    def tasks(self) -> list[PatientTask]:
        from mscsim import parameters

        sc = self.scenario
        cal = parameters.calibrated(sc.disease) if self.vectors else None
        out = []
        for arm in sc.arms:
            reg = arm.to_regimen()
            for pt in self.patients[arm.name]:
                v = self.vectors.get(pt.pid)
                p = v[0] if v is not None and v[1:] == (pt.params, pt.settings, pt.covariates.get("weight_kg"),
                                                       reg, cal) else None
                out.append(PatientTask(sc.disease, sc.subtype, pt, reg, self.obs_times, self.tc_times,
                                       self.tc_outputs, self.baselines.get(pt.pid), self.engine, p))
        return out


@dataclass
class _Screened:
    """What screening one candidate found (baseline observation and state when enrolled)."""

    k: int
    covariates: dict
    params: dict
    noise_seed: tuple
    settings: dict = field(default_factory=dict)
    baseline: dict | None = None     # endpoints measured at screening when the candidate is included
    y0: np.ndarray | None = None     # untreated baseline state when included
    dose_factor: float = 1.0
    p: np.ndarray | None = None      # parameter vector when included


@dataclass
class _Screener:
    """Screen candidate ``k`` of one arm: own steady state, observed baseline, inclusion. Picklable
    and self-contained, so candidates can be screened in any worker; the result depends only on
    (seed, arm, k)."""

    disease: str
    subtype: str | None
    seed: int
    arm_index: int
    arm_name: str
    regimen: Regimen
    covs: dict
    iiv: dict
    typical: dict
    inclusion: dict
    obs_times: np.ndarray
    engine: str
    settings: dict = field(default_factory=dict)   # arm-level model inputs (background, design)
    dose_cv: float = 0.0                            # IIV on the dose (scenario population.iiv.dose)

    def __call__(self, k: int) -> _Screened:
        return self.batch([k])[0]

    def batch(self, ks) -> list[_Screened]:
        """Screen candidates ``ks`` (each as if alone; their screening visits observed together)."""
        composed = build_model(self.disease, None, "human", self.subtype)
        compiled = compile_model(composed.ode)
        names = composed.ode.outputs
        found, rows = [], []
        ks = list(ks)
        # each candidate's streams, made together (streams.generators: the same numbers, ~5x faster)
        first = candidate_streams(self.seed, self.arm_index, ks)
        traits = candidate_streams(self.seed, self.arm_index, ks, 2) if draws_traits(composed.ode.params) else None
        for i, k in enumerate(ks):
            cov, params, seed = draw_candidate(self.seed, self.arm_index, k, self.covs, self.iiv, self.typical,
                                               rng=first[i])
            params = apply_covariate_effects(params, cov, self.typical, composed.ode.params)
            settings = dict(self.settings) | draw_traits(self.seed, self.arm_index, k, composed.ode.params,
                                                         None if traits is None else traits[i])
            pt = VirtualPatient(self.arm_name, 0, k, cov, params, seed, settings=settings)
            p = _patient_vector(composed, pt, self.regimen)
            res = _Screened(k, cov, params, seed, settings,
                            dose_factor=draw_dose_factor(self.seed, self.arm_index, k, self.dose_cv))
            found.append(res)
            try:
                y0 = steady_state(compiled, p, engine=self.engine)
            except SteadyStateError:
                continue
            out = np.empty(len(names))
            compiled.outputs(0.0, y0, p, out)
            rows.append((res, y0, out, p))
        if not rows:
            return found
        values = np.stack([np.repeat(out[None, :], len(self.obs_times), axis=0) for _, _, out, _ in rows])
        # the screening visit has its own noise: the baseline visit (day 0) is measured anew
        seeds = [res.noise_seed for res, *_ in rows]
        observed = observe_stacked(disease_module(self.disease), values, names, pd.Index(self.obs_times),
                                   lambda: screening_rngs(seeds))
        for (res, y0, _, p), ef in zip(rows, observed):
            layout = ef.layout()  # one float table: its first row as Python floats at once
            base = (dict(zip(layout, ef.table()[0].tolist())) if layout is not None
                    else {c: float(v) for c, v in ef.row(0).items()})
            if inclusion_mask(base, res.covariates, self.inclusion):
                res.baseline = base
                res.y0 = y0
                res.p = p
        return found


@dataclass
class _ScreenAny:
    """Screen ``(arm index, candidate k)`` with that arm's screener (one parallel batch for all arms)."""

    screeners: list

    def __call__(self, job: tuple[int, int]) -> _Screened:
        j, k = job
        return self.screeners[j](k)

    def batch(self, jobs) -> list[_Screened]:
        """Screen a chunk of jobs, each arm's candidates together (`_Screener.batch`), in job order."""
        by_arm: dict[int, list[int]] = {}
        for pos, (j, _) in enumerate(jobs):
            by_arm.setdefault(j, []).append(pos)
        out: list = [None] * len(jobs)
        for j, pos in by_arm.items():
            for i, r in zip(pos, self.screeners[j].batch([jobs[i][1] for i in pos])):
                out[i] = r
        return out


def arm_settings(scenario: Scenario, arm, mod) -> dict[str, float]:
    """Model inputs of an arm: its background therapy (module BACKGROUND) and, in an open-label
    design, the expectation of patients who know they get an active treatment (MSCs or a
    therapy started in the trial)."""
    out = background_settings(mod, arm.background_entries(), scenario.subtype)
    active = bool(arm.regimen) or background_started(mod, arm.background_entries(), scenario.subtype)
    out["expectation_on"] = 1.0 if (scenario.design.blinding == "open" and active) else 0.0
    return out


def plan_trial(scenario: Scenario, progress: bool = False, engine: str = "compiled", *, workers: int = 1,
               scheduler: str | None = None, executor=None) -> TrialPlan:
    """Screen and enrol the virtual patients of every arm (deterministic in the seed).

    Candidates of an arm are screened in candidate order until the arm is full. With ``workers``
    or ``scheduler`` they are screened in parallel batches and then taken in the same order, so
    the plan (patients, baselines, screening counts) is identical however the work is split.
    ``executor``: a `execution.local_pool` to screen in (forked lazily: create it before, submit after
    the model is compiled here).
    """
    mod = disease_module(scenario.disease)
    composed = build_model(scenario.disease, None, "human", scenario.subtype)
    compiled = compile_model(composed.ode)
    obs_times = np.unique(np.array([0.0] + [e.at_days for e in scenario.endpoints]))
    end = float(obs_times[-1]) if obs_times[-1] > 0 else 1.0
    tc_times = np.unique(np.concatenate([np.linspace(0.0, end, 61), obs_times]))
    tc_outputs = [c for c, _ in _timecourse_quantities(mod)]
    tc_outputs = [c for c in dict.fromkeys(tc_outputs) if c in composed.ode.outputs]
    iiv = iiv_table(composed.ode.params)
    typical = {n: composed.ode.params[n].value for n in iiv}
    from mscsim import parameters

    typical.update({n: v for n, v in parameters.calibrated(scenario.disease).items() if n in typical})
    for n in (*iiv, *(e.parameter for e in _effects(composed))):
        if n not in typical:
            typical[n] = composed.ode.params[n].value
    scen_iiv = {k: v for k, v in scenario.population.iiv.items() if k != "dose"}
    for k in scen_iiv:
        if k not in composed.ode.params:
            raise MscsimError(f"IIV parameter {k!r} is not a parameter of the {scenario.disease} model",
                              field=f"population.iiv.{k}")
    iiv.update(scen_iiv)  # a CV of 0 keeps its random number (later draws unchanged) and gives the median
    dose_cv = float(scenario.population.iiv.get("dose", 0.0))
    inclusion = dict(getattr(mod, "INCLUSION", {}))
    inclusion.update(scenario.population.inclusion)
    patients: dict[str, list[VirtualPatient]] = {}
    baselines: dict[str, np.ndarray] = {}
    vectors: dict[str, tuple] = {}
    screened: dict[str, int] = {}
    warnings: list[str] = []
    population_fit: list[dict] = []
    parallel = workers > 1 or bool(scheduler)
    if parallel and engine == "compiled":  # forked workers inherit the loaded kernels
        warm_up(compiled, _patient_vector(composed, VirtualPatient("", 0, 0, {}, {}, ()), Regimen()))
    screeners, wanted = [], []
    for j, arm in enumerate(scenario.arms):
        reg = arm.to_regimen()
        table1 = scenario.table1_for(arm.name)
        covs = covariate_specs(scenario, mod, table1, arm.n)
        arm_typical = dict(typical)
        if scen_iiv:  # product knobs and other inputs: the arm's own value is the median
            base = dict(zip(composed.ode.param_names, parameter_vector(composed, regimen=reg)))
            arm_typical.update({k: float(base[k]) for k in scen_iiv if k not in typical})
        screeners.append(_Screener(scenario.disease, scenario.subtype, scenario.seed, j, arm.name, reg, covs, iiv,
                                   arm_typical, inclusion, obs_times, engine, arm_settings(scenario, arm, mod),
                                   dose_cv))
        # with a Table 1, a pool of `match.pool` x n plausible patients is screened, then matched
        wanted.append(arm.n * scenario.population.match.pool if table1 else arm.n)
    for j, arm in enumerate(scenario.arms):  # before screening: a refused dose stops the trial at once
        for w in check_regimen_safety(screeners[j].regimen, 70.0):
            warnings.append(f"arm {arm.name}: {w}")
    enrolled: dict[str, list[VirtualPatient]] = {arm.name: [] for arm in scenario.arms}
    states: dict[str, list[np.ndarray]] = {arm.name: [] for arm in scenario.arms}
    next_k = [0] * len(scenario.arms)
    limits = [MAX_SCREEN_FACTOR * w + 100 for w in wanted]

    def take(j: int, r: _Screened) -> None:
        """Candidate ``r`` of arm ``j`` in candidate order: enrol him if included and the arm has room."""
        arm, got = scenario.arms[j], enrolled[scenario.arms[j].name]
        if len(got) >= wanted[j]:
            return
        next_k[j] = r.k + 1
        if r.baseline is not None:
            pt = VirtualPatient(arm.name, len(got), r.k, r.covariates, r.params, r.noise_seed, settings=r.settings,
                                dose_factor=r.dose_factor)
            pt.baseline = r.baseline
            got.append(pt)
            states[arm.name].append((r.y0, (r.p, dict(r.params), dict(r.settings), r.covariates.get("weight_kg"),
                                            screeners[j].regimen)))

    def check_limit(j: int) -> None:
        arm = scenario.arms[j]
        if len(enrolled[arm.name]) < wanted[j] and next_k[j] >= limits[j]:
            raise MscsimError(
                f"arm {arm.name!r}: only {len(enrolled[arm.name])} of {wanted[j]} patients met the inclusion "
                f"criteria after screening {next_k[j]}; the criteria {inclusion} are too strict for this population",
                field="population.inclusion")

    # rounds: every arm's next candidates in one batch (in parallel with workers); candidates beyond an
    # arm's last enrolled one are discarded, so the plan is the one of screening candidate by candidate.
    # In parallel a round is sized by the inclusion rate so far plus 5 % spare (issue 19: an arm at a
    # time with 15 % spare kept a worker idle); serially it is the patients still needed, so no candidate
    # is screened in vain. A batch also lets the screening visits be observed together (observe_stacked).
    while True:
        jobs = []
        for j, arm in enumerate(scenario.arms):
            need = wanted[j] - len(enrolled[arm.name])
            if need <= 0:
                continue
            check_limit(j)
            k = next_k[j]
            rate = (len(enrolled[arm.name]) + 1) / (k + 1)
            size = int(min(limits[j] - k, max(2 * max(workers, 2), 1.05 * need / rate + 2 * workers) if parallel
                           else need))
            jobs += [(j, kk) for kk in range(k, k + size)]
        if not jobs:
            break
        # local workers: chunks of up to 256 candidates, at least 8 per worker where the cap allows: a
        # screening takes ~0.15 ms, and each chunk's hand-off to and from a worker ~2.5 ms (measured:
        # 64-candidate chunks idled each of two workers ~0.2 s while screening 10,000 patients)
        # [design choice; issue 19]. On a Dask cluster (``workers`` is not its size) map_tasks' default.
        chunk = None if scheduler else max(1, min(256, len(jobs) // (8 * max(workers, 1))))
        batch = map_tasks(_ScreenAny(screeners), jobs, workers=workers, scheduler=scheduler, chunk_size=chunk,
                          progress=False, executor=executor)
        for (j, _), r in zip(jobs, batch):
            take(j, r)
    for j, arm in enumerate(scenario.arms):
        got, got_states = enrolled[arm.name], states[arm.name]
        table1 = scenario.table1_for(arm.name)
        if table1:
            targets = targets_for(table1, arm.n)
            values = {t.name: np.array([p.covariates[t.name] if t.name in p.covariates else p.baseline[t.name]
                                        for p in got], dtype=float) for t in targets}
            for t in targets:
                if t.binary and not np.all(np.isin(values[t.name], (0.0, 1.0))):
                    raise MscsimError(f"Table 1 row {t.name!r} is a proportion but {t.name} is not 0/1 at "
                                      "screening: give mean/sd", field=f"population.table1.{t.name}")
            rng = np.random.default_rng(np.random.SeedSequence(entropy=scenario.seed, spawn_key=(j, 2**20)))
            sel, _ = match_table1(values, targets, arm.n, rng)
            population_fit += fit_rows(arm.name, values, sel, targets)
            got = [got[i] for i in sel]
            got_states = [got_states[i] for i in sel]
            for i, pt in enumerate(got):
                pt.index = i
        cal = parameters.calibrated(scenario.disease)
        for pt, (y0, vector) in zip(got, got_states):
            baselines[pt.pid] = y0
            if vector[0] is not None:
                vectors[pt.pid] = vector + (cal,)
        patients[arm.name] = got
        screened[arm.name] = next_k[j]
    return TrialPlan(scenario, mod, obs_times, tc_times, tc_outputs, patients, screened, warnings, baselines, engine,
                     population_fit, vectors)


def _effects(composed):
    from mscsim.population import COVARIATE_EFFECTS

    return [e for e in COVARIATE_EFFECTS if e.parameter in composed.ode.params]


@dataclass
class TrialResult:
    summary: dict
    patients: pd.DataFrame
    timecourse: pd.DataFrame
    population: pd.DataFrame
    failures: list[dict]
    plan: TrialPlan
    #: per patient: arm, patient, risk_<event> (probability), event_<event> (0/1 by the end), d_dimer_peak
    safety: pd.DataFrame = field(default_factory=pd.DataFrame)


def control_arm(scenario: Scenario) -> str:
    for a in scenario.arms:
        if not a.regimen:
            return a.name
    return scenario.arms[-1].name


def run_trial(scenario: Scenario, *, workers: int = 1, scheduler: str | None = None,
              progress: bool = True, engine: str = "compiled", uncertainty: int = 0,
              alpha: float = 0.05) -> TrialResult:
    """Run a virtual trial (see module docstring). ``engine``: "compiled" (default) or "scipy".
    ``uncertainty``: also run it under that many parameter draws and add predictive intervals and
    assurance at ``alpha`` to the summary (``mscsim.uncertainty``)."""
    from contextlib import nullcontext

    from mscsim.execution import local_pool

    # one local pool for screening and simulation, forked once after plan_trial loaded the model
    # (a pool per screening round and another for the patients cost a fork and cold workers each)
    pool = local_pool(workers) if not scheduler else None
    with (pool or nullcontext()):
        plan = plan_trial(scenario, engine=engine, workers=workers, scheduler=scheduler, executor=pool)
        tasks = plan.tasks()
        results: list[PatientResult] = map_tasks(run_patient, tasks, workers=workers, scheduler=scheduler,
                                                  desc=f"{scenario.name}", progress=progress, executor=pool)
    result = assemble(plan, tasks, results)
    if uncertainty:
        from mscsim.uncertainty import attach, predict

        attach(result.summary, predict(scenario, uncertainty, alpha=alpha, workers=workers, scheduler=scheduler,
                                       progress=progress))
    return result


def assemble(plan: TrialPlan, tasks: list[PatientTask], results: list[PatientResult], *,
             tables: bool = True, figure_inputs=None) -> TrialResult:
    """Summary (arms, comparisons, failures) and, with ``tables``, the patient, time-course,
    population and safety tables of a finished trial (``tables=False``: empty tables, for callers
    that read only the summary, such as the uncertainty runs' hundreds of trials).
    ``figure_inputs``: called with what the figures need (`_inputs_for_figures`) as soon as it is
    known, before the patient, safety and population tables (a figure process then draws
    meanwhile): first with the time courses and a summary holding only the ``scenario`` name (the
    time-course figure needs nothing more), then again with the arms' results in the summary."""
    sc = plan.scenario
    pairs: dict[str, list[tuple[PatientTask, PatientResult]]] = {a.name: [] for a in sc.arms}
    failures = []
    for task, r in zip(tasks, results):
        if r.failed:
            failures.append({"patient": r.pid, "arm": r.arm, "message": r.message,
                             "parameters": {k: float(v) for k, v in task.patient.params.items()},
                             "covariates": task.patient.covariates})
        else:
            pairs[r.arm].append((task, r))
    by_arm = {a: [r for _, r in v] for a, v in pairs.items()}
    obs_index = {float(t): i for i, t in enumerate(plan.obs_times)}
    # (name, day, row, stat) of each endpoint, parsed once (not per patient: issue 19)
    endpoints = [(e.name, e.at_days) for e in sc.endpoints]
    endpoints = [(name, at, obs_index[at], endpoint_stat(sc.disease, name)) for name, at in endpoints]
    cols: dict[str, list] = {k: [] for k in ("arm", "patient", "endpoint", "at_days", "value", "baseline",
                                             "weight_kg", "age")}
    arms_out = []
    values: dict[tuple, np.ndarray] = {}
    observed = {a: _Observed([r for _, r in v]) for a, v in pairs.items()}
    tc_rows = []
    for arm in (sc.arms if tables else ()):
        res = by_arm[arm.name]
        if not res:
            continue
        stack = np.stack([r.timecourse for r in res])  # patients x times x outputs
        for k, q in enumerate(plan.tc_outputs):
            x = stack[:, :, k]
            pct = np.percentile(x, [5, 50, 95], axis=0)
            tc_rows.append(pd.DataFrame({"arm": arm.name, "time_d": plan.tc_times, "quantity": q,
                                         "mean": x.mean(axis=0), "p05": pct[0], "p50": pct[1], "p95": pct[2]}))
    timecourse = pd.concat(tc_rows, ignore_index=True) if tc_rows else pd.DataFrame()
    send = figure_inputs if figure_inputs is not None and tables else None
    if send is not None:  # the time courses first: their figure is drawn while the arms are summarised
        send(_inputs_for_figures(plan, timecourse, {"scenario": sc.name}))
    for arm in sc.arms:
        res = by_arm[arm.name]
        eps = []
        for name, at, i, stat in endpoints:
            v = observed[arm.name].at(name, i)
            values[(arm.name, name, at)] = v
            s = summarize(v, stat)
            eps.append({"name": name, "at_days": at, "stat": stat, "value": s["value"], "sd": s["sd"],
                        "ci_low": s["ci_low"], "ci_high": s["ci_high"]})
        arms_out.append({"name": arm.name, "n": len(res), "n_planned": arm.n, "screened": plan.screened[arm.name],
                         "screening_ratio": round(plan.screened[arm.name] / max(arm.n, 1), 4),
                         "failures": sum(1 for f in failures if f["arm"] == arm.name), "endpoints": eps})
    if send is not None:
        send(_inputs_for_figures(plan, timecourse, {"scenario": sc.name, "arms": arms_out}))
    for arm in (sc.arms if tables else ()):
        if pairs[arm.name]:
            _patient_rows(cols, arm.name, pairs[arm.name], endpoints, observed[arm.name])
    rows = pd.DataFrame(cols) if cols["arm"] else pd.DataFrame([])
    ctrl = control_arm(sc)
    comparisons = []
    for arm in sc.arms:
        if arm.name == ctrl:
            continue
        for name, at, _, stat in endpoints:
            c = compare(values[(arm.name, name, at)], values[(ctrl, name, at)], stat)
            comparisons.append({"endpoint": name, "at_days": at, "arm": arm.name, "vs": ctrl,
                                "difference": c["difference"], "ci_low": c["ci_low"], "ci_high": c["ci_high"],
                                "p_value": c["p_value"]})
    safety_cols = safety_columns(plan, pairs, observed)
    safety = safety_table(plan, pairs, safety_cols) if tables else pd.DataFrame()
    summary = {"scenario": sc.name, "disease": sc.disease, "subtype": sc.subtype, "seed": sc.seed,
               "version": mscsim.__version__, "arms": arms_out, "comparisons": comparisons,
               "safety": arm_block(safety_cols, [a.name for a in sc.arms], ctrl),
               "failures": failures, "warnings": plan.warnings}
    if plan.population_fit:
        summary["population_fit"] = plan.population_fit
    pop_rows = []
    for task in (tasks if tables else ()):
        pt = task.patient
        pop_rows.append({"arm": pt.arm, "patient": pt.pid, "candidate": pt.candidate, **pt.covariates,
                         **({"dose_factor": pt.dose_factor} if "dose" in sc.population.iiv else {}),
                         **{f"param_{k}": v for k, v in pt.params.items()}})
    return TrialResult(summary, rows, timecourse, pd.DataFrame(pop_rows), failures, plan, safety)


def _patient_rows(cols: dict[str, list], arm: str, pairs: list, endpoints: list, observed: "_Observed") -> None:
    """Append an arm's rows of the patients table (patient by patient, each endpoint) to the columns
    ``cols``: one NumPy gather per endpoint instead of a dict per row (issue 19); ``observed``: the
    arm's patients' `_Observed`."""
    ne = len(endpoints)
    n = len(pairs)
    cols["arm"] += [arm] * (n * ne)
    cols["patient"] += [r.pid for _, r in pairs for _ in range(ne)]
    cols["endpoint"] += [name for name, *_ in endpoints] * n
    cols["at_days"] += [at for _, at, *_ in endpoints] * n
    value = np.empty((n, ne))
    baseline = np.empty((n, ne))
    for k, (name, _, i, _) in enumerate(endpoints):
        value[:, k], baseline[:, k] = observed.at(name, i), observed.at(name, 0)
    cols["value"] += value.ravel().tolist()
    cols["baseline"] += baseline.ravel().tolist()
    cov = [t.patient.covariates for t, _ in pairs]
    cols["weight_kg"] += [c.get("weight_kg") for c in cov for _ in range(ne)]
    cols["age"] += [c.get("age") for c in cov for _ in range(ne)]


#: columns of the per-patient safety table
SAFETY_COLUMNS = (["arm", "patient"] + [f"risk_{e}" for e in SAFETY_EVENTS] + [f"event_{e}" for e in SAFETY_EVENTS]
                  + ["d_dimer_peak"])


def safety_columns(plan: TrialPlan, pairs: dict, observed: dict | None = None) -> dict[str, list]:
    """The columns of `safety_table` as lists (what `safety.arm_block` needs, without a DataFrame).
    ``observed``: arm -> its `_Observed` (made here if not given)."""
    done = [(arm.name, r) for arm in plan.scenario.arms for _task, r in pairs[arm.name] if r.safety is not None]
    cols: dict[str, list] = {"arm": [a for a, _ in done], "patient": [r.pid for _, r in done]}
    nan = float("nan")
    for e in SAFETY_EVENTS:
        cols[f"risk_{e}"] = [r.safety[e] for _, r in done]
    for e in SAFETY_EVENTS:  # at the last observation time
        cols[f"event_{e}"] = []
    for arm in plan.scenario.arms:
        kept = [r for _task, r in pairs[arm.name] if r.safety is not None]
        # the arm's own gather where every patient has his safety record (all but restored old chunks)
        whole = observed is not None and len(kept) == len(pairs[arm.name])
        obs = observed[arm.name] if whole else _Observed(kept)
        for e in SAFETY_EVENTS:
            cols[f"event_{e}"] += obs.at(e, -1, missing=nan).tolist()
    cols["d_dimer_peak"] = [r.safety["d_dimer_peak"] for _, r in done]
    return cols


class _Observed:
    """The observations of a list of patients, read one column at one time row for all of them:
    gathered from one stacked array (patients x times x columns) when they share one float table
    layout (`Readouts.layout`: one model, one observation grid, the usual case), else patient by
    patient (issue 19: the patient-by-patient reads were a third of assembling 10,000 patients)."""

    def __init__(self, results: list):
        self.results = results
        self.stack, self.pos = None, None
        names = results[0].observed.layout() if results else None
        if names is not None and all(r.observed.layout() == names for r in results):
            self.stack = np.stack([r.observed.table() for r in results])
            self.pos = readout_positions(names)

    def at(self, name: str, row: int, missing: float | None = None) -> np.ndarray:
        """Column ``name`` at time row ``row`` for each patient (float); a patient without the
        column gets ``missing``, or raises KeyError when it is None."""
        if self.stack is not None:
            if name not in self.pos and missing is not None:
                return np.full(len(self.results), missing)
            return self.stack[:, row, self.pos[name]].astype(float)
        return np.array([float(r.observed._column(name)[row]) if missing is None or name in r.observed
                         else missing for r in self.results], dtype=float)


def safety_table(plan: TrialPlan, pairs: dict, columns: dict | None = None) -> pd.DataFrame:
    """One row per simulated patient: probability and 0/1 of each safety event by the end of
    follow-up (the last endpoint time), and his peak D-dimer. Patients restored from a checkpoint
    (no safety record) are left out. ``columns``: `safety_columns` already computed."""
    cols = safety_columns(plan, pairs) if columns is None else columns
    if not cols["arm"]:
        return pd.DataFrame([], columns=SAFETY_COLUMNS)
    return pd.DataFrame(cols, columns=SAFETY_COLUMNS)


def write_trial(result: TrialResult, out, *, csv: bool = False, figures: "TrialFigures | None" = None,
                while_drawing=None) -> list:
    """Write summary.json, patients.parquet, timecourse.parquet, population.parquet, figures (atomically).

    ``csv``: also a CSV copy of each table. ``figures``: a `start_trial_figures` job already drawing
    the figures in another process (waited for before summary.json); None draws them here.
    ``while_drawing``: with ``figures``, called with no argument once the tables are written and
    before the figures are waited for (the trial command builds the report meanwhile; issue 19).
    summary.json is written last: its presence means the folder is complete."""
    from pathlib import Path

    from mscsim.io import write_json, write_table

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    files += write_table(result.patients, out / "patients", csv=csv)
    files += write_table(result.timecourse, out / "timecourse", csv=csv)
    files += write_table(result.population, out / "population", csv=csv)
    if while_drawing is not None and figures is not None:
        while_drawing()
    files += figures.join() if figures is not None else write_trial_figures(result, out)
    for name in set(TRIAL_FIGURES) - set(trial_figure_names(result.summary)):  # an earlier run's, not this one's
        (out / name).unlink(missing_ok=True)
    if result.summary.get("population_fit"):
        files += write_table(pd.DataFrame(result.summary["population_fit"]), out / "population_fit", csv=True)
    if result.failures:
        files += write_table(pd.DataFrame([{k: (str(v) if isinstance(v, dict) else v) for k, v in f.items()}
                                           for f in result.failures]), out / "failures", csv=True)
    files.append(write_json(result.summary, out / "summary.json"))  # last: its presence means complete
    return files


def write_trial_figures(result: TrialResult, out) -> list:
    """timecourse.png and, with a proportion endpoint, responders.png of a trial."""
    return _draw_figures(*_figure_inputs(result), out)


def _figure_inputs(result: TrialResult) -> tuple:
    """What the figures need (`_inputs_for_figures` of a finished trial)."""
    return _inputs_for_figures(result.plan, result.timecourse, result.summary)


def _timecourse_quantities(module) -> list:
    """The (quantity, label) panels of a disease module's trial time courses: its key outputs, then
    the immune read-outs every trial shows (`TIMECOURSE_EXTRA`)."""
    return list(getattr(module, "KEY_OUTPUTS", [])) + TIMECOURSE_EXTRA


def _inputs_for_figures(plan: TrialPlan, timecourse: pd.DataFrame, summary: dict) -> tuple:
    """What the figures need: the time courses, the summary (its ``scenario`` and ``arms``: the
    figures read nothing else) and the (quantity, label) panels."""
    return timecourse, summary, _timecourse_quantities(plan.module)


def _planned_layout(scenario: Scenario) -> tuple:
    """(quantities, title) of the time-course figure a trial of ``scenario`` will have, if its time
    courses hold every quantity (`_draw_figures` checks)."""
    return _timecourse_quantities(disease_module(scenario.disease)), scenario.name


def start_trial_figures(out, scenario: Scenario | None = None) -> TrialFigures | None:
    """Fork the process that will draw the trial's figures (`trial_figures.TrialFigures`; None where
    fork is unavailable: draw them in `write_trial`); call it before the trial runs, then
    `draw(result)` once it has. For runs that may use a second CPU (the CLI checks): the drawing
    takes it. ``scenario``: the trial's, so that the process lays out the time-course panels before
    the results arrive. (The trial command forks it earlier still, `trial_figures.fork_trial_figures`,
    and aims it once the scenario is read.)"""
    from pathlib import Path

    job = fork_trial_figures()
    if job is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        job.aim(out, _planned_layout(scenario) if scenario is not None else None)
    return job


def power(scenario: Scenario, *, replicates: int = 50, alpha: float = 0.05, workers: int = 1,
          scheduler: str | None = None, progress: bool = True) -> pd.DataFrame:
    """Probability of a significant difference (p < alpha) per comparison, over replicate trials
    with seeds derived from the scenario seed."""
    plans = []
    tasks = []
    bounds = []
    for r in range(replicates):
        sc_r = scenario.model_copy(update={"seed": int(np.random.SeedSequence([scenario.seed, r]).generate_state(1)[0])})
        plan = plan_trial(sc_r)
        t = plan.tasks()
        bounds.append((len(tasks), len(tasks) + len(t)))
        tasks += t
        plans.append(plan)
    results = map_tasks(run_patient, tasks, workers=workers, scheduler=scheduler, desc="power", progress=progress)
    hits: dict[tuple, list[bool]] = {}
    for plan, (a, b) in zip(plans, bounds):
        res = assemble(plan, tasks[a:b], results[a:b])
        for c in res.summary["comparisons"]:
            key = (c["endpoint"], c["at_days"], c["arm"], c["vs"])
            hits.setdefault(key, []).append(c["p_value"] is not None and c["p_value"] < alpha)
    rows = []
    for (ep, at, arm, vs), h in hits.items():
        k = int(sum(h))
        lo, hi = wilson_interval(k, len(h))
        rows.append({"endpoint": ep, "at_days": at, "arm": arm, "vs": vs, "replicates": len(h),
                     "power": k / len(h), "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows)
