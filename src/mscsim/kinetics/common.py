"""Small helpers shared by the kinetics files: parameter declaration and compartment names."""

from __future__ import annotations

from mscsim import parameters
from mscsim.numerics import OdeModel


def P(m: OdeModel, name: str, species: str = "human"):
    """Declare a parameter of the table (value for ``species``) in the model and return it."""
    spec = parameters.get(name)
    return m.param(name, spec.value_for(species), unit=spec.unit, desc=spec.desc,
                   source=spec.source, kind=spec.kind)


def phys(m: OdeModel, name: str, value: float, unit: str, desc: str):
    """Declare a physiological parameter computed from data/physiology.yaml."""
    return m.param(name, value, unit=unit, desc=desc,
                   source="data/physiology.yaml (species, body weight)", kind="sourced")
