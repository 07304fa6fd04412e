"""MSC products (bone marrow, umbilical cord, adipose, ...) and the attributes that change outcomes.

A :class:`Product` is one row of ``data/products.yaml``: tissue source, cell diameter, CXCR4,
potency, tissue factor (CD142), viability at infusion, fresh or thawed, autologous or
allogeneic, IFN-gamma primed or not; every value carries its source (docs/products.md).
:func:`resolve_product` also takes a scenario's inline form ``{name: uc-msc, cryopreserved: true}``.
:func:`product_inputs` is the ONE place a product becomes model input values (used by
``simulate.parameter_vector``, hence by simulate, trial, SBML and PEtab export).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

import yaml

from mscsim.errors import MscsimError, unknown

#: attributes that follow the tissue source unless the product gives its own value
TISSUE_ATTRS = ("tissue_factor", "potency")
#: attributes a scenario may override inline, with their type
OVERRIDABLE = {"tissue": str, "diameter_um": float, "cxcr4": float, "potency": float, "viability": float,
               "cryopreserved": bool, "tissue_factor": float, "allogeneic": bool, "licensed": bool}
#: product attribute -> model input it sets (docs/products.md); viability acts on the dose instead
MODEL_INPUT_OF = {"diameter_um": "d_cell", "cxcr4": "cxcr4", "potency": "potency",
                  "tissue_factor": "tf_ibmir", "cryopreserved": "thawed", "allogeneic": "allogeneic",
                  "licensed": "primed"}


@dataclass(frozen=True)
class Product:
    """One MSC product; ``attr_sources`` holds (attribute, source) pairs, ``overridden`` the
    attributes a scenario set inline."""

    name: str
    desc: str
    tissue: str
    diameter_um: float
    cxcr4: float
    potency: float
    viability: float
    cryopreserved: bool
    tissue_factor: float
    allogeneic: bool
    licensed: bool
    source: str
    attr_sources: tuple[tuple[str, str], ...] = ()
    overridden: tuple[str, ...] = ()

    def source_of(self, attr: str) -> str:
        return dict(self.attr_sources).get(attr, "")

    @property
    def label(self) -> str:
        """The name, with inline overrides: ``uc-msc (cryopreserved=True)``."""
        if not self.overridden:
            return self.name
        return f"{self.name} (" + ", ".join(f"{a}={getattr(self, a)}" for a in self.overridden) + ")"


@lru_cache(maxsize=1)
def _table() -> dict:
    with resources.files("mscsim.data").joinpath("products.yaml").open() as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # C parser (issue 19)


def tissue_names() -> list[str]:
    return sorted(_table()["tissues"])


def product_names() -> list[str]:
    return sorted(_table()["products"])


def _build(name: str, entry: Mapping[str, Any], over: Mapping[str, Any] | None = None) -> Product:
    """A Product from a table entry, tissue defaults and inline overrides (already checked)."""
    over = dict(over or {})
    tissues = _table()["tissues"]
    attrs = {k: v for k, v in entry.items() if k not in ("desc", "sources")}
    srcs = dict(entry.get("sources", {}))
    attrs.update({k: v for k, v in over.items() if k != "tissue"})
    tissue = over.get("tissue", entry["tissue"])
    if tissue not in tissues:
        raise unknown("tissue", tissue, tissues, field="product.tissue")
    attrs["tissue"] = tissue
    for a in TISSUE_ATTRS:
        if a in over or (a in entry and "tissue" not in over):
            continue
        attrs[a] = tissues[tissue][a]
        srcs[a] = f"{tissue}: " + tissues[tissue]["sources"][a]
    for a in over:
        srcs[a] = "[scenario override]"
    order = [f.name for f in fields(Product) if f.name in OVERRIDABLE]
    pairs = tuple((a, srcs.get(a, "")) for a in order)
    return Product(name=name, desc=entry["desc"], source="; ".join(f"{a}: {s}" for a, s in pairs),
                   attr_sources=pairs, overridden=tuple(a for a in order if a in over),
                   **{a: (bool(attrs[a]) if OVERRIDABLE[a] is bool else
                          str(attrs[a]) if OVERRIDABLE[a] is str else float(attrs[a])) for a in order})


def get_product(name: str) -> Product:
    """The product ``name`` of the table (``mscsim products`` lists them)."""
    tab = _table()["products"]
    if not isinstance(name, str) or name not in tab:
        raise unknown("product", name, tab, field="product")
    return _table_product(name)


@lru_cache(maxsize=None)
def _table_product(name: str) -> Product:
    """A table row as a Product, built once (Products are immutable; a trial asks per patient)."""
    return _build(name, _table()["products"][name])


def _check_override(attr: str, value, field: str):
    kind = OVERRIDABLE[attr]
    if kind is bool:
        if not isinstance(value, bool):
            raise MscsimError(f"{attr} must be true or false, got {value!r}", field=field)
        return value
    if kind is str:
        if not isinstance(value, str):
            raise MscsimError(f"{attr} must be a name, got {value!r}", field=field)
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise MscsimError(f"{attr} must be a number, got {value!r}", field=field)
    value = float(value)
    if attr == "viability" and not (0.0 < value <= 1.0):
        raise MscsimError(f"viability is the fraction of cells alive at infusion, in (0, 1], got {value:g}",
                          field=field)
    if attr == "potency" and value < 0:
        raise MscsimError(f"potency must not be negative, got {value:g}", field=field)
    if attr in ("diameter_um", "cxcr4", "tissue_factor") and value <= 0:
        raise MscsimError(f"{attr} must be positive, got {value:g}", field=field)
    return value


def resolve_product(spec, *, field: str = "product") -> Product:
    """A Product from a name, a Product, or a mapping ``{name: uc-msc, cryopreserved: true, ...}``
    (the named table product with the given attributes overriding its values)."""
    if isinstance(spec, Product):
        return spec
    if isinstance(spec, str):
        try:
            return get_product(spec)
        except MscsimError as exc:
            raise MscsimError(str(exc).removeprefix("product: "), field=field) from None
    if not isinstance(spec, Mapping):
        raise MscsimError(f"a product is a name or a mapping with 'name', got {spec!r}", field=field)
    if "name" not in spec:
        raise MscsimError("an inline product needs 'name' (the table product it starts from)", field=field)
    if not isinstance(spec["name"], str):
        raise MscsimError(f"an inline product's 'name' is a product name, got {spec['name']!r}", field=f"{field}.name")
    base = resolve_product(spec["name"], field=f"{field}.name")
    over = {}
    for k, v in spec.items():
        if k == "name":
            continue
        if k not in OVERRIDABLE:
            raise unknown("product attribute", k, ["name", *OVERRIDABLE], field=f"{field}.{k}")
        over[k] = _check_override(k, v, f"{field}.{k}")
    if over.get("tissue") is not None and over["tissue"] not in _table()["tissues"]:
        raise unknown("tissue", over["tissue"], _table()["tissues"], field=f"{field}.tissue")
    return _build(base.name, _table()["products"][base.name], over)


def with_attributes(product: Product, **attrs) -> Product:
    """``product`` with some attributes changed (checked as inline overrides are)."""
    spec = {"name": product.name, **{a: getattr(product, a) for a in product.overridden}, **attrs}
    return resolve_product(spec)


def product_inputs(product: Product) -> dict[str, float]:
    """Model input values of a product (the one place products reach the model).

    diameter -> ``d_cell`` (lung passage, occlusion); CXCR4 -> ``cxcr4`` (homing); potency ->
    ``potency`` (contact and secretome suppression); tissue factor -> ``tf_ibmir`` (IBMIR lysis
    of an intravascular dose); cryopreserved -> ``thawed`` (potency impaired at infusion,
    recovering over ~24 h; more complement lysis); allogeneic -> ``allogeneic`` (anti-donor
    antibodies in sensitised patients); licensed -> ``primed`` (licensed at arrival). Viability
    acts on the dose (``Regimen.administrations``), not through an input."""
    return {"d_cell": product.diameter_um, "cxcr4": product.cxcr4, "potency": product.potency,
            "tf_ibmir": product.tissue_factor, "thawed": float(product.cryopreserved),
            "allogeneic": float(product.allogeneic), "primed": float(product.licensed)}


def regimen_product(products: list[Product]) -> Product:
    """The one product whose model inputs a regimen uses; several products must agree on them.

    The model inputs are whole-simulation parameters, so doses of different products are
    allowed only when they differ in viability (which acts per dose) or in name alone."""
    if not products:
        return get_product("msc")
    first = products[0]
    ref = product_inputs(first)
    for p in products[1:]:
        diff = [a for a, inp in MODEL_INPUT_OF.items() if product_inputs(p)[inp] != ref[inp]]
        if diff:
            raise MscsimError(
                f"products {first.label} and {p.label} differ in {', '.join(diff)}, which act on the whole "
                "simulation; one regimen may mix products only when they differ in viability alone "
                "(docs/products.md)", field="product")
    return first


__all__ = ["Product", "get_product", "product_names", "tissue_names", "resolve_product", "product_inputs",
           "regimen_product", "with_attributes"]
