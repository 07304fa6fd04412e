"""``simulate()``: one patient, one regimen, the whole body. The Python entry point.

    >>> from mscsim import simulate, Regimen, Dose
    >>> sim = simulate(Regimen((Dose.parse("1e6 cells/kg", "iv"),)), days=30, injury=("liver", 0.6))
    >>> sim.organs().query("organ == 'lung'").head()      # tidy pandas frame

Results come back as pandas objects (``Simulation.outputs``, ``.organs()``, ``.states``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mscsim import parameters
from mscsim.numerics import compile_model
from mscsim.dosing import Administration, Regimen
from mscsim.errors import MscsimError
from mscsim.memo import cached_when_hashable
from mscsim.model import ComposedModel, build_model, derived
from mscsim.physiology import ORGANS, make_body
from mscsim.products import product_inputs
from mscsim.numerics import SolverOptions, integrate
from mscsim.numerics import steady_state

#: output times after each dose start (days), so the first hours are resolved
_EARLY = np.array([0, 1, 2, 5, 10, 15, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720, 960, 1440,
                   2160, 2880, 4320]) / 1440.0


def default_times(days: float, admins: list[Administration], step: float | None = None) -> np.ndarray:
    """Daily grid (or ``step``) plus a fine grid in the first three days after every dose."""
    step = step or (1.0 if days <= 400 else 7.0)
    ts = [np.arange(0.0, days + 1e-9, step), [days]]
    for a in admins:
        ts.append(a.start + _EARLY)
        ts.append([a.end])
    t = np.unique(np.round(np.concatenate(ts), 10))
    return t[(t >= 0) & (t <= days)]


@dataclass
class Simulation:
    """The result of one simulated patient: states and read-outs over time (days)."""

    composed: ComposedModel
    times: np.ndarray
    y: np.ndarray
    out: np.ndarray
    params: dict[str, float]
    regimen: Regimen
    info: dict = field(default_factory=dict)

    @property
    def states(self) -> pd.DataFrame:
        return pd.DataFrame(self.y, index=pd.Index(self.times, name="time_d"),
                            columns=self.composed.ode.state_names)

    @property
    def outputs(self) -> pd.DataFrame:
        """All read-outs (cells per organ, percent of dose, cytokines, scores) by time.

        ``cells_<organ>`` excludes the organ's target part (``cells_target``); ``msc_<organ>_pct``
        and ``label_<organ>_pct`` include it (the whole organ, as an endpoint or an image sees it)."""
        return pd.DataFrame(self.out, index=pd.Index(self.times, name="time_d"),
                            columns=self.composed.ode.outputs)

    def __getitem__(self, name: str) -> pd.Series:
        if name in self.composed.ode.outputs:
            return self.outputs[name]
        if name in self.composed.ode.states:
            return self.states[name]
        raise MscsimError(f"unknown quantity {name!r}")

    def organs(self) -> pd.DataFrame:
        """Tidy table that partitions every cell given: time, organ, part_of, viable cells, label
        (viable + debris) and both as percent of the cells given up to that time.

        Rows are disjoint: an organ's row excludes its target part (``target:<tissue>``, whose
        ``part_of`` names the host organ), so the rows of a column never count a cell twice and
        each row matches ``outputs['cells_<organ>']`` / ``outputs['cells_target']``. ``blood`` is free
        cells (viable) plus circulating phagocytes carrying MSC debris (label); ``csf`` free cells in
        the cerebrospinal fluid; ``cleared`` label degraded and gone (viable 0). The label rows
        therefore sum to 100 % of the cells given so far (``X_dosed``) within solver tolerance.

        Percent of dose = 100 x amount / (cells given up to that time), so with repeated doses the
        denominator steps up at each dose (docs/outputs.md)."""
        o, st = self.outputs, self.states
        dosed = st["X_dosed"].to_numpy()
        ref = np.maximum(dosed, 1.0)
        target, parent = self.composed.target, (self._target_parent() if self.composed.target else None)
        parts = [(c, c, "", f"cells_{c}", f"label_{c}") for c in ORGANS]
        if target:
            parts.append(("target", f"target:{target}", parent or "", "cells_target", "label_target"))
        rows = []

        def add(name, part_of, viable, label):
            viable, label = np.asarray(viable, dtype=float), np.asarray(label, dtype=float)
            rows.append(pd.DataFrame({"time_d": self.times, "organ": name, "part_of": part_of,
                                      "viable_cells": viable, "label_cells": label,
                                      "viable_pct_dose": 100.0 * viable / ref,
                                      "label_pct_dose": 100.0 * label / ref}))

        for _, name, part_of, cells, label in parts:
            add(name, part_of, o[cells].to_numpy(), o[label].to_numpy())
        free = st["N_ven"].to_numpy() + st["N_art"].to_numpy()
        add("blood", "", free, free + (st["M_phag"].to_numpy() if "M_phag" in st else 0.0))
        if "N_csf" in st:
            add("csf", "", st["N_csf"].to_numpy(), st["N_csf"].to_numpy())
        if "X_cleared" in st:
            add("cleared", "", np.zeros(len(self.times)), st["X_cleared"].to_numpy())
        return pd.concat(rows, ignore_index=True)

    def _target_parent(self) -> str | None:
        return make_body(self.composed.species, None, self.composed.target).target_parent

    def to_frame(self) -> pd.DataFrame:
        """Tidy long frame of every read-out: time_d, quantity, value."""
        return self.outputs.reset_index().melt(id_vars="time_d", var_name="quantity", value_name="value")

    def to_xarray(self):
        """States and read-outs as an xarray Dataset indexed by time."""
        import xarray as xr

        ds = xr.Dataset({k: ("time_d", self.out[:, i]) for i, k in enumerate(self.composed.ode.outputs)},
                        coords={"time_d": self.times})
        for i, k in enumerate(self.composed.ode.state_names):
            ds[k] = ("time_d", self.y[:, i])
        for i, k in enumerate(self.composed.ode.outputs):
            ds[k].attrs["units"] = self.composed.ode.rules[k].unit if k in self.composed.ode.rules else ""
        return ds

    def conservation_error(self) -> float:
        """max |dosed - (viable + debris + cleared)| / max(dosed), over time."""
        st = self.states
        kin = [n for n, s in self.composed.ode.states.items() if s.group == "kinetics" and n != "X_dosed"]
        total = st[kin].sum(axis=1).to_numpy()
        dosed = st["X_dosed"].to_numpy()
        return float(np.max(np.abs(dosed - total)) / max(dosed.max(), 1.0))


def parameter_vector(composed: ComposedModel, *, weight_kg: float | None = None,
                     regimen: Regimen = Regimen(), injury: float | None = None,
                     overrides: dict[str, float] | None = None) -> np.ndarray:
    """Values of every model parameter for one patient (table -> physiology -> product -> overrides;
    a later layer wins). Each layer writes its entries into a copy of the model's table vector
    with the calibration applied, kept per model (issue 19: a trial asks once per candidate, and
    building a dict of every parameter each time was most of the cost); names a layer sets that the
    model lacks are ignored, as before."""
    m = composed.ode
    # the table values, read once per model (reading 170 Params per patient cost a fifth of the vector)
    table, names = derived(m, "table_values", lambda: ({n: prm.value for n, prm in m.params.items()},
                                                       tuple(m.params)))
    index = derived(m, "parameter_index", lambda: {n: i for i, n in enumerate(names)})
    cal = parameters.calibrated(composed.disease)
    # one vector per model, made again when the calibration differs (the uncertainty runs and the
    # fits change it per parameter draw: a vector per draw kept would only grow)
    out = derived(m, "calibrated_vector", lambda: np.array([cal.get(n, table[n]) for n in names], dtype=float),
                  inputs=tuple(cal.items())).copy()
    body = make_body(composed.species, weight_kg, composed.target)
    layer = {"BW": body.weight_kg, "Q_CO": body.cardiac_output, "V_ven": body.v_ven, "V_art": body.v_art,
             "V_csf": body.csf_volume, "Q_csf": body.csf_flow}
    layer.update({f"Q_{c}": q for c, q in body.flows.items()})
    if "mass_target" in index:
        layer["mass_target"] = body.masses["target"]
    inputs, site = _regimen_layer(regimen)
    layer.update(inputs)
    if site is not None:
        comp = "target" if site == composed.target else site
        if f"w_site_{comp}" not in index:
            raise MscsimError(
                f"local site {site!r} is neither an organ nor this model's target tissue "
                f"({composed.target or 'none'})", field="site")
        layer[f"w_site_{comp}"] = 1.0
    if injury is not None:
        if "injury" not in index:
            raise MscsimError("injury is set by the disease module when a disease is simulated", field="injury")
        layer["injury"] = float(injury)
    if overrides:
        parameters.check_overrides(overrides, _Allowed(index, layer))
        layer.update({k: float(v) for k, v in overrides.items()})
    for k, v in layer.items():
        i = index.get(k)
        if i is not None:
            out[i] = v
    return out


@cached_when_hashable(maxsize=256)
def _regimen_layer(regimen: Regimen) -> tuple[dict, str | None]:
    """(the product's model inputs, the local injection site) of a regimen: resolved once per
    regimen (a trial asks once per candidate; resolving the product took a quarter of the vector;
    an unhashable dose, never made by the parser, is resolved each time)."""
    return product_inputs(regimen.product_spec), regimen.local_site


class _Allowed:
    """The names an override may set: the model's parameters and the names the layers below set
    (`parameter_vector`), without building their union for every patient."""

    def __init__(self, index: dict, layer: dict):
        self.index, self.layer = index, layer

    def __contains__(self, name) -> bool:
        return name in self.index or name in self.layer

    def __iter__(self):
        return iter({**self.index, **self.layer})


#: the peak lung-occlusion signal (1 = the lung load that killed mice) from which a run warns
LUNG_OCCLUSION_WARN = 0.5


def lung_occlusion_warning(peak: float) -> str:
    """One line on a lung load near or above the load that killed mice."""
    if peak >= 1.0:
        return (f"peak lung-occlusion signal {peak:.2g}: {peak:.2g} times the lung load that killed mice "
                "(pulmonary embolism); this dose would likely be lethal in that species")
    return (f"peak lung-occlusion signal {peak:.2g}: more than half the lung load that killed mice; "
            "consider a slower infusion or a smaller dose")


def check_regimen_safety(regimen: Regimen, weight_kg: float, species: str = "human") -> list[str]:
    """Warnings for doses beyond clinical experience; refuse doses beyond the hard limit."""
    warn = []
    clin = parameters.value("clinical_max_per_kg", species)
    hard = parameters.value("hard_max_per_kg", species)
    for d in regimen:
        per_kg = d.amount.cells_per_kg(weight_kg)
        if per_kg > hard:
            raise MscsimError(
                f"{d.amount.text} is {per_kg:.3g} cells/kg, above the hard limit {hard:.3g} cells/kg "
                "(10x the lung load that killed mice); refusing to simulate", field="dose")
        if d.route in ("iv", "intra_arterial", "intraportal") and per_kg > clin:
            warn.append(f"dose {d.amount.text} ({per_kg:.3g} cells/kg, {d.route}) is above the largest "
                        f"dose per infusion covered by clinical safety data ({clin:.3g} cells/kg); "
                        "lung-occlusion risk is extrapolated")
    return warn


def injury_target(injury: tuple[str, float] | None, disease: str | None) -> tuple[str | None, float | None]:
    """(target tissue, severity 0..1) of an ``injury=(tissue, severity)`` given without a disease."""
    if injury is None:
        return None, None
    if disease is not None:
        raise MscsimError("give either a disease or an --injury, not both", field="injury")
    target, severity = injury
    if not (0.0 <= float(severity) <= 1.0):
        raise MscsimError(f"injury severity must be between 0 and 1, got {severity}", field="injury")
    return target, severity


def simulate(regimen: Regimen | None = None, days: float = 30.0, *, disease: str | None = None,
             subtype: str | None = None, injury: tuple[str, float] | None = None,
             species: str = "human", weight_kg: float | None = None,
             params: dict[str, float] | None = None, times=None,
             options: SolverOptions = SolverOptions()) -> Simulation:
    """Simulate one patient (see module docstring). ``injury=(tissue, severity 0..1)``."""
    regimen = regimen or Regimen()
    if not (isinstance(days, (int, float)) and math.isfinite(days) and days > 0):
        raise MscsimError(f"days must be a positive number, got {days!r}", field="days")
    target, severity = injury_target(injury, disease)
    composed = build_model(disease, target, species, subtype)
    body = make_body(species, weight_kg, composed.target)
    warnings = check_regimen_safety(regimen, body.weight_kg, species)
    p = parameter_vector(composed, weight_kg=body.weight_kg, regimen=regimen, injury=severity,
                         overrides=params)
    compiled = compile_model(composed.ode)
    admins = regimen.administrations(body.weight_kg)
    if times is None:
        t = default_times(days, admins)
    else:
        t = np.asarray(times, dtype=float).ravel()
        if t.size == 0 or not np.all(np.isfinite(t)) or t[0] < 0 or np.any(np.diff(t) <= 0):
            raise MscsimError("times must be finite, non-negative and strictly increasing", field="times")
    late = regimen.horizon_warning(float(t[-1]))
    if late:
        warnings.append(late)
    y0 = steady_state(compiled, p)
    Y = integrate(compiled, p, y0, t, admins, options)
    OUT = np.empty((len(t), len(composed.ode.outputs)))
    compiled.outputs_traj(t, Y, p, OUT)
    if "lung_occlusion" in composed.ode.outputs:
        peak = float(np.max(OUT[:, composed.ode.outputs.index("lung_occlusion")]))
        if peak >= LUNG_OCCLUSION_WARN:
            warnings.append(lung_occlusion_warning(peak))
    info = {"warnings": warnings, "weight_kg": body.weight_kg, "species": species}
    return Simulation(composed, t, Y, OUT, dict(zip(composed.ode.param_names, p)), regimen, info)


def where_cells_went(sim: Simulation, at_days: tuple[float, ...] = (1.0, 7.0)) -> pd.DataFrame:
    """Per organ (disjoint rows, see ``organs``): peak viable cells as % of ALL cells of the regimen
    given by the end and when; % at chosen days; label at the end."""
    org = sim.organs()
    given = max(float(sim.states["X_dosed"].iloc[-1]), 1.0)
    t_end = float(sim.times[-1])
    rows = []
    for organ, g in org.groupby("organ", sort=False):
        if organ == "cleared":
            continue
        t = g["time_d"].to_numpy()
        pct = 100.0 * g["viable_cells"].to_numpy() / given
        k = int(np.argmax(pct))
        row = {"organ": organ, "peak %": float(pct[k]), "at (h)": float(t[k] * 24)}
        for d in at_days:
            if d <= t_end:
                row[f"day {d:g} %"] = float(np.interp(d, t, pct))
        row[f"label % d{t_end:g}"] = float(100.0 * g["label_cells"].iloc[-1] / given)
        rows.append(row)
    return pd.DataFrame(rows).sort_values("peak %", ascending=False, ignore_index=True)
