"""The parameter table: one registry of every model constant, with unit, kind and source.

Values live in ``data/parameters/<layer>.yaml`` (one file per layer, one registry, the single
source of truth from which ``docs/parameters.md`` is generated). Fitted values from ``mscsim calibrate`` are written to
``data/calibration/<disease>.json`` and override the table for that disease.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, field_validator

from mscsim.errors import MscsimError, unknown

Kind = Literal["sourced", "derived", "calibrated", "design"]


class ParameterSpec(BaseModel):
    """One row of the parameter table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    layer: str
    value: float | dict[str, float]
    unit: str
    kind: Kind
    desc: str
    source: str
    bounds: tuple[float, float] | None = None
    iiv_cv: float | None = None  # inter-individual variability (CV of a log-normal), if any

    @field_validator("source")
    @classmethod
    def _has_source(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("every parameter needs a source or a [design] rationale")
        return v

    def value_for(self, species: str = "human") -> float:
        if isinstance(self.value, dict):
            if species in self.value:
                return float(self.value[species])
            return float(self.value["human"])
        return float(self.value)


@lru_cache(maxsize=1)
def registry() -> dict[str, ParameterSpec]:
    """All parameters, by name."""
    folder = resources.files("mscsim.data").joinpath("parameters")
    reg: dict[str, ParameterSpec] = {}
    for f in sorted(folder.iterdir(), key=lambda f: f.name):
        if not f.name.endswith(".yaml"):
            continue
        raw = yaml.safe_load(f.read_text()) or {}
        for name, spec in raw.items():
            if name in reg:
                raise ValueError(f"parameter {name!r} is defined twice (parameters/{f.name})")
            reg[name] = ParameterSpec(name=name, **spec)
    return reg


def get(name: str) -> ParameterSpec:
    reg = registry()
    if name not in reg:
        raise unknown("parameter", name, reg)
    return reg[name]


def value(name: str, species: str = "human") -> float:
    return get(name).value_for(species)


@lru_cache(maxsize=None)
def calibrated(disease: str | None) -> dict[str, float]:
    """Fitted values shipped for ``disease`` (empty when none)."""
    if disease is None:
        return {}
    path = resources.files("mscsim.data").joinpath(f"calibration/{disease}.json")
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return {k: float(v["value"]) for k, v in data.get("parameters", {}).items()}


def check_overrides(overrides: dict[str, float], allowed) -> None:
    """Refuse unknown or non-finite parameter overrides (from a --patient params file)."""
    import math

    for k, v in overrides.items():
        if k not in allowed:
            raise unknown("parameter", k, allowed, field="parameters")
        try:
            fv = float(v)
        except (TypeError, ValueError):
            raise MscsimError(f"value {v!r} is not a number", field=f"parameters.{k}") from None
        if not math.isfinite(fv):
            raise MscsimError(f"value {v!r} is not finite", field=f"parameters.{k}")
