"""Systemic lupus erythematosus: autoreactive B/plasma cells, anti-dsDNA, immune complexes,
complement, lupus nephritis, damage, flares and survival; SLEDAI-2K item by item.

Structure (disease-models.md s.5.3, the recommended minimal SLE model):

- ``bcell`` (activated autoreactive B cells/plasmablasts, 1 = typical refractory patient)
  follows the immune network's T-cell help in blood (IFN-gamma, IL-6, IL-17 excess over
  healthy), restrained by Treg and IL-10, co-stimulated by nucleic-acid immune complexes
  (BCR + TLR7/9) and directly inhibited by MSCs (Corcione 2006).
- ``plasma`` (autoreactive plasma cells) follow the B cells with a 45-day half-life; they make
  ``anti_dsdna`` (IgG, half-life 21 days). The immune-complex load ``IC`` = anti-dsDNA relative
  to the typical patient.
- Immune complexes feed back: they add to the systemic autoimmune drive (pDC IFN-alpha) and
  make most of the renal drive (glomerular deposits), so the network's kidney compartment
  (target tissue ``kidney``) inflames; renal TNF-alpha, IL-6 and IFN-gamma drive active renal
  inflammation ``neph`` (1 = typical lupus nephritis; 2-week half-life: urinary sediment items,
  renal SDF-1 for MSC homing), which reversible glomerular barrier injury ``glom_injury``
  follows (half-life 62 days, so that proteinuria halves in 12 weeks of induction, Korbet 2012);
  a per-patient share ``f_scar_sle`` of the injury is chronic (``glom_scar``: sclerosis and
  fibrosis that never heal, the chronicity of Austin 1983), so proteinuria falls only to what the
  scars leave. Reversible plus scarred injury sets proteinuria, albumin and the renal part of the
  mortality hazard.
- ``c3`` is consumed by immune complexes (normal catabolism 2.3 %/h); C4 follows algebraically.
- ``damage`` (SLICC/ACR damage index) accrues with renal and extra-renal activity;
  ``survival`` falls with the hazard h = h0 exp(b_N G + b_D D), G = glomerular injury
  (Chen 2008 CR/PR/NR survival; SDI HR 1.46);
  ``flare_cumhaz`` accrues the flare hazard (proportional to the immune-complex load,
  BLISS placebo severe-flare rate at the typical load): ``relapse`` = 1 - exp(-H).

MSCs act through the shared immune network (less T-cell help and renal cytokines, more Treg
and IL-10; systemic secretome, renal homing, and the efferocytosis memory that outlasts the
cells) and directly on B cells. Most of the refractory patient's drive is immune-complex borne
(``psi_ic_sle``, ``chi_ic_sle``), so the drive itself falls as MSCs empty the B/plasma-cell pool.
The IC stimulus is sigmoid (``n_ic_sle`` = 2), which makes the IC loop bistable: the refractory
steady state (IC = 1) and a low one (remission). A patient whose IC falls below about ``K_ic_sle``
for long enough stays low after the cells have gone (a reset of the autoreactive B/plasma-cell
pool, issue 15 item 3); one whose IC handling needs a deeper fall (between-patient spread of
``K_ic_sle``) improves for months and returns.

Standard of care (``BACKGROUND``, scenario arm key ``background``): the typical patient's drives
are measured on the therapy the Nanjing patients were refractory to and stayed on (prednisone with
cyclophosphamide, mycophenolate or leflunomide, Wang D 2014 Table 1), so the subtype default
``soc_stable`` changes nothing. Therapies started at day 0 act through the module's equations:
cyclophosphamide or mycophenolate induction (``induction_sle``) and added prednisone
(``prednisone_sle``, an Emax of the dose in mg/day on glucocorticoid-receptor occupancy, held or
tapered exponentially: ``prednisone_taper``) cut the
systemic and renal autoimmune drives, with onsets of weeks and days; hydroxychloroquine
(``hcq_sle``, onset of months) lowers the flare hazard by its sourced relative risk.

SLEDAI-2K is scored item by item with the exact weights (``scores.sledai_2k``): increased DNA
binding when anti-dsDNA >= 30 IU/mL, low complement when C3 < 90 or C4 < 16 mg/dL, proteinuria
when > 0.5 g/24 h (laboratory items, from the model's states with visit noise). The clinical and
urinary-sediment descriptors belong to the patient: each has, per patient, an activity threshold
drawn once (`descriptor_latents`: correlated within an organ system, a little visit-to-visit
fluctuation), and is present while the patient's activity (extra-renal activity for the clinical
items, renal inflammation for the sediment) exceeds it. Across patients the probability of a
descriptor is its prevalence in the Nanjing MSC cohort (Wen 2019) times ``c_items_sle`` at the
typical activity, with odds proportional to activity^``n_item_sle``, so descriptors persist
while activity is steady and resolve as it falls. Without ``rng`` ``observe`` returns the
expected score.

Definitions (``scores``; the Nanjing papers' own texts were not retrievable, so each is a stated
choice). Wang D 2014 graded response with BILAG and renal indices, so the responses are read the
EXPLORER / LUNAR way: each activity-linked descriptor stands for a BILAG-2004 organ level
(``scores.SLE_BILAG_LEVEL``: weight-8 descriptors severe, arthritis/myositis/serositis moderate,
the rest mild; serology is no BILAG item). ``major_clinical_response`` = no severe or moderate
organ and a complete renal response (proteinuria < 0.5 g/24 h, inactive sediment, albumin >= 35
g/L); ``partial_clinical_response`` = not major, no severe organ, at most one moderate organ, and
with baseline nephritis a partial renal response (proteinuria >= 50 % down and < 3 g/24 h;
without, fewer active organs than at baseline); both as the best response at any visit so far
(the paper counts responses "during 12 months of follow-up");
``remission`` (Wang D 2013, Wang 2017/2018 "complete clinical remission") = clinical SLEDAI-2K 0
at the visit (DORIS 2017 without PGA and steroid dose).

``relapse`` is the probability of a flare by t counted from day 0 in every patient (treated or
not), not conditioned on a prior response as in Wang D 2014 (3/24 and 4/24 responders).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from mscsim import scores
from mscsim.diseases.base import Background, Endpoint, add_placebo, gauss, lognoise
from mscsim.immune import ratio_to_healthy
from mscsim.kinetics import KineticsHandles
from mscsim.kinetics.common import P
from mscsim.numerics import sympy as sp

NAME = "sle"
TARGET = "kidney"
SUBTYPES = ("refractory",)
DEFAULT_SUBTYPE = "refractory"
ENDPOINTS = {e.name: e for e in [
    Endpoint("sledai", "mean", "score", "SLEDAI-2K (0-105)"),
    Endpoint("proteinuria", "mean", "g/24 h", "24-hour urine protein"),
    Endpoint("anti_dsdna", "mean", "IU/mL", "serum anti-dsDNA antibody"),
    Endpoint("c3", "mean", "mg/dL", "serum complement C3"),
    Endpoint("remission", "proportion", "0/1", "clinical remission: clinical SLEDAI-2K = 0 (DORIS-type)"),
    Endpoint("relapse", "proportion", "0/1", "flare (relapse) by the time point"),
    Endpoint("major_clinical_response", "proportion", "0/1",
             "achieved by now: no BILAG A/B-level organ, proteinuria < 0.5 g/24 h, inactive sediment, "
             "albumin >= 35 g/L"),
    Endpoint("partial_clinical_response", "proportion", "0/1",
             "achieved by now, never major: no A, at most one B organ, proteinuria >= 50 % down and < 3 g/24 h"),
]}

#: read-outs drawn side by side (untreated vs treated) by `mscsim simulate --disease sle`
KEY_OUTPUTS = [("sledai", "SLEDAI-2K (expected)"), ("proteinuria", "proteinuria (g/24 h)"),
               ("anti_dsdna", "anti-dsDNA (IU/mL)"), ("c3", "C3 (mg/dL)"),
               ("neph", "renal inflammation (1 = typical LN)"), ("survival", "survival probability")]
SUMMARY_ENDPOINTS = ["sledai", "proteinuria", "anti_dsdna", "c3", "survival", "relapse"]
#: tools/calibrate_baselines.py: free constants, baseline targets of the typical patient, sources
BASELINE_TARGETS = (
    {"D_sle_s": (0.1, 10.0), "S_ref_sle": (0.05, 50.0), "S_N_ref_sle": (0.5, 500.0), "c_items_sle": (0.05, 0.7)},
    {"il6": (12.4, 0.3), "bcell": (1.0, 0.01), "neph": (1.0, 0.01), "sledai": (12.5, 0.1)},
    "B cells and renal inflammation 1 define the typical refractory patient; serum IL-6 12.4 pg/mL "
    "(SLE SMD 2.12, Ding 2020 PMC7536892, scaled on the RA anchor); SLEDAI-2K 12.5 (Liang 2010 12.2, "
    "Wen 2019 median 13)",
)

#: default trial inclusion on the observed baseline: active SLE, SLEDAI-2K >= 8 (the Nanjing MSC
#: database analysis, Wen 2019 Stem Cells Int 2019:7061408)
INCLUSION = {"sledai": ">=8"}

#: standard of care a scenario arm may list (``background: [...]``); see docs/disease-modules.md
BACKGROUND = {b.name: b for b in [
    Background("soc_stable", "prednisone with cyclophosphamide, mycophenolate or leflunomide, taken since "
               "before screening (the therapy the patient is refractory to): part of the calibrated drives, "
               "nothing changes in the trial", {},
               "Wang D 2014 Table 1 (PMID 24661633): the Nanjing MSC patients stayed on their prednisone and "
               "immunosuppressant; D_sle_s/D_sle_t are set on such patients"),
    Background("cyclophosphamide", "IV cyclophosphamide induction started at day 0 (NIH / Euro-Lupus "
               "pulses): cuts the systemic and renal drive by E_cyc_sle with onset k_induction_sle",
               {"cyc_start_sle": 1.0}, "ALMS, Appel 2009 J Am Soc Nephrol 20:1103 (PMID 19369404): IV "
               "cyclophosphamide and mycophenolate induction equivalent (response 53.0 vs 56.2 % at 24 weeks)"),
    Background("mycophenolate", "mycophenolate mofetil induction (2-3 g/day) started at day 0: cuts the "
               "systemic and renal drive by E_mmf_sle with onset k_induction_sle", {"mmf_start_sle": 1.0},
               "ALMS, Appel 2009 (PMID 19369404)"),
    Background("prednisone", "prednisone added at day 0 on top of the entry dose, dose in mg/day: cuts the "
               "drives by Emax_pred_sle x dose/(dose + ED50_pred_sle) with onset k_pred_sle, held (see "
               "prednisone_taper)", {}, "dose-occupancy: Buttgereit 2002 Ann Rheum Dis 61:718 "
               "(PMID 12117678)", dose_param="pred_add_sle", dose_unit="mg/d", default_dose=10.0,
               started=True),
    Background("prednisone_taper", "prednisone added at day 0 at the given starting dose (mg/day) and tapered "
               "exponentially with half-life t_half_taper_sle (e.g. 60 -> 10 mg/day in 12 weeks)",
               {"pred_taper_sle": 1.0}, "taper pace: ALMS induction protocol (Appel 2009, PMID 19369404) [design "
               "form]; dose-occupancy Buttgereit 2002 (PMID 12117678)", dose_param="pred_add_sle", dose_unit="mg/d",
               default_dose=60.0),
    Background("hydroxychloroquine", "hydroxychloroquine (200-400 mg/day) started at day 0: flare hazard "
               "x rr_hcq_sle, onset k_hcq_sle", {"hcq_start_sle": 1.0},
               "Canadian Hydroxychloroquine Study Group 1991 N Engl J Med 324:150 (PMID 1984192)"),
]}
#: the background an arm gets when it lists none, per subtype
DEFAULT_BACKGROUND = {"refractory": ("soc_stable",)}

#: free effect parameters for `mscsim calibrate` (none changes the untreated baseline)
CALIBRATION_PARAMETERS = ['i_B_msc_sle', 'psi_ic_sle']

#: clinical (non-laboratory) SLEDAI-2K descriptors -> (prevalence parameter, share of it)
CLINICAL_ITEMS = {
    "fever": ("prev_fever_sle", 1.0), "rash": ("prev_rash_sle", 1.0),
    "mucosal_ulcers": ("prev_mucosal_sle", 1.0), "arthritis": ("prev_arthritis_sle", 1.0),
    "pleurisy": ("prev_serositis_sle", 0.5), "pericarditis": ("prev_serositis_sle", 0.5),
    "vasculitis": ("prev_vasculitis_sle", 1.0), "alopecia": ("prev_alopecia_sle", 1.0),
    "myositis": ("prev_myositis_sle", 1.0),
    "thrombocytopenia": ("prev_haem_sle", 0.5), "leukopenia": ("prev_haem_sle", 0.5),
    **{k: ("prev_neuro_sle", 1.0 / 7) for k in ("seizure", "psychosis", "organic_brain_syndrome",
                                                  "visual_disturbance", "cranial_nerve_disorder",
                                                  "lupus_headache", "cva")},
}
#: urinary-sediment descriptors -> probability parameter in the typical patient
RENAL_ITEMS = {"haematuria": "p_haematuria_sle", "urinary_casts": "p_casts_sle", "pyuria": "p_pyuria_sle"}
#: organ system of each activity-linked descriptor (BILAG-2004 organ domains: constitutional,
#: mucocutaneous, neuropsychiatric, musculoskeletal, cardiorespiratory, renal, haematological;
#: Isenberg 2005 Rheumatology 44:902 [recalled]); vasculitis kept on its own
DESCRIPTOR_ORGAN = {
    "fever": "constitutional", "rash": "mucocutaneous", "alopecia": "mucocutaneous",
    "mucosal_ulcers": "mucocutaneous", "vasculitis": "vascular", "arthritis": "musculoskeletal",
    "myositis": "musculoskeletal", "pleurisy": "cardiorespiratory", "pericarditis": "cardiorespiratory",
    "thrombocytopenia": "haematological", "leukopenia": "haematological",
    **{k: "neuropsychiatric" for k in ("seizure", "psychosis", "organic_brain_syndrome", "visual_disturbance",
                                        "cranial_nerve_disorder", "lupus_headache", "cva")},
    "haematuria": "renal", "urinary_casts": "renal", "pyuria": "renal",
}
ORGAN_SYSTEMS = sorted(set(DESCRIPTOR_ORGAN.values()))


def _hill_norm(a, K, n):
    """a^n (1 + K^n)/(a^n + K^n): 0 at 0, 1 at the typical patient (a = 1), at most 1 + K^n."""
    return a ** n * (1 + K ** n) / (a ** n + K ** n)


def item_probability(p_typical, activity, n, xp=np):
    """Probability of a descriptor at ``activity`` (1 = typical patient): the odds of the typical
    patient times activity^n, so p = p_typical at activity 1, p -> 0 as activity -> 0 and p -> 1 as
    activity grows (a per-patient activity threshold, log-logistic across patients) [design]."""
    scale = activity ** n if xp is SYMBOLIC else np.power(np.maximum(activity, 0.0), n)
    odds = p_typical / (1 - p_typical) * scale
    return odds / (1 + odds)


SYMBOLIC = scores.SYM


def compose(m, body, layers, *, species, subtype) -> KineticsHandles:
    names = ["D_sle_s", "D_sle_t", "psi_ic_sle", "chi_ic_sle", "K_ic_sle", "k_B_sle", "w_B_ifng_sle", "w_B_il6_sle",
             "w_B_il17_sle", "kappa_B_sle", "phi_ic_sle", "i_B_msc_sle", "S_ref_sle", "k_PC_sle", "n_ic_sle",
             "soc_is_sle", "k_ab_sle",
             "dsdna0_sle", "dsdna_cut_sle", "C3_h_sle", "C4_h_sle", "k_c3_sle", "kappa_c3_sle", "kappa_c4_sle",
             "c3_cut_sle", "c4_cut_sle", "k_N_sle", "k_glom_sle", "w_N_tnf_sle", "w_N_il6_sle", "w_N_ifng_sle",
             "S_N_ref_sle",
             "K_N_sdf1_sle", "f_scar_sle", "k_scar_sle", "prot_h_sle", "beta_prot_sle", "alb_h_sle", "d_alb_sle", "K_alb_sle", "w_A_cyt_sle",
             "c_items_sle", "n_item_sle", "prot_cut_sle", "sdi0_sle", "k_dmg_sle", "w_dmg_N_sle", "h0_sle",
             "b_N_sle", "b_D_sle", "hf0_sle"]
    names += sorted({v[0] for v in CLINICAL_ITEMS.values()}) + list(RENAL_ITEMS.values())
    p = {n: P(m, n, species) for n in names}

    # --- disease states ---
    B = m.state("bcell", unit="1", group="disease", init=1.0, atol=1e-8, init_mode="steady",
                desc="activated autoreactive B cells/plasmablasts (1 = typical refractory SLE)")
    PC = m.state("plasma", unit="1", group="disease", init=1.0, atol=1e-8, init_mode="steady",
                 desc="autoreactive anti-dsDNA-secreting plasma cells (1 = typical refractory SLE)")
    Ab = m.state("anti_dsdna", unit="IU/mL", group="disease", init=100.0, atol=1e-6, init_mode="steady",
                 desc="serum anti-dsDNA IgG")
    C3 = m.state("c3", unit="mg/dL", group="disease", init=65.0, atol=1e-6, init_mode="steady",
                 desc="serum complement C3")
    N = m.state("neph", unit="1", group="disease", init=1.0, atol=1e-8, init_mode="steady",
                desc="active renal (lupus nephritis) inflammation (1 = typical refractory LN, 0 = none)")
    G = m.state("glom_injury", unit="1", group="disease", init=1.0, atol=1e-8, init_mode="steady",
                desc="glomerular filtration-barrier injury that sets proteinuria (1 = typical refractory LN)")
    Sc = m.state("glom_scar", unit="1", group="disease", init=0.0, atol=1e-8, init_mode="steady",
                 desc="chronic, irreversible part of glomerular injury (same scale as glom_injury)")
    D = m.state("damage", unit="SDI units", group="disease", init=1.0, atol=1e-8, init_mode="param:sdi0_sle",
                desc="irreversible organ damage (SLICC/ACR damage index)")
    S = m.state("survival", unit="probability", group="disease", init=1.0, atol=1e-10,
                desc="probability of being alive")
    H = m.state("flare_cumhaz", unit="1", group="disease", init=0.0, atol=1e-10,
                desc="cumulative hazard of a disease flare (relapse)")

    IC = m.rule("immune_complex", Ab / p["dsdna0_sle"], unit="1",
                desc="circulating immune-complex load (anti-dsDNA relative to the typical patient)",
                source="IC = f(Ab), disease-models.md s.5.3 [design: proportional]", output=True)
    sdf1 = m.rule("sdf1_target", N / (N + p["K_N_sdf1_sle"]), unit="1",
                  desc="renal SDF-1 (CXCL12) signal, 0..1", source="inflamed kidney makes CXCL12 [design form]",
                  output=True)
    ICs = m.rule("immune_complex_signal", _hill_norm(IC, p["K_ic_sle"], p["n_ic_sle"]), unit="1",
                 desc="sigmoid immune-complex stimulus (1 = typical patient, at most 1 + K^n)",
                 source="[design] Fc-receptor/TLR uptake of ICs saturates at high load and needs IC cross-linking "
                        "(threshold) at low load: with n_ic_sle > 1 the IC loop has a low (remission) as well as "
                        "the high (refractory) steady state", output=True)
    kin = layers.kinetics(sdf1)
    # --- standard of care started at day 0 (BACKGROUND): inputs set by the trial from the arm ---
    def _input(name, unit, desc):
        return m.param(name, 0.0, unit=unit, kind="input", desc=desc, source="set by the trial from the arm's background")

    cyc = _input("cyc_start_sle", "1", "1 when IV cyclophosphamide induction starts at day 0 (background: [cyclophosphamide])")
    mmf = _input("mmf_start_sle", "1", "1 when mycophenolate induction starts at day 0 (background: [mycophenolate])")
    hcq_on = _input("hcq_start_sle", "1", "1 when hydroxychloroquine starts at day 0 (background: [hydroxychloroquine])")
    pred_dose = _input("pred_add_sle", "mg/d", "prednisone added at day 0 over the entry dose (background: "
                       "[{name: prednisone, dose: ...}])")
    ind = m.state("induction_sle", unit="fraction", group="disease", init=0.0, atol=1e-9,
                  desc="fraction of the autoimmune drives removed by induction therapy started at day 0")
    m.rate(ind, P(m, "k_induction_sle", species) * (P(m, "E_cyc_sle", species) * cyc
                                                    + P(m, "E_mmf_sle", species) * mmf - ind),
           desc="cyclophosphamide / mycophenolate induction builds up over weeks",
           source="ALMS (Appel 2009, PMID 19369404): equivalent induction agents; onset [design]")
    taper_on = _input("pred_taper_sle", "1", "1 when the added prednisone is tapered (background: [prednisone_taper])")
    left = m.state("pred_taper_left_sle", unit="fraction", group="disease", init=1.0, atol=1e-9,
                   desc="share of the added prednisone dose still given (1 = no taper yet)")
    m.rate(left, -taper_on * sp.log(2) / P(m, "t_half_taper_sle", species) * left,
           desc="exponential prednisone taper", source="[design form] taper pace t_half_taper_sle (ALMS protocol)")
    dose_now = m.rule("prednisone_added_sle", pred_dose * left, unit="mg/d",
                      desc="prednisone added over the entry dose, today (after any taper)", source="input x taper",
                      output=True)
    pred = m.state("prednisone_sle", unit="fraction", group="disease", init=0.0, atol=1e-9,
                   desc="fraction of the autoimmune drives removed by prednisone added at day 0")
    m.rate(pred, P(m, "k_pred_sle", species) * (P(m, "Emax_pred_sle", species) * dose_now
                                                / (dose_now + P(m, "ED50_pred_sle", species)) - pred),
           desc="added prednisone: Emax of the daily dose (glucocorticoid-receptor occupancy), onset of days",
           source="Buttgereit 2002 Ann Rheum Dis 61:718 (PMID 12117678): receptor saturation ~50 % at "
                  "7.5 mg/day; Emax and onset [design]")
    hcq = m.state("hcq_sle", unit="fraction", group="disease", init=0.0, atol=1e-9,
                  desc="hydroxychloroquine effect built up since its start (0..1)")
    m.rate(hcq, P(m, "k_hcq_sle", species) * (hcq_on - hcq), desc="hydroxychloroquine acts over months",
           source="onset k_hcq_sle [design]")
    soc = (1 - p["soc_is_sle"]) * (1 - ind) * (1 - pred)
    drive_s = p["D_sle_s"] * soc * (1 - p["psi_ic_sle"] + p["psi_ic_sle"] * ICs)
    drive_t = p["D_sle_t"] * soc * (1 - p["chi_ic_sle"] + p["chi_ic_sle"] * ICs)
    imm = layers.immune(kin, drive_s=drive_s, drive_t=drive_t, species=species)
    plc = add_placebo(m, NAME, species)

    # --- B cells, plasma cells, anti-dsDNA ---
    help_excess = (p["w_B_ifng_sle"] * (ratio_to_healthy(imm, "s", "ifng") - 1)
                   + p["w_B_il6_sle"] * (ratio_to_healthy(imm, "s", "il6") - 1)
                   + p["w_B_il17_sle"] * (ratio_to_healthy(imm, "s", "il17") - 1))
    restraint = sp.exp(-p["kappa_B_sle"] * ((imm.cells["s", "Treg"] - 1)
                                            + (ratio_to_healthy(imm, "s", "il10") - 1)) / 2)
    help_n = m.rule("bcell_help", sp.Max(help_excess, 0) * restraint / p["S_ref_sle"], unit="1",
                    desc="T-cell help to autoreactive B cells (serum IFN-gamma/IL-6/IL-17 excess, restrained by "
                         "Treg and IL-10; 1 = typical patient)",
                    source="disease-models.md s.5.3 [design form]", output=True)
    b_target = (help_n * (1 - p["phi_ic_sle"] + p["phi_ic_sle"] * ICs)
                * (1 - p["i_B_msc_sle"] * imm.msc_effect_s))
    m.rate(B, p["k_B_sle"] * (b_target - B),
           desc="autoreactive B cells follow T-cell help and immune-complex co-stimulation, less direct MSC inhibition",
           source="disease-models.md s.5.3; TLR7/9 co-stimulation (Leadbetter 2002 [recalled]); MSC -| B cells "
                  "(Corcione 2006 PMID 16141348 [recalled])")
    m.rate(PC, p["k_PC_sle"] * (B - PC), desc="plasma cells made from activated B cells; 45-day half-life",
           source="[design] k_PC_sle")
    m.rate(Ab, p["k_ab_sle"] * (p["dsdna0_sle"] * PC - Ab),
           desc="anti-dsDNA made by plasma cells; IgG half-life 21 days",
           source="dAb/dt = s P - k_Ab Ab (disease-models.md s.5.3); Morell 1970 (IgG half-life)")

    # --- complement ---
    m.rate(C3, p["k_c3_sle"] * (p["C3_h_sle"] - C3) - p["k_c3_sle"] * p["kappa_c3_sle"] * IC * C3,
           desc="C3 made and catabolised at its normal rate, consumed by immune complexes",
           source="Alper & Rosen 1967 PMC292954 (FCR 2.3 %/h); consumption by ICs (Hunsicker 1972 NEJM 287:835)")
    c4 = m.rule("c4", p["C4_h_sle"] / (1 + p["kappa_c4_sle"] * IC), unit="mg/dL", desc="serum complement C4",
                source="classical-pathway consumption by ICs, quasi-steady [design]", output=True)

    # --- kidney ---
    renal_excess = (p["w_N_tnf_sle"] * (ratio_to_healthy(imm, "t", "tnf") - 1)
                    + p["w_N_il6_sle"] * (ratio_to_healthy(imm, "t", "il6") - 1)
                    + p["w_N_ifng_sle"] * (ratio_to_healthy(imm, "t", "ifng") - 1))
    m.rate(N, p["k_N_sle"] * (sp.Max(renal_excess, 0) / p["S_N_ref_sle"] - N),
           desc="active renal inflammation follows renal TNF-alpha, IL-6 and IFN-gamma (driven by glomerular ICs)",
           source="disease-models.md s.5.3 [rate: design, active sediment clears within weeks]")
    m.rate(G, p["k_glom_sle"] * ((1 - p["f_scar_sle"]) * N - G),
           desc="reversible glomerular barrier injury follows active inflammation slowly",
           source="proteinuria under induction therapy halves in ~12 weeks (Korbet & Lewis 2012 NDT 27:2813)")
    m.rate(Sc, p["k_scar_sle"] * sp.Max(p["f_scar_sle"] * N - Sc, 0),
           desc="chronic (scarred) glomerular injury: grows with active inflammation, never heals",
           source="chronic lesions (glomerulosclerosis, fibrous crescents, interstitial fibrosis) do not respond "
                  "to immunosuppression and predict non-response (Austin 1983 Am J Med 75:382 [recalled]); "
                  "share f_scar_sle per patient [design]")
    prot = m.rule("proteinuria", p["prot_h_sle"] + p["beta_prot_sle"] * (G + Sc), unit="g/24 h",
                  desc="24-hour urine protein", source="linear in glomerular injury, reversible + scarred [design]; "
                                                        "Liang 2010 baseline", output=True)
    m.rule("albumin", p["alb_h_sle"] - p["d_alb_sle"] * prot / (prot + p["K_alb_sle"]), unit="g/L",
           desc="serum albumin (urinary loss)", source="[design]", output=True)

    # --- activity, damage, survival, flares ---
    A = m.rule("activity_sle", p["w_A_cyt_sle"] * help_n + (1 - p["w_A_cyt_sle"]) * IC, unit="1",
               desc="extra-renal clinical activity (1 = typical patient): systemic cytokine help (fast) and "
                    "immune complexes (slow)", source="[design] w_A_cyt_sle", output=True)
    m.rate(D, p["k_dmg_sle"] * (p["w_dmg_N_sle"] * N + (1 - p["w_dmg_N_sle"]) * A),
           desc="damage accrues with renal and extra-renal activity",
           source="SLICC/ACR damage as an integral of activity (disease-models.md s.5.3); Bruce 2015 [rate: design]")
    hazard = m.rule("death_hazard", p["h0_sle"] * sp.exp(p["b_N_sle"] * G + p["b_D_sle"] * D), unit="1/day",
                    desc="mortality hazard rising with renal disease (proteinuria-defined) and damage",
                    source="h = h0 exp(b_N N + b_D D) (disease-models.md s.5.3); Chen 2008 PMID 18003764; "
                           "Bruce 2015 (SDI HR)", output=True)
    m.rate(S, -hazard * S, desc="survival falls with the mortality hazard", source="dS/dt = -h S")
    hcq_cut = 1 - (1 - P(m, "rr_hcq_sle", species)) * hcq
    m.rate(H, p["hf0_sle"] * IC * hcq_cut,
           desc="flare hazard proportional to the immune-complex load, lowered by hydroxychloroquine",
           source="BLISS placebo severe-flare rate at typical serology (disease-models.md s.5.4) [form: design]; "
                  "hydroxychloroquine relative risk (Canadian HCQ Study Group 1991, PMID 1984192)")
    m.rule("relapse", 1 - sp.exp(-H), unit="probability", desc="probability of a flare (relapse) by now",
           source="1 - exp(-cumulative hazard)", output=True)

    # --- SLEDAI-2K items: expected score from the expected measurements ---
    a_clin = m.rule("sledai_clin_activity", A * (1 - plc), unit="1",
                    desc="activity that sets the clinical SLEDAI-2K descriptors (extra-renal activity less placebo)",
                    source="[design] items tied to activity (disease-models.md s.5.3), less placebo", output=True)
    n_it = p["n_item_sle"]
    items = {k: item_probability(share * p["c_items_sle"] * p[prev], a_clin, n_it, xp=SYMBOLIC)
             for k, (prev, share) in CLINICAL_ITEMS.items()}
    items.update({k: item_probability(p[q], N, n_it, xp=SYMBOLIC) for k, q in RENAL_ITEMS.items()})
    items["increased_dna_binding"] = sp.Piecewise((1.0, Ab >= p["dsdna_cut_sle"]), (0.0, True))
    items["low_complement"] = sp.Piecewise((1.0, sp.Or(C3 < p["c3_cut_sle"], c4 < p["c4_cut_sle"])), (0.0, True))
    items["proteinuria"] = sp.Piecewise((1.0, prot > p["prot_cut_sle"]), (0.0, True))
    m.rule("sledai", scores.sledai_2k(items, xp=scores.SYM), unit="score",
           desc="SLEDAI-2K, expected over the patients' descriptor thresholds",
           source="scores.sledai_2k (Gladman 2002)",
           output=True)
    for s in ("bcell", "plasma", "anti_dsdna", "c3", "neph", "glom_injury", "glom_scar", "damage", "survival", "flare_cumhaz",
              "induction_sle", "prednisone_sle", "hcq_sle"):
        m.output(s)
    return kin


def _item_probabilities(out) -> dict[str, np.ndarray]:
    """Probability of every activity-linked SLEDAI-2K descriptor at each time (the share of
    patients like this one whose threshold the activity exceeds)."""
    from mscsim import parameters as P_

    v = P_.value
    n_it = v("n_item_sle")
    a_clin = out["sledai_clin_activity"].to_numpy()
    renal = out["neph"].to_numpy()
    probs = {k: item_probability(share * v("c_items_sle") * v(prev), a_clin, n_it)
             for k, (prev, share) in CLINICAL_ITEMS.items()}
    probs.update({k: item_probability(v(q), renal, n_it) for k, q in RENAL_ITEMS.items()})
    return probs


def descriptor_latents(rng, n_visits: int, rho: float, nu: float) -> dict[str, np.ndarray]:
    """One patient's descriptor propensities U (uniform 0..1 marginally) at each visit.

    Drawn once per patient: an organ-system factor z_g and a descriptor factor e_k, x_k = sqrt(rho)
    z_g + sqrt(1 - rho) e_k (so descriptors of one organ system are correlated, rho); at each visit
    x_kt = sqrt(1 - nu) x_k + sqrt(nu) eps_kt (small visit-to-visit fluctuation, nu); U = Phi(x).
    A descriptor is present when U < its probability at the current activity, so the same patient
    keeps the same descriptors while activity is steady and loses them (highest U first) as it
    falls [design; Gaussian copula]. The draws use a fixed number of variates, so the result is
    deterministic in the patient's seed whatever the activity."""
    z = rng.standard_normal(len(ORGAN_SYSTEMS))
    e = rng.standard_normal(len(DESCRIPTOR_ORGAN))
    eps = rng.standard_normal((n_visits, len(DESCRIPTOR_ORGAN)))
    out = {}
    for j, (k, g) in enumerate(DESCRIPTOR_ORGAN.items()):
        x = np.sqrt(rho) * z[ORGAN_SYSTEMS.index(g)] + np.sqrt(1 - rho) * e[j]
        out[k] = ndtr(np.sqrt(1 - nu) * x + np.sqrt(nu) * eps[:, j])
    return out


def observe(out, rng=None) -> dict[str, np.ndarray]:
    """Laboratory values, SLEDAI-2K item by item, remission, relapse and survival at each time.

    Without ``rng``: noise-free laboratory values, the expected SLEDAI-2K, the probability of
    clinical remission (descriptors taken as independent: a lower bound, as they are positively
    correlated), of a flare by t and of being alive. With ``rng``: the patient's own, persistent
    descriptors (`descriptor_latents`), visit noise on the laboratory values, and one uniform per
    patient for the flare and for death (so each history is consistent over time).
    """
    from mscsim import parameters as P_

    v = P_.value
    n = len(out)
    # per-patient draws first, in a fixed number, so they do not depend on the visit grid or the state
    u_flare, u_death = (rng.random(), rng.random()) if rng is not None else (None, None)
    latent = descriptor_latents(rng, n, v("rho_organ_sle"), v("nu_visit_sle")) if rng is not None else None
    dsdna = lognoise(rng, out["anti_dsdna"], v("cv_dsdna_sle"))
    c3 = lognoise(rng, out["c3"], v("cv_c3_sle"))
    c4 = lognoise(rng, out["c4"], v("cv_c3_sle"))
    prot = lognoise(rng, out["proteinuria"], v("cv_prot_sle"))
    alb = np.clip(gauss(rng, out["albumin"], v("sd_alb_sle")), 5.0, 60.0)
    probs = _item_probabilities(out)
    if rng is None:
        items = dict(probs)
    else:
        items = {k: (latent[k] < p).astype(float) for k, p in probs.items()}
    items["increased_dna_binding"] = (dsdna >= v("dsdna_cut_sle")).astype(float)
    items["low_complement"] = ((c3 < v("c3_cut_sle")) | (c4 < v("c4_cut_sle"))).astype(float)
    items["proteinuria"] = (prot > v("prot_cut_sle")).astype(float)
    sledai = scores.sledai_2k(items)
    clinical = scores.sledai_2k_clinical(items)
    if rng is None:
        remission = np.prod([1 - items[k] for k in items if k not in scores.SLEDAI_2K_SEROLOGY], axis=0)
    else:
        remission = scores.sle_clinical_remission(clinical).astype(float)
    p_flare = out["relapse"].to_numpy()
    p_alive = out["survival"].to_numpy()
    if rng is None:
        relapse, alive = p_flare, p_alive
    else:
        relapse = (u_flare < p_flare).astype(float)
        alive = (u_death >= 1 - p_alive).astype(float)
    obs = {
        "sledai": sledai, "clinical_sledai": clinical, "proteinuria": prot, "anti_dsdna": dsdna, "c3": c3,
        "c4": c4, "albumin": alb, "remission": np.asarray(remission, dtype=float), "relapse": relapse,
        "survival": alive, "damage": out["damage"].to_numpy(),
    }
    for k, x in items.items():
        obs[f"sledai_{k}"] = x
    return obs


def _items(obs) -> dict:
    """SLEDAI-2K descriptors (0/1 or probabilities) of an observation (``sledai_<item>`` columns)."""
    return {k: obs[f"sledai_{k}"] for k in scores.SLEDAI_2K_ITEMS if f"sledai_{k}" in obs}


def responders(obs, baseline) -> dict[str, np.ndarray]:
    """Best clinical response by each visit (Wang D 2014 counts patients who "achieved MCR / PCR
    during 12 months of follow-up"): major if any visit so far met `scores.sle_major_clinical_response`,
    partial if none did and one met `scores.sle_partial_clinical_response` (BILAG-type organ
    criteria on the patient's descriptors and LUNAR/ALMS-type renal criteria). Visits are the
    scenario's observation times."""
    items = _items(obs)
    pr = np.asarray(obs["proteinuria"], dtype=float)
    alb = np.asarray(obs["albumin"], dtype=float)
    major = scores.sle_major_clinical_response(items, pr, alb)
    partial = scores.sle_partial_clinical_response(items, pr, baseline["proteinuria"], _items(baseline)) & ~major
    ever_major = np.maximum.accumulate(major)
    ever_partial = np.maximum.accumulate(partial) & ~ever_major
    return {"major_clinical_response": ever_major.astype(float),
            "partial_clinical_response": ever_partial.astype(float)}
