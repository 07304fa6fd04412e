"""PEtab export: a disease's calibration problem as a PEtab (v1) parameter-estimation problem.

PEtab (Schmiester et al. 2021, PLoS Comput Biol 17:e1008646, DOI 10.1371/journal.pcbi.1008646)
is the tabular format that pyPESTO, AMICI, COPASI and Data2Dynamics read: an SBML model plus
condition, observable, measurement and parameter tables and a YAML file tying them together.

What is exported (``build_problem``; ``mscsim export-petab``):

- **model**: the SBML export (:mod:`mscsim.sbml`) of the disease's *typical patient* (table
  values, calibrated values, typical body weight, in a trial: ``trial_on`` = 1), started at
  his untreated steady state, with the doses of every exported arm as events (one dose slot
  per administration of each arm); plus one constant ``<read-out>_at_baseline`` parameter per
  change-from-baseline observable (an initial assignment = the read-out at time 0).
- **conditions**: one per (scenario, arm): the arm's dose slots carry their cells, the other
  arms' slots 0 cells; product inputs (``products.product_inputs``: ``d_cell``, ``cxcr4``,
  ``potency``, ``tf_ibmir``, ``thawed``, ``allogeneic``, ``primed``) and anything
  else that differs between arms are set per condition.
- **observables**: the SBML read-out (an assignment rule) of each continuous calibration
  endpoint, minus its baseline value for change endpoints; normal noise whose SD is the
  measurement's ``noiseParameters`` (the published standard error of the arm).
- **measurements**: the published arm mean, at the endpoint's time, with its SE.
- **parameters**: the disease's ``CALIBRATION_PARAMETERS`` present in the model, estimated,
  nominal value = the shipped calibrated value, bounds = the parameter table's ``bounds``,
  log10 scale where ``calibrate.transforms`` fits on a log scale, a uniform prior on the
  bounds (the table states bounds only; mscsim's fit is unpenalised least squares).

What is not (listed in ``PetabProblem.skipped`` with the reason): a PEtab problem simulates one
patient, the typical one; mscsim calibrates to *virtual trials* (patients with random effects,
screened by inclusion criteria, observed with visit noise, responders counted). Proportions of
responders or events therefore have no PEtab observable and are not exported; continuous
endpoints are exported as the typical patient's value, which is not the trial's arm mean when
the model is nonlinear in the random effects or the observation is rounded (EDSS to 0.5 steps).
The objective of the PEtab problem is thus the *typical-patient* least squares
(:func:`typical_objective`), not the objective ``mscsim calibrate`` minimises.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mscsim.errors import MscsimError

#: change-from-baseline endpoints computed by a disease's ``responders``: endpoint -> read-out
CHANGE_ENDPOINTS = {"edss_change": "edss"}

#: PEtab format version written
FORMAT_VERSION = 1


def _sid(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")
    return s if re.match(r"[A-Za-z_]", s) else "_" + s


@dataclass(frozen=True)
class ExportedTarget:
    """A calibration target carried into the PEtab problem."""

    target: object            # calibrate.Target
    condition_id: str
    observable_id: str
    readout: str              # SBML read-out the observable is built from
    change: bool              # observable = read-out minus its baseline value


@dataclass(frozen=True)
class SkippedTarget:
    record: str
    arm: str
    endpoint: str
    reason: str


@dataclass
class _Condition:
    cid: str
    scenario: object
    arm: object
    weight_kg: float


@dataclass
class _Plan:
    disease: str
    subtype: str | None
    exported: list[ExportedTarget]
    skipped: list[SkippedTarget]
    conditions: dict[str, _Condition]
    estimated: list[str]
    not_in_model: list[str]


def _typical_weight(scenario, module) -> float:
    from mscsim.population import covariate_specs

    spec = covariate_specs(scenario, module).get("weight_kg")
    return float(spec.mean) if spec is not None and spec.mean is not None else 70.0


def _plan(disease: str, subtype: str | None = None) -> _Plan:
    """Which calibration targets the PEtab problem holds, and why the others are left out."""
    from mscsim.calibrate import calibration_parameters, calibration_targets
    from mscsim.model import build_model, disease_module
    from mscsim.trial import endpoint_stat

    mod = disease_module(disease)
    if subtype is not None:
        try:
            build_model(disease, None, "human", subtype)          # refuses an unknown subtype
        except MscsimError as exc:
            raise MscsimError(str(exc).split(": ", 1)[-1], field="--subtype") from None
    scenarios, targets = calibration_targets(disease)
    if not targets:
        raise MscsimError(f"{disease} has no calibration records to export", field="--disease")
    skipped: list[SkippedTarget] = []
    candidates = []
    for t in targets:
        sc = scenarios[t.scenario]
        composed = build_model(disease, None, "human", sc.subtype)
        stat = "mean" if t.compare == "change" else endpoint_stat(disease, t.endpoint)
        outputs = set(composed.ode.outputs)
        if stat != "mean":
            skipped.append(SkippedTarget(t.record, t.arm, t.endpoint,
                                         "a proportion of patients (responders or events counted over the virtual "
                                         "trial's patients); a PEtab problem simulates one typical patient"))
            continue
        if t.endpoint in CHANGE_ENDPOINTS and t.compare == "value":
            readout, change = CHANGE_ENDPOINTS[t.endpoint], True
        elif t.compare in ("value", "change"):
            readout, change = t.endpoint, t.compare == "change"
        else:
            skipped.append(SkippedTarget(t.record, t.arm, t.endpoint, f"comparison {t.compare!r} of a mean"))
            continue
        if readout not in outputs:
            skipped.append(SkippedTarget(t.record, t.arm, t.endpoint,
                                         "computed by the trial from observations; the model has no read-out for it"))
            continue
        candidates.append((t, sc, readout, change))
    if subtype is None and candidates:
        counts: dict = {}
        for _, sc, _, _ in candidates:
            counts[sc.subtype] = counts.get(sc.subtype, 0) + 1
        subtype = max(counts, key=lambda s: counts[s])       # first of the most frequent (dicts keep order)
    exported: list[ExportedTarget] = []
    conditions: dict[str, _Condition] = {}
    for t, sc, readout, change in candidates:
        if sc.subtype != subtype:
            skipped.append(SkippedTarget(t.record, t.arm, t.endpoint,
                                         f"scenario {t.scenario} uses the {sc.subtype} model; a PEtab v1 problem "
                                         f"has one model (exported: {subtype})"))
            continue
        arm = next(a for a in sc.arms if a.name == t.arm)
        cid = _sid(f"{t.scenario}__{t.arm}")
        conditions.setdefault(cid, _Condition(cid, sc, arm, _typical_weight(sc, mod)))
        oid = _sid(f"obs_{readout}_change" if change else f"obs_{readout}")
        exported.append(ExportedTarget(t, cid, oid, readout, change))
    if not exported:
        reasons = sorted({s.reason.split(";")[0] for s in skipped})
        raise MscsimError(f"{disease} has no calibration record a PEtab problem can hold ({'; '.join(reasons)})",
                          field="--disease")
    composed = build_model(disease, None, "human", subtype)
    names = calibration_parameters(disease)
    estimated = [n for n in names if n in composed.ode.params]
    return _Plan(disease, subtype, exported, skipped, conditions, estimated,
                 [n for n in names if n not in composed.ode.params])


def _theta(disease: str, names: list[str], theta: dict[str, float] | None) -> dict[str, float]:
    from mscsim import parameters

    reg = parameters.registry()
    cal = parameters.calibrated(disease)
    out = {n: float(cal.get(n, reg[n].value_for("human"))) for n in names}
    for k, v in (theta or {}).items():
        if k not in out:
            raise MscsimError(f"{k!r} is not an estimated parameter of this problem; accepted: {', '.join(out)}",
                              field="theta")
        out[k] = float(v)
    return out


def _scenario_id(scenario, plan: _Plan) -> str:
    return next((e.target.scenario for e in plan.exported
                 if plan.conditions[e.condition_id].scenario is scenario), scenario.name)


def _arm_vector(composed, cond: _Condition, overrides: dict[str, float]) -> np.ndarray:
    from mscsim.simulate import parameter_vector

    over = dict(overrides)
    if "trial_on" in composed.ode.params:
        over["trial_on"] = 1.0                       # as trial._patient_vector: participation in every arm
    return parameter_vector(composed, weight_kg=cond.weight_kg, regimen=cond.arm.to_regimen(), overrides=over)


# ------------------------------------------------------------------------------------------
# mscsim's own typical-patient objective (the reference the PEtab problem must reproduce)
def typical_values(disease: str, subtype: str | None = None, theta: dict[str, float] | None = None,
                   options=None) -> pd.DataFrame:
    """Each exported target simulated for the typical patient with mscsim's own engine.

    The patient of a trial without random effects: table and calibrated values (``theta``
    overrides the estimated ones), typical weight, ``trial_on`` = 1, own untreated steady state,
    the arm's regimen; endpoints from the disease's ``observe``/``responders`` without visit
    noise (``endpoint_frame(module, readouts, rng=None)``), compared as ``calibrate`` compares."""
    from mscsim.diseases.base import Readouts, endpoint_frame
    from mscsim.model import build_model, disease_module
    from mscsim.numerics import IntegrationError, SolverOptions, compile_model, integrate, steady_state

    plan = _plan(disease, subtype)
    th = _theta(disease, plan.estimated, theta)
    # tight settings: the compiled BDF engine, else SciPy LSODA on the compiled model (as tests/test_sbml.py)
    tries = [options] if options else [SolverOptions(rtol=1e-9, atol_scale=1e-4),
                                       SolverOptions(method="LSODA", rtol=1e-10, atol_scale=1e-7, engine="scipy")]
    composed = build_model(disease, None, "human", plan.subtype)
    compiled = compile_model(composed.ode)
    mod = disease_module(disease)
    rows = []
    for cid, cond in plan.conditions.items():
        mine = [e for e in plan.exported if e.condition_id == cid]
        p = _arm_vector(composed, cond, th)
        y0 = steady_state(compiled, p)
        times = np.unique(np.array([0.0] + [e.target.at_days for e in mine]))
        admins = cond.arm.to_regimen().administrations(cond.weight_kg)
        for k, opt in enumerate(tries):
            try:
                Y = integrate(compiled, p, y0, times, admins, opt)
                break
            except IntegrationError:
                if k == len(tries) - 1:
                    raise
        out = np.empty((len(times), len(composed.ode.outputs)))
        compiled.outputs_traj(times, Y, p, out)
        ef = endpoint_frame(mod, Readouts.from_array(out, composed.ode.outputs, pd.Index(times, name="time_d")), None)
        for e in mine:
            t = e.target
            i = int(np.searchsorted(times, t.at_days))
            x = float(ef[t.endpoint].iloc[i])
            if t.compare == "change":
                x -= float(ef[t.endpoint].iloc[0])
            rows.append({"record": t.record, "scenario": t.scenario, "arm": t.arm, "endpoint": t.endpoint,
                         "compare": t.compare, "at_days": t.at_days, "condition": cid, "observable": e.observable_id,
                         "published": t.value, "se": t.se, "typical": x})
    df = pd.DataFrame(rows)
    df["z"] = (df["typical"] - df["published"]) / df["se"]
    return df


def typical_objective(disease: str, subtype: str | None = None, theta: dict[str, float] | None = None,
                      options=None) -> float:
    """Sum of squared standardised residuals of the typical patient (as ``calibrate``'s objective,
    non-finite residuals counted as 10), i.e. PEtab's chi2 of the exported problem."""
    z = typical_values(disease, subtype, theta, options)["z"].to_numpy(float)
    return float(np.sum(np.where(np.isfinite(z), z, 10.0) ** 2))


# ------------------------------------------------------------------------------------------
# the PEtab problem
@dataclass
class PetabProblem:
    """The exported problem: SBML text, the four tables, and what was left out."""

    disease: str
    subtype: str | None
    sbml: str
    condition_df: pd.DataFrame
    observable_df: pd.DataFrame
    measurement_df: pd.DataFrame
    parameter_df: pd.DataFrame
    exported: list[ExportedTarget]
    skipped: list[SkippedTarget]
    not_in_model: list[str] = field(default_factory=list)
    sbml_warnings: dict[str, int] = field(default_factory=dict)

    def to_petab(self):
        """A ``petab.v1.Problem`` (needs the optional ``petab`` package)."""
        petab_v1 = _petab()
        from petab.v1.models.sbml_model import SbmlModel

        return petab_v1.Problem(model=SbmlModel.from_string(self.sbml), condition_df=self.condition_df,
                                observable_df=self.observable_df, measurement_df=self.measurement_df,
                                parameter_df=self.parameter_df)

    def lint(self) -> list[str]:
        """PEtab linter messages of level ERROR (empty: the problem is valid)."""
        return _lint(self.to_petab())

    def write(self, folder) -> Path:
        """Write ``model.xml``, ``conditions.tsv``, ``observables.tsv``, ``measurements.tsv``,
        ``parameters.tsv`` and ``problem.yaml`` into ``folder``; return the YAML path."""
        folder = Path(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if not folder.is_dir():
                raise NotADirectoryError(str(folder))
            yaml_path = Path(self.to_petab().to_files_generic(prefix_path=folder))
        except OSError as exc:
            raise MscsimError(f"cannot write the PEtab problem to {folder}: {exc.strerror or exc}",
                              field="--out") from None
        return yaml_path

    def summary(self) -> pd.DataFrame:
        rows = [{"record": e.target.record, "condition": e.condition_id, "observable": e.observable_id,
                 "time_d": e.target.at_days, "measurement": e.target.value, "se": e.target.se,
                 "exported": "yes"} for e in self.exported]
        rows += [{"record": s.record, "condition": _sid(s.arm), "observable": s.endpoint, "time_d": float("nan"),
                  "measurement": float("nan"), "se": float("nan"), "exported": f"no: {s.reason}"}
                 for s in self.skipped]
        return pd.DataFrame(rows)


def _petab():
    try:
        import petab.v1 as petab_v1
    except ImportError:
        raise MscsimError("the PEtab export needs the 'petab' package: pip install 'mscsim[petab]'",
                          field="petab") from None
    return petab_v1


def _lint(problem) -> list[str]:
    import logging

    petab_v1 = _petab()

    class _Keep(logging.Handler):
        def __init__(self):
            super().__init__(logging.ERROR)
            self.messages: list[str] = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    h = _Keep()
    logger = logging.getLogger("petab")
    logger.addHandler(h)
    try:
        failed = petab_v1.lint_problem(problem)
    finally:
        logger.removeHandler(h)
    msgs = [m for m in h.messages if m != "Not OK"]
    if failed and not msgs:
        msgs = ["the PEtab linter reported errors"]
    return msgs


def _add_baselines(sbml: str, readouts: list[str]) -> str:
    """Add a constant ``<r>_at_baseline`` parameter = read-out ``r`` at time 0 (initial assignment)."""
    import libsbml

    doc = libsbml.readSBMLFromString(sbml)
    model = doc.getModel()
    for r in readouts:
        src = model.getParameter(r)
        pid = f"{r}_at_baseline"
        if model.getElementBySId(pid) is not None:
            raise MscsimError(f"{pid} clashes with a model name", field="petab")
        prm = model.createParameter()
        prm.setId(pid)
        prm.setName(f"{src.getName() or r} at baseline (time 0, before the first dose)")
        prm.setConstant(True)
        if src.isSetUnits():
            prm.setUnits(src.getUnits())
        ia = model.createInitialAssignment()
        ia.setSymbol(pid)
        ia.setMath(libsbml.parseL3Formula(r))
    return libsbml.writeSBMLToString(doc)


def build_problem(disease: str, subtype: str | None = None) -> PetabProblem:
    """The disease's calibration problem as a PEtab v1 problem (see the module docstring)."""
    from mscsim import parameters
    from mscsim.calibrate import transforms
    from mscsim.model import build_model
    from mscsim.numerics import compile_model, steady_state
    from mscsim.physiology import make_body
    from mscsim.sbml import check_consistency, model_to_sbml

    plan = _plan(disease, subtype)
    composed = build_model(disease, None, "human", plan.subtype)
    compiled = compile_model(composed.ode)
    names = composed.ode.param_names
    th = _theta(disease, plan.estimated, None)

    # per condition: parameter vector, baseline, administrations (all at the typical patient's values)
    vecs, y0s, admins = {}, {}, []
    for cid, cond in plan.conditions.items():
        vecs[cid] = _arm_vector(composed, cond, {})
        y0s[cid] = steady_state(compiled, vecs[cid])
        admins += [(cid, a) for a in cond.arm.to_regimen().administrations(cond.weight_kg)]
    ref = next(iter(plan.conditions))
    for cid in plan.conditions:
        if not np.allclose(y0s[cid], y0s[ref], rtol=1e-9, atol=0):
            raise MscsimError(f"condition {cid} starts from another baseline than {ref} (a different typical "
                              "weight?); the PEtab problem has one initial state", field="petab")
    # the initial state is written as numbers: it must not depend on an estimated parameter
    tr = dict(zip(plan.estimated, transforms(plan.estimated)))
    p_ref = vecs[ref]
    for n in plan.estimated:
        for edge in (tr[n].lo, tr[n].hi):
            p = p_ref.copy()
            p[names.index(n)] = edge
            try:
                y = steady_state(compiled, p)
            except Exception:                      # noqa: BLE001 - no baseline at the bound: cannot tell
                continue
            if not np.allclose(y, y0s[ref], rtol=1e-7, atol=1e-12):
                raise MscsimError(f"the untreated baseline depends on the estimated parameter {n}; PEtab v1 "
                                  "cannot express mscsim's steady-state initialisation", field="petab")

    body = make_body("human", plan.conditions[ref].weight_kg, composed.target)
    meta = {"days": max(e.target.at_days for e in plan.exported),
            "regimen_text": "PEtab dose slots (cells set per condition): "
                            + ("; ".join(f"dose{k} -> {cid}" for k, (cid, _) in enumerate(admins, start=1)) or "none"),
            "title": f"mscsim {disease} calibration problem ({plan.subtype or 'default subtype'}), typical patient"}
    exp = model_to_sbml(composed, p_ref, y0s[ref], [a for _, a in admins], body=body, meta=meta, check=False)
    change_readouts = sorted({e.readout for e in plan.exported if e.change})
    sbml = _add_baselines(exp.sbml, change_readouts)
    issues = check_consistency(sbml)
    errors = [i for i in issues if i.severity in ("Error", "Fatal")]
    if errors:
        raise MscsimError(f"the PEtab model is not valid SBML: {errors[0]}", field="petab")
    warnings: dict[str, int] = {}
    for i in issues:
        warnings[f"{i.severity} {i.error_id}"] = warnings.get(f"{i.severity} {i.error_id}", 0) + 1

    # conditions: dose slots + every parameter that differs between arms
    differ = [j for j, n in enumerate(names)
              if any(not math.isclose(vecs[c][j], p_ref[j], rel_tol=1e-15, abs_tol=0) for c in vecs)]
    est = set(plan.estimated)
    crow = []
    for cid, cond in plan.conditions.items():
        row = {"conditionId": cid, "conditionName": f"{_scenario_id(cond.scenario, plan)}: {cond.arm.name}"}
        for j in differ:
            if names[j] in est:
                raise MscsimError(f"estimated parameter {names[j]} differs between arms", field="petab")
            row[names[j]] = float(vecs[cid][j])
        for k, (owner, a) in enumerate(admins, start=1):
            row[f"dose{k}_cells"] = float(a.cells) if owner == cid else 0.0
        crow.append(row)
    condition_df = pd.DataFrame(crow).set_index("conditionId")

    # observables
    m = composed.ode
    units = {n: x.unit for table in (m.states, m.rules) for n, x in table.items()}
    descs = {n: x.desc for table in (m.states, m.rules) for n, x in table.items()}
    orow = {}
    for e in plan.exported:
        formula = f"{e.readout} - {e.readout}_at_baseline" if e.change else e.readout
        what = f"{descs.get(e.readout, e.readout)} ({units.get(e.readout, '')})"
        orow[e.observable_id] = {
            "observableId": e.observable_id,
            "observableName": ("change from baseline of " if e.change else "") + what,
            "observableFormula": formula, "observableTransformation": "lin",
            "noiseFormula": f"noiseParameter1_{e.observable_id}", "noiseDistribution": "normal"}
    observable_df = pd.DataFrame(list(orow.values())).set_index("observableId")

    mrow = [{"observableId": e.observable_id, "simulationConditionId": e.condition_id,
             "measurement": float(e.target.value), "time": float(e.target.at_days),
             "noiseParameters": float(e.target.se), "datasetId": _sid(e.target.record)} for e in plan.exported]
    measurement_df = pd.DataFrame(mrow)

    reg = parameters.registry()
    prow = []
    for n in plan.estimated:
        t = tr[n]
        prow.append({"parameterId": n, "parameterName": reg[n].desc[:120],
                     "parameterScale": "log10" if t.log else "lin", "lowerBound": t.lo, "upperBound": t.hi,
                     "nominalValue": th[n], "estimate": 1, "objectivePriorType": "uniform",
                     "objectivePriorParameters": f"{t.lo:.17g};{t.hi:.17g}"})
    parameter_df = pd.DataFrame(prow).set_index("parameterId")
    return PetabProblem(disease, plan.subtype, sbml, condition_df, observable_df, measurement_df, parameter_df,
                        plan.exported, plan.skipped, plan.not_in_model, warnings)


# ------------------------------------------------------------------------------------------
# an independent PEtab objective: the written files, libRoadRunner and petab's own calculators
_RR_CACHE: dict[str, object] = {}


def _roadrunner(sbml: str):
    """A RoadRunner instance of ``sbml`` (compiling a model takes seconds: the last few are kept)."""
    import hashlib

    import roadrunner

    key = hashlib.sha1(sbml.encode()).hexdigest()
    if key not in _RR_CACHE:
        while len(_RR_CACHE) >= 4:
            _RR_CACHE.pop(next(iter(_RR_CACHE)))
        _RR_CACHE[key] = roadrunner.RoadRunner(sbml)
    return _RR_CACHE[key]


def simulate_petab(problem, parameters: dict[str, float] | None = None, *, rtol: float = 1e-10,
                   atol: float = 1e-10) -> pd.DataFrame:
    """Simulation table of a PEtab v1 problem (a ``petab.v1.Problem`` or its YAML path) with
    libRoadRunner, using nothing of mscsim: per condition the model's parameters are set to the
    parameter table's nominal values (``parameters`` overrides them, linear scale), then to the
    condition's values; the initial assignments are evaluated with them, the events at time 0
    fire, and the observables are evaluated from their formulas at the measurement times. No
    preequilibration, no observable parameters (the exported problems have none)."""
    import libsbml
    import roadrunner
    import sympy as sp

    petab_v1 = _petab()
    from petab.v1.math import sympify_petab

    if not isinstance(problem, petab_v1.Problem):
        problem = petab_v1.Problem.from_yaml(str(problem))
    mdf, cdf, odf, pdf = problem.measurement_df, problem.condition_df, problem.observable_df, problem.parameter_df
    if "preequilibrationConditionId" in mdf and mdf["preequilibrationConditionId"].notna().any():
        raise MscsimError("preequilibration is not supported by this simulator", field="petab")
    if "observableParameters" in mdf and mdf["observableParameters"].notna().any():
        raise MscsimError("observable parameters are not supported by this simulator", field="petab")
    values = {pid: float(v) for pid, v in pdf["nominalValue"].items()}
    values.update({k: float(v) for k, v in (parameters or {}).items()})
    rr = _roadrunner(libsbml.writeSBMLToString(problem.model.sbml_document))
    settable = set(rr.model.getGlobalParameterIds()) | set(rr.model.getFloatingSpeciesIds()) \
        | set(rr.model.getBoundarySpeciesIds()) | set(rr.model.getCompartmentIds())
    formulas = {oid: sympify_petab(f) for oid, f in odf["observableFormula"].items()}
    sbml_model = problem.model.sbml_model
    assignments = [(ia.getSymbol(), sympify_petab(libsbml.formulaToL3String(ia.getMath())))
                   for ia in sbml_model.getListOfInitialAssignments()]
    sim = mdf.copy()
    sim["simulation"] = np.nan
    for cid, rows in mdf.groupby("simulationConditionId"):
        setting = dict(values)
        for col, v in cdf.loc[cid].items():
            if col == "conditionName" or pd.isna(v):
                continue
            setting[col] = values[v] if isinstance(v, str) else float(v)
        # back to the file's values, then this condition's values; the initial assignments are
        # then evaluated with them (RoadRunner's own re-evaluation, setValue("init(x)"), recompiles
        # the model: seconds per parameter)
        rr.resetToOrigin()
        for pid, v in setting.items():
            if pid in settable:
                rr.setValue(pid, float(v))
        for _ in range(len(assignments) + 1):
            changed = False
            for target, expr in assignments:
                v = float(expr.subs({sym: rr.getValue(str(sym)) for sym in expr.free_symbols}))
                if v != rr.getValue(target):
                    rr.setValue(target, v)
                    changed = True
            if not changed:
                break
        rr.reset()      # time 0: states to their initial values, events at time 0 fire with these values
        rr.integrator.relative_tolerance = rtol
        rr.integrator.absolute_tolerance = atol
        rr.integrator.maximum_num_steps = 500000
        symbols = sorted({str(s) for oid in rows["observableId"].unique() for s in formulas[oid].free_symbols})
        times = sorted({0.0} | set(rows["time"].astype(float)))
        rr.timeCourseSelections = ["time"] + symbols
        res = np.asarray(rr.simulate(times=times))
        for idx, r in rows.iterrows():
            k = times.index(float(r["time"]))
            env = {s: float(res[k, 1 + j]) for j, s in enumerate(symbols)}
            sim.loc[idx, "simulation"] = float(formulas[r["observableId"]].subs(
                {sp.Symbol(s, real=True): v for s, v in env.items()} | {sp.Symbol(s): v for s, v in env.items()}))
    return sim.drop(columns=["measurement"])


def petab_objective(problem, parameters: dict[str, float] | None = None) -> dict[str, float]:
    """chi2 and log-likelihood of a PEtab problem from :func:`simulate_petab` and petab's own
    ``calculate_chi2`` / ``calculate_llh``."""
    petab_v1 = _petab()
    if not isinstance(problem, petab_v1.Problem):
        problem = petab_v1.Problem.from_yaml(str(problem))
    sim = simulate_petab(problem, parameters)
    args = (problem.measurement_df, sim, problem.observable_df, problem.parameter_df)
    return {"chi2": float(petab_v1.calculate_chi2(*args)), "llh": float(petab_v1.calculate_llh(*args))}


__all__ = ["build_problem", "PetabProblem", "typical_values", "typical_objective", "simulate_petab",
           "petab_objective", "CHANGE_ENDPOINTS"]
