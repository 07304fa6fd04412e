"""Lung first pass: every IV cell meets the pulmonary capillaries before any other organ.

Arrest per pass depends on cell size: the fraction that passes is
``(1 - E_lung) * exp(gamma_size * (d_ref - d))`` (Fischer 2009, doi:10.1089/scd.2008.0253:
smaller cells pass more), capped at 1. The lung-occlusion safety signal is the lung-trapped
cell volume per kg relative to the load that killed a mouse (``occlusion_ref``).
"""

from __future__ import annotations

from mscsim.numerics import OdeModel, sympy as sp
from mscsim.kinetics.common import P


def lung_arrest_fraction(m: OdeModel, species: str, d_cell, occlusion=0):
    """Rule ``E_lung_eff``: fraction of venous cells arrested in the lung on one pass; the filter
    saturates as the trapped cell volume (``occlusion``, 1 = mouse-lethal load) fills the bed: the
    passing fraction grows by ``1 + occlusion / occ_sat_lung``."""
    E_lung = P(m, "E_lung", species)
    gamma = P(m, "gamma_size", species)
    d_ref = P(m, "d_ref_um", species)
    occ_sat = P(m, "occ_sat_lung", species)
    passage = (1 - E_lung) * sp.exp(gamma * (d_ref - d_cell)) * (1 + occlusion / occ_sat)
    return m.rule("E_lung_eff", 1 - sp.Min(1, passage), unit="1",
                  desc="per-pass lung arrest for this product's cell size, less as the lung fills",
                  source="Fischer 2009 doi:10.1089/scd.2008.0253 (size-dependent passage); saturation "
                         "of the capillary filter [form: design]", output=True)


def lung_occlusion(m: OdeModel, species: str, A_lung, d_cell, BW):
    """Rule ``lung_occlusion``: trapped cell volume per kg / mouse-lethal load (1 = lethal)."""
    occ_ref = P(m, "occlusion_ref", species)
    d_ref = P(m, "d_ref_um", species)
    return m.rule(
        "lung_occlusion", A_lung * (d_cell / d_ref) ** 3 / (BW * occ_ref), unit="1",
        desc="lung-occlusion signal: lung-trapped cell volume per kg relative to the mouse-lethal load",
        source="occlusion_ref (Breitbach 2007, verify); volume scaling with diameter^3 and larger "
               "cells occluding larger vessels (Ge 2014 PMID 24390934) [form: design]",
        output=True)
