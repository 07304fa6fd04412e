"""Compose physiology + kinetics (+ immune network + one disease) into one ODE system.

This is the only place where the layers meet: the kinetics hands viable MSC counts and the
efferocytosis flux to the immune network; the immune network hands cytokines and T-cell
subsets to the disease; the disease hands its tissue damage back as the SDF-1 signal that
drives homing (design.md, "The body as the program sees it"). A disease module declares its own
states and equations in ``compose(m, body, layers, ...)``; the kinetics and the immune network
reach it only through the `Layers` handed in from here, so the wiring lives in this one place and
no disease module imports the layers it is composed with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from mscsim.numerics import OdeModel
from mscsim.errors import unknown
from mscsim.immune import ImmuneHandles, add_immune
from mscsim.kinetics import KineticsHandles, add_kinetics
from mscsim.physiology import SPECIES, Body, make_body, target_names

DISEASES: tuple[str, ...] = ("ra", "t1d", "ms", "sle", "ibd", "liver", "gvhd", "ards")


@dataclass
class ComposedModel:
    """The symbolic model plus what the simulator needs to set per-patient values."""

    ode: OdeModel
    species: str
    disease: str | None
    target: str | None
    kinetics: KineticsHandles
    disease_module: object | None = None
    subtype: str | None = None
    extras: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Layers:
    """The layers a disease module is composed with, bound to one model and body by `build_model`.

    ``kinetics(sdf1)``: whole-body MSC kinetics homing on the disease's SDF-1 signal;
    ``immune(kin, *, drive_s, drive_t, species, **extra)``: the immune network driven by the
    disease's autoimmune drives and fed by the kinetics' viable cells and efferocytosis."""

    kinetics: Callable[..., KineticsHandles]
    immune: Callable[..., ImmuneHandles]


def disease_module(disease: str):
    """The module of a disease (``mscsim.diseases.<name>``)."""
    import importlib

    if disease not in DISEASES:
        raise unknown("disease", disease, DISEASES, field="disease")
    return importlib.import_module(f"mscsim.diseases.{disease}")


def derived(ode: OdeModel, name, make: Callable):
    """``make()``, a value computed from the model ``ode``, computed once per model object and kept
    on it (a composed model is not changed after `build_model`), so that per-patient code can ask
    for it freely (issue 19)."""
    store = ode.__dict__.setdefault("_derived", {})
    if name not in store:
        store[name] = make()
    return store[name]


@lru_cache(maxsize=32)
def build_model(disease: str | None = None, target: str | None = None,
                species: str = "human", subtype: str | None = None) -> ComposedModel:
    """Build (and cache) the composed model of one body.

    Without a disease the target tissue is an injured organ whose SDF-1 signal is the
    parameter ``injury`` (0 healthy .. 1 maximal), as ``mscsim simulate --injury liver:0.6``.
    """
    if species not in SPECIES:
        raise unknown("species", species, SPECIES, field="species")
    mod = None
    if disease is not None:
        mod = disease_module(disease)
        subtype = subtype or mod.DEFAULT_SUBTYPE
        if subtype not in mod.SUBTYPES:
            raise unknown(f"{disease} subtype", subtype, mod.SUBTYPES, field="subtype")
        target = mod.target_for(subtype) if hasattr(mod, "target_for") else mod.TARGET
    if target is not None and target not in target_names():
        raise unknown("target tissue", target, target_names(), field="injury")
    body: Body = make_body(species, None, target)
    # species changes values, not structure: one compiled model serves human, mouse and rat
    name = f"mscsim-{disease or 'kinetics'}-{target or 'none'}" + (f"-{subtype}" if subtype else "")
    m = OdeModel(name)
    d_cell = m.param("d_cell", 26.5, unit="um", desc="MSC diameter of the product",
                     source="data/products.yaml", kind="input")
    cxcr4 = m.param("cxcr4", 1.0, unit="1", desc="CXCR4 level of the product relative to standard culture",
                    source="data/products.yaml", kind="input")
    m.param("potency", 1.0, unit="1", desc="immunosuppressive potency of the product (relative)",
            source="data/products.yaml; product-to-product suppression 27-88 % (Bloom 2015 "
                   "doi:10.1016/j.jcyt.2014.10.002)", kind="input")
    if mod is None:
        sdf1 = m.param("injury", 0.0, unit="1", desc="SDF-1 signal of the injured target tissue (0..1)",
                       source="user input until a disease module supplies it", kind="input")
        kin = add_kinetics(m, body, species=species, sdf1=sdf1, d_cell=d_cell, cxcr4=cxcr4)
        composed = ComposedModel(m, species, None, target, kin)
    else:
        layers = Layers(
            kinetics=lambda sdf1: add_kinetics(m, body, species=species, sdf1=sdf1, d_cell=d_cell, cxcr4=cxcr4),
            immune=lambda kin, **kw: add_immune(m, kin, disease=disease, **kw))
        kin = mod.compose(m, body, layers, species=species, subtype=subtype)
        composed = ComposedModel(m, species, disease, target, kin, disease_module=mod, subtype=subtype)
    m.check()
    # The engine's pivot probe (numerics.engine.deferred_pivots) [design choice]: the human model's
    # default parameters and a typical human dose, 1e6 cells/kg for a 70 kg adult (7e7 cells) over
    # one minute into every route's input at once (it only has to put cells wherever a route can),
    # followed for a year. One compiled model serves every species, so the probe is the human one
    # whichever species a process builds first: the engine's plan, and so every result, is the same.
    minute = 1.0 / 1440.0
    human = m if species == "human" else build_model(disease, target, "human", subtype).ode
    m.meta["pivot_probe"] = {"params": [prm.value for prm in human.params.values()],
                             "inputs": {k: 7e7 / minute for k in m.params if k.startswith("in_")},
                             "duration": minute, "days": 365.0}
    return composed
