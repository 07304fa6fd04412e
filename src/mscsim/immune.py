"""The immune network shared by all diseases (design.md layer 3; disease-models.md s.1).

How MSCs calm the immune system, in three mechanisms:

1. **Licensed contact/paracrine suppression in the target tissue.** Living MSCs are licensed by
   local IFN-gamma together with TNF-alpha (synergy, PMC3341954) and suppress effector T-cell
   activation with an Emax in the licensed-MSC:T-cell ratio (Imax 0.98, Di Nicola 2002;
   r50 ~ 1:10, Stem Cell Res Ther 2023). This dominates for local and intrathecal doses.
2. **Systemic secretome** of licensed viable MSCs wherever they sit (mostly lung-trapped after
   IV; TSG-6, Lee 2009): an Emax in licensed cells per kg.
3. **Hit-and-run memory.** Phagocytes that engulf dying MSCs become tolerogenic (IDO+, IL-10+;
   Galleu 2017, de Witte 2018) and keep acting for months after the cells are gone
   (decay 1/90 per day, from the 3-6 month RA effect, Wang L 2013).
4. **Regulatory set point** (``tol_set``): MSC-educated phagocytes induce Tregs, and induced
   Tregs make TGF-beta and IL-10 that induce more Tregs ("infectious tolerance"). A sigmoid
   positive loop: below its bistability threshold (``g_tol < 2 K_tol``) it only slows the decay
   of the MSC effect; above it, a large enough MSC push leaves a lasting new set point. Its
   strength is a design value for calibration (docs/design.md, "Durable effect").

States, in a systemic (blood/lymphoid, suffix ``_s``) and a target-tissue (suffix ``_t``)
compartment, relative to a healthy adult (= 1): Th1, Th2, Th17, Treg, M1, M2, MSC licensing L,
and the memory pool P (cell-equivalents/kg). Cytokines (pg/mL) are algebraic (their blood
half-lives are minutes to hours, parameter-sources.md s.3.3): made by the cells, IL-10 first,
then TNF-alpha, IFN-gamma, IL-6 (cut by IL-10), IL-17, IL-4, TGF-beta. MSCs lower TNF-alpha,
IFN-gamma and IL-17, raise IL-10 and IL-4, lower Th17 and raise Treg (Aggarwal & Pittenger
2005; Nemeth 2009). Disease modules supply the autoimmune drive of each compartment.
Functional forms are design choices (marked in the parameter table); see docs/model.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from mscsim.numerics import OdeModel, hill, sympy as sp
from mscsim.kinetics import KineticsHandles
from mscsim.kinetics.common import P
SUBSETS = ("Th1", "Th2", "Th17", "Treg")
COMPARTMENTS = {"s": "blood/lymphoid (systemic)", "t": "target tissue"}
CYTOKINES = ("tnf", "ifng", "il17", "il6", "il10", "il4", "tgfb")


@dataclass
class ImmuneHandles:
    """Symbols the disease modules read (per compartment 's' and 't')."""

    cyt: dict            # (compartment, cytokine) -> symbol, pg/mL
    cells: dict          # (compartment, subset) -> state symbol (relative to healthy)
    healthy: dict        # cytokine -> healthy pg/mL symbol
    msc_effect_t: object  # combined MSC effect in the tissue (0..1)
    msc_effect_s: object  # combined MSC effect systemically (0..1)
    suppression_t: object  # licensed direct suppression in tissue (0..1)
    memory: object        # tolerogenic phagocyte effect E_P (0..1)
    local_msc_density: object  # viable MSCs per g of target tissue


def _disease_of(m: OdeModel) -> str:
    """The disease of a composed model, from its name ``mscsim-<disease>-<target>[-<subtype>]``."""
    parts = m.name.split("-")
    if len(parts) < 2 or parts[0] != "mscsim":
        raise ValueError(f"add_immune needs disease=... for model {m.name!r}")
    return parts[1]


def add_immune(m: OdeModel, kin: KineticsHandles, *, drive_s, drive_t, species: str = "human",
               il6_extra_t=0, il6_extra_s=0, disease: str | None = None) -> ImmuneHandles:
    """Add the immune network driven by ``drive_s``/``drive_t`` (0 = healthy, dimensionless).

    ``disease`` (default: from the model name) picks the per-disease parameters of the memory
    (``P50_memory_<disease>``, ``iota_P_<disease>``) and of the regulatory set point's push
    (``a_tol_P_<disease>``, 0 where the durable loop is not yet switched on): one name, one value."""
    disease = disease or _disease_of(m)
    p = {n: P(m, n, species) for n in (
        "k_lic", "k_lic_off", "K_lic_ifng", "K_lic_tnf", "Imax_msc", "r50_msc", "n_msc",
        "F50_secretome", "d_P", "k_tol", "g_tol", "K_tol", "iota_tol", "g_Treg_tol", "k_T", "k_Treg", "k_M", "k_M12",
        "a_M12_msc", "a_IL6_Th17", "b_IL6_Treg", "K_IL6", "kappa_Treg", "g_Treg_msc", "g_Th2_msc",
        "i_cyt_msc", "K_IL10", "w_TNF_M1", "w_IL10_M2", "a_IL10_P", "a_TGF_msc", "chi_tissue",
        "rho_T_tissue", "TNF_h", "IFNG_h", "IL6_h", "IL10_h", "IL4_h", "IL17_h", "TGFB_h",
        "Th17_pct_h", "Treg_pct_h", "Th1_pct_h", "Th2_pct_h")}
    p["P50_memory"] = P(m, f"P50_memory_{disease}", species)
    p["iota_P"] = P(m, f"iota_P_{disease}", species)
    p["a_tol_P"] = P(m, f"a_tol_P_{disease}", species)
    BW = m.symbol("BW")
    potency = m.symbol("potency")
    mass_t = m.symbol("mass_target")
    healthy = {"tnf": p["TNF_h"], "ifng": p["IFNG_h"], "il6": p["IL6_h"], "il10": p["IL10_h"],
               "il4": p["IL4_h"], "il17": p["IL17_h"], "tgfb": p["TGFB_h"]}
    pct_h = {"Th1": p["Th1_pct_h"], "Th2": p["Th2_pct_h"], "Th17": p["Th17_pct_h"], "Treg": p["Treg_pct_h"]}

    X, M1, M2, L = {}, {}, {}, {}
    for c, where in COMPARTMENTS.items():
        for s in SUBSETS:
            X[c, s] = m.state(f"{s}_{c}", unit="relative to healthy", group="immune", init=1.0, atol=1e-8, init_mode="steady",
                              desc=f"{s} CD4 T cells in {where} (healthy = 1)")
        M1[c] = m.state(f"M1_{c}", unit="relative to healthy", group="immune", init=1.0, atol=1e-8, init_mode="steady",
                        desc=f"pro-inflammatory M1 macrophages/monocytes in {where}")
        M2[c] = m.state(f"M2_{c}", unit="relative to healthy", group="immune", init=1.0, atol=1e-8, init_mode="steady",
                        desc=f"regulatory M2 macrophages/monocytes in {where}")
        L[c] = m.state(f"L_{c}", unit="fraction", group="immune", init=0.0, atol=1e-9, init_mode="steady",
                       desc=f"licensing of MSCs by IFN-gamma + TNF-alpha in {where} (0..1)")
    Pm = m.state("P_mem", unit="cell-equivalents/kg", group="immune", init=0.0, atol=1e-2, init_mode="steady",
                 desc="MSC material efferocytosed by tolerogenic phagocytes (hit-and-run memory)")

    # --- MSC signals ---
    E_P = m.rule("msc_memory", Pm / (Pm + p["P50_memory"]), unit="1",
                 desc="effect of tolerogenic (MSC-educated) phagocytes, 0..1",
                 source="Galleu 2017 Sci Transl Med 9:eaam7828; de Witte 2018 doi:10.1002/stem.2752 [form: design]",
                 output=True)
    # the product's potency, lowered while thawed cells recover (kinetics/product_state.py)
    potency = m.rule("msc_potency_effective", potency * kin.potency_factor, unit="1",
                     desc="potency of the viable MSCs: the product's, times the thaw-recovery factor",
                     source="data/products.yaml; Francois 2012 PMID 22029655", output=True)
    # only functional MSCs educate the phagocytes that engulf them: monocytes that efferocytose viable
    # MSCs turn IL-10+/IDO+ and suppress T cells, those that engulf heat-inactivated MSCs do not
    # (Schrodt 2023 Stem Cell Res Ther, DOI 10.1186/s13287-023-03443-z), so potency weights the memory
    m.rate(Pm, potency * kin.death_flux / BW - p["d_P"] * Pm,
           desc="efferocytosis of dying MSCs builds the memory, weighted by their potency; it fades",
           source="disease-models.md s.1.4e; d_P from Wang L 2013 (PMID 23941289); potency weight: Schrodt 2023 "
                  "DOI 10.1186/s13287-023-03443-z")
    # --- regulatory set point: a self-sustaining Treg / TGF-beta / IL-10 loop (durable tolerance) ---
    tol = m.state("tol_set", unit="fraction", group="immune", init=0.0, atol=1e-9,
                  desc="regulatory set point carried by induced Tregs (0 = untreated, 1 = maximal)")
    u_tol = p["a_tol_P"] * E_P + p["g_tol"] * tol
    m.rate(tol, p["k_tol"] * (u_tol**2 / (p["K_tol"] ** 2 + u_tol**2) - tol),
           desc="MSC-educated phagocytes push the regulatory set point; induced Tregs sustain it (positive loop)",
           source="infectious tolerance (Waldmann 2008 Nat Immunol 9:1001); MSC-educated IL-10+ monocytes "
                  "(PMC3669444) [form: design; bistable when g_tol > 2 K_tol]")
    m.rule("tolerance", tol, unit="1", desc="regulatory set point (durable MSC effect), 0..1", source="state",
           output=True)
    tsum = {}
    for c in COMPARTMENTS:
        tsum[c] = m.rule(f"cd4_index_{c}", 1 + sum(pct_h[s] / 100 * (X[c, s] - 1) for s in SUBSETS), unit="1",
                         desc=f"CD4 T cells in {COMPARTMENTS[c]} relative to healthy",
                         source="sum of subsets weighted by their healthy share of CD4")
    # licensed share: by the local cytokines (L) or by IFN-gamma priming before infusion
    lic = {c: m.rule(f"msc_licensed_{c}", 1 - (1 - L[c]) * (1 - kin.primed), unit="1",
                     desc=f"share of MSCs licensed in {where}, by inflammation or by priming before infusion",
                     source="independent routes to licensing combine [design]", output=True)
           for c, where in COMPARTMENTS.items()}
    density = m.rule("msc_local_density", kin.cells_target / (1000 * mass_t), unit="cells/g",
                     desc="viable MSCs per gram of target tissue", source="read-out", output=True)
    T_abs = p["rho_T_tissue"] * 1000 * mass_t * tsum["t"]
    ratio = m.rule("msc_t_ratio_tissue", potency * lic["t"] * kin.cells_target / T_abs, unit="MSC per T cell",
                   desc="licensed MSC : CD4 T-cell ratio in the target tissue",
                   source="Emax on MSC:T ratio (disease-models.md s.1.4c)", output=True)
    r_eps = ratio + 1e-12  # keeps the Jacobian of r^n finite at r = 0
    I_t = m.rule("msc_suppression_tissue",
                 p["Imax_msc"] * r_eps**p["n_msc"] / (p["r50_msc"]**p["n_msc"] + r_eps**p["n_msc"]), unit="1",
                 desc="licensed contact/paracrine suppression of T-cell activation in the target tissue",
                 source="Di Nicola 2002 PMID 11986244 (Imax); doi:10.1186/s13287-023-03589-w (r50)", output=True)
    F = p["F50_secretome"]
    sec = potency * lic["s"] * kin.cells_total / BW / F
    I_s = m.rule("msc_suppression_systemic", p["Imax_msc"] * sec / (1 + sec), unit="1",
                 desc="systemic paracrine suppression by licensed viable MSCs (secretome)",
                 source="Lee 2009 PMC4154377 (TSG-6 from lung-trapped MSCs) [form: design]", output=True)
    I_tot = {"s": I_s, "t": m.rule("msc_suppression_tissue_total", 1 - (1 - I_t) * (1 - I_s), unit="1",
                                   desc="local and systemic MSC suppression felt in the tissue",
                                   source="independent mechanisms combine multiplicatively [design]")}
    eff = {c: m.rule(f"msc_effect_{c}", 1 - (1 - E_P) * (1 - I_tot[c]), unit="1",
                     desc=f"combined MSC effect in {COMPARTMENTS[c]} (suppression or memory), 0..1",
                     source="[design]", output=True) for c in COMPARTMENTS}

    # --- cytokines (algebraic; IL-10 and TGF-beta first, then the ones IL-10 restrains) ---
    cyt = {}
    extra_il6 = {"s": il6_extra_s, "t": il6_extra_t}
    for c, where in COMPARTMENTS.items():
        suf = "" if c == "s" else "_tissue"
        il10 = m.rule(f"il10{suf}", healthy["il10"] * (p["w_IL10_M2"] * M2[c] + (1 - p["w_IL10_M2"]) * X[c, "Treg"])
                      * (1 + p["a_IL10_P"] * E_P), unit="pg/mL", desc=f"IL-10 in {where}",
                      source="made by M2 and Treg (Vantage RA QSP, disease-models.md s.2.2); MSC-educated "
                             "macrophages (Nemeth 2009 PMID 19098906)", output=True)
        inh = (1 + healthy["il10"] / p["K_IL10"]) / (1 + il10 / p["K_IL10"])
        cut = 1 - p["i_cyt_msc"] * I_tot[c]
        cyt[c, "il10"] = il10
        cyt[c, "tgfb"] = m.rule(f"tgfb{suf}", healthy["tgfb"] * (0.5 * M2[c] + 0.5 * X[c, "Treg"])
                                * (1 + p["a_TGF_msc"] * I_tot[c]), unit="pg/mL", desc=f"TGF-beta1 in {where}",
                                source="made by Treg and macrophages (Vantage RA QSP); MSC TGF-beta1 (Di Nicola 2002)",
                                output=True)
        cyt[c, "tnf"] = m.rule(f"tnf{suf}", healthy["tnf"] * (p["w_TNF_M1"] * M1[c] + (1 - p["w_TNF_M1"]) * X[c, "Th1"])
                               * inh * cut, unit="pg/mL", desc=f"TNF-alpha in {where}",
                               source="made by M1 and Th1, restrained by IL-10 (Vantage RA QSP); MSC PGE2/TSG-6 "
                                      "(Aggarwal & Pittenger 2005)", output=True)
        cyt[c, "ifng"] = m.rule(f"ifng{suf}", healthy["ifng"] * X[c, "Th1"] * inh * cut, unit="pg/mL",
                                desc=f"IFN-gamma in {where}", source="made by Th1, restrained by IL-10", output=True)
        cyt[c, "il6"] = m.rule(f"il6{suf}", healthy["il6"] * (M1[c] + extra_il6[c]) * inh, unit="pg/mL",
                               desc=f"IL-6 in {where}", source="made by M1 (and disease cells), restrained by IL-10",
                               output=True)
        cyt[c, "il17"] = m.rule(f"il17{suf}", healthy["il17"] * X[c, "Th17"], unit="pg/mL", desc=f"IL-17A in {where}",
                                source="made by Th17", output=True)
        cyt[c, "il4"] = m.rule(f"il4{suf}", healthy["il4"] * X[c, "Th2"], unit="pg/mL", desc=f"IL-4 in {where}",
                               source="made by Th2", output=True)

    # --- licensing ---
    for c, where in COMPARTMENTS.items():
        sig = hill(cyt[c, "ifng"], p["K_lic_ifng"]) * hill(cyt[c, "tnf"], p["K_lic_tnf"])
        m.rate(L[c], p["k_lic"] * sig * (1 - L[c]) - p["k_lic_off"] * L[c],
               desc=f"MSC licensing by IFN-gamma and TNF-alpha in {where}",
               source="PMC3341954 (synergy); disease-models.md s.1.4b")

    # --- T cells and macrophages ---
    eff_s_index = (X["s", "Th1"] + X["s", "Th17"]) / 2
    drive = {"s": drive_s, "t": drive_t}
    for c, where in COMPARTMENTS.items():
        supp = 1 / (1 + p["kappa_Treg"] * (X[c, "Treg"] - 1))
        recruit = 1 if c == "s" else (1 + p["chi_tissue"] * (eff_s_index - 1))
        act = m.rule(f"activation_{c}", drive[c] * (1 - I_tot[c]) * (1 - p["iota_P"] * E_P) * (1 - p["iota_tol"] * tol)
                     * supp * recruit,
                     unit="1", desc=f"effector activation in {where} (0 = healthy)",
                     source="disease drive x MSC suppression x memory x regulatory set point x Treg suppression [design]",
                     output=True)
        h6 = hill(cyt[c, "il6"], p["K_IL6"])
        h6_h = hill(healthy["il6"], p["K_IL6"])
        targets = {
            "Th1": 1 + act,
            "Th17": 1 + act * (1 + p["a_IL6_Th17"] * h6) / (1 + p["a_IL6_Th17"] * h6_h),
            "Th2": 1 + p["g_Th2_msc"] * eff[c],
            "Treg": (1 + p["g_Treg_msc"] * eff[c]) * (1 + p["g_Treg_tol"] * tol) * (1 - p["b_IL6_Treg"] * h6) / (1 - p["b_IL6_Treg"] * h6_h),
        }
        for s in SUBSETS:
            k = p["k_Treg"] if s == "Treg" else p["k_T"]
            m.rate(X[c, s], k * (targets[s] - X[c, s]), desc=f"{s} in {where} relaxes to its driven level",
                   source="indirect-response form [design]; drivers: Vantage RA QSP (IL-6 -> Th17, IL-6 -| Treg), "
                          "MSC -> Treg (doi:10.1186/s13287-020-02057-z), MSC -> Th2 (Aggarwal & Pittenger 2005)")
        conv = p["k_M12"] * (1 + p["a_M12_msc"] * eff[c])
        m.rate(M1[c], (p["k_M"] + p["k_M12"]) * (1 + act) - (p["k_M"] + conv) * M1[c],
               desc=f"M1 recruitment with activation, turnover and conversion to M2 in {where}",
               source="Wang Y 2012 BMC Genomics 13(S6):S21 via Lafci Buyukkahraman 2025 (k9 doubled by stem cells)")
        m.rate(M2[c], (p["k_M"] - p["k_M12"]) + conv * M1[c] - p["k_M"] * M2[c],
               desc=f"M2 inflow, conversion from M1 and turnover in {where}",
               source="Wang Y 2012 via Lafci Buyukkahraman 2025")

    # --- blood T-cell percentages (endpoints) ---
    denom = tsum["s"]
    th17 = m.rule("th17_pct", pct_h["Th17"] * X["s", "Th17"] / denom, unit="% of CD4",
                  desc="Th17 cells in blood, % of CD4", source="read-out", output=True)
    treg = m.rule("treg_pct", pct_h["Treg"] * X["s", "Treg"] / denom, unit="% of CD4",
                  desc="Treg cells in blood, % of CD4", source="read-out", output=True)
    m.rule("th17_treg_ratio", th17 / treg, unit="1", desc="Th17/Treg ratio in blood", source="read-out", output=True)
    cells = {(c, s): X[c, s] for c in COMPARTMENTS for s in SUBSETS}
    cells.update({(c, "M1"): M1[c] for c in COMPARTMENTS})
    cells.update({(c, "M2"): M2[c] for c in COMPARTMENTS})
    return ImmuneHandles(cyt=cyt, cells=cells, healthy=healthy, msc_effect_t=eff["t"], msc_effect_s=eff["s"],
                         suppression_t=I_t, memory=E_P, local_msc_density=density)


def ratio_to_healthy(imm: ImmuneHandles, c: str, cytokine: str):
    """Cytokine in compartment ``c`` relative to its healthy level (1 = healthy)."""
    return imm.cyt[c, cytokine] / imm.healthy[cytokine]


__all__ = ["add_immune", "ImmuneHandles", "ratio_to_healthy", "CYTOKINES", "sp"]
