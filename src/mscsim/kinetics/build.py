"""Assemble the whole-body MSC kinetics into an OdeModel (see package docstring).

States (cells or cell-equivalents): ``N_ven``, ``N_art`` free MSCs in blood; for every
compartment c (organs and the target tissue): ``A_c`` arrested viable MSCs, ``G_c`` engrafted
MSCs, ``D_c`` debris/label held by tissue phagocytes; ``M_phag`` MSC material inside
migrating phagocytes; ``N_csf`` free MSCs in CSF and ``A_men`` MSCs attached to meninges
(intrathecal route); ``depot`` MSCs at a local injection site; ``X_cleared`` label cleared
from the body; ``X_dosed`` cells given so far. Equations: reference/kinetics.md s.2.2.
"""

from __future__ import annotations

from dataclasses import dataclass

from mscsim.dosing import ARTERIES
from mscsim.numerics import OdeModel, sympy as sp
from mscsim.kinetics.clearance import add_clearance
from mscsim.kinetics.common import P, phys
from mscsim.kinetics.dose_limits import add_sensitisation, ibmir_lysis_fraction
from mscsim.kinetics.homing import boosted_arrest, homing_multiplier
from mscsim.kinetics.lung import lung_arrest_fraction, lung_occlusion
from mscsim.kinetics.product_state import add_product_state
from mscsim.kinetics.routes import add_routes
from mscsim.physiology import ORGANS, SYSTEMIC_ORGANS, Body

CELL_ATOL = 1e-3  # cells: below a thousandth of a cell nothing matters

#: organ -> parameter of its per-pass arrest of lung-passed cells
ARREST_PARAM = {"liver": "E_liver", "spleen": "E_spleen", "brain": "E_brain"}


@dataclass
class KineticsHandles:
    """Symbols the immune network and the outputs use."""

    comps: tuple[str, ...]
    cells_target: object          # viable MSCs in the target tissue (cells)
    cells_total: object           # viable MSCs anywhere in the body (cells)
    death_flux: object            # MSCs dying per day (cells/day), the efferocytosis hand-off
    dosed: object                 # cells given so far
    homing: object                # homing multiplier of the target
    potency_factor: object = 1    # potency of the viable cells relative to fresh ones (thaw impairment)
    primed: object = 0            # share of viable MSCs licensed by priming before infusion


def add_kinetics(m: OdeModel, body: Body, *, species: str, sdf1, d_cell, cxcr4) -> KineticsHandles:
    """Add the kinetics of MSCs to ``m`` for ``body``; ``sdf1`` is the target's SDF-1 signal."""
    comps = body.compartments
    has_target = body.target is not None
    S = {name: m.state(name, unit="cells", desc=desc, group="kinetics", atol=CELL_ATOL)
         for name, desc in (("N_ven", "free MSCs in venous blood"),
                            ("N_art", "free MSCs in arterial blood"))}
    A, G, D = {}, {}, {}
    for c in comps:
        what = body.target if c == "target" else c
        A[c] = m.state(f"A_{c}", unit="cells", group="kinetics", atol=CELL_ATOL,
                       desc=f"viable MSCs arrested in {what}")
    for c in comps:
        what = body.target if c == "target" else c
        G[c] = m.state(f"G_{c}", unit="cells", group="kinetics", atol=CELL_ATOL,
                       desc=f"engrafted long-lived MSCs in {what}")
    for c in comps:
        what = body.target if c == "target" else c
        D[c] = m.state(f"D_{c}", unit="cell-equivalents", group="kinetics", atol=CELL_ATOL,
                       desc=f"MSC debris/label held by phagocytes in {what}")
    M = m.state("M_phag", unit="cell-equivalents", group="kinetics", atol=CELL_ATOL,
                desc="MSC material inside migrating phagocytes (hand-off to the immune network)")
    N_csf = m.state("N_csf", unit="cells", group="kinetics", atol=CELL_ATOL,
                    desc="free MSCs in cerebrospinal fluid (intrathecal route)")
    A_men = m.state("A_men", unit="cells", group="kinetics", atol=CELL_ATOL,
                    desc="MSCs attached to meninges and cord surface (intrathecal route)")
    depot = m.state("depot", unit="cells", group="kinetics", atol=CELL_ATOL,
                    desc="MSCs at a local injection site")
    X_cleared = m.state("X_cleared", unit="cell-equivalents", group="kinetics", atol=CELL_ATOL,
                        desc="MSC label cleared from the body (cumulative)")
    X_dosed = m.state("X_dosed", unit="cells", group="kinetics", atol=CELL_ATOL,
                      desc="MSCs administered so far (cumulative)")
    N_ven, N_art = S["N_ven"], S["N_art"]

    # --- physiology (values per patient) ---
    BW = phys(m, "BW", body.weight_kg, "kg", "body weight")
    Q_CO = phys(m, "Q_CO", body.cardiac_output, "L/day", "cardiac output")
    V_ven = phys(m, "V_ven", body.v_ven, "L", "venous blood volume")
    V_art = phys(m, "V_art", body.v_art, "L", "arterial blood volume")
    Q = {c: phys(m, f"Q_{c}", body.flows[c], "L/day", f"blood flow to {c}")
         for c in comps if c != "lung"}
    if has_target:
        phys(m, "mass_target", body.masses["target"], "kg", f"mass of the target tissue ({body.target})")
    C_ven = N_ven / V_ven
    C_art = N_art / V_art

    # --- per-pass arrest (the lung filter saturates as it fills) ---
    occ = lung_occlusion(m, species, A["lung"], d_cell, BW)
    E_lung = lung_arrest_fraction(m, species, d_cell, occlusion=occ)
    E = {c: P(m, ARREST_PARAM.get(c, "E_sys"), species) for c in SYSTEMIC_ORGANS}
    H = homing_multiplier(m, species, sdf1, cxcr4)
    if has_target:
        E["target"] = m.rule("E_target", boosted_arrest(E[body.target_parent] if body.target_parent != "lung"
                                                          else E_lung, H), unit="1",
                             desc="per-pass arrest in the target tissue with homing",
                             source="homing.py [design]")

    # --- lung first pass ---
    m.flux(N_ven, A["lung"], E_lung * Q_CO * C_ven, desc="lung first-pass arrest",
           source="reference/kinetics.md s.2.2; Lee 2009 PMC4154377")
    m.flux(N_ven, N_art, (1 - E_lung) * Q_CO * C_ven, desc="lung passage to arterial blood",
           source="reference/kinetics.md s.2.2")

    # --- systemic organs: arrest, and the unarrested remainder drains on ---
    liver_parts = ["liver"] + (["target"] if has_target and body.target_parent == "liver" else [])
    liver_q = sum(Q[c] for c in liver_parts)
    portal_out = sp.Integer(0)
    for c in [c for c in comps if c != "lung"]:
        m.flux(N_art, A[c], E[c] * Q[c] * C_art, desc=f"arrest of arterial MSCs in {c}",
               source="reference/kinetics.md s.2.2")
        if body.portal.get(c, False):
            portal_out += (1 - E[c]) * Q[c] * C_art
        elif c not in liver_parts:
            m.flux(N_art, N_ven, (1 - E[c]) * Q[c] * C_art, desc=f"venous return from {c}",
                   source="reference/kinetics.md s.2.2")
    # liver: hepatic-artery inflow of its parts + the portal outflow, shared by flow
    for c in liver_parts:
        share = Q[c] / liver_q if len(liver_parts) > 1 else 1
        m.flux(N_art, A[c], E[c] * share * portal_out, desc=f"arrest of portal-venous MSCs in {c}",
               source="reference/kinetics.md s.2.2 (portal organs drain into the liver)")
        m.flux(N_art, N_ven, (1 - E[c]) * (share * portal_out + Q[c] * C_art),
               desc=f"hepatic venous return through {c}", source="reference/kinetics.md s.2.2")

    # --- sensitisation to allogeneic cells: anti-donor antibodies speed the clearance of later doses ---
    boost = add_sensitisation(m, species, X_dosed)

    # --- blood loss (IBMIR) to phagocytes ---
    k_blood = P(m, "k_blood", species) * boost
    m.flux(N_ven, M, k_blood * N_ven, desc="loss of free MSCs in venous blood (IBMIR)",
           source="Moll 2012 doi:10.1002/stem.1111 (mechanism); rate [design]")
    m.flux(N_art, M, k_blood * N_art, desc="loss of free MSCs in arterial blood (IBMIR)",
           source="Moll 2012 doi:10.1002/stem.1111 (mechanism); rate [design]")

    # --- death, release, engraftment, debris, phagocyte routing; intrathecal and local ---
    cns_comp = "target" if has_target and body.target_parent == "brain" else "brain"
    death = add_clearance(m, body, species, A=A, G=G, D=D, M=M, N_ven=N_ven, X_cleared=X_cleared,
                          liver_parts=liver_parts, A_men=A_men, cns_comp=cns_comp, boost=boost)
    death += k_blood * (N_ven + N_art)
    # complement/IBMIR: the intravascular part of the death is lysis, not apoptosis, in a share
    # that rises with the intravascular load; lysed cells do not educate phagocytes
    load = (N_ven + N_art + sum(A.values())) / BW
    f_lysis = ibmir_lysis_fraction(m, species, load)
    death = death * (1 - f_lysis)
    death += add_routes(m, body, species, A=A, D=D, M=M, N_ven=N_ven, N_csf=N_csf, A_men=A_men,
                        depot=depot, X_dosed=X_dosed, E=E, H=H, liver_parts=liver_parts,
                        portal_out_of=lambda c: body.portal.get(c, False), cns_comp=cns_comp)

    # --- read-outs ---
    w_site = {c: m.symbol(f"w_site_{c}") for c in comps}
    cells = {}
    for c in comps:
        extra = w_site[c] * depot + (A_men if c == cns_comp else 0)
        cells[c] = m.rule(f"cells_{c}", A[c] + G[c] + extra, unit="cells",
                          desc=f"viable MSCs in {body.target if c == 'target' else c}",
                          source="sum of arrested, engrafted, local-depot and meningeal MSCs", output=True)
    for c in comps:
        m.rule(f"label_{c}", cells[c] + D[c], unit="cell-equivalents",
               desc=f"MSC label (viable + debris) in {c}, for imaging",
               source="label follows debris (Eggenhofer 2012 PMID 23056000)", output=True)
    dose_ref = sp.Max(X_dosed, 1)
    for organ in ORGANS:
        parts = [organ] + (["target"] if has_target and body.target_parent == organ else [])
        m.rule(f"msc_{organ}_pct", 100 * sum(cells[c] for c in parts) / dose_ref, unit="% of dose",
               desc=f"viable MSCs in {organ} (incl. its injured part), percent of cells given",
               source="read-out", output=True)
        m.rule(f"label_{organ}_pct", 100 * sum(cells[c] + D[c] for c in parts) / dose_ref,
               unit="% of dose", desc=f"MSC label in {organ}, percent of cells given",
               source="read-out (imaging unit of Gholamrezanezhad 2011)", output=True)
    if has_target:
        m.rule("msc_target_pct", 100 * cells["target"] / dose_ref, unit="% of dose",
               desc="viable MSCs in the target tissue, percent of cells given", source="read-out",
               output=True)
        m.rule("label_target_pct", 100 * (cells["target"] + D["target"]) / dose_ref, unit="% of dose",
               desc="MSC label in the target tissue, percent of cells given", source="read-out",
               output=True)
    m.rule("msc_blood", (N_ven + N_art) / ((V_ven + V_art) * 1000), unit="cells/mL",
           desc="free viable MSCs in blood", source="read-out", output=True)
    m.rule("label_blood_pct", 100 * (N_ven + N_art + M) / dose_ref, unit="% of dose",
           desc="MSC label in blood (free cells + phagocytes)", source="read-out", output=True)
    total = m.rule("msc_viable", N_ven + N_art + N_csf + sum(cells.values()), unit="cells",
                   desc="viable MSCs anywhere in the body", source="read-out", output=True)
    m.rule("msc_viable_pct", 100 * total / dose_ref, unit="% of dose",
           desc="viable MSCs in the body, percent of cells given", source="read-out", output=True)
    m.rule("msc_debris", sum(D.values()) + M, unit="cell-equivalents",
           desc="MSC debris/label in tissue and migrating phagocytes", source="read-out", output=True)
    # --- product states the cells carry in (thaw impairment, IFN-gamma priming) ---
    potency_factor, primed = add_product_state(m, species, inflow=m.derivative("X_dosed"), viable=total)
    death_flux = m.rule("msc_death_flux", death, unit="cells/day",
                        desc="MSCs dying by apoptosis per day (efferocytosis hand-off to the immune network)",
                        source="de Witte 2018 doi:10.1002/stem.2752; Galleu 2017 Sci Transl Med 9:eaam7828",
                        output=True)
    return KineticsHandles(comps=comps, cells_target=cells.get("target", sp.Integer(0)),
                           cells_total=total, death_flux=death_flux, dosed=X_dosed, homing=H,
                           potency_factor=potency_factor, primed=primed)
