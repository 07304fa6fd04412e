"""What happens to arrested MSCs: release, death/efferocytosis, engraftment, debris and label.

Arrested cells die with rate ``k_dep`` (Toma 2009: 14 % left at day 3; lungs: half-life 24 h,
Lee 2009). A fraction ``f_local`` of a dead cell's material stays with the organ's resident
phagocytes as debris ``D`` (this is what radiolabel imaging sees, Eggenhofer 2012); the rest is
carried by migrating monocytes (``M_phag``, de Witte 2018) that settle in spleen, liver and
bone marrow. A small fraction of arrested cells engrafts (``G``) and lives for weeks (von Bahr
2012). Debris is cleared slowly to ``X_cleared``.
"""

from __future__ import annotations

from mscsim.numerics import OdeModel
from mscsim.kinetics.common import P
from mscsim.physiology import Body


def _die(m: OdeModel, src, rate, D_c, M, f_local, where: str, what: str, source: str):
    m.flux(src, D_c, f_local * rate, desc=f"{what} in {where}: material kept by resident phagocytes",
           source=source)
    m.flux(src, M, (1 - f_local) * rate, desc=f"{what} in {where}: material carried off by monocytes",
           source=source + "; de Witte 2018 doi:10.1002/stem.2752")


def add_clearance(m: OdeModel, body: Body, species: str, *, A, G, D, M, N_ven, X_cleared,
                  liver_parts, A_men, cns_comp, boost=1):
    """Add release, death, engraftment and debris fluxes; return the tissue death flux.

    ``boost`` multiplies the death rates of arrested cells (anti-donor antibodies, dose_limits.py)."""
    k_rel = P(m, "k_rel", species)
    k_dep = P(m, "k_dep", species) * boost
    k_loss_lung = P(m, "k_loss_lung", species)
    f_eng = P(m, "f_engraft", species)
    k_G = P(m, "k_engrafted", species)
    f_local = P(m, "f_local", species)
    k_mig = P(m, "k_mig", species)
    r_spleen = P(m, "route_spleen", species)
    r_liver = P(m, "route_liver", species)
    k_label = P(m, "k_label", species)
    k_dep_cns = P(m, "k_dep_cns", species)
    death = 0
    for c, A_c in A.items():
        kd = (k_loss_lung - k_rel) * boost if c == "lung" else k_dep
        src = ("Lee 2009 PMC4154377 (lung half-life 24 h)" if c == "lung"
               else "Toma 2009 PMC3700384 (14 % left at day 3)")
        m.flux(A_c, N_ven, k_rel * A_c, desc=f"release of arrested MSCs from {c}",
               source="k_rel [design]")
        _die(m, A_c, kd * A_c, D[c], M, f_local, c, "death/efferocytosis of arrested MSCs", src)
        m.flux(A_c, G[c], f_eng * kd * A_c, desc=f"engraftment of arrested MSCs in {c}",
               source="von Bahr 2012 doi:10.1016/j.bbmt.2011.11.024 [rate: design]")
        _die(m, G[c], k_G * G[c], D[c], M, f_local, c, "loss of engrafted MSCs",
             "von Bahr 2012 [design]")
        m.flux(D[c], X_cleared, k_label * D[c], desc=f"clearance of MSC debris/label from {c}",
               source="k_label [design]")
        death += kd * A_c + k_G * G[c]
    _die(m, A_men, k_dep_cns * A_men, D[cns_comp], M, f_local, "meninges",
         "death of meningeal MSCs", "Karussis 2010 doi:10.1001/archneurol.2010.248 [rate: design]")
    death += k_dep_cns * A_men
    # phagocytes carrying MSC material settle in spleen, liver (by mass share) and marrow
    routing = [("spleen", r_spleen), ("marrow", 1 - r_spleen - r_liver)]
    lmass = sum(body.masses[c] for c in liver_parts)
    routing += [(c, r_liver * body.masses[c] / lmass) for c in liver_parts]
    for c, share in routing:
        m.flux(M, D[c], share * k_mig * M, desc=f"MSC-laden phagocytes settle in {c}",
               source="Gholamrezanezhad 2011 (label rises in spleen and liver to day 10); "
                      "Eggenhofer 2012 PMID 23056000; shares calibrated")
    return death
