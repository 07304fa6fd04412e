"""What every disease module provides, and the helpers they share.

A disease module (``mscsim.diseases.<name>``) defines:

- ``NAME``, ``TARGET`` (target tissue, see data/physiology.yaml), ``SUBTYPES``, ``DEFAULT_SUBTYPE``;
- ``ENDPOINTS``: its endpoint names (design.md contract) with kind and unit;
- ``compose(m, body, layers, *, species, subtype) -> KineticsHandles``: declares the disease
  states, derives the SDF-1 signal from tissue damage (homing), takes the kinetics and the immune
  network from ``layers`` (handed in by ``model.build_model``, the one place that wires the layers)
  with the disease's autoimmune drive, then the disease equations and the clinical read-outs
  (exact score formulas from ``mscsim.scores``); returns the kinetics handles;
- ``observe(out, rng=None) -> dict``: clinical measurements at each time (name -> array) from
  the model read-outs ``out`` (a `Readouts`: ``out["crp"]`` is an array with ``to_numpy()``),
  with visit-to-visit measurement noise when ``rng`` is given, and the scores;
- ``responders(obs, baseline) -> dict``: endpoints that compare with baseline (ACR20, EULAR
  response, CDAI response, ...), as 0/1; ``baseline`` maps each observation to its first value.
Optional:

- ``BACKGROUND``: the standard-of-care therapies a scenario arm may list (``background: [...]``),
  name -> `Background` (the model input parameters it sets, its default dose, its source), and
  ``DEFAULT_BACKGROUND``: subtype -> the therapies an arm gets when it lists none (documented in
  docs/disease-modules.md). A therapy acts through the module's own equations (e.g. RA's
  methotrexate cuts the synovial drive); a *stable* background that the trial population was
  already on when its baseline was set is part of the calibrated drive and sets nothing.
- placebo (`add_placebo`) and open-label expectation (`add_expectation`) on patient-reported
  components; regression to the mean needs no code here: screening measures with ``observe``'s
  visit noise (trial.py).

``endpoint_frame`` turns both into one DataFrame. Modules work on arrays, not pandas objects,
because a trial observes each patient separately and pandas' per-operation cost dominated.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from mscsim.numerics import OdeModel
from mscsim.kinetics.common import P

ORGAN_PCT = ("lung", "liver", "spleen")


@dataclass(frozen=True)
class Endpoint:
    """One endpoint: ``stat`` is 'mean' (continuous) or 'proportion' (0/1 per patient)."""

    name: str
    stat: str
    unit: str
    desc: str


COMMON_ENDPOINTS: dict[str, Endpoint] = {e.name: e for e in [
    Endpoint("msc_blood", "mean", "cells/mL", "free viable MSCs in blood"),
    Endpoint("msc_lung_pct", "mean", "% of dose", "viable MSCs in the lungs"),
    Endpoint("msc_liver_pct", "mean", "% of dose", "viable MSCs in the liver"),
    Endpoint("msc_spleen_pct", "mean", "% of dose", "viable MSCs in the spleen"),
    Endpoint("msc_target_pct", "mean", "% of dose", "viable MSCs in the target tissue"),
    Endpoint("tnf", "mean", "pg/mL", "serum TNF-alpha"),
    Endpoint("ifng", "mean", "pg/mL", "serum IFN-gamma"),
    Endpoint("il17", "mean", "pg/mL", "serum IL-17A"),
    Endpoint("il6", "mean", "pg/mL", "serum IL-6"),
    Endpoint("il10", "mean", "pg/mL", "serum IL-10"),
    Endpoint("il4", "mean", "pg/mL", "serum IL-4"),
    Endpoint("tgfb", "mean", "pg/mL", "plasma TGF-beta1"),
    Endpoint("th17_pct", "mean", "% of CD4", "blood Th17 cells"),
    Endpoint("treg_pct", "mean", "% of CD4", "blood regulatory T cells"),
    Endpoint("th17_treg_ratio", "mean", "1", "blood Th17/Treg ratio"),
    Endpoint("lung_occlusion", "mean", "1", "lung-occlusion signal (1 = lung load that killed mice)"),
    Endpoint("survival", "proportion", "0/1", "alive at the time point"),
    # safety read-outs (mscsim.safety, docs/safety.md): events by the time point, per patient
    Endpoint("fever", "proportion", "0/1", "fever reported as an adverse event (MSC per-infusion risk + background)"),
    Endpoint("infusion_reaction", "proportion", "0/1",
             "non-fever acute infusion reaction (MSC per-infusion risk + background)"),
    Endpoint("thrombosis", "proportion", "0/1",
             "thrombotic/embolic event (dose per kg x product tissue factor, intravascular doses; + background)"),
    Endpoint("lung_embolism", "proportion", "0/1", "pulmonary embolic event from the peak lung-occlusion signal"),
    Endpoint("d_dimer", "mean", "ng/mL", "serum D-dimer (rises ~24 h after an intravascular dose)"),
    Endpoint("dsa", "proportion", "0/1", "donor-specific antibodies (sensitised recipient of allogeneic cells)"),
    Endpoint("infection", "proportion", "0/1", "infection adverse event (null model: background, no MSC term)"),
    Endpoint("death", "proportion", "0/1", "death from any cause (null model: background, no MSC term)"),
    Endpoint("malignancy", "proportion", "0/1", "new malignancy (null model: background, no MSC term)"),
]}
#: endpoints the trial runner adds from mscsim.safety (not model read-outs)
SAFETY_ENDPOINTS = ("fever", "infusion_reaction", "thrombosis", "lung_embolism", "d_dimer", "dsa", "infection",
                    "death", "malignancy")


def label_endpoint(name: str) -> Endpoint | None:
    """``label_<organ>_pct`` endpoints (viable + debris, for imaging)."""
    from mscsim.physiology import ORGANS

    if name.startswith("label_") and name.endswith("_pct"):
        organ = name[len("label_"):-len("_pct")]
        if organ in ORGANS or organ in ("target", "blood"):
            return Endpoint(name, "mean", "% of dose", f"MSC label in {organ}")
    return None


def add_placebo(m: OdeModel, disease: str, species: str = "human"):
    """Placebo/participation response state ``placebo`` (0..1) that rises once a patient is in a
    trial (``trial_on`` = 1, both arms) towards ``placebo_max_<disease>``; subjective read-outs use it."""
    trial_on = m.param("trial_on", 0.0, unit="1", desc="1 while the patient is in a trial (placebo/participation)",
                       source="set by the trial runner", kind="input")
    k = P(m, f"k_placebo_{disease}", species)
    pmax = P(m, f"placebo_max_{disease}", species)
    plc = m.state("placebo", unit="fraction", group="disease", init=0.0, atol=1e-9,
                  desc="placebo/participation response (0..1)")
    m.rate(plc, k * (trial_on * pmax - plc), desc="placebo response builds up during a trial",
           source="indirect-response placebo model (Ma 2020 Clin Pharmacokinet 59:1451, PMID 32451909) [design]")
    return plc


def add_expectation(m: OdeModel, disease: str, species: str = "human"):
    """Open-label expectation: input ``expectation_on`` (1 for patients who know they receive an
    active treatment in an open-label design, set by the trial from ``design.blinding``) times
    the effect size of non-blinded patients on patient-reported outcomes (``es_open_label``,
    Hrobjartsson 2014), reached with the placebo build-up rate from day 0 (state
    ``expectation``, 0 at screening and baseline). Returns the shift in between-patient SD units;
    the module applies it to its patient-reported components only."""
    on = m.param("expectation_on", 0.0, unit="1", kind="input",
                 desc="1 for a patient who knows he receives an active treatment (open-label design)",
                 source="set by the trial runner from the scenario's design.blinding")
    e = m.state("expectation", unit="between-patient SD", group="disease", init=0.0, atol=1e-9,
                desc="open-label expectation on patient-reported outcomes (0 before day 0)")
    m.rate(e, P(m, f"k_placebo_{disease}", species) * (on * P(m, "es_open_label", species) - e),
           desc="expectation builds up once the patient knows he is treated (same pace as the placebo response)",
           source="size: Hrobjartsson 2014 Int J Epidemiol 43:1272 (PMC4258786); pace [design]")
    return e


@dataclass(frozen=True)
class Background:
    """A standard-of-care therapy of a disease module (scenario arm key ``background``).

    ``settings``: model input parameters it sets; ``dose_param``/``dose_unit``: the input set from
    a scenario dose such as ``{name: prednisone, dose: "10 mg/d"}`` (``default_dose`` otherwise).
    ``started``: the therapy begins at day 0 of the trial (patients know they get something new:
    open-label expectation); None = it is started when it sets anything. ``required``: every arm
    of the disease gets it (the model has no patient without it, e.g. insulin in T1D), so a
    ``background`` list that leaves it out is refused."""

    name: str
    desc: str
    settings: dict
    source: str
    dose_param: str | None = None
    dose_unit: str | None = None
    default_dose: float | None = None
    started: bool | None = None
    required: bool = False

    @property
    def starts_in_trial(self) -> bool:
        return bool(self.settings) if self.started is None else self.started


def parse_background_dose(text: str, unit: str, field: str) -> float:
    """'10 mg/d' -> 10.0 when ``unit`` is 'mg/d' (the therapy's own unit; no conversion)."""
    from mscsim.errors import MscsimError

    parts = str(text).strip().split(None, 1)
    try:
        value = float(parts[0])
    except (ValueError, IndexError):
        raise MscsimError(f"expected a dose like '10 {unit}', got {text!r}", field=field) from None
    got = parts[1].replace(" ", "") if len(parts) > 1 else ""
    if got != unit.replace(" ", "") or not np.isfinite(value) or value < 0:
        raise MscsimError(f"expected a dose like '10 {unit}', got {text!r}", field=field)
    return value


def background_settings(module, entries, subtype: str | None, field: str = "background") -> dict[str, float]:
    """Model input values for an arm's background therapies (``entries``: names or
    ``{name, dose}``; None = the subtype's default)."""
    from mscsim.errors import MscsimError, unknown

    table = getattr(module, "BACKGROUND", {})
    entries = _background_entries(module, entries, subtype)
    out: dict[str, float] = {}
    names = [e if isinstance(e, str) else e["name"] for e in entries]
    for name in names:
        if name not in table:
            raise unknown(f"{module.NAME} background therapy", name, sorted(table), field=field)
    missing = [n for n, bg in table.items() if bg.required and n not in names]
    if missing:
        raise MscsimError(f"every {module.NAME} arm gets background {', '.join(missing)} (the model has no "
                          f"patient without it): add it to the list", field=field)
    for e in entries:
        name, dose = (e, None) if isinstance(e, str) else (e["name"], e.get("dose"))
        bg = table[name]
        out.update(bg.settings)
        if dose is not None:
            if bg.dose_param is None:
                raise MscsimError(f"background {name!r} takes no dose", field=field)
            out[bg.dose_param] = parse_background_dose(dose, bg.dose_unit, field)
        elif bg.dose_param is not None and bg.default_dose is not None:
            out[bg.dose_param] = bg.default_dose
    return out


def _background_entries(module, entries, subtype):
    if entries is None:
        defaults = getattr(module, "DEFAULT_BACKGROUND", {})
        return list(defaults.get(subtype or module.DEFAULT_SUBTYPE, ()))
    return list(entries)


def background_started(module, entries, subtype: str | None) -> bool:
    """True when an arm's background includes a therapy started at day 0 of the trial (an active
    treatment the patient knows of, for open-label expectation); stable therapies are not."""
    table = getattr(module, "BACKGROUND", {})
    return any(table[n].starts_in_trial for n in
               (e if isinstance(e, str) else e["name"] for e in _background_entries(module, entries, subtype))
               if n in table)


def gauss(rng, x, sd):
    """x + N(0, sd) (no noise when rng is None)."""
    x = np.asarray(x, dtype=float)
    return x if rng is None else x + rng.normal(0.0, 1.0, size=x.shape) * sd


def lognoise(rng, x, cv):
    """x * exp(N(0, cv) - cv^2/2) (mean-preserving; no noise when rng is None)."""
    x = np.asarray(x, dtype=float)
    return x if rng is None else x * np.exp(rng.normal(0.0, cv, size=x.shape) - cv * cv / 2)


class Column(np.ndarray):
    """A read-out column: a NumPy array that also answers ``to_numpy()`` like a pandas Series,
    so disease modules can be written against pandas and run on plain arrays."""

    def to_numpy(self, dtype=None, copy: bool = False):
        a = np.asarray(self)
        return a.astype(dtype, copy=copy) if dtype is not None else (a.copy() if copy else a)


class Readouts:
    """Read-outs (or observations) by name at each time, backed by NumPy arrays.

    Why not a DataFrame: a virtual trial observes every patient separately, and pandas' per-column
    overhead (~0.1 ms per access or arithmetic) made observation cost 5x the integration
    (benchmarks/RESULTS.md). Modules index it like a DataFrame (``out["crp"]``, ``out.index``,
    ``len(out)``, ``"x" in out``); `endpoint_frame` builds the DataFrame."""

    __slots__ = ("_cols", "_values", "_pos", "_names", "index")

    def __init__(self, cols: dict, index: pd.Index):
        self._cols = {k: np.asarray(v) for k, v in cols.items()}
        self._values, self._pos, self._names = None, None, None
        self.index = index

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> "Readouts":
        return cls({c: df[c].to_numpy() for c in df.columns}, df.index)

    @classmethod
    def from_array(cls, values: np.ndarray, names, index: pd.Index) -> "Readouts":
        """Columns of ``values`` (times x names), sliced only when read (a model has ~200 read-outs;
        a module reads a few)."""
        self = cls.__new__(cls)
        self._cols, self._values, self.index = None, values, index
        self._names = names if isinstance(names, tuple) else tuple(names)
        self._pos = readout_positions(self._names)
        return self

    def table(self, names=None) -> np.ndarray | None:
        """The read-outs as one float array (times x ``names``, default every column in order), or
        None when a column is not float64 (one array copy where a caller would read column by column;
        with every column in order, the stored array itself: read it, do not write to it)."""
        names = self.columns if names is None else list(names)
        if self._values is not None and self._values.dtype == np.float64:
            if names == list(self._names) and self._values.shape[1] == len(names):
                return self._values
            return self._values[:, [self._pos[n] for n in names]]
        arrs = [self._column(n) for n in names]
        if not all(a.dtype == np.float64 and a.shape == (len(self),) for a in arrs):
            return None
        return np.column_stack(arrs) if arrs else np.empty((len(self), 0))

    def _column(self, name: str) -> np.ndarray:
        return self._cols[name] if self._cols is not None else self._values[:, self._pos[name]]

    def layout(self) -> tuple | None:
        """The column names, in order, of the one float64 table (`table`) holding every column, or
        None when the columns are held one by one (read-outs of one model and observation grid share
        one tuple object, so comparing layouts is cheap)."""
        if (self._values is not None and self._values.dtype == np.float64 and self._values.ndim == 2
                and self._values.shape[1] == len(self._names) == len(self._pos)):
            return self._names
        return None

    def __getitem__(self, name: str) -> Column:
        return self._column(name).view(Column)

    def __contains__(self, name) -> bool:
        return name in (self._cols if self._cols is not None else self._pos)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def columns(self) -> list[str]:
        return list(self._cols if self._cols is not None else self._pos)

    def row(self, i: int) -> dict:
        """Name -> value at row ``i``."""
        if self._values is not None and self._values.shape[1] == len(self._names) == len(self._pos):
            return dict(zip(self._names, self._values[i]))
        return {k: self._column(k)[i] for k in self.columns}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({k: self._column(k) for k in self.columns}, index=self.index)

    def __reduce__(self):
        # one 2-D array when every column is float64 (a worker sends thousands of these: one array
        # pickles far faster than ~50 small ones); otherwise the columns as they are (dtypes kept)
        if (self._values is not None and self._values.dtype == np.float64 and self._values.ndim == 2
                and self._values.shape[1] == len(self._names) and len(self._pos) == len(self._names)):
            return (Readouts.from_array, (self._values, self._names, self.index))
        cols = self.columns
        arrs = [self._column(c) for c in cols]
        if arrs and all(a.dtype == np.float64 and a.shape == (len(self),) for a in arrs):
            return (Readouts.from_array, (np.column_stack(arrs), tuple(cols), self.index))
        return (Readouts, ({c: a for c, a in zip(cols, arrs)}, self.index))


@lru_cache(maxsize=64)
def readout_positions(names: tuple) -> dict:
    """Name -> column of a read-out table with these column names (one dict per layout)."""
    return {n: i for i, n in enumerate(names)}


@lru_cache(maxsize=64)
def _common_columns(names: tuple) -> tuple:
    """The read-outs that are common endpoints (cached per model: the check ran per patient)."""
    return tuple(c for c in names if c in COMMON_ENDPOINTS or label_endpoint(c))


def observe_common(out) -> dict:
    """Common endpoints (kinetics, cytokines, T cells) straight from the read-outs."""
    obs = {c: np.array(out._column(c) if isinstance(out, Readouts) else out[c], dtype=float)
           for c in _common_columns(tuple(out.columns))}
    if "survival" not in obs:
        obs["survival"] = np.ones(len(out))
    return obs


def _arrays(cols: dict, n: int) -> dict:
    """Name -> 1-D array of length ``n`` from a module's mapping of columns (scalars broadcast)."""
    return {k: np.broadcast_to(np.asarray(v), (n,)) if np.ndim(v) == 0 else np.asarray(v) for k, v in cols.items()}


def endpoint_readouts(module, out, rng=None) -> Readouts:
    """Every endpoint at every time of ``out`` (first row = baseline): common + disease + responders,
    as a `Readouts` of arrays (no pandas: a trial calls this once per patient and per screened
    candidate, where building a DataFrame cost more than the integration, issue 19)."""
    if isinstance(out, pd.DataFrame):
        out = Readouts.from_frame(out)
    obs = observe_common(out)
    n = len(out)
    dis = _arrays(module.observe(out, rng), n)
    # a disease's own observation (e.g. survival drawn as 0/1) replaces the common read-out
    obs = {k: v for k, v in obs.items() if k not in dis} | dis
    resp = _arrays(module.responders(Readouts(obs, out.index), {k: v[0] for k, v in obs.items()}), n)
    return Readouts(obs | {k: v for k, v in resp.items() if k not in obs}, out.index)


def endpoint_frame(module, out, rng=None) -> pd.DataFrame:
    """Every endpoint at every time of ``out`` (first row = baseline): common + disease + responders.

    ``out`` is a DataFrame of read-outs or a `Readouts`; the result is a DataFrame."""
    return endpoint_readouts(module, out, rng).to_frame()
