"""Dose-limiting biology of intravascular MSCs (issue 15; docs/design.md "Dose-limiting biology").

Two mechanisms that make more cells do proportionally less:

- **Complement-mediated lysis and IBMIR.** MSCs that meet blood activate complement and
  coagulation (instant blood-mediated inflammatory reaction; Moll 2012 Stem Cells 30:1565,
  doi:10.1002/stem.1111: dose-, donor- and passage-dependent; Moll 2019 Trends Mol Med 25:149,
  PMID 30711482: tissue factor of the product sets the risk). A share of the intravascular
  cells then dies by lysis rather than apoptosis; lysed cells do not make phagocytes
  tolerogenic (the hit-and-run memory needs apoptotic MSCs, Galleu 2017 Sci Transl Med
  9:eaam7828). The share rises with the intravascular load, ``1 - exp(-s * load / L_ibmir)``,
  ``s`` = ``tf_ibmir`` (the product's tissue-factor/IBMIR susceptibility, 1 = reference). The
  label and the cell counts are unchanged (the cells die at the same rate, differently), so
  the imaging calibration holds.
- **Sensitisation to allogeneic cells.** About 11.5 % of allogeneic-MSC recipients form
  anti-donor antibodies (Sanabria-de la Torre 2021 J Clin Med 10:2991,
  doi:10.3390/jcm10132991). In a sensitised patient (``allo_sensitised`` = 1, drawn per
  virtual patient) of an allogeneic product (``allogeneic`` = 1) an antibody index rises after
  the first dose and multiplies the death of arrested and circulating cells of later doses.

Saturation of lung arrest is in ``lung.py``. The product sets ``tf_ibmir`` (its tissue factor),
``thawed`` (thawed cells meet about 2-fold more complement lysis, Moll 2014 Stem Cells
doi:10.1002/stem.1751) and ``allogeneic`` (data/products.yaml, docs/products.md).

Approximation: the lysis share multiplies the whole tissue death flux returned by
``add_clearance`` (which also holds the meningeal deaths of intrathecal cells); it depends only
on the intravascular load, which is ~0 when cells are given intrathecally alone. A consequence
to note: cells entering the blood slowly (long infusions, CSF drainage) meet a low load and
escape most of the lysis.
"""

from __future__ import annotations

from mscsim.numerics import OdeModel, sympy as sp
from mscsim.kinetics.common import P
from mscsim.kinetics.product_state import thawed_input


def ibmir_lysis_fraction(m: OdeModel, species: str, load):
    """Rule ``ibmir_lysis``: share of the intravascular death that is complement/IBMIR lysis."""
    tf = m.param("tf_ibmir", 1.0, unit="1", kind="input",
                 desc="tissue-factor / IBMIR susceptibility of the product (1 = reference BM-MSC)",
                 source="set per product (Moll 2019 PMID 30711482; Oeller 2018 doi:10.7150/thno.21906: "
                        "UC and adipose products carry more tissue factor than BM)")
    L = P(m, "L_ibmir", species)
    thawed = thawed_input(m)
    fold = P(m, "thaw_lysis_fold", species)
    tf = m.rule("ibmir_susceptibility", tf * (1 + (fold - 1) * thawed), unit="1",
                desc="IBMIR/complement susceptibility of the product: tissue factor, times the thawed-cell fold",
                source="tissue factor: Moll 2019 PMID 30711482; thawed cells: Moll 2014 Stem Cells "
                       "doi:10.1002/stem.1751 (about 2-fold more complement lysis) [product of the two: design]", output=True)
    return m.rule("ibmir_lysis", 1 - sp.exp(-tf * load / L), unit="1",
                  desc="share of intravascular MSC death that is complement/IBMIR lysis (not tolerogenic apoptosis)",
                  source="Moll 2012 doi:10.1002/stem.1111 (dose-dependent IBMIR) [form: design]", output=True)


def add_sensitisation(m: OdeModel, species: str, X_dosed):
    """State ``anti_donor`` (0..1) and the clearance multiplier it gives (returned)."""
    sens = m.param("allo_sensitised", 0.0, unit="1", kind="input",
                   desc="1 if this patient forms anti-donor antibodies against an allogeneic product",
                   source="drawn per virtual patient with probability p_allo_sensitised (population.py)")
    allo = m.param("allogeneic", 1.0, unit="1", kind="input",
                   desc="1 for an allogeneic product, 0 for autologous cells", source="set per product")
    k_ab = P(m, "k_anti_donor", species)
    a_ab = P(m, "a_anti_donor", species)
    ab = m.state("anti_donor", unit="fraction", group="kinetics", init=0.0, atol=1e-9,
                 desc="anti-donor antibody index (0 = none, 1 = full response)")
    exposed = X_dosed / (X_dosed + 1.0)   # 0 before the first cell, ~1 after
    m.rate(ab, k_ab * (sens * allo * exposed - ab), desc="anti-donor antibodies rise after the first allogeneic dose",
           source="Sanabria-de la Torre 2021 doi:10.3390/jcm10132991 (11.5 % of recipients); rate [design]")
    return m.rule("clearance_boost", 1 + a_ab * ab, unit="1",
                  desc="speed-up of MSC death by anti-donor antibodies", source="[design]", output=True)
