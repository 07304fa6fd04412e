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
from functools import lru_cache, partial

from mscsim.numerics import ModelSheet, OdeModel
from mscsim.errors import unknown
from mscsim.immune import ImmuneHandles, add_immune
from mscsim.kinetics import KineticsHandles, add_kinetics
from mscsim.physiology import SPECIES, Body, make_body, target_names

DISEASES: tuple[str, ...] = ("ra", "t1d", "ms", "sle", "ibd", "liver", "gvhd", "ards")


@dataclass
class ComposedModel:
    """The model of one body plus what the simulator needs to set per-patient values.

    From `build_model` ``ode`` is the model's `ModelSheet` (no equations, no kinetic handles:
    ``kinetics`` is None), which is all running patients needs; `symbolic()` gives the same model
    with its equations (an `OdeModel`) and kinetic handles, for SBML, PEtab and the equation list."""

    ode: OdeModel | ModelSheet
    species: str
    disease: str | None
    target: str | None
    kinetics: KineticsHandles | None
    disease_module: object | None = None
    subtype: str | None = None
    extras: dict = field(default_factory=dict)

    def symbolic(self) -> "ComposedModel":
        """This model with its equations (`symbolic_model`)."""
        if isinstance(self.ode, OdeModel):
            return self
        return symbolic_model(self.disease, None if self.disease else self.target, self.species, self.subtype)


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


def derived(ode: OdeModel, name, make: Callable, inputs=None):
    """``make()``, a value computed from the model ``ode``, computed once per model object and kept
    on it (a composed model is not changed after `build_model`), so that per-patient code can ask
    for it freely (issue 19). ``inputs``: what else the value depends on (hashable-comparable);
    the value is made again, replacing the kept one, when they differ from the last call's."""
    store = ode.__dict__.setdefault("_derived", {})
    kept = store.get(name)
    if kept is None or kept[0] != inputs:
        kept = store[name] = (inputs, make())
    return kept[1]


@lru_cache(maxsize=32)
def build_model(disease: str | None = None, target: str | None = None,
                species: str = "human", subtype: str | None = None) -> ComposedModel:
    """The composed model of one body, as its `ModelSheet` (cached per process).

    Without a disease the target tissue is an injured organ whose SDF-1 signal is the
    parameter ``injury`` (0 healthy .. 1 maximal), as ``mscsim simulate --injury liver:0.6``.

    The sheet is read from the compile cache (``numerics.cache_dir()/models``), keyed by
    mscsim's version, its ``.py`` and ``.yaml`` files (the shipped calibrations excepted: they are
    applied per patient) and sympy's release (`_sources_key`), and written there by building the
    model once (`symbolic_model`): a trial's start-up then needs neither sympy nor the model's
    construction (issue 19). Every call gives the sheet as read from JSON, built or not, so every
    process runs the same tables; ``.symbolic()`` gives the equations.
    """
    mod, subtype, target = _resolve(disease, target, species, subtype)
    build = partial(_symbolic_ode, disease, None if disease else target, species, subtype)
    path = _sheet_path(disease, target, species, subtype)
    sheet = None
    if path is not None:
        try:
            sheet = ModelSheet.from_json(path.read_text(), build)
            _touch(path)
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            sheet = None
    if sheet is None:  # built, then read back as every later process will read it
        text = build().sheet(build).to_json()
        sheet = ModelSheet.from_json(text, build)
        if path is not None:
            _write_atomic(path, text)
            _prune(path)
    return ComposedModel(sheet, species, disease, target, None, disease_module=mod, subtype=subtype)


def _resolve(disease, target, species, subtype):
    """Check the arguments of a model: (disease module, subtype, target tissue)."""
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
    return mod, subtype, target


@lru_cache(maxsize=1)
def _sources_key() -> str:
    """A hash of what a model is built from: mscsim's version, Python sources and data tables (the
    shipped calibrations excepted: they are applied per patient, not built in) and sympy's
    version (its printing keys the compiled code). ~15 ms."""
    import hashlib
    import importlib.util
    from pathlib import Path

    import mscsim

    root = Path(__file__).parent
    h = hashlib.sha256(mscsim.__version__.encode())
    for f in sorted(root.rglob("*")):
        rel = f.relative_to(root)
        if (f.suffix in (".py", ".yaml", ".yml") and "__pycache__" not in rel.parts
                and "calibration" not in rel.parts and f.is_file()):
            h.update(str(rel).encode() + b"\0" + f.read_bytes() + b"\0")
    spec = importlib.util.find_spec("sympy")
    if spec is not None and spec.origin:
        release = Path(spec.origin).with_name("release.py")
        h.update(release.read_bytes() if release.is_file() else spec.origin.encode())
    return h.hexdigest()[:16]


def _sheet_path(disease, target, species, subtype):
    """Where the sheet of a model lives in the compile cache (None where there is no cache)."""
    from mscsim.numerics import cache_dir

    try:
        folder = cache_dir() / "models"
        folder.mkdir(exist_ok=True)
    except OSError:
        return None
    return folder / f"{disease or 'kinetics'}-{target or 'none'}-{subtype or 'none'}-{species}-{_sources_key()}.json"


#: a sheet not read for this long is removed when another version of its model is written (days)
SHEET_MAX_AGE_DAYS = 30


def _touch(path) -> None:
    """Mark a sheet as used (its modification time), so that `_prune` keeps the ones in use."""
    import os

    try:
        os.utime(path)
    except OSError:  # a read-only cache keeps every sheet
        pass


def _prune(path) -> None:
    """Remove the sheets of ``path``'s model (other source versions) not used for
    `SHEET_MAX_AGE_DAYS`: several checkouts may share one cache, each with its own version."""
    import time

    stem = path.name[:-len(f"{_sources_key()}.json")]
    old = time.time() - SHEET_MAX_AGE_DAYS * 86400.0
    try:
        for f in path.parent.glob(f"{stem}*.json"):
            if f != path and f.stat().st_mtime < old:
                f.unlink(missing_ok=True)
    except OSError:
        pass


def _write_atomic(path, text: str) -> None:
    from mscsim.io import atomic_path

    try:
        with atomic_path(path) as tmp:
            tmp.write_text(text)
    except OSError:  # a read-only cache only costs building the model again next time
        pass


def _symbolic_ode(disease, target, species, subtype) -> OdeModel:
    return symbolic_model(disease, target, species, subtype).ode


@lru_cache(maxsize=32)
def symbolic_model(disease: str | None = None, target: str | None = None,
                   species: str = "human", subtype: str | None = None) -> ComposedModel:
    """Build (and cache per process) the composed model of one body with its equations (sympy):
    the `OdeModel` of every layer and the kinetic handles. Arguments as `build_model`."""
    mod, subtype, target = _resolve(disease, target, species, subtype)
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
    human = m if species == "human" else symbolic_model(disease, target, "human", subtype).ode
    m.meta["pivot_probe"] = {"params": [prm.value for prm in human.params.values()],
                             "inputs": {k: 7e7 / minute for k in m.params if k.startswith("in_")},
                             "duration": minute, "days": 365.0}
    return composed
