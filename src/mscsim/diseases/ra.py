"""Rheumatoid arthritis: synovial inflammation, joint damage, DAS28, ACR20/50/70, EULAR, CRP.

Structure (disease-models.md s.2.3, a reduced Vantage-like synovium): the immune network's
synovial TNF-alpha, IL-6 (with fibroblast-like synoviocytes adding IL-6 as synovitis grows)
and IL-17 drive a synovitis index ``syn`` (1 = typical refractory RA; follows its drive with
the 1-week time scale of synovial volume, PMID 8823685); synovitis accrues joint damage and
makes SDF-1 (CXCL12), which feeds MSC homing to the joints. Serum IL-6 drives CRP (half-life
19 h). Clinical components are monotone functions of synovitis, a central-pain term and the
placebo response; the scores are the exact published formulas (``mscsim.scores``):
DAS28-CRP, DAS28-ESR, ACR20/50/70 (Felson), EULAR response.
"""

from __future__ import annotations

import numpy as np

from mscsim import scores
from mscsim.diseases.base import Background, Endpoint, add_expectation, add_placebo, gauss, lognoise
from mscsim.immune import ratio_to_healthy
from mscsim.kinetics import KineticsHandles
from mscsim.kinetics.common import P
from mscsim.numerics import sympy as sp

NAME = "ra"
TARGET = "joint"
SUBTYPES = ("refractory", "moderate")
DEFAULT_SUBTYPE = "refractory"
#: observe/responders work row by row (each visit from its own read-outs and the baseline row, one noise
#: value per row), so a trial observes a chunk of patients as one stacked table (trial.observe_stacked)
ROW_WISE_OBSERVATION = True
ENDPOINTS = {e.name: e for e in [
    Endpoint("das28_crp", "mean", "score", "DAS28-CRP (4 variables)"),
    Endpoint("das28_esr", "mean", "score", "DAS28-ESR (4 variables)"),
    Endpoint("acr20", "proportion", "0/1", "ACR20 response"),
    Endpoint("acr50", "proportion", "0/1", "ACR50 response"),
    Endpoint("acr70", "proportion", "0/1", "ACR70 response"),
    Endpoint("eular_response", "proportion", "0/1", "EULAR good or moderate response"),
    Endpoint("crp", "mean", "mg/L", "serum C-reactive protein"),
    Endpoint("esr", "mean", "mm/h", "erythrocyte sedimentation rate"),
    Endpoint("tjc28", "mean", "joints", "tender joint count (28)"),
    Endpoint("sjc28", "mean", "joints", "swollen joint count (28)"),
    Endpoint("haq", "mean", "0-3", "HAQ disability index"),
]}


#: read-outs drawn side by side (untreated vs treated) by `mscsim simulate --disease ra`
KEY_OUTPUTS = [("das28_esr", "DAS28-ESR"), ("das28_crp", "DAS28-CRP"), ("crp_out", "CRP (mg/L)"),
               ("syn", "synovitis (1 = typical RA)"), ("tjc28", "tender joints (28)"),
               ("sjc28", "swollen joints (28)")]
SUMMARY_ENDPOINTS = ["das28_esr", "das28_crp", "crp", "acr20", "eular_response"]
#: free parameters fitted by `mscsim calibrate --disease ra` (records: role calibration in the scenarios)
CALIBRATION_PARAMETERS = ['P50_memory_ra', 'iota_P_ra', 'placebo_max_ra']
#: standard of care a scenario arm may list (``background: [...]``); see docs/disease-modules.md
BACKGROUND = {b.name: b for b in [
    Background("csdmard_stable", "stable csDMARDs (methotrexate and others) with an inadequate response, "
               "taken since before screening: part of the calibrated drive, nothing changes in the trial",
               {}, "Alvaro-Gracia 2017 (PMID 27269294) and Wang L 2019 (PMID 31908418) enrolled patients on "
               "stable DMARDs; the refractory drive D_ra_t is calibrated on such patients (RADIATE)"),
    Background("methotrexate_stable", "stable methotrexate (moderate RA on MTX): part of the calibrated drive",
               {}, "Park 2018 (DOI 10.1002/sctm.18-0031) enrolled patients on MTX; moderate_drive_ra calibrated on them"),
    Background("methotrexate", "methotrexate started at day 0 (7.5-25 mg/week): cuts the synovial and "
               "systemic drive with an onset of weeks", {"mtx_start_ra": 1.0},
               "effect size E_mtx_ra, onset k_mtx_ra (ra.yaml); Lopez-Olivo 2014 Cochrane CD000957"),
]}
#: the background an arm gets when it lists none, per subtype
DEFAULT_BACKGROUND = {"refractory": ("csdmard_stable",), "moderate": ("methotrexate_stable",)}
#: tools/calibrate_baselines.py: free constants, baseline targets of the typical patient, sources
BASELINE_TARGETS = (
    {"S_ref_ra": (1.0, 200.0), "D_ra_s": (0.0, 10.0)},
    {"syn": (1.0, 0.05), "il6": (13.3, 0.5)},
    "synovitis 1 defines the typical refractory patient; serum IL-6 13.3 pg/mL in RA (PMID 19077953)",
)


def compose(m, body, layers, *, species, subtype) -> KineticsHandles:
    p = {n: P(m, n, species) for n in (
        "D_ra_t", "D_ra_s", "a_fls_il6", "k_syn", "w_syn_tnf", "w_syn_il6", "w_syn_il17", "S_ref_ra",
        "K_syn_sdf1", "K_sjc", "K_tjc", "c_pain_ra", "K_pain_ra", "K_phga_ra", "K_haq_ra", "CRP_h",
        "beta_crp", "k_crp", "ESR_h", "e_esr", "k_erosion", "erosion0", "w_damage_haq")}
    # moderate RA on methotrexate (e.g. Park 2018) has a weaker synovial drive than refractory RA
    drive_t = p["D_ra_t"] * (P(m, "moderate_drive_ra", species) if subtype == "moderate" else 1)
    syn = m.state("syn", unit="1", group="disease", init=1.0, atol=1e-8, init_mode="steady",
                  desc="synovial inflammation (1 = typical refractory RA, 0 = none)")
    crp = m.state("crp", unit="mg/L", group="disease", init=10.0, atol=1e-6, init_mode="steady",
                  desc="serum C-reactive protein")
    erosion = m.state("erosion", unit="mTSS units", group="disease", init=20.0, atol=1e-6,
                      init_mode="param:erosion0", desc="structural joint damage (modified total Sharp score)")
    sdf1 = m.rule("sdf1_target", syn / (syn + p["K_syn_sdf1"]), unit="1",
                  desc="synovial SDF-1 (CXCL12) signal, 0..1", source="FLS make CXCL12 [design form]", output=True)
    kin = layers.kinetics(sdf1)
    # standard of care started in the trial: methotrexate cuts the autoimmune drive (BACKGROUND)
    mtx_start = m.param("mtx_start_ra", 0.0, unit="1", kind="input",
                        desc="1 when methotrexate is started at day 0 (scenario background: [methotrexate])",
                        source="set by the trial from the arm's background")
    mtx = m.state("mtx_ra", unit="fraction", group="disease", init=0.0, atol=1e-9,
                  desc="methotrexate effect built up since its start (0..1)")
    m.rate(mtx, P(m, "k_mtx_ra", species) * (mtx_start - mtx), desc="methotrexate effect builds up over weeks",
           source="onset k_mtx_ra (ra.yaml)")
    cut_mtx = 1 - P(m, "E_mtx_ra", species) * mtx
    imm = layers.immune(kin, drive_s=p["D_ra_s"] * cut_mtx, drive_t=drive_t * cut_mtx, species=species,
                        il6_extra_t=p["a_fls_il6"] * syn)
    plc = add_placebo(m, NAME, species)
    expect = add_expectation(m, NAME, species)

    excess = (p["w_syn_tnf"] * (ratio_to_healthy(imm, "t", "tnf") - 1)
              + p["w_syn_il6"] * (ratio_to_healthy(imm, "t", "il6") - 1)
              + p["w_syn_il17"] * (ratio_to_healthy(imm, "t", "il17") - 1))
    m.rate(syn, p["k_syn"] * (sp.Max(excess, 0) / p["S_ref_ra"] - syn),
           desc="synovitis follows synovial TNF-alpha, IL-6 and IL-17",
           source="disease-models.md s.2.3; rate from synovial volume after IA steroid (PMID 8823685)")
    m.rate(erosion, p["k_erosion"] * syn, desc="joint damage accrues with synovitis", source="[design]")
    il6_s = imm.cyt["s", "il6"]
    m.rate(crp, p["k_crp"] * (p["CRP_h"] + p["beta_crp"] * sp.Max(il6_s - imm.healthy["il6"], 0) - crp),
           desc="CRP made by the liver in response to serum IL-6; half-life 19 h",
           source="Vigushin 1993 (half-life); beta_crp derived from PMID 19077953 and RADIATE")

    u = (syn + p["c_pain_ra"]) * (1 - plc)
    sjc = m.rule("sjc28", 28 * syn**2 / (p["K_sjc"] ** 2 + syn**2), unit="joints",
                 desc="expected swollen joint count (28)", source="[design] monotone in synovitis", output=True)
    tjc = m.rule("tjc28", 28 * u**2 / (p["K_tjc"] ** 2 + u**2), unit="joints",
                 desc="expected tender joint count (28)", source="[design] synovitis + central pain, less placebo",
                 output=True)
    # open-label expectation moves the patient-reported components only (Hrobjartsson 2014)
    vas_shift = expect * P(m, "sd_between_vas_ra", species)
    pain = m.rule("pain_vas", sp.Max(100 * u / (p["K_pain_ra"] + u) - vas_shift, 0), unit="mm",
                  desc="patient pain VAS", source="[design]; less the open-label expectation", output=True)
    gh = m.rule("ptga", sp.Max(100 * u / (p["K_pain_ra"] + u) - vas_shift, 0), unit="mm",
                desc="patient global assessment VAS (GH)", source="[design]; less the open-label expectation",
                output=True)
    m.rule("phga", 100 * syn / (p["K_phga_ra"] + syn), unit="mm", desc="physician global assessment VAS",
           source="[design]", output=True)
    v = syn * (1 - 0.5 * plc) + p["w_damage_haq"] * erosion
    m.rule("haq", sp.Max(3 * v / (p["K_haq_ra"] + v) - expect * P(m, "sd_between_haq_ra", species), 0),
           unit="0-3", desc="HAQ disability index", source="[design]; less the open-label expectation", output=True)
    esr = m.rule("esr", p["ESR_h"] + p["e_esr"] * crp, unit="mm/h", desc="erythrocyte sedimentation rate",
                 source="[design]", output=True)
    m.rule("crp_out", crp, unit="mg/L", desc="serum CRP", source="state", output=True)
    m.rule("das28_crp", scores.das28_crp(tjc, sjc, crp, gh, xp=scores.SYM), unit="score",
           desc="DAS28-CRP (expected, from expected components)", source="scores.das28_crp (NCT02504671)",
           output=True)
    m.rule("das28_esr", scores.das28_esr(tjc, sjc, esr, gh, xp=scores.SYM), unit="score",
           desc="DAS28-ESR (expected)", source="scores.das28_esr (Prevoo 1995)", output=True)
    m.output("syn")
    m.output("erosion")
    return kin


def flare_factor(rng, n: int) -> np.ndarray:
    """Multiplier of the inflammatory components at each of ``n`` visits: ``1 + a_flare_ra`` at a
    visit that falls in a flare (probability ``p_flare_ra``), else 1; all 1 without ``rng``.

    RA activity waxes and wanes around a patient's level: patients are flaring at 17 % of visits
    (Raheel 2017, PMID 28968703) and most flares last under 2 weeks (Bykerk 2014, PMID 24334643),
    so visits weeks apart meet independent flares. A flare is sized to the OMERACT DAS28 flare
    criterion (increase > 1.2; van der Maas 2013, DOI 10.1136/annrheumdis-2012-202281). A patient
    in a flare at the baseline visit and out of it later improves without any treatment: part of
    the placebo-arm ACR20 of real trials (issue 15)."""
    from mscsim import parameters as P_

    if rng is None:
        return np.ones(n)
    return 1.0 + P_.value("a_flare_ra") * (rng.random(n) < P_.value("p_flare_ra"))


def observe(out, rng=None) -> dict[str, np.ndarray]:
    """Clinical measurements and scores at each time (with visit noise when ``rng`` is given)."""
    from mscsim import parameters as P_

    v = P_.value
    n = len(out)
    # a flare is a short visit-level event (independent between visits: visits are weeks apart)
    fl = flare_factor(rng, n)
    tjc = np.clip(np.round(gauss(rng, out["tjc28"] * fl, v("sd_tjc28"))) if rng is not None else out["tjc28"], 0, 28)
    sjc = np.clip(np.round(gauss(rng, out["sjc28"] * fl, v("sd_sjc28"))) if rng is not None else out["sjc28"], 0, 28)
    pain = np.clip(gauss(rng, out["pain_vas"] * fl, v("sd_vas")), 0, 100)
    ptga = np.clip(gauss(rng, out["ptga"] * fl, v("sd_vas")), 0, 100)
    phga = np.clip(gauss(rng, out["phga"] * fl, v("sd_vas")), 0, 100)
    haq = np.clip(gauss(rng, out["haq"], v("sd_haq")), 0, 3)
    crp = lognoise(rng, out["crp_out"] * fl, v("cv_crp"))
    esr = np.maximum(lognoise(rng, out["esr"] * fl, v("cv_esr")), 1.0)
    obs = {
        "tjc28": tjc, "sjc28": sjc, "pain_vas": pain, "ptga": ptga, "phga": phga, "haq": haq,
        "crp": crp, "esr": esr,
        # 68/66 joint counts scaled from the 28-joint counts [design]
        "tjc68": np.asarray(tjc) * 68 / 28, "sjc68": np.asarray(sjc) * 66 / 28,
    }
    obs["das28_crp"] = scores.das28_crp(obs["tjc28"], obs["sjc28"], obs["crp"], obs["ptga"])
    obs["das28_esr"] = scores.das28_esr(obs["tjc28"], obs["sjc28"], obs["esr"], obs["ptga"])
    return obs


def responders(obs, baseline) -> dict[str, np.ndarray]:
    """ACR20/50/70 and EULAR (good or moderate, on DAS28-ESR) versus baseline, as 0/1."""
    cur = {k: obs[k].to_numpy() for k in ("tjc68", "sjc68", "pain_vas", "ptga", "phga", "haq", "crp")}
    base = {k: np.full(len(obs), baseline[k]) for k in cur}
    rename = {"pain_vas": "pain"}
    cur = {rename.get(k, k): x for k, x in cur.items()}
    base = {rename.get(k, k): x for k, x in base.items()}
    out = {}
    for lvl in (20, 50, 70):
        out[f"acr{lvl}"] = scores.acr_response(base, cur, lvl).astype(float)
    eular = scores.eular_response(np.full(len(obs), baseline["das28_esr"]), obs["das28_esr"].to_numpy())
    out["eular_response"] = np.isin(eular, ["good", "moderate"]).astype(float)
    return out
