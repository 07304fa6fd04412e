"""MSC products (bone marrow, umbilical cord, adipose, ...) and their attributes.

Attributes that change what happens in the body: cell diameter (lung passage, occlusion),
CXCR4 level (homing) and immunosuppressive potency. Values and sources: ``data/products.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from mscsim.errors import unknown


@dataclass(frozen=True)
class Product:
    name: str
    desc: str
    diameter_um: float
    cxcr4: float
    potency: float
    source: str


@lru_cache(maxsize=1)
def _table() -> dict:
    with resources.files("mscsim.data").joinpath("products.yaml").open() as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # C parser (issue 19)


def product_names() -> list[str]:
    return sorted(_table())


def get_product(name: str) -> Product:
    tab = _table()
    if name not in tab:
        raise unknown("product", name, tab, field="product")
    return Product(name=name, **tab[name])
