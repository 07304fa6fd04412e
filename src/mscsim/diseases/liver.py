"""Liver cirrhosis and liver failure: hepatocytes, stellate cells, collagen; MELD, Child-Pugh, survival.

Structure (disease-models.md s.7.3, a reduced fibrosis/regeneration model):

- ``hepatocytes`` H, the functional hepatocyte fraction (1 = healthy liver), regenerates
  logistically up to a capacity that scar tissue lowers, and dies from the etiological injury
  plus the hepatic necro-inflammation (liver TNF-alpha, IFN-gamma, IL-17 of the immune network);
- ``hsc`` activated hepatic stellate cells (1 = typical decompensated cirrhosis) follow a
  fibrogenic drive (Kupffer/necro-inflammatory TGF-beta/PDGF signal, held back by hepatic IL-10);
- ``collagen``, the collagen proportionate area (CPA, % of biopsy area), is laid down by
  activated HSCs and degraded by MMPs of restorative macrophages (the hepatic M2:M1 balance),
  which HSC-derived TIMP-1 inhibits;
- ``albumin`` (g/dL) follows its synthesis by H with its 20-day half-life;
- ``msc_trophic`` (0..1): the regenerative/antifibrotic programme that MSCs lodged in the liver
  start (HGF-driven hepatocyte proliferation, HSC apoptosis, MMP release); it is built from the
  local density of viable MSCs, so hepatic-artery and intraportal doses, which deliver far more
  cells to the liver than IV, act more here;
- ``flare`` (0..1): the acute insult of acute-on-chronic liver failure (HBV flare, alcoholic
  hepatitis, sepsis) that multiplies the inflammatory drive and resolves over weeks;
- ``survival`` and ``p_severe_infection``: probabilities; the death hazard is log-linear in
  MELD (Wiesner 2003 bands) times a term for systemic IL-6 above the typical decompensated level
  (the organ failures of ACLF); the infection hazard is log-linear in MELD.

Labs are monotone functions of H (bilirubin, INR, albumin synthesis), of portal pressure and
albumin (ascites, hence sodium and a hepatorenal creatinine term) and of inflammation
(cholestasis, albumin, creatinine). MELD, MELD-Na and Child-Pugh are the exact formulas of
``mscsim.scores``. The SDF-1 signal that brings MSCs to the liver rises with activated HSCs
(CXCL12 is made by activated stellate cells) and necro-inflammation.

Where MSCs act: (1) through the immune network (less TNF-alpha/IFN-gamma, more IL-10, a more
restorative M2:M1 balance, less systemic IL-6): less hepatocyte death, less HSC activation, more
collagen degradation, lower death hazard in ACLF; (2) locally through ``msc_trophic``. Fibrogenic TGF-beta here is the hepatic (Kupffer/injury) signal, not the immune
network's regulatory TGF-beta, which MSCs raise.
"""

from __future__ import annotations

import numpy as np

from mscsim import scores
from mscsim.diseases.base import Background, Endpoint, gauss, lognoise
from mscsim.immune import ratio_to_healthy
from mscsim.kinetics import KineticsHandles
from mscsim.kinetics.common import P
from mscsim.numerics import sympy as sp

NAME = "liver"
TARGET = "liver"
SUBTYPES = ("decompensated", "aclf")
DEFAULT_SUBTYPE = "decompensated"
ENDPOINTS = {e.name: e for e in [
    Endpoint("meld", "mean", "score", "MELD (Kamath 2001), unrounded, 6-40"),
    Endpoint("meld_na", "mean", "score", "MELD-Na (UNOS/OPTN form)"),
    Endpoint("child_pugh", "mean", "score", "Child-Pugh score 5-15"),
    Endpoint("bilirubin", "mean", "mg/dL", "serum total bilirubin (1 mg/dL = 17.1 umol/L)"),
    Endpoint("albumin", "mean", "g/dL", "serum albumin (1 g/dL = 10 g/L)"),
    Endpoint("inr", "mean", "1", "international normalised ratio"),
    Endpoint("creatinine", "mean", "mg/dL", "serum creatinine (1 mg/dL = 88.4 umol/L)"),
    Endpoint("sodium", "mean", "mmol/L", "serum sodium"),
    Endpoint("collagen", "mean", "%", "collagen proportionate area on biopsy"),
    Endpoint("ascites", "mean", "L", "ascites volume"),
    Endpoint("severe_infection", "proportion", "0/1", "severe bacterial infection by the time point"),
    Endpoint("child_pugh_improved", "proportion", "0/1", "Child-Pugh score at least 1 point below baseline"),
]}

#: read-outs drawn side by side (untreated vs treated) by `mscsim simulate --disease liver`
KEY_OUTPUTS = [("meld", "MELD"), ("meld_na", "MELD-Na"), ("child_pugh", "Child-Pugh score"),
               ("bilirubin", "bilirubin (mg/dL)"), ("albumin", "albumin (g/dL)"), ("inr", "INR"),
               ("collagen", "collagen proportionate area (%)"), ("hepatocytes", "functional hepatocytes (fraction)"),
               ("hsc", "activated stellate cells (1 = typical)"), ("ascites", "ascites (L)"),
               ("survival", "survival probability"), ("p_severe_infection", "P(severe infection)")]
SUMMARY_ENDPOINTS = ["meld", "meld_na", "child_pugh", "bilirubin", "albumin", "inr", "collagen", "ascites",
                     "severe_infection", "survival"]
#: tools/calibrate_baselines.py: free constants, baseline targets of the typical patient, sources
BASELINE_TARGETS = (
    {"D_liver_s": (0.0, 20.0), "S_ref_liver": (0.1, 500.0), "F_ref_liver": (0.1, 100.0),
     "k_col_liver": (1e-4, 1.0), "d_hep_liver": (1e-4, 0.1)},
    {"il6": (11.2, 0.3), "liver_inflammation": (1.0, 0.01), "hsc": (1.0, 0.01),
     "collagen_trend": (1.0, 0.02), "hepatocyte_trend": (-0.02, 0.001)},
    "serum IL-6 11.2 pg/mL in decompensated cirrhosis (Alcohol 2001;23:29, doi:10.1016/s0741-8329(00)00134-8); "
    "liver inflammation and activated HSC 1 define the typical decompensated patient; collagen area +1 %-point/yr "
    "and functional hepatocytes -0.02/yr untreated [design: slow progression, median survival 2-4 y, "
    "disease-models.md s.7.4]",
)

#: design constants of the MSC effect that `mscsim calibrate` may fit to liver trial records
#: standard of care (``background: [...]``; docs/disease-modules.md): treatment of the cause and of the
#: complications, as the control arms got it; inside the calibrated natural history, so it sets nothing
BACKGROUND = {b.name: b for b in [
    Background("supportive_care", "treatment of the cause (nucleos(t)ide antivirals for hepatitis B, abstinence "
               "from alcohol) and of the complications (diuretics, albumin, lactulose) taken since before entry: "
               "the etiological injury and the natural history are set on such patients, nothing changes", {},
               "Zhang/Shi 2012 (PMID 22320928): HBV cirrhosis on antiviral and supportive care [recalled]; Suk 2016: abstinent "
               ">= 6 months; Lin 2017 (PMID 28258263) ACLF: standard medical therapy"),
]}
#: the background an arm gets when it lists none, per subtype
DEFAULT_BACKGROUND = {"decompensated": ("supportive_care",), "aclf": ("supportive_care",)}
CALIBRATION_PARAMETERS = ["a_hsc_troph_liver", "a_troph_hep_liver"]
#: default trial entry: MELD > 10 (decompensated-cirrhosis MSC trial NCT03529136, parameter-sources.md s.8)
INCLUSION = {"meld": ">10"}

#: per-subtype natural-history parameters (initial hepatocyte fraction, collagen area, acute insult)
_INIT = {"decompensated": ("H0_liver", "cpa0_liver", "flare0_liver"),
         "aclf": ("H0_aclf_liver", "cpa0_aclf_liver", "flare0_aclf_liver")}

YEAR = 365.0


def compose(m, body, layers, *, species, subtype) -> KineticsHandles:
    p = {n: P(m, n, species) for n in (
        "D_liver_t", "D_liver_s", "a_flare_t_liver", "a_flare_s_liver", "k_flare_liver",
        "w_tnf_liver", "w_ifng_liver", "w_il17_liver", "S_ref_liver",
        "r_hep_liver", "K_cpa_hep_liver", "e_inj_liver", "d_hep_liver", "a_troph_hep_liver",
        "k_hsc_liver", "c_hsc0_liver", "K_il10_hsc_liver", "F_ref_liver", "a_hsc_troph_liver",
        "k_col_liver", "k_deg_liver", "n_mmp_liver", "a_timp_liver", "a_mmp_troph_liver",
        "k_on_troph_liver", "K_dens_troph_liver", "k_off_troph_liver", "K_sdf1_liver",
        "alb_h_liver", "n_alb_liver", "w_alb_il6_liver", "k_alb_liver",
        "bil_h_liver", "n_bil_liver", "w_chol_liver", "n_inr_liver",
        "cr_h_liver", "a_cr_asc_liver", "a_cr_il6_liver", "na_h_liver", "d_na_asc_liver",
        "hvpg_h_liver", "a_hvpg_cpa_liver", "a_hvpg_hsc_liver", "hvpg_asc_liver", "K_asc_liver",
        "vmax_asc_liver", "v_grade_asc_liver", "K_he_liver", "n_he_liver",
        "h_death_liver", "b_meld_death_liver", "il6_ref_liver", "c_il6_death_liver",
        "lam_inf_liver", "b_meld_inf_liver")}
    h0, c0, f0 = _INIT[subtype]
    for n in (h0, c0, f0):
        P(m, n, species)

    # --- disease states ---
    H = m.state("hepatocytes", unit="fraction of healthy", group="disease", init=0.4, atol=1e-8,
                init_mode=f"param:{h0}", desc="functional hepatocyte mass, fraction of a healthy liver")
    A = m.state("hsc", unit="1 = typical decompensated", group="disease", init=1.0, atol=1e-8,
                init_mode="steady", desc="activated hepatic stellate cells (myofibroblasts)")
    C = m.state("collagen", unit="%", group="disease", init=20.0, atol=1e-6, init_mode=f"param:{c0}",
                desc="collagen proportionate area (CPA), % of biopsy area")
    alb = m.state("albumin", unit="g/dL", group="disease", init=3.0, atol=1e-7, init_mode="steady",
                  desc="serum albumin")
    T = m.state("msc_trophic", unit="0..1", group="disease", init=0.0, atol=1e-9,
                desc="regenerative/antifibrotic programme started by MSCs lodged in the liver")
    F = m.state("flare", unit="0..1", group="disease", init=0.0, atol=1e-9, init_mode=f"param:{f0}",
                desc="acute insult of acute-on-chronic liver failure (0 = none)")
    S = m.state("survival", unit="probability", group="disease", init=1.0, atol=1e-9,
                desc="probability of being alive")
    Pinf = m.state("p_severe_infection", unit="probability", group="disease", init=0.0, atol=1e-9,
                   desc="cumulative probability of a severe bacterial infection")

    # --- homing: hepatic SDF-1 from activated stellate cells and necro-inflammation ---
    # (``liver_inflammation`` is the rule defined below from the immune network; rules are ordered
    #  by dependency, and it does not depend on SDF-1, so there is no algebraic loop)
    infl_sym = sp.Symbol("liver_inflammation", real=True)
    sdf_drive = 0.5 * A + 0.5 * infl_sym
    sdf1 = m.rule("sdf1_target", sdf_drive / (sdf_drive + p["K_sdf1_liver"]), unit="1",
                  desc="hepatic SDF-1 (CXCL12) signal, 0..1",
                  source="activated HSCs and injured liver make CXCL12 (kinetics.md s.1.3: liver SDF-1 up after "
                         "injury, PeerJ 2018 doi:10.7717/peerj.6072) [design form]", output=True)
    kin = layers.kinetics(sdf1)
    imm = layers.immune(kin, drive_s=p["D_liver_s"] * (1 + p["a_flare_s_liver"] * F),
                        drive_t=p["D_liver_t"] * (1 + p["a_flare_t_liver"] * F), species=species)

    # --- hepatic necro-inflammation (1 = typical decompensated cirrhosis) ---
    excess = (p["w_tnf_liver"] * (ratio_to_healthy(imm, "t", "tnf") - 1)
              + p["w_ifng_liver"] * (ratio_to_healthy(imm, "t", "ifng") - 1)
              + p["w_il17_liver"] * (ratio_to_healthy(imm, "t", "il17") - 1))
    infl = m.rule("liver_inflammation", sp.Max(excess, 0) / p["S_ref_liver"], unit="1",
                  desc="hepatic necro-inflammation from liver TNF-alpha, IFN-gamma, IL-17 (1 = typical decompensated)",
                  source="TNF-alpha (Kupffer cells) and IFN-gamma (Th1/CTL) drive hepatocyte death in chronic "
                         "hepatitis [design weights]; normalised by tools/calibrate_baselines.py", output=True)

    # --- trophic programme from local MSC density ---
    dens = imm.local_msc_density
    m.rate(T, p["k_on_troph_liver"] * dens / (dens + p["K_dens_troph_liver"]) * (1 - T)
           - p["k_off_troph_liver"] * T,
           desc="MSCs lodged in the liver start a regenerative/antifibrotic programme that fades over weeks",
           source="[design] MSC paracrine HGF/MMPs on hepatocytes and HSCs; effects outlast the cells "
                  "(disease-models.md s.7.5: Suk 2016 hepatic-artery BM-MSC)")

    # --- hepatocytes ---
    cap = 1 / (1 + C / p["K_cpa_hep_liver"])
    death = p["d_hep_liver"] * (p["e_inj_liver"] + infl)
    m.rate(H, p["r_hep_liver"] * (1 + p["a_troph_hep_liver"] * T) * H * (1 - H / cap),
           desc="hepatocyte regeneration up to a capacity lowered by scar; MSC trophic boost",
           source="logistic renewal (Cook/Manchel/Vadigepalli liver homeostatic renewal model, disease-models.md "
                  "s.7.2) [rate and scar capacity: design]")
    m.rate(H, -death * H, desc="hepatocyte death from etiological injury and necro-inflammation",
           source="disease-models.md s.7.3 (death driven by injury and TNF-alpha); d_hep calibrated to slow decline")
    m.rule("hepatocyte_trend", YEAR * (p["r_hep_liver"] * (1 + p["a_troph_hep_liver"] * T) * H * (1 - H / cap)
                                       - death * H), unit="1/year",
           desc="rate of change of the functional hepatocyte fraction", source="read-out", output=True)

    # --- stellate cells and collagen ---
    il10_t = imm.cyt["t", "il10"]
    K10 = p["K_il10_hsc_liver"]
    il10_brake = (1 + imm.healthy["il10"] / K10) / (1 + il10_t / K10)
    drive_hsc = m.rule("hsc_drive", (p["c_hsc0_liver"] + infl) * il10_brake / p["F_ref_liver"], unit="1",
                       desc="fibrogenic drive of stellate-cell activation (hepatic TGF-beta/PDGF from injury and "
                            "Kupffer cells), held back by IL-10",
                       source="disease-models.md s.7.3; IL-10 inhibits HSC activation (Friedman & Hao 2017 model "
                              "structure) [design form]", output=True)
    m.rate(A, p["k_hsc_liver"] * (drive_hsc - A - p["a_hsc_troph_liver"] * T * A),
           desc="HSC activation follows its drive; apoptosis/inactivation, more with MSC trophic programme",
           source="[design] activated HSCs clear within days when injury stops (Iredale 1998 J Clin Invest "
                  "102:538 [recalled]); MSCs induce HSC apoptosis [design]")
    restorative = (imm.cells["t", "M2"] / imm.cells["t", "M1"]) ** p["n_mmp_liver"]
    mmp = restorative * (1 + p["a_mmp_troph_liver"] * T) / (1 + p["a_timp_liver"] * A)
    col_rate = p["k_col_liver"] * A - p["k_deg_liver"] * mmp * C
    m.rate(C, col_rate, desc="collagen laid down by activated HSCs, degraded by macrophage MMPs against TIMP-1",
           source="dCPA/dt = k_col A - k_deg MMP CPA (disease-models.md s.7.3); MMP activity follows the balance of "
                  "restorative (M2) to inflammatory (M1) hepatic macrophages, TIMP-1 from HSC [design]")
    m.rule("collagen_trend", YEAR * col_rate, unit="%-points/year", desc="rate of change of the collagen area",
           source="read-out", output=True)

    # --- systemic inflammation, albumin ---
    il6_r = ratio_to_healthy(imm, "s", "il6")
    m.rate(alb, p["k_alb_liver"] * (p["alb_h_liver"] * H ** p["n_alb_liver"]
                                    / (1 + p["w_alb_il6_liver"] * sp.Max(il6_r - 1, 0)) - alb),
           desc="albumin made by hepatocytes (less with IL-6, a negative acute-phase protein); half-life 20 d",
           source="albumin half-life ~20 d [standard physiology]; synthesis falls with hepatocyte mass [design form]")

    # --- portal pressure, ascites, sodium, creatinine, encephalopathy ---
    hvpg = m.rule("hvpg", p["hvpg_h_liver"] + p["a_hvpg_cpa_liver"] * C + p["a_hvpg_hsc_liver"] * A,
                  unit="mmHg", desc="hepatic venous pressure gradient (portal hypertension proxy)",
                  source="fibrosis area correlates with HVPG (r = 0.61, Hepatology 2012;55:1146, PMID 22109744); "
                         "dynamic component from contractile activated HSCs [design]", output=True)
    x = sp.Max(hvpg - p["hvpg_asc_liver"], 0) / p["K_asc_liver"] * p["alb_h_liver"] / alb
    asc = m.rule("ascites", p["vmax_asc_liver"] * x ** 2 / (1 + x ** 2), unit="L", desc="ascites volume",
                 source="ascites needs HVPG > 12 mmHg (portal hypertension) and worsens with low albumin "
                        "[recalled threshold; design form]", output=True)
    asc_f = asc / p["vmax_asc_liver"]
    m.rule("ascites_grade", 2 * asc / (asc + p["v_grade_asc_liver"]), unit="0-2",
           desc="expected ascites grade for Child-Pugh (0 none, 1 mild, 2 moderate-severe)", source="[design]",
           output=True)
    z = (1 - H) ** p["n_he_liver"]
    m.rule("encephalopathy_grade", 2 * z / (p["K_he_liver"] ** p["n_he_liver"] + z), unit="0-2",
           desc="expected hepatic encephalopathy grade for Child-Pugh (0 none, 1 grade 1-2, 2 grade 3-4)",
           source="[design] monotone in lost hepatocyte function", output=True)
    na = m.rule("sodium", p["na_h_liver"] - p["d_na_asc_liver"] * asc_f, unit="mmol/L", desc="serum sodium",
                source="dilutional hyponatraemia with ascites [design form]", output=True)
    cr = m.rule("creatinine", p["cr_h_liver"] * (1 + p["a_cr_asc_liver"] * asc_f
                                                + p["a_cr_il6_liver"] * sp.Max(il6_r - 1, 0)),
                unit="mg/dL", desc="serum creatinine (hepatorenal and inflammatory renal dysfunction)",
                source="creatinine 0.8/0.9/1.2 mg/dL in stable/unstable decompensated/pre-ACLF (PMC8259248) "
                       "[design form]", output=True)

    # --- labs and scores ---
    bil = m.rule("bilirubin", p["bil_h_liver"] * H ** (-p["n_bil_liver"]) * (1 + p["w_chol_liver"] * infl),
                 unit="mg/dL", desc="serum total bilirubin (clearance by hepatocytes; inflammatory cholestasis)",
                 source="[design form] monotone in hepatocyte function", output=True)
    inr = m.rule("inr", H ** (-p["n_inr_liver"]), unit="1", desc="INR (clotting factors made by hepatocytes)",
                 source="[design form] monotone in hepatocyte function", output=True)
    meld = m.rule("meld", scores.meld(bil, inr, cr, xp=scores.SYM), unit="score", desc="MELD",
                  source="scores.meld (Kamath 2001)", output=True)
    m.rule("meld_na", scores.meld_na(meld, na, xp=scores.SYM), unit="score", desc="MELD-Na",
           source="scores.meld_na (Kim 2008; UNOS form)", output=True)
    m.rule("child_pugh", scores.child_pugh(bil, alb, inr, m.symbol("ascites_grade"),
                                           m.symbol("encephalopathy_grade"), xp=scores.SYM),
           unit="score", desc="Child-Pugh score (expected grades)", source="scores.child_pugh (Pugh 1973)",
           output=True)

    # --- events ---
    il6_s = imm.cyt["s", "il6"]
    h_death = m.rule("death_hazard", p["h_death_liver"] * sp.exp(p["b_meld_death_liver"] * (meld - 15))
                     * (1 + p["c_il6_death_liver"] * sp.Max(il6_s / p["il6_ref_liver"] - 1, 0)), unit="1/day",
                     desc="death hazard from MELD and excess systemic inflammation (organ failures of ACLF)",
                     source="3-month mortality by MELD band (Wiesner 2003, disease-models.md s.7.1) fitted as "
                            "log-linear; IL-6 above the decompensated level predicts ACLF death (Murakami 2023 "
                            "Hepatol Int, doi:10.1007/s12072-023-10532-x) [form: design]", output=True)
    m.rate(S, -h_death * S, desc="survival", source="dS/dt = -h(t) S (docs/disease-modules.md)")
    lam = m.rule("infection_hazard", p["lam_inf_liver"] * sp.exp(p["b_meld_inf_liver"] * (meld - 15)),
                 unit="1/day", desc="hazard of a severe bacterial infection",
                 source="infection risk rises with MELD-Na (Fricker 2020 Dig Dis Sci, doi:10.1007/s10620-020-06164-y) "
                        "[form: design]", output=True)
    m.rate(Pinf, lam * (1 - Pinf), desc="cumulative probability of a severe infection",
           source="dP/dt = lambda (1 - P)")
    m.rate(F, -p["k_flare_liver"] * F, desc="the acute insult of ACLF resolves",
           source="[design] ACLF course is decided within ~4 weeks (PMC5534763)")
    m.output("hepatocytes")
    m.output("hsc")
    m.output("collagen")
    m.output("albumin")
    m.output("msc_trophic")
    m.output("flare")
    m.output("survival")
    m.output("p_severe_infection")
    return kin


def observe(out, rng=None) -> dict[str, np.ndarray]:
    """Clinical measurements and scores at each time (with visit noise when ``rng`` is given).

    Events: without ``rng`` the probabilities (survival, severe infection by t); with ``rng`` one
    uniform per patient and event type, the event has happened by t iff U < P(event by t).
    """
    from mscsim import parameters as P_

    v = P_.value
    n = len(out)
    bil = lognoise(rng, out["bilirubin"], v("cv_bil_liver"))
    alb = lognoise(rng, out["albumin"], v("cv_alb_liver"))
    inr = np.maximum(lognoise(rng, out["inr"], v("cv_inr_liver")), 0.8)
    cr = lognoise(rng, out["creatinine"], v("cv_cr_liver"))
    na = gauss(rng, out["sodium"], v("sd_na_liver"))
    cpa = np.clip(lognoise(rng, out["collagen"], v("cv_cpa_liver")), 0, 100)
    asc = lognoise(rng, out["ascites"], v("cv_asc_liver"))
    if rng is None:
        asc_g = out["ascites_grade"].to_numpy(dtype=float)
        enc_g = out["encephalopathy_grade"].to_numpy(dtype=float)
        p_inf = out["p_severe_infection"].to_numpy(dtype=float)
        alive = out["survival"].to_numpy(dtype=float)
    else:
        sd = v("sd_grade_liver")
        asc_g = np.clip(np.round(gauss(rng, out["ascites_grade"], sd)), 0, 2)
        enc_g = np.clip(np.round(gauss(rng, out["encephalopathy_grade"], sd)), 0, 2)
        u_inf, u_death = rng.uniform(size=2)
        p_inf = (u_inf < out["p_severe_infection"].to_numpy(dtype=float)).astype(float)
        alive = (u_death >= 1 - out["survival"].to_numpy(dtype=float)).astype(float)
    meld = scores.meld(bil, inr, cr)
    obs = {
        "bilirubin": bil, "albumin": alb, "inr": inr, "creatinine": cr, "sodium": na, "collagen": cpa,
        "ascites": asc, "ascites_grade": asc_g, "encephalopathy_grade": enc_g,
        "meld": meld, "meld_na": scores.meld_na(meld, na),
        "child_pugh": scores.child_pugh(bil, alb, inr, asc_g, enc_g),
        "severe_infection": p_inf, "survival": alive,
    }
    return obs


def responders(obs, baseline) -> dict[str, np.ndarray]:
    """Child-Pugh improvement (score at least 1 point below baseline), as 0/1."""
    out = {}
    out["child_pugh_improved"] = (obs["child_pugh"].to_numpy() <= baseline["child_pugh"] - 1).astype(float)
    return out
