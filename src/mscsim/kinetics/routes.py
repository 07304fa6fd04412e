"""Routes of administration: where a dose enters the body (design.md "Units"; kinetics.md s.2.2).

- ``iv``: into venous blood, so the lung sees it first.
- ``intra_arterial`` (hepatic, pancreatic, carotid, renal, coronary): into the inflow of the
  fed organ, where fresh cells arrest with ``E_ia`` (Toma 2009: 92 %) on first pass, boosted by
  homing when that organ is the injured target; the rest drains on (to the liver for portal
  organs, else to venous blood). The lung is bypassed on first pass.
- ``intraportal``: into the liver inflow, first-pass arrest ``E_ia``.
- ``intrathecal``: into the CSF; cells attach to meninges/cord (and act on the CNS), a few
  drain with CSF bulk flow to venous blood, some die in the CSF.
- ``local`` (joint, perianal fistula, ...): into a depot at the site, where cells live long
  (Shim 2015: residence 95-fold longer than IV) and leak slowly to blood.

Every dose arrives as a constant rate (cells/day) on the route's input parameter while it is
infused; a bolus is a one-minute push (``dosing.BOLUS_DAYS``).
"""

from __future__ import annotations

from mscsim.dosing import ARTERIES
from mscsim.numerics import OdeModel, sympy as sp
from mscsim.kinetics.common import P, phys
from mscsim.kinetics.homing import boosted_arrest
from mscsim.physiology import Body


def _input(m: OdeModel, name: str, desc: str):
    return m.param(name, 0.0, unit="cells/day", desc=desc,
                   source="dosing: set while a dose is infused", kind="input")


def add_routes(m: OdeModel, body: Body, species: str, *, A, D, M, N_ven, N_csf, A_men, depot,
               X_dosed, E, H, liver_parts, portal_out_of, cns_comp):
    """Add the route inputs; return the death flux of cells in CSF and local depots."""
    has_target = body.target is not None
    E_ia = P(m, "E_ia", species)
    f_local = P(m, "f_local", species)
    Q = {c: m.symbol(f"Q_{c}") for c in body.compartments if c != "lung"}
    lq = sum(Q[c] for c in liver_parts)
    inputs = []

    def drain(c, amount, what):
        """The unarrested part of a first pass leaves compartment c."""
        if portal_out_of(c):
            for lp in liver_parts:
                share = Q[lp] / lq if len(liver_parts) > 1 else 1
                m.flux(None, A[lp], E[lp] * share * amount, desc=f"{what}: arrest of the remainder in {lp}",
                       source="portal organs drain into the liver")
                m.flux(None, N_ven, (1 - E[lp]) * share * amount, desc=f"{what}: remainder to venous blood",
                       source="portal organs drain into the liver")
        else:
            m.flux(None, N_ven, amount, desc=f"{what}: remainder to venous blood", source="kinetics.md s.2.2")

    def first_pass(c, rate, what, homing: bool):
        e = boosted_arrest(E_ia, H) if homing else E_ia
        m.flux(None, A[c], e * rate, desc=f"{what}: first-pass arrest in {c}",
               source="Toma 2009 PMC3700384 (92 % first-pass arrest)")
        drain(c, (1 - e) * rate, what)

    in_iv = _input(m, "in_iv", "IV infusion rate into venous blood")
    m.flux(None, N_ven, in_iv, desc="IV dose into venous blood", source="route iv")
    inputs.append(in_iv)

    for artery, (organ, tissue) in ARTERIES.items():
        rate = _input(m, f"in_ia_{artery}", f"intra-arterial infusion rate into the {artery} artery")
        inputs.append(rate)
        what = f"intra-arterial ({artery})"
        if has_target and body.target == tissue:
            first_pass("target", rate, what, homing=True)
        elif has_target and body.target_parent == organ and organ != "lung":
            share_t = Q["target"] / (Q["target"] + Q[organ])
            first_pass("target", share_t * rate, what, homing=True)
            first_pass(organ, (1 - share_t) * rate, what, homing=False)
        else:
            first_pass(organ, rate, what, homing=False)

    in_portal = _input(m, "in_portal", "intraportal infusion rate")
    inputs.append(in_portal)
    for lp in liver_parts:
        share = Q[lp] / lq if len(liver_parts) > 1 else 1
        e = boosted_arrest(E_ia, H) if lp == "target" else E_ia
        m.flux(None, A[lp], e * share * in_portal, desc=f"intraportal dose: first-pass arrest in {lp}",
               source="Toma 2009 PMC3700384")
        m.flux(None, N_ven, (1 - e) * share * in_portal, desc="intraportal dose: remainder to venous blood",
               source="kinetics.md s.2.2")

    # intrathecal
    in_it = _input(m, "in_it", "intrathecal infusion rate into the CSF")
    inputs.append(in_it)
    V_csf = phys(m, "V_csf", body.csf_volume, "L", "CSF volume")
    Q_csf = phys(m, "Q_csf", body.csf_flow, "L/day", "CSF production (bulk outflow)")
    k_att = P(m, "k_csf_attach", species)
    f_drain = P(m, "f_csf_drain", species)
    k_csf_death = P(m, "k_csf_death", species)
    m.flux(None, N_csf, in_it, desc="intrathecal dose into the CSF", source="route intrathecal")
    m.flux(N_csf, A_men, k_att * N_csf, desc="attachment of CSF MSCs to meninges/cord",
           source="Karussis 2010 doi:10.1001/archneurol.2010.248 [rate: design]")
    m.flux(N_csf, N_ven, f_drain * Q_csf / V_csf * N_csf, desc="CSF bulk outflow carries MSCs to venous blood",
           source="Sakka 2011 doi:10.1016/j.anorl.2011.03.002 (CSF turnover); f_csf_drain [design]")
    m.flux(N_csf, D[cns_comp], f_local * k_csf_death * N_csf, desc="death of MSCs in CSF (local debris)",
           source="k_csf_death (Toma 2009)")
    m.flux(N_csf, M, (1 - f_local) * k_csf_death * N_csf, desc="death of MSCs in CSF (to monocytes)",
           source="k_csf_death (Toma 2009)")

    # local injection depot
    in_local = _input(m, "in_local", "local injection rate into the site depot")
    inputs.append(in_local)
    k_leak = P(m, "k_depot_leak", species)
    k_dd = P(m, "k_depot_death", species)
    m.flux(None, depot, in_local, desc="local dose into the injection-site depot", source="route local")
    m.flux(depot, N_ven, k_leak * depot, desc="leak of locally injected MSCs to blood",
           source="Shim 2015 doi:10.1089/scd.2014.0240 [rate: design]")
    for c in body.compartments:
        w = m.param(f"w_site_{c}", 0.0, unit="1", desc=f"1 when the local injection site lies in {c}",
                    source="dosing: set from the regimen's site", kind="input")
        m.flux(depot, D[c], w * f_local * k_dd * depot, desc=f"death of locally injected MSCs in {c}",
               source="Shim 2015 (residence 95x IV)")
    m.flux(depot, M, (1 - f_local) * k_dd * depot, desc="death of locally injected MSCs (to monocytes)",
           source="Shim 2015 (residence 95x IV)")

    m.rate(X_dosed, sp.Add(*inputs), desc="cells administered", source="bookkeeping")
    return k_csf_death * N_csf + k_dd * depot
