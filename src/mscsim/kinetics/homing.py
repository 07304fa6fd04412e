"""Homing, the "GPS" of MSCs: injured tissue arrests more cells.

The homing multiplier of the target tissue is ``H = 1 + h_max * S^n / (S^n + K^n) * CXCR4``
with S the tissue's SDF-1 signal (0 healthy .. 1 maximal; an input until a disease module
supplies it from tissue damage) and CXCR4 the product's receptor level relative to standard
culture. Arrest per pass becomes ``1 - (1 - E)^H`` (H independent chances to arrest), which
stays below 1. Drivers from the SDF-1/CXCR4 homing model (PeerJ 2018;6:e6072,
doi:10.7717/peerj.6072); the functional form is a design choice (reference/kinetics.md s.2.2).
"""

from __future__ import annotations

from mscsim.numerics import OdeModel, hill
from mscsim.kinetics.common import P


def homing_multiplier(m: OdeModel, species: str, sdf1, cxcr4):
    h_max = P(m, "h_max", species)
    K = P(m, "K_sdf1", species)
    n = P(m, "n_sdf1", species)
    s = sdf1 + 1e-12  # keeps the Jacobian of S^n finite at S = 0
    return m.rule("homing_multiplier", 1 + h_max * s**n / (K**n + s**n) * cxcr4, unit="1",
                  desc="homing multiplier of arrest in the target tissue (SDF-1 x CXCR4)",
                  source="PeerJ 2018 doi:10.7717/peerj.6072 (drivers); form [design], reference/kinetics.md s.2.2",
                  output=True)


def boosted_arrest(E, H):
    """Arrest per pass with homing multiplier H (H chances to arrest)."""
    return 1 - (1 - E) ** H


__all__ = ["homing_multiplier", "boosted_arrest", "hill"]
