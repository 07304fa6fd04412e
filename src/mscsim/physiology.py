"""Physiology: body weight, organ masses, blood flows, blood and CSF volumes by species.

Human reference values follow ICRP reference man as tabulated by NRC 1999 (Tables A-1, A-2);
mouse and rat follow Brown et al. 1997 (PMID 9249929). Masses scale linearly with body weight
and cardiac output allometrically (exponent 0.75, a design choice usual in PBPK). The sources
of every number are in ``data/physiology.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import yaml

from mscsim.errors import MscsimError, unknown

#: Organs of the whole-body kinetics model, in the order used everywhere (lung first).
ORGANS: tuple[str, ...] = (
    "lung", "liver", "spleen", "gut", "kidney", "heart", "brain",
    "marrow", "muscle", "skin", "adipose", "rest",
)
SYSTEMIC_ORGANS: tuple[str, ...] = ORGANS[1:]
SPECIES: tuple[str, ...] = ("human", "mouse", "rat")
CO_EXPONENT = 0.75  # [design] allometric scaling of cardiac output with body weight


@lru_cache(maxsize=1)
def _table() -> dict:
    with resources.files("mscsim.data").joinpath("physiology.yaml").open() as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # C parser (issue 19)


def target_names() -> list[str]:
    """Tissues a disease or an ``--injury`` can make the target."""
    return sorted(_table()["targets"])


@dataclass(frozen=True)
class Body:
    """One body's physiology in model units (L, L/day, kg)."""

    species: str
    weight_kg: float
    cardiac_output: float          # L/day
    v_ven: float                   # L
    v_art: float                   # L
    flows: dict[str, float]        # L/day per systemic organ (incl. target when present)
    masses: dict[str, float]       # kg per organ (incl. lung and target)
    portal: dict[str, bool]
    target: str | None = None
    target_parent: str | None = None
    csf_volume: float = 0.0        # L
    csf_flow: float = 0.0          # L/day
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def compartments(self) -> tuple[str, ...]:
        """Organs plus the target tissue, in model order."""
        return ORGANS + (("target",) if self.target else ())


@lru_cache(maxsize=None)
def _species_constants(species: str) -> tuple:
    """The weight-independent numbers of ``make_body`` for one species (read once: a trial makes a
    body per candidate), each computed as ``make_body`` first combines them, so bodies are the same."""
    sp_tab = _table()[species]
    organs = sp_tab["organs"]
    total_pct = sum(float(o["flow_pct"]) for o in organs.values())
    shares = tuple((k, float(o["flow_pct"]) / total_pct) for k, o in organs.items())
    masses = tuple((k, "mass_kg" in o, float(o["mass_kg"] if "mass_kg" in o else o["mass_frac_bw"]))
                   for k, o in organs.items())
    lung = ("lung_mass_kg" in sp_tab, float(sp_tab["lung_mass_kg"] if "lung_mass_kg" in sp_tab
                                            else sp_tab["lung_mass_frac_bw"]))
    return (float(sp_tab["reference_weight_kg"]), float(sp_tab["cardiac_output_L_per_min"]) * 1440.0,
            float(sp_tab["blood_volume_frac_bw"]), float(sp_tab["venous_fraction_of_blood"]), total_pct, shares,
            masses, lung, {k: bool(o["portal"]) for k, o in organs.items()},
            float(sp_tab["csf_volume_mL"]) / 1000.0, float(sp_tab["csf_production_mL_per_day"]) / 1000.0,
            {k: v for k, v in sp_tab.items() if k.startswith("source")})


def make_body(species: str = "human", weight_kg: float | None = None,
              target: str | None = None) -> Body:
    """Physiology of a body of ``species`` and ``weight_kg`` with an optional target tissue."""
    if species not in SPECIES:
        raise unknown("species", species, SPECIES, field="species")
    (w_ref, co_ref, blood_frac, f_ven, total_pct, shares, mass_rules, lung, portal, csf_l, csf_prod_l,
     sources) = _species_constants(species)
    w = w_ref if weight_kg is None else float(weight_kg)
    if not (w > 0) or w != w:
        raise MscsimError(f"body weight must be a positive number, got {weight_kg!r}", field="weight_kg")
    if species == "human" and not (2.0 <= w <= 300.0):
        raise MscsimError(f"human body weight {w} kg is outside 2-300 kg", field="weight_kg")
    scale = w / w_ref
    allometric = scale**CO_EXPONENT
    co = co_ref * allometric
    v_blood = blood_frac * w
    flows = {k: share * co for k, share in shares}
    masses = {k: v * scale if absolute else v * w for k, absolute, v in mass_rules}
    masses["lung"] = lung[1] * scale if lung[0] else lung[1] * w
    portal = dict(portal)
    parent = None
    if target is not None:
        targets = _table()["targets"]
        if target not in targets:
            raise unknown("target tissue", target, targets, field="target")
        spec = targets[target]
        parent = spec["parent"]
        if "fraction" in spec:
            frac_m = frac_q = float(spec["fraction"])
        else:
            # target mass is given for a 70 kg human; scale with body weight for any species
            m_t = float(spec["mass_kg"]) * w / 70.0
            frac_m = min(m_t / masses[parent], 0.9)
            frac_q = (float(spec["flow_pct"]) / total_pct * co / flows[parent]
                      if "flow_pct" in spec and species == "human" else frac_m)
            frac_q = min(frac_q, 0.9)
        masses["target"] = masses[parent] * frac_m
        masses[parent] -= masses["target"]
        if parent != "lung":
            flows["target"] = flows[parent] * frac_q
            flows[parent] -= flows["target"]
            portal["target"] = portal[parent]
    # keep the order of ORGANS
    flows = {k: flows[k] for k in SYSTEMIC_ORGANS + (("target",) if "target" in flows else ())}
    return Body(
        species=species, weight_kg=w, cardiac_output=co,
        v_ven=v_blood * f_ven, v_art=v_blood * (1.0 - f_ven),
        flows=flows, masses=masses, portal=portal, target=target, target_parent=parent,
        csf_volume=csf_l * scale, csf_flow=csf_prod_l * allometric, sources=dict(sources),
    )
