"""Inflammatory bowel disease: mucosal inflammation, epithelial barrier, ulcers, CRP; Crohn's
luminal disease (CDAI), perianal fistula (closure, combined remission) and ulcerative colitis (Mayo).

Structure (disease-models.md s.6.3, reduced):

- ``infl``: inflammatory activity of the target tissue (gut wall, or the fistula tract for the
  perianal subtype; 1 = typical active disease) follows the tissue TNF-alpha, IL-6, IFN-gamma and
  IL-17 excess of the immune network (as the RA synovitis index).
- ``Ep``: epithelial barrier / lining integrity (0..1). Repair ``rho (1 - Ep) G`` is boosted by
  tissue IL-10 and by the local MSC density (trophic: HGF, TSG-6, PGE2), damage ``kappa TNF Ep``.
  Barrier loss lets luminal antigen/bacteria in: part of the tissue autoimmune drive scales with
  ``1 - Ep`` (translocation B proportional to 1 - Ep).
- ``ulcer``: mucosal damage (1 = typical active disease, 0 = healed); forms with inflammation on
  a leaky barrier and heals as the barrier recovers, on the weeks-months time scale of endoscopic
  healing.
- ``crp``: serum CRP made in response to serum IL-6 (half-life 19 h).
- ``placebo`` (shared ``add_placebo``): subjective components (stools, pain, well-being, Mayo
  stool/bleeding/PGA) fall during a trial.
- perianal subtype only: ``proc`` (the fistula procedure every arm of a local-injection trial gets:
  examination under anaesthesia, curettage, seton placement/removal; starts at ``trial_on`` and
  fades) and ``p_closed``, the probability that all treated external openings are closed
  (two-state open/closed process): closure hazard ``(lam0 + lam_proc proc + lam_msc X) G_infl``
  with X the local MSC exposure (density Hill) and ``G_infl`` rising as tract inflammation falls;
  reopening hazard grows with inflammation. Combined remission = closed and no collection > 2 cm
  on MRI, whose probability among closed fistulas grows with inflammation (ADMIRE-CD).

Where MSCs act: through the immune network (licensed local suppression, systemic secretome,
tolerogenic-phagocyte memory -> lower tissue TNF/IFN-gamma/IL-17/IL-6, more IL-10), through the
local MSC density (epithelial/tract repair and the fistula closure hazard), and, via the barrier,
on the antigen drive.

Read-outs: CDAI components and Mayo subscores are monotone functions of the states; the scores are
the exact formulas of ``mscsim.scores`` (Best 1976 CDAI; Schroeder 1987 Mayo).
"""

from __future__ import annotations

import numpy as np

from mscsim import scores
from mscsim.diseases.base import Background, Endpoint, add_placebo, gauss, lognoise
from mscsim.immune import ratio_to_healthy
from mscsim.kinetics import KineticsHandles
from mscsim.kinetics.common import P
from mscsim.numerics import sympy as sp

NAME = "ibd"
SUBTYPES = ("crohns_luminal", "crohns_perianal", "uc")
DEFAULT_SUBTYPE = "crohns_perianal"
_TARGETS = {"crohns_luminal": "gut_wall", "crohns_perianal": "perianal_fistula", "uc": "gut_wall"}
#: target tissue of each subtype (data/physiology.yaml)
TARGET = _TARGETS[DEFAULT_SUBTYPE]


def target_for(subtype: str | None) -> str:
    """Target tissue of a subtype: gut wall (luminal Crohn's, UC) or the perianal fistula tracts."""
    return _TARGETS[subtype or DEFAULT_SUBTYPE]


ENDPOINTS = {e.name: e for e in [
    Endpoint("cdai", "mean", "score", "Crohn's Disease Activity Index (Best 1976); Crohn's subtypes"),
    Endpoint("cdai_response", "proportion", "0/1", "CDAI response CR-100: fall from baseline > 100 points"),
    Endpoint("cdai_remission", "proportion", "0/1", "CDAI remission: CDAI < 150"),
    Endpoint("fistula_closure", "proportion", "0/1",
             "clinical closure of all treated external openings draining at baseline (perianal subtype)"),
    Endpoint("combined_remission", "proportion", "0/1",
             "clinical closure of all treated external openings + no collection > 2 cm on MRI (ADMIRE-CD)"),
    Endpoint("mayo", "mean", "score", "Mayo score 0-12 (UC)"),
    Endpoint("mayo_response", "proportion", "0/1",
             "Mayo response: fall >= 3 and >= 30 %, with rectal-bleeding fall >= 1 or bleeding 0-1 (UC)"),
    Endpoint("crp", "mean", "mg/L", "serum C-reactive protein"),
]}

#: read-outs drawn side by side (untreated vs treated) by `mscsim simulate --disease ibd`
#: (a panel stays empty when the subtype lacks the read-out: CDAI for UC, Mayo for Crohn's, fistula)
KEY_OUTPUTS = [("infl", "inflammation (1 = typical active)"), ("Ep", "epithelial barrier (0-1)"),
               ("ulcer", "mucosal damage (1 = typical)"), ("crp_out", "CRP (mg/L)"),
               ("cdai", "CDAI"), ("mayo", "Mayo score"),
               ("fistula_closed_p", "P(all treated openings closed)"),
               ("combined_remission_p", "P(combined remission)"), ("msc_local_density", "MSCs per g target")]
#: endpoints that exist for each subtype (observe/responders return only these)
SUBTYPE_ENDPOINTS = {
    "crohns_luminal": ("cdai", "cdai_response", "cdai_remission", "crp"),
    "crohns_perianal": ("cdai", "cdai_response", "cdai_remission", "fistula_closure", "combined_remission", "crp"),
    "uc": ("mayo", "mayo_response", "crp"),
}
SUMMARY_ENDPOINTS = ["cdai", "cdai_response", "cdai_remission", "fistula_closure", "combined_remission",
                     "mayo", "mayo_response", "crp"]
#: tools/calibrate_baselines.py: free constants, baseline targets of the typical patient, sources
BASELINE_TARGETS = (
    {"D_ibd_s": (0.0, 10.0), "D_ibd_t": (0.0, 50.0), "S_ref_ibd": (0.1, 200.0),
     "kappa_ep_ibd": (1e-3, 1.0), "beta_crp_ibd": (0.0, 50.0)},
    {"Th1_s": (1.56, 0.02), "Th1_t": (4.0, 0.05), "infl": (1.0, 0.01), "Ep": (0.5, 0.005),
     "crp": (20.0, 0.2)},
    "blood Th1 38.3 vs 24.6 % of CD4 in CD vs controls -> 1.56-fold (PMID 23945300); mucosal lymphocytes "
    "3-5-fold in IBD (Fiocchi 1979, PMID 158497) -> tissue Th1 4; inflammation 1 and barrier 0.5 define the "
    "typical active patient [design]; CRP median 20.4 mg/L in anti-TNF-refractory active CD (ANDANTE placebo "
    "arm, Gut 2019, gut.bmj.com table 1)",
)


#: free parameters fitted by `mscsim calibrate --disease ibd` (records: role calibration in the scenarios)
#: standard of care (``background: [...]``; docs/disease-modules.md): what the control arms got; stable
#: medication is inside the calibrated drive, the fistula procedure is the module's ``proc`` state
BACKGROUND = {b.name: b for b in [
    Background("conventional_stable", "stable conventional therapy at entry (corticosteroids, thiopurines or "
               "methotrexate, anti-TNF): part of the calibrated drive, nothing changes", {},
               "Zhang 2018 (PMID 28873511) control on steroid maintenance; Forbes 2014 anti-TNF refractory patients"),
    Background("fistula_procedure", "examination under anaesthesia, curettage, seton removal and suture of the "
               "internal opening in every arm of a local-injection trial, with stable Crohn's medication: the "
               "module's proc state (starts with the trial) and the calibrated drive", {},
               "ADMIRE-CD (Panes 2016, PMID 27477896) and Molendijk 2015 (PMID 26116801) protocols; "
               "lam_proc_ibd calibrated on the ADMIRE placebo arm"),
    Background("base_therapy_uc", "base therapy of ulcerative colitis at entry (aminosalicylates, corticosteroids): "
               "part of the calibrated drive, nothing changes", {},
               "Hu 2016 (PMID 27882104): both arms on base therapy"),
]}
#: the background an arm gets when it lists none, per subtype
DEFAULT_BACKGROUND = {"crohns_luminal": ("conventional_stable",), "crohns_perianal": ("fistula_procedure",),
                      "uc": ("base_therapy_uc",)}
CALIBRATION_PARAMETERS = ['lam_proc_ibd', 'lam_close_msc_ibd', 'placebo_max_ibd']
def compose(m, body, layers, *, species, subtype) -> KineticsHandles:
    subtype = subtype or DEFAULT_SUBTYPE
    perianal = subtype == "crohns_perianal"
    names = ["D_ibd_s", "D_ibd_t", "f_ag_ibd", "Ep0_ibd", "k_infl_ibd", "w_infl_tnf_ibd", "w_infl_il6_ibd",
             "w_infl_ifng_ibd", "w_infl_il17_ibd", "S_ref_ibd", "K_infl_sdf1_ibd", "rho_ep_ibd", "kappa_ep_ibd",
             "a_ep_il10_ibd", "a_ep_msc_ibd", "K_troph_ibd", "k_ulcer_ibd", "CRP_h_ibd", "beta_crp_ibd",
             "k_crp_ibd", "c_fn_ibd"]
    if perianal:
        names += ["lam_close0_ibd", "lam_proc_ibd", "k_proc_ibd", "lam_close_msc_ibd", "c_close_infl_ibd",
                  "lam_reopen_ibd", "w_reopen_infl_ibd", "q_coll_ibd", "w_coll_infl_ibd", "lum_perianal_ibd"]
    if subtype in ("crohns_luminal", "crohns_perianal"):
        names += ["st_h_ibd", "st_max_ibd", "K_st_ibd", "K_pain_ibd", "wb_h_ibd", "K_wb_ibd", "comp_max_ibd",
                  "K_comp_ibd", "ad_max_ibd", "K_ad_ibd", "K_mass_ibd", "hct_h_ibd", "d_hct_ibd", "hct_exp_ibd",
                  "wd_max_ibd", "K_wd_ibd"]
    else:
        names += ["K_mayo_stool_ibd", "K_mayo_bleed_ibd", "K_mayo_endo_ibd", "K_mayo_pga_ibd", "b_placebo_uc_ibd"]
    p = {n: P(m, n, species) for n in names}

    # --- disease states ---
    infl = m.state("infl", unit="1", group="disease", init=1.0, atol=1e-8, init_mode="steady",
                   desc="inflammatory activity of the target tissue (1 = typical active IBD, 0 = none)")
    Ep = m.state("Ep", unit="fraction", group="disease", init=0.5, atol=1e-8, init_mode="steady",
                 desc="epithelial barrier / lining integrity of the target tissue (1 = intact)")
    U = m.state("ulcer", unit="1", group="disease", init=1.0, atol=1e-8, init_mode="steady",
                desc="mucosal damage, ulcers (1 = typical active disease, 0 = healed)")
    crp = m.state("crp", unit="mg/L", group="disease", init=20.0, atol=1e-6, init_mode="steady",
                  desc="serum C-reactive protein")
    sdf1 = m.rule("sdf1_target", infl / (infl + p["K_infl_sdf1_ibd"]), unit="1",
                  desc="SDF-1 (CXCL12) signal of the inflamed gut wall / fistula tract, 0..1",
                  source="CXCL12 is raised in inflamed IBD mucosa [design form, as ra]", output=True)
    kin = layers.kinetics(sdf1)
    # luminal antigen / bacterial translocation through the leaky barrier feeds part of the tissue drive
    B = m.rule("translocation", (1 - Ep) / (1 - p["Ep0_ibd"]), unit="1",
               desc="luminal antigen/bacterial translocation relative to the typical patient (prop. to 1 - Ep)",
               source="disease-models.md s.6.3 (B prop. to 1 - Ep) [design]", output=True)
    drive_t = p["D_ibd_t"] * (p["f_ag_ibd"] + (1 - p["f_ag_ibd"]) * B)
    imm = layers.immune(kin, drive_s=p["D_ibd_s"], drive_t=drive_t, species=species)
    plc = add_placebo(m, NAME, species)

    # --- inflammation, barrier, ulcers, CRP ---
    excess = (p["w_infl_tnf_ibd"] * (ratio_to_healthy(imm, "t", "tnf") - 1)
              + p["w_infl_il6_ibd"] * (ratio_to_healthy(imm, "t", "il6") - 1)
              + p["w_infl_ifng_ibd"] * (ratio_to_healthy(imm, "t", "ifng") - 1)
              + p["w_infl_il17_ibd"] * (ratio_to_healthy(imm, "t", "il17") - 1))
    m.rate(infl, p["k_infl_ibd"] * (sp.Max(excess, 0) / p["S_ref_ibd"] - infl),
           desc="tissue inflammation follows tissue TNF-alpha, IL-6, IFN-gamma and IL-17",
           source="disease-models.md s.6.3; cytokines targeted by approved IBD biologics (anti-TNF, anti-IL-12/23, "
                  "anti-IL-6 trials); rate: CDAI response to infliximab within 2-4 weeks (Targan 1997, "
                  "PMID 9321530) [design]")
    X = m.rule("msc_trophic_ibd", imm.local_msc_density / (imm.local_msc_density + p["K_troph_ibd"]), unit="1",
               desc="trophic signal of viable MSCs in the target tissue (HGF, TSG-6, PGE2), 0..1",
               source="local MSC density (Emax) [design]; mechanism: MSC secretome promotes epithelial repair "
                      "(disease-models.md s.6.3)", output=True)
    r10 = ratio_to_healthy(imm, "t", "il10")
    g_rep = (1 + p["a_ep_il10_ibd"] * r10) / (1 + p["a_ep_il10_ibd"]) * (1 + p["a_ep_msc_ibd"] * X)
    m.rate(Ep, p["rho_ep_ibd"] * (1 - Ep) * g_rep - p["kappa_ep_ibd"] * ratio_to_healthy(imm, "t", "tnf") * Ep,
           desc="barrier repair (boosted by IL-10 and local MSCs) against TNF-alpha damage",
           source="disease-models.md s.6.3 (dEp/dt = rho (1 - Ep) g(IL-10, MSC) - kappa TNF Ep); rho from "
                  "epithelial renewal every 4-5 days (van der Flier & Clevers 2009, PMID 18808327)")
    m.rate(U, p["k_ulcer_ibd"] * (infl * (1 - Ep) / (1 - p["Ep0_ibd"]) - U * Ep / p["Ep0_ibd"]),
           desc="ulcers form with inflammation on a leaky barrier and heal as the barrier recovers",
           source="[design] normalised to 1 in the typical patient; weeks-months time scale of endoscopic healing")
    il6_s = imm.cyt["s", "il6"]
    m.rate(crp, p["k_crp_ibd"] * (p["CRP_h_ibd"] + p["beta_crp_ibd"] * sp.Max(il6_s - imm.healthy["il6"], 0) - crp),
           desc="CRP made by the liver in response to serum IL-6; half-life 19 h",
           source="Vigushin 1993 (half-life); Dwivedi 2014 CPT PSP (IL-6 -> CRP in Crohn's)")
    m.rule("crp_out", crp, unit="mg/L", desc="serum CRP", source="state", output=True)
    for s in ("infl", "Ep", "ulcer"):
        m.output(s)
    act = m.rule("activity_ibd", (infl + U) / 2, unit="1", desc="mucosal disease activity (inflammation + ulcers)",
                 source="[design]", output=True)
    c_fn = p["c_fn_ibd"]

    # --- perianal fistula ---
    draining = 0
    if perianal:
        proc = m.state("proc", unit="1", group="disease", init=0.0, atol=1e-9, init_mode="param:trial_on",
                       desc="effect of the trial's fistula procedure (curettage, seton) on closure, fading")
        pc = m.state("p_closed", unit="probability", group="disease", init=0.0, atol=1e-9,
                     desc="probability that all treated external openings are closed (draining at baseline)")
        m.rate(proc, -p["k_proc_ibd"] * proc, desc="the procedure's effect on closure fades",
               source="[design] both arms of ADMIRE-CD had curettage and seton placement/removal")
        g_inf = (1 + p["c_close_infl_ibd"]) / (1 + p["c_close_infl_ibd"] * infl)
        lam_c = m.rule("fistula_closure_hazard",
                       (p["lam_close0_ibd"] + p["lam_proc_ibd"] * proc + p["lam_close_msc_ibd"] * X) * g_inf,
                       unit="1/day", desc="closure hazard of the treated fistula tracts",
                       source="disease-models.md s.6.3 (lambda0 + lambda_MSC x local MSC exposure, falling with "
                              "inflammation); lam_close0 Ford 2014, lam_proc and lam_msc ADMIRE-CD", output=True)
        lam_r = m.rule("fistula_reopen_hazard",
                       p["lam_reopen_ibd"] * (1 - p["w_reopen_infl_ibd"] + p["w_reopen_infl_ibd"] * infl),
                       unit="1/day", desc="reopening hazard of closed tracts, rising with inflammation",
                       source="ADMIRE-CD 52 wk: closure sustained in 75 % (MSC) vs 55.9 % (placebo) of week-24 "
                              "remitters (DOI:10.1053/j.gastro.2017.12.020) [derived]", output=True)
        m.rate(pc, lam_c * (1 - pc) - lam_r * pc, desc="two-state open/closed process of the treated openings",
               source="disease-models.md s.6.3 [design]")
        q = m.rule("collection_p",
                   p["q_coll_ibd"] * (1 - p["w_coll_infl_ibd"] + p["w_coll_infl_ibd"] * infl), unit="probability",
                   desc="probability of a collection > 2 cm on MRI in a clinically closed fistula",
                   source="ADMIRE-CD 52 wk: combined/clinical remission 56.3/59.2 (MSC), 38.6/41.6 (placebo) [derived]",
                   output=True)
        m.rule("fistula_closed_p", pc, unit="probability", desc="P(all treated external openings closed)",
               source="state", output=True)
        m.rule("combined_remission_p", pc * (1 - q), unit="probability",
               desc="P(combined remission: closed + no collection > 2 cm)", source="ADMIRE-CD definition",
               output=True)
        draining = 1 - pc

    # --- clinical read-outs ---
    if subtype in ("crohns_luminal", "crohns_perianal"):
        a = p["lum_perianal_ibd"] if perianal else act        # luminal activity (objective)
        # patient-reported symptoms: inflammatory activity plus a functional (IBS-like) part, less placebo
        u = m.rule("symptoms_ibd", (a + c_fn) / (1 + c_fn) * (1 - plc), unit="1",
                   desc="patient-reported symptom index (1 = typical active patient)",
                   source="[design] inflammation plus functional symptoms (as c_pain_ra), less placebo", output=True)
        st = m.rule("stools_day", p["st_h_ibd"] + p["st_max_ibd"] * u / (p["K_st_ibd"] + u), unit="1/day",
                    desc="liquid or very soft stools per day", source="[design] monotone in activity, less placebo",
                    output=True)
        pain = m.rule("abd_pain_day", 3 * u / (p["K_pain_ibd"] + u), unit="0-3", desc="daily abdominal pain rating",
                      source="[design]", output=True)
        wb = m.rule("wellbeing_day", p["wb_h_ibd"] + (4 - p["wb_h_ibd"]) * u / (p["K_wb_ibd"] + u), unit="0-4",
                    desc="daily general well-being rating (0 well .. 4 terrible)", source="[design]", output=True)
        comp = m.rule("n_complications", p["comp_max_ibd"] * a / (p["K_comp_ibd"] + a) + draining, unit="categories",
                      desc="expected number of CDAI complication categories (fistula category = P(draining))",
                      source="[design]; perianal: draining fistula counts (Best 1976)", output=True)
        ad = m.rule("antidiarrhoeal", p["ad_max_ibd"] * u / (p["K_ad_ibd"] + u), unit="probability",
                    desc="probability of opiate/antidiarrhoeal use", source="[design]", output=True)
        mass = m.rule("abd_mass", 5 * a / (p["K_mass_ibd"] + a), unit="0-5", desc="expected abdominal mass score",
                      source="[design]", output=True)
        hct = m.rule("haematocrit", p["hct_h_ibd"] - p["d_hct_ibd"] * a, unit="%",
                     desc="haematocrit (anaemia of inflammation and blood loss)", source="[design]", output=True)
        wd = m.rule("weight_deficit_pct", p["wd_max_ibd"] * a / (p["K_wd_ibd"] + a), unit="%",
                    desc="percent below standard weight", source="[design]", output=True)
        m.rule("cdai", scores.cdai(7 * st, 7 * pain, 7 * wb, comp, ad, mass, hct, p["hct_exp_ibd"], wd, xp=scores.SYM),
               unit="score", desc="CDAI (expected, from expected components)", source="scores.cdai (Best 1976)",
               output=True)
    else:
        # UC trials: the placebo/participation arm improves on every Mayo item, endoscopy included
        # (placebo mucosal healing 19-26 %, PMID 30590590): factor (1 - placebo)/(1 + b placebo) on all four
        keep = m.rule("placebo_keep_uc", (1 - plc) / (1 + p["b_placebo_uc_ibd"] * plc), unit="1",
                      desc="share of UC activity left by the placebo/participation response",
                      source="placebo response 28-34 %, mucosal healing 19-26 % in UC (Su 2007; PMID 30590590) [design]",
                      output=True)
        u = m.rule("symptoms_ibd", (act + c_fn) / (1 + c_fn) * keep, unit="1",
                   desc="patient-reported symptom index (1 = typical active patient)",
                   source="[design] inflammation plus functional (IBS-like) symptoms, less placebo", output=True)

        def sub(name, x, K, desc):
            return m.rule(name, 3 * x / (K + x), unit="0-3", desc=desc, source="[design] monotone, 0..3",
                          output=True)
        s1 = sub("mayo_stool", u, p["K_mayo_stool_ibd"], "Mayo stool-frequency subscore (expected)")
        s2 = sub("mayo_bleeding", U * keep, p["K_mayo_bleed_ibd"], "Mayo rectal-bleeding subscore (expected)")
        s3 = sub("mayo_endoscopy", act * keep, p["K_mayo_endo_ibd"], "Mayo endoscopy subscore (expected)")
        s4 = sub("mayo_pga", act * keep, p["K_mayo_pga_ibd"], "Mayo physician global assessment (expected)")
        m.rule("mayo", scores.mayo_score(s1, s2, s3, s4, xp=scores.SYM), unit="score",
               desc="Mayo score (expected)", source="scores.mayo_score (Schroeder 1987)", output=True)
    return kin


CDAI_PARTS = ("stools_day", "abd_pain_day", "wellbeing_day", "n_complications", "antidiarrhoeal", "abd_mass",
              "haematocrit", "weight_deficit_pct")
MAYO_PARTS = ("mayo_stool", "mayo_bleeding", "mayo_endoscopy", "mayo_pga")


def observe(out, rng=None) -> dict[str, np.ndarray]:
    """Clinical measurements and scores at each time; only the endpoints of the patient's subtype
    (CDAI for Crohn's, fistula endpoints for the perianal subtype, Mayo for UC).

    With ``rng``: visit noise on the diary, haematocrit, weight, Mayo subscores and CRP; fistula
    closure and collections are drawn with one uniform each per patient (closed at t iff
    U < P(closed at t)), so a patient's history is consistent over time.
    """
    from mscsim import parameters as P_

    v = P_.value
    n = len(out)
    obs = {}
    obs["crp"] = lognoise(rng, out["crp_out"], v("cv_crp_ibd"))
    # the two fistula uniforms are drawn for every subtype, so the noise stream does not depend on it
    u_close, u_coll = (rng.uniform(), rng.uniform()) if rng is not None else (None, None)
    if "fistula_closed_p" in out:
        pc = out["fistula_closed_p"].to_numpy()
        if rng is None:
            obs["fistula_closure"] = pc
            obs["combined_remission"] = out["combined_remission_p"].to_numpy()
        else:
            closed = u_close < pc
            obs["fistula_closure"] = closed.astype(float)
            obs["combined_remission"] = (closed & (u_coll >= out["collection_p"].to_numpy())).astype(float)
    if "cdai" in out:
        c = {k: out[k].to_numpy(dtype=float) for k in CDAI_PARTS}
        if rng is not None:
            c["stools_day"] = np.maximum(gauss(rng, 7 * c["stools_day"], v("sd_stools_ibd")), 0) / 7
            c["abd_pain_day"] = np.clip(gauss(rng, 7 * c["abd_pain_day"], v("sd_pain_ibd")), 0, 21) / 7
            c["wellbeing_day"] = np.clip(gauss(rng, 7 * c["wellbeing_day"], v("sd_wellbeing_ibd")), 0, 28) / 7
            c["n_complications"] = np.clip(np.round(gauss(rng, c["n_complications"], v("sd_complications_ibd"))), 0, 6)
            c["antidiarrhoeal"] = (rng.uniform(size=n) < c["antidiarrhoeal"]).astype(float)
            m_ = gauss(rng, c["abd_mass"], v("sd_mass_ibd"))
            c["abd_mass"] = np.select([m_ < 1, m_ < 3.5], [0.0, 2.0], 5.0)
            c["haematocrit"] = gauss(rng, c["haematocrit"], v("sd_hct_ibd"))
            c["weight_deficit_pct"] = np.maximum(gauss(rng, c["weight_deficit_pct"], v("sd_weight_ibd")), 0)
        for k in CDAI_PARTS:
            obs[k] = c[k]
        obs["cdai"] = scores.cdai(7 * c["stools_day"], 7 * c["abd_pain_day"], 7 * c["wellbeing_day"],
                                  c["n_complications"], c["antidiarrhoeal"], c["abd_mass"], c["haematocrit"],
                                  v("hct_exp_ibd"), c["weight_deficit_pct"])
        obs["cdai_remission"] = (obs["cdai"] < 150).astype(float)
    if "mayo" in out:
        s = {k: out[k].to_numpy(dtype=float) for k in MAYO_PARTS}
        if rng is not None:
            s = {k: np.clip(np.round(gauss(rng, x, v("sd_mayo_sub_ibd"))), 0, 3) for k, x in s.items()}
        for k in MAYO_PARTS:
            obs[k] = s[k]
        obs["mayo"] = scores.mayo_score(*(s[k] for k in MAYO_PARTS))
    return obs


def responders(obs, baseline) -> dict[str, np.ndarray]:
    """CDAI response CR-100 (fall from baseline > 100 points; Crohn's) and Mayo response (UC), as 0/1."""
    out = {}
    if "cdai" in obs:
        out["cdai_response"] = ((baseline["cdai"] - obs["cdai"].to_numpy(dtype=float)) > 100).astype(float)
    if "mayo" in obs:
        n = len(obs)
        out["mayo_response"] = scores.mayo_response(np.full(n, baseline["mayo"]), obs["mayo"].to_numpy(dtype=float),
                                                    np.full(n, baseline["mayo_bleeding"]),
                                                    obs["mayo_bleeding"].to_numpy(dtype=float)).astype(float)
    return out
