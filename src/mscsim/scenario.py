"""The scenario file (design.md contract): a virtual trial as YAML, validated by a schema.

Read with a safe YAML loader; unknown keys, wrong types, unknown diseases, routes, sites,
endpoints or arms are errors naming the field. Beyond the contract, two optional keys serve the
shipped published-trial scenarios: ``description``/``source`` (text) and ``validation`` (which
evidence record each simulated arm/endpoint/time is compared with in ``mscsim validate``).
Issue 15 added two optional keys: per arm ``background`` (standard of care from the disease
module's ``BACKGROUND``; default: the subtype's ``DEFAULT_BACKGROUND``) and scenario-level
``design: {blinding: open | single | double}`` (default double; open-label expectation).
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
_STRICT = ConfigDict(extra="forbid", frozen=True)


class DoseSpec(BaseModel):
    """One regimen line: ``{dose: "1e6 cells/kg", route: iv, at: 0 d, every: 12 wk, times: 3}``."""

    model_config = _STRICT
    dose: str
    route: str = "iv"
    product: str = "msc"
    artery: str | None = None
    site: str | None = None
    at: str = "0 d"
    every: str | None = None
    times: int = Field(1, ge=1, le=1000)
    infusion: str | None = None

    @model_validator(mode="after")
    def _parses(self):
        self.to_dose()  # raises MscsimError with the field name
        return self

    def to_dose(self) -> Dose:
        return Dose.parse(self.dose, self.route, at=self.at, artery=self.artery, site=self.site,
                          infusion=self.infusion, every=self.every, times=self.times, product=self.product)


class BackgroundSpec(BaseModel):
    """One standard-of-care therapy with a dose: ``{name: prednisone, dose: "10 mg/d"}``."""

    model_config = _STRICT
    name: str = Field(min_length=1)
    dose: str | None = None


class ArmSpec(BaseModel):
    model_config = _STRICT
    name: str = Field(min_length=1, max_length=80)
    n: StrictInt = Field(ge=1, le=1_000_000)
    regimen: list[DoseSpec] = Field(default_factory=list)
    #: standard of care of this arm (the disease module's BACKGROUND names); None: the subtype's default
    background: list[str | BackgroundSpec] | None = None

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
    """A covariate distribution: normal (mean, sd), optionally truncated to [min, max]; or uniform [min, max]."""

    model_config = _STRICT
    mean: float | None = None
    sd: float | None = Field(None, ge=0)
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _complete(self):
        vals = [v for v in (self.mean, self.sd, self.min, self.max) if v is not None]
        if any(not math.isfinite(v) for v in vals):
            raise ValueError("covariate values must be finite numbers")
        if self.mean is None and (self.min is None or self.max is None):
            raise ValueError("give mean (and sd), or min and max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is above max")
        return self


COVARIATES = ("weight_kg", "age")
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


class PopulationSpec(BaseModel):
    model_config = _STRICT
    inclusion: dict[str, Any] = Field(default_factory=dict)
    covariates: dict[str, CovariateSpec] = Field(default_factory=dict)

    @field_validator("covariates")
    @classmethod
    def _known_covariates(cls, v):
        for k in v:
            if k not in COVARIATES:
                raise unknown("covariate", k, COVARIATES)
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
        for k, crit in self.population.inclusion.items():
            if k not in allowed and k not in COVARIATES:
                raise unknown("inclusion criterion", k, sorted(set(allowed) | set(COVARIATES)),
                              field="population.inclusion")
            parse_criterion(f"population.inclusion.{k}", crit)
        for v in self.validation:
            for a in validation_arms(v):
                if a not in names:
                    raise unknown("arm", a, names, field="validation.arm")
            if v.compare in RATIO_COMPARES:
                from mscsim.safety import EVENTS

                if v.endpoint not in EVENTS:
                    raise unknown(f"safety event for compare: {v.compare}", v.endpoint, EVENTS,
                                  field="validation.endpoint")
                if v.vs in validation_arms(v):
                    raise MscsimError(f"'vs' names a pooled arm ({v.vs!r})", field="validation.vs")
            if v.vs is not None and v.vs not in names:
                raise unknown("arm", v.vs, names, field="validation.vs")
            if v.endpoint not in allowed:
                raise unknown("endpoint", v.endpoint, allowed, field="validation.endpoint")
            parse_time(v.at, field="validation.at")
        from mscsim.diseases.base import background_settings

        for a in self.arms:
            reg = a.to_regimen()
            reg.product  # one product per regimen  # noqa: B018
            reg.local_site  # noqa: B018
            background_settings(mod, a.background_entries(), self.subtype, field=f"arms.{a.name}.background")
        return self

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


def load_scenario(source: str | Path | dict) -> Scenario:
    """Read and validate a scenario (path to YAML, or an already-loaded mapping)."""
    if isinstance(source, dict):
        return Scenario.model_validate(source)
    path = Path(source)
    if not path.is_file():
        raise MscsimError(f"no scenario file at {path}", field="scenario")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise MscsimError(f"{path.name} is not valid YAML{where}", field="scenario") from None
    except UnicodeDecodeError:
        raise MscsimError(f"{path.name} is not a text file", field="scenario") from None
    if not isinstance(data, dict):
        raise MscsimError(f"{path.name} must be a YAML mapping with name, disease, arms, endpoints",
                          field="scenario")
    return Scenario.model_validate(data)


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
        return (yaml.safe_load(f.read_text()) or {}).get("disease")
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
