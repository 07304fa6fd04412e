"""The scenario file (design.md contract): a virtual trial as YAML, validated by a schema.

Read with a safe YAML loader; unknown keys, wrong types, unknown diseases, routes, sites,
endpoints or arms are errors naming the field. Beyond the contract, two optional keys serve the
shipped published-trial scenarios: ``description``/``source`` (text) and ``validation`` (which
evidence record each simulated arm/endpoint/time is compared with in ``mscsim validate``).
Issue 15 added two optional keys: per arm ``background`` (standard of care from the disease
module's ``BACKGROUND``; default: the subtype's ``DEFAULT_BACKGROUND``) and scenario-level
``design: {blinding: open | single | double}`` (default double; open-label expectation).
Issue 20 added ``population.table1`` / per arm ``table1`` (the trial's published baseline table,
matched by population.match_table1), ``population.match``, ``population.iiv`` (between-patient
variability on any parameter or the dose) and the covariates ``female`` and ``disease_duration_y``
(docs/population.md).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from mscsim.dosing import Dose, Regimen
from mscsim.errors import MscsimError, unknown
from mscsim.model import DISEASES, disease_module
from mscsim.units import parse_time

DEFAULT_SEED = 20240101
#: model inputs set from the product (simulate.parameter_vector) that IIV may vary per patient
PRODUCT_KNOBS = ("potency", "d_cell", "cxcr4", "tf_ibmir")
_STRICT = ConfigDict(extra="forbid", frozen=True)


class DoseSpec(BaseModel):
    """One regimen line: ``{dose: "1e6 cells/kg", route: iv, at: 0 d, every: 12 wk, times: 3}``."""

    model_config = _STRICT
    dose: str
    route: str = "iv"
    #: a product name, or ``{name: uc-msc, cryopreserved: true, ...}`` (docs/products.md)
    product: str | dict[str, Any] = "msc"
    artery: str | None = None
    site: str | None = None
    at: str = "0 d"
    every: str | None = None
    times: int = Field(1, ge=1, le=1000)
    infusion: str | None = None
    #: co-medication given with the cells that acts on them (``CO_MEDICATION``), e.g. ``with: [ifn_gamma]``
    with_: list[str] = Field(default_factory=list, alias="with")

    @model_validator(mode="after")
    def _parses(self):
        for c in self.with_:
            if c not in CO_MEDICATION:
                from mscsim.errors import unknown

                raise unknown("co-medication", c, sorted(CO_MEDICATION), field="regimen.with")
        self.to_dose()  # raises MscsimError with the field name
        return self

    def product_with_co_medication(self) -> str | dict[str, Any]:
        """The product line with what the co-medication does to the cells (inline attributes)."""
        if not self.with_:
            return self.product
        spec = {"name": self.product} if isinstance(self.product, str) else dict(self.product)
        for c in self.with_:
            spec.update(CO_MEDICATION[c][0])
        return spec

    def to_dose(self) -> Dose:
        return Dose.parse(self.dose, self.route, at=self.at, artery=self.artery, site=self.site,
                          infusion=self.infusion, every=self.every, times=self.times,
                          product=self.product_with_co_medication())


#: co-medication given with the cells that acts on them: name -> (product attributes it sets, source).
#: Systemic IFN-gamma at the infusion licenses the MSCs on arrival, as priming does before infusion
#: (IFN-gamma is the licensing signal: Krampera 2006 Stem Cells 24:386, PMID 16282444; IFN-gamma-
#: activated MSCs prevent GvHD better: Polchert 2008 Eur J Immunol 38:1745, PMID 18446788) [design:
#: licensed at arrival, the same state as a primed product].
CO_MEDICATION: dict[str, tuple[dict[str, Any], str]] = {
    "ifn_gamma": ({"licensed": True}, "Krampera 2006 PMID 16282444; Polchert 2008 PMID 18446788 [design]"),
}


class BackgroundSpec(BaseModel):
    """One standard-of-care therapy with a dose: ``{name: prednisone, dose: "10 mg/d"}``."""

    model_config = _STRICT
    name: str = Field(min_length=1)
    dose: str | None = None

    @field_validator("dose", mode="before")
    @classmethod
    def _dose_is_text(cls, v):
        if v is not None and not isinstance(v, str):
            raise ValueError(f"a background dose is text with its unit, like '10 mg/d', got {v!r}")
        return v


class ArmSpec(BaseModel):
    model_config = _STRICT
    name: str = Field(min_length=1, max_length=80)
    n: StrictInt = Field(ge=1, le=1_000_000)
    regimen: list[DoseSpec] = Field(default_factory=list)
    #: standard of care of this arm (the disease module's BACKGROUND names); None: the subtype's default
    background: list[BackgroundSpec | str] | None = None
    #: this arm's own Table 1 rows (override the population's rows of the same name)
    table1: dict[str, Table1Row] = Field(default_factory=dict)

    def background_entries(self):
        """The background as names / {name, dose} mappings (None: the subtype's default)."""
        if self.background is None:
            return None
        return [b if isinstance(b, str) else b.model_dump() for b in self.background]

    def to_regimen(self) -> Regimen:
        return Regimen(tuple(d.to_dose() for d in self.regimen))


class DesignSpec(BaseModel):
    """Trial design: ``blinding`` open (patients know they get the active treatment: expectation
    on patient-reported outcomes), single (patients blinded, assessors not; treated as double for
    patient-reported outcomes) or double (default)."""

    model_config = _STRICT
    blinding: Literal["open", "single", "double"] = "double"


class EndpointSpec(BaseModel):
    model_config = _STRICT
    name: str
    at: str

    @property
    def at_days(self) -> float:
        return parse_time(self.at, field=f"endpoints.{self.name}.at")


class CovariateSpec(BaseModel):
    """A covariate distribution: normal (mean, sd), optionally truncated to [min, max]; or uniform
    [min, max]; or, for a 0/1 covariate (``female``), a ``proportion``."""

    model_config = _STRICT
    mean: float | None = None
    sd: float | None = Field(None, ge=0)
    min: float | None = None
    max: float | None = None
    proportion: float | None = Field(None, ge=0, le=1)

    @model_validator(mode="after")
    def _complete(self):
        vals = [v for v in (self.mean, self.sd, self.min, self.max) if v is not None]
        if any(not math.isfinite(v) for v in vals):
            raise ValueError("covariate values must be finite numbers")
        if self.proportion is not None:
            if vals:
                raise ValueError("give a proportion (0/1 covariate) or mean/sd/min/max, not both")
            return self
        if self.mean is None and (self.min is None or self.max is None):
            raise ValueError("give mean (and sd), or min and max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")
        return self


#: covariates a scenario may set; ``female`` is 0/1, ``disease_duration_y`` in years since diagnosis
COVARIATES = ("weight_kg", "age", "female", "disease_duration_y")
#: 0/1 covariates (given as a proportion)
BINARY_COVARIATES = ("female",)
_CRIT = re.compile(r"^\s*(>=|<=|>|<|==)\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*$")


def parse_criterion(field: str, spec) -> tuple[float, float, bool, bool]:
    """``">5.1"``, ``"<=3"``, ``[3.0, 6.5]`` (inclusive) -> (lo, hi, lo_inclusive, hi_inclusive)."""
    if isinstance(spec, (list, tuple)) and len(spec) == 2 and all(isinstance(v, (int, float)) for v in spec):
        lo, hi = float(spec[0]), float(spec[1])
        if lo > hi:
            raise MscsimError(f"range [{lo}, {hi}] is empty", field=field)
        return lo, hi, True, True
    if isinstance(spec, str):
        m = _CRIT.match(spec)
        if m:
            op, v = m.group(1), float(m.group(2))
            return {">": (v, math.inf, False, True), ">=": (v, math.inf, True, True),
                    "<": (-math.inf, v, True, False), "<=": (-math.inf, v, True, True),
                    "==": (v, v, True, True)}[op]
    raise MscsimError(f"expected a criterion such as '>5.1', '<=3' or [3.0, 6.5], got {spec!r}", field=field)


class Table1Row(BaseModel):
    """One row of a trial's published baseline table (Table 1), in the row's own unit (``scale``
    converts it into the covariate's or endpoint's unit, e.g. mg -> g: 0.001).

    Give ``mean`` (and ``sd``); or ``median`` with ``q1``/``q3`` or ``min``/``max`` (converted to
    mean and SD by Wan et al. 2014, BMC Med Res Methodol 14:135, DOI 10.1186/1471-2288-14-135,
    with ``n`` or the arm size); or a ``proportion`` (0/1 covariates and 0/1 endpoints)."""

    model_config = _STRICT
    mean: float | None = None
    sd: float | None = Field(None, gt=0)
    median: float | None = None
    q1: float | None = None
    q3: float | None = None
    min: float | None = None
    max: float | None = None
    proportion: float | None = Field(None, ge=0, le=1)
    n: StrictInt | None = Field(None, ge=2)
    scale: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _one_form(self):
        vals = [v for v in (self.mean, self.sd, self.median, self.q1, self.q3, self.min, self.max) if v is not None]
        if any(not math.isfinite(v) for v in vals) or not math.isfinite(self.scale):
            raise ValueError("Table 1 values must be finite numbers")
        forms = [self.proportion is not None, self.mean is not None, self.median is not None]
        if sum(forms) != 1:
            raise ValueError("give one of: mean (and sd); median with q1/q3 or min/max; proportion")
        if self.proportion is not None and vals:
            raise ValueError("a proportion row takes no mean, sd, median or range")
        if self.mean is not None and any(v is not None for v in (self.median, self.q1, self.q3, self.min, self.max)):
            raise ValueError("a mean row takes an sd, not a median, quartiles or range")
        if self.median is not None:
            iqr = self.q1 is not None and self.q3 is not None
            rng = self.min is not None and self.max is not None
            if iqr == rng or self.sd is not None:
                raise ValueError("a median row takes q1 and q3, or min and max (one pair)")
            lo, hi = (self.q1, self.q3) if iqr else (self.min, self.max)
            if not lo <= self.median <= hi or lo == hi:
                raise ValueError(f"median {self.median} must lie inside [{lo}, {hi}] (a range of positive width)")
        return self

    def target(self, n_arm: int) -> tuple[float, float | None, bool]:
        """(mean, sd or None, binary) in the model's unit; medians converted by Wan et al. 2014."""
        from scipy.stats import norm

        s = self.scale
        if self.proportion is not None:
            return self.proportion, None, True
        if self.mean is not None:
            return self.mean * s, None if self.sd is None else self.sd * s, False
        n = max(self.n or n_arm, 2)
        if self.q1 is not None:  # Wan 2014 scenario S3 (eq. 14 and 16)
            mean = (self.q1 + self.median + self.q3) / 3.0
            sd = (self.q3 - self.q1) / (2.0 * norm.ppf((0.75 * n - 0.125) / (n + 0.25)))
        else:  # Wan 2014 scenario S1 (Hozo's mean, eq. 9 for the SD)
            mean = (self.min + 2.0 * self.median + self.max) / 4.0
            sd = (self.max - self.min) / (2.0 * norm.ppf((n - 0.375) / (n + 0.25)))
        return mean * s, sd * s, False


class MatchSpec(BaseModel):
    """How the enrolled arm is matched to Table 1 (population.py, ``match_table1``)."""

    model_config = _STRICT
    #: candidates passing screening per enrolled patient, from which the arm is selected
    pool: StrictInt = Field(10, ge=2, le=200)


#: IIV names that are not model parameters: ``dose`` scales each patient's cells (mean 1)
IIV_EXTRA = ("dose",)


class PopulationSpec(BaseModel):
    model_config = _STRICT
    inclusion: dict[str, Any] = Field(default_factory=dict)
    covariates: dict[str, CovariateSpec] = Field(default_factory=dict)
    #: the trial's published baseline table (every arm; an arm's own ``table1`` overrides rows)
    table1: dict[str, Table1Row] = Field(default_factory=dict)
    match: MatchSpec = Field(default_factory=MatchSpec)
    #: between-patient variability (CV of a log-normal) on any model parameter or ``dose``;
    #: replaces the parameter table's ``iiv_cv`` for the names it gives (0: no variability)
    iiv: dict[str, float] = Field(default_factory=dict)

    @field_validator("covariates")
    @classmethod
    def _known_covariates(cls, v):
        for k, spec in v.items():
            if k not in COVARIATES:
                raise unknown("covariate", k, COVARIATES)
            if (k in BINARY_COVARIATES) != (spec.proportion is not None):
                raise ValueError(f"covariate {k!r}: " + ("give a proportion" if k in BINARY_COVARIATES
                                                         else "a proportion is for 0/1 covariates only"))
        return v

    @field_validator("iiv", mode="before")
    @classmethod
    def _cv(cls, v):
        if not isinstance(v, dict):
            raise ValueError(f"iiv is a mapping of parameter name to CV, got {v!r}")
        for k, cv in v.items():
            if isinstance(cv, bool) or not (isinstance(cv, (int, float)) and math.isfinite(cv) and 0 <= cv <= 5):
                raise ValueError(f"IIV of {k!r} must be a CV between 0 and 5, got {cv!r}")
        return v


class PublishedOverride(BaseModel):
    """A number quoted by a secondary source that the evidence record could not verify."""

    model_config = _STRICT
    events: int = Field(ge=0)
    total: int = Field(ge=1)
    note: str = Field(min_length=1)


#: validation comparisons of a safety event's ratio between arms (mscsim.safety)
RATIO_COMPARES = ("risk_ratio", "odds_ratio")


def validation_arms(v) -> list[str]:
    """The arms a validation entry reads: one, or for a ratio the pooled arms of ``a+b``."""
    return [a.strip() for a in v.arm.split("+")] if v.compare in RATIO_COMPARES else [v.arm]


class ValidationSpec(BaseModel):
    """Compare one simulated arm/endpoint/time with an evidence record (``mscsim validate``)."""

    model_config = _STRICT
    arm: str
    endpoint: str
    at: str
    record: str
    #: risk_ratio / odds_ratio: a safety event's ratio vs the ``vs`` arm (arm may pool arms: "a+b")
    compare: Literal["value", "change", "direction", "complement", "risk_ratio", "odds_ratio"] = "value"
    expect: Literal["decrease", "increase"] | None = None   # for compare: direction
    role: Literal["calibration", "validation"] = "validation"
    #: only for records whose number could not be verified (shown flagged as unverified)
    unverified: PublishedOverride | None = None
    #: unit conversion of the published number and spread into the endpoint's unit (e.g. mg -> g: 0.001)
    scale: float = Field(1.0, gt=0)
    #: arm size to use when the record gives none (e.g. an mITT total split by arm); shown as assumed
    n: StrictInt | None = Field(None, ge=1)
    #: a direction claimed against a control arm ("vs control"): the arm it is tested against
    vs: str | None = None

    @model_validator(mode="after")
    def _direction(self):
        if (self.compare == "direction") != (self.expect is not None):
            raise ValueError("'expect: decrease|increase' goes with 'compare: direction' (and only with it)")
        ratio = self.compare in RATIO_COMPARES
        if ratio and self.vs is None:
            raise ValueError(f"'compare: {self.compare}' needs 'vs: <control arm>'")
        if self.vs is not None and self.compare != "direction" and not ratio:
            raise ValueError("'vs: <control arm>' goes with 'compare: direction' (numeric arm pairs are "
                             "compared as treatment effects automatically)")
        if self.vs is not None and self.vs == self.arm:
            raise ValueError(f"'vs' names the arm itself ({self.arm!r})")
        return self


class Scenario(BaseModel):
    """A virtual clinical trial (design.md, "Scenario file")."""

    model_config = _STRICT
    name: str = Field(min_length=1, max_length=200)
    disease: str
    subtype: str | None = None
    seed: StrictInt = Field(DEFAULT_SEED, ge=0, le=2**63 - 1)  # an integer, not "0.0"
    population: PopulationSpec = Field(default_factory=PopulationSpec)
    design: DesignSpec = Field(default_factory=DesignSpec)
    arms: list[ArmSpec] = Field(min_length=1, max_length=20)
    endpoints: list[EndpointSpec] = Field(min_length=1, max_length=200)
    description: str = ""
    source: str = ""
    validation: list[ValidationSpec] = Field(default_factory=list)

    @field_validator("disease")
    @classmethod
    def _disease(cls, v):
        if v not in DISEASES:
            raise unknown("disease", v, DISEASES)
        return v

    @model_validator(mode="after")
    def _consistent(self):
        mod = disease_module(self.disease)
        if self.subtype is not None and self.subtype not in mod.SUBTYPES:
            raise unknown(f"{self.disease} subtype", self.subtype, mod.SUBTYPES, field="subtype")
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise MscsimError(f"arm names must be unique, got {names}", field="arms")
        allowed = endpoint_names(self.disease, self.subtype)
        for e in self.endpoints:
            if e.name not in allowed and not _label_ok(e.name):
                raise unknown(f"endpoint for {self.disease}", e.name, allowed, field="endpoints")
            if not 0 <= e.at_days <= 36500:
                raise MscsimError(f"endpoint time {e.at!r} must be within 0-100 years", field="endpoints")
        from mscsim.diseases.base import SAFETY_ENDPOINTS

        # safety events happen after dosing: they are no screening measurement
        screenable = [n for n in allowed if n not in SAFETY_ENDPOINTS]
        for k, crit in self.population.inclusion.items():
            if k in SAFETY_ENDPOINTS:
                raise MscsimError(f"{k!r} is a safety read-out after dosing, not a screening measurement",
                                  field=f"population.inclusion.{k}")
            if k not in allowed and k not in COVARIATES:
                raise unknown("inclusion criterion", k, sorted(set(allowed) | set(COVARIATES)),
                              field="population.inclusion")
            parse_criterion(f"population.inclusion.{k}", crit)
        for where, rows in [("population.table1", self.population.table1)] + \
                [(f"arms.{a.name}.table1", a.table1) for a in self.arms]:
            for k in rows:
                if k not in screenable and k not in COVARIATES:
                    raise unknown("Table 1 row", k, sorted(set(screenable) | set(COVARIATES)), field=f"{where}.{k}")
                if k in BINARY_COVARIATES and rows[k].proportion is None:
                    raise MscsimError(f"Table 1 row {k!r} is a 0/1 covariate: give a proportion", field=f"{where}.{k}")
                if k in COVARIATES and k not in BINARY_COVARIATES and rows[k].proportion is not None:
                    raise MscsimError(f"Table 1 row {k!r} is continuous: give mean/sd or median", field=f"{where}.{k}")
        from mscsim import parameters as _parameters

        reg = _parameters.registry()
        for k in self.population.iiv:
            if k not in IIV_EXTRA and k not in reg and k not in PRODUCT_KNOBS:
                raise unknown("IIV parameter", k, sorted(IIV_EXTRA + PRODUCT_KNOBS) + ["<any parameter in the table>"],
                              field=f"population.iiv.{k}")
        for v in self.validation:
            for a in validation_arms(v):
                if a not in names:
                    raise unknown("arm", a, names, field="validation.arm")
            if len(set(validation_arms(v))) != len(validation_arms(v)):
                raise MscsimError(f"pooled arms repeat an arm: {v.arm!r}", field="validation.arm")
            if v.compare in RATIO_COMPARES and v.role == "calibration":
                raise MscsimError(f"a {v.compare} row cannot be a calibration target", field="validation.role")
            if v.compare in RATIO_COMPARES:
                from mscsim.safety import EVENTS

                if v.endpoint not in EVENTS:
                    raise unknown(f"safety event for compare: {v.compare}", v.endpoint, EVENTS,
                                  field="validation.endpoint")
                if v.vs in validation_arms(v):
                    raise MscsimError(f"'vs' names a pooled arm ({v.vs!r})", field="validation.vs")
                last = max((e.at_days for e in self.endpoints), default=0.0)
                if abs(parse_time(v.at, field="validation.at") - last) > 1e-9:
                    raise MscsimError(f"a {v.compare} row counts events over the whole follow-up: its 'at' must be "
                                      f"the last endpoint time ({last:g} d)", field="validation.at")
            if v.vs is not None and v.vs not in names:
                raise unknown("arm", v.vs, names, field="validation.vs")
            if v.endpoint not in allowed:
                raise unknown("endpoint", v.endpoint, allowed, field="validation.endpoint")
            parse_time(v.at, field="validation.at")
        from mscsim.diseases.base import background_settings

        for a in self.arms:
            reg = a.to_regimen()
            try:
                reg.product  # products that can share one simulation  # noqa: B018
            except MscsimError as exc:
                raise MscsimError(str(exc).removeprefix("product: "), field=f"arms.{a.name}.regimen") from None
            reg.local_site  # noqa: B018
            background_settings(mod, a.background_entries(), self.subtype, field=f"arms.{a.name}.background")
        return self

    def table1_for(self, arm_name: str) -> dict[str, Table1Row]:
        """The Table 1 rows an arm is matched to (population rows, the arm's own rows on top)."""
        arm = next(a for a in self.arms if a.name == arm_name)
        return {**self.population.table1, **arm.table1}

    @property
    def end_day(self) -> float:
        return max(e.at_days for e in self.endpoints)


def _label_ok(name: str) -> bool:
    from mscsim.diseases.base import label_endpoint

    return label_endpoint(name) is not None


def endpoint_names(disease: str, subtype: str | None = None) -> list[str]:
    """Endpoints a scenario of ``disease`` (and ``subtype``) may ask for."""
    from mscsim.diseases.base import COMMON_ENDPOINTS

    mod = disease_module(disease)
    own = set(mod.ENDPOINTS)
    by_subtype = getattr(mod, "SUBTYPE_ENDPOINTS", None)
    if by_subtype:
        own = set(by_subtype[subtype or mod.DEFAULT_SUBTYPE])
    return sorted(set(COMMON_ENDPOINTS) | own)


#: libyaml's parser where PyYAML has it (the same YAML 1.1 safe subset, ~10x faster: the report
#: reads every shipped scenario to find a trial's; issue 19), else PyYAML's own
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_scenario(source: str | Path | dict) -> Scenario:
    """Read and validate a scenario (path to YAML, or an already-loaded mapping)."""
    if isinstance(source, dict):
        return Scenario.model_validate(source)
    return Scenario.model_validate(read_scenario_file(source))


def read_scenario_file(source: str | Path) -> dict:
    """The mapping in a scenario YAML file, not yet validated (one-line errors for a missing file,
    bad YAML or a file that is not a mapping)."""
    path = Path(source)
    if not path.is_file():
        raise MscsimError(f"no scenario file at {path}", field="scenario")
    try:
        data = yaml.load(path.read_text(), Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise MscsimError(f"{path.name} is not valid YAML{where}", field="scenario") from None
    except UnicodeDecodeError:
        raise MscsimError(f"{path.name} is not a text file", field="scenario") from None
    if not isinstance(data, dict):
        raise MscsimError(f"{path.name} must be a YAML mapping with name, disease, arms, endpoints",
                          field="scenario")
    return data


def shipped_scenarios(disease: str | None = None) -> dict[str, Path]:
    """Published-trial scenarios shipped in the package: id -> path (optionally one disease)."""
    from importlib import resources

    folder = resources.files("mscsim.data").joinpath("scenarios")
    out = {}
    for f in sorted(folder.iterdir(), key=lambda f: f.name):
        if f.name.endswith(".yaml"):
            sid = f.name[:-5]
            if disease is None or sid.split("_", 1)[0].lower() == disease or _disease_of(f) == disease:
                out[sid] = Path(str(f))
    return out


def _disease_of(f) -> str | None:
    try:
        return (yaml.load(f.read_text(), Loader=_YAML_LOADER) or {}).get("disease")  # noqa: S506 - safe
    except yaml.YAMLError:
        return None


def resolve_scenario(arg: str) -> Scenario:
    """A path to a scenario YAML, or the id of a shipped scenario (e.g. ``CD_Panes2016_ADMIRE``)."""
    path = Path(arg)
    if path.exists():
        return load_scenario(path)
    shipped = shipped_scenarios()
    if arg in shipped:
        return load_scenario(shipped[arg])
    raise MscsimError(f"no scenario file {arg!r} and no shipped scenario of that id; shipped: "
                      f"{', '.join(shipped) or 'none'}", field="scenario")


ArmSpec.model_rebuild()
