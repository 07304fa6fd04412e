"""The parameter table: one registry of every model constant, with unit, kind and source.

Values live in ``data/parameters/<layer>.yaml`` (one file per layer, one registry, the single
source of truth from which ``docs/parameters.md`` is generated). Fitted values from ``mscsim calibrate`` are written to
``data/calibration/<disease>.json`` and override the table for that disease.

``records`` names the published outcome records (evidence record ids, ``Study#k``) a parameter
was calibrated to, derived from or hand-tuned to; data outside the evidence file are named
``external:<label>``. Trial *baselines* used to set the typical patient are cited in ``source``
only: every scenario may match its trial's baseline population. ``mscsim validate`` scores any
row whose record is listed here as calibration (:func:`records_informing`).
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from importlib import resources
from typing import Literal

import yaml
import re

from pydantic import BaseModel, ConfigDict, field_validator

from mscsim.errors import MscsimError, unknown

Kind = Literal["sourced", "derived", "calibrated", "design"]
_RECORD_ID = re.compile(r"^(?:[A-Za-z0-9_]+#\d+|external:\S.*)$")


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
    #: published records the value was calibrated to, derived from or hand-tuned to
    records: tuple[str, ...] = ()

    @field_validator("source")
    @classmethod
    def _has_source(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("every parameter needs a source or a [design] rationale")
        return v

    @field_validator("records")
    @classmethod
    def _record_ids(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [r for r in v if not _RECORD_ID.match(r)]
        if bad:
            raise ValueError(f"records must be evidence record ids 'Study#k' or 'external:<label>', got {bad}")
        if len(set(v)) != len(v):
            raise ValueError(f"records lists an id twice: {list(v)}")
        return v

    def value_for(self, species: str = "human") -> float:
        if isinstance(self.value, dict):
            if species in self.value:
                return float(self.value[species])
            return float(self.value["human"])
        return float(self.value)


#: libyaml's C parser when PyYAML was built with it (same safe constructor, ~10x faster: the
#: tables are read at every start-up, issue 19)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=1)
def registry() -> dict[str, ParameterSpec]:
    """All parameters, by name."""
    folder = resources.files("mscsim.data").joinpath("parameters")
    reg: dict[str, ParameterSpec] = {}
    for f in sorted(folder.iterdir(), key=lambda f: f.name):
        if not f.name.endswith(".yaml"):
            continue
        raw = yaml.load(f.read_text(), Loader=_YAML_LOADER) or {}
        for name, spec in raw.items():
            if name in reg:
                raise ValueError(f"parameter {name!r} is defined twice (parameters/{f.name})")
            reg[name] = ParameterSpec(name=name, **spec)
    return reg


@lru_cache(maxsize=1)
def records_informing() -> dict[str, tuple[str, ...]]:
    """Evidence record id -> the parameters whose value it informed (from their ``records``)."""
    out: dict[str, list[str]] = {}
    for name, spec in registry().items():
        for rid in spec.records:
            out.setdefault(rid, []).append(name)
    return {k: tuple(v) for k, v in out.items()}


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
    try:  # the file's modification time keys the cache, so a calibration saved since is read anew
        stamp = os.stat(path).st_mtime_ns
    except TypeError:  # not a file system path (a zipped install cannot change)
        stamp = None
    return dict(_read_calibration(path, stamp))


@lru_cache(maxsize=64)
def _read_calibration(path, stamp) -> dict[str, float]:
    """Fitted values of one calibration file (parsed once per file version: a trial asks per patient)."""
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
