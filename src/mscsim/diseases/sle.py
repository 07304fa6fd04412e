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
  renal SDF-1 for MSC homing), which glomerular barrier injury ``glom_injury`` follows with a
  12-week half-life (proteinuria under induction therapy, Korbet 2012); it sets proteinuria,
  albumin and the renal part of the mortality hazard.
- ``c3`` is consumed by immune complexes (normal catabolism 2.3 %/h); C4 follows algebraically.
- ``damage`` (SLICC/ACR damage index) accrues with renal and extra-renal activity;
  ``survival`` falls with the hazard h = h0 exp(b_N G + b_D D), G = glomerular injury
  (Chen 2008 CR/PR/NR survival; SDI HR 1.46);
  ``flare_cumhaz`` accrues the flare hazard (proportional to the immune-complex load,
  BLISS placebo severe-flare rate at the typical load): ``relapse`` = 1 - exp(-H).

MSCs act through the shared immune network (less T-cell help and renal cytokines, more Treg
and IL-10; systemic secretome, renal homing, and the efferocytosis memory that outlasts the
cells) and directly on B cells. The immune-complex loop (IC -> drive and IC -> B cells,
saturating; gain ~0.9 at the typical patient, one stable untreated steady state) makes the
response build over months and wane over 1-2 years, as the Nanjing cohorts report.

SLEDAI-2K is scored item by item with the exact weights (``scores.sledai_2k``): increased DNA
binding when anti-dsDNA >= 30 IU/mL, low complement when C3 < 90 or C4 < 16 mg/dL, proteinuria
when > 0.5 g/24 h; haematuria, casts and pyuria with probabilities rising with renal
inflammation; the clinical descriptors with probabilities rising with extra-renal activity
(prevalences of the Nanjing MSC cohort, Wen 2019). Without ``rng`` ``observe`` returns the
expected score; with ``rng`` each descriptor is drawn at each visit.

Response definitions (the text of Wang D 2014's MCR/PCR definitions was not retrievable, and
the model has no BILAG, so these are the module's own, on SLEDAI-2K and proteinuria):

- ``major_clinical_response``: SLEDAI-2K <= 3 and proteinuria <= 0.5 g/24 h;
- ``partial_clinical_response``: not major, SLEDAI-2K fall >= 4 from baseline (improvement
  > 3, SRI-4 component) and, when baseline proteinuria > 0.5 g/24 h, proteinuria <= 50 % of
  baseline (LUNAR-type partial renal response);
- ``remission``: clinical SLEDAI-2K = 0 (no non-serological descriptor; DORIS 2017 framework,
  van Vollenhoven Ann Rheum Dis 2017;76:554, without PGA and steroid dose).

``relapse`` is the probability of a flare by t counted from day 0 in every patient (treated or
not), not conditioned on a prior response as in Wang D 2014 (3/24 and 4/24 responders).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sympy as sp

from mscsim import scores
from mscsim.diseases.base import Endpoint, add_placebo, gauss, lognoise
from mscsim.immune import add_immune, ratio_to_healthy
from mscsim.kinetics import add_kinetics
from mscsim.kinetics.common import P
from mscsim.model import ComposedModel

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
    Endpoint("major_clinical_response", "proportion", "0/1", "SLEDAI-2K <= 3 and proteinuria <= 0.5 g/24 h"),
    Endpoint("partial_clinical_response", "proportion", "0/1",
             "not major; SLEDAI-2K fall >= 4 and proteinuria halved (if > 0.5 g/24 h at baseline)"),
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


def _sat(a, K):
    """a (1 + K)/(a + K): 0 at 0, 1 at the typical patient (a = 1), at most 1 + K."""
    return a * (1 + K) / (a + K)


def compose(m, body, *, species, subtype, d_cell, cxcr4) -> ComposedModel:
    names = ["D_sle_s", "D_sle_t", "psi_ic_sle", "chi_ic_sle", "K_ic_sle", "k_B_sle", "w_B_ifng_sle", "w_B_il6_sle",
             "w_B_il17_sle", "kappa_B_sle", "phi_ic_sle", "i_B_msc_sle", "S_ref_sle", "k_PC_sle", "k_ab_sle",
             "dsdna0_sle", "dsdna_cut_sle", "C3_h_sle", "C4_h_sle", "k_c3_sle", "kappa_c3_sle", "kappa_c4_sle",
             "c3_cut_sle", "c4_cut_sle", "k_N_sle", "k_glom_sle", "w_N_tnf_sle", "w_N_il6_sle", "w_N_ifng_sle",
             "S_N_ref_sle",
             "K_N_sdf1_sle", "prot_h_sle", "beta_prot_sle", "alb_h_sle", "d_alb_sle", "K_alb_sle", "w_A_cyt_sle",
             "c_items_sle", "K_item_sle", "prot_cut_sle", "sdi0_sle", "k_dmg_sle", "w_dmg_N_sle", "h0_sle",
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
    ICs = m.rule("immune_complex_signal", _sat(IC, p["K_ic_sle"]), unit="1",
                 desc="saturating immune-complex stimulus (1 = typical patient, at most 1 + K)",
                 source="[design] Fc-receptor/TLR uptake of ICs saturates; keeps the IC loop from running away",
                 output=True)
    kin = add_kinetics(m, body, species=species, sdf1=sdf1, d_cell=d_cell, cxcr4=cxcr4)
    drive_s = p["D_sle_s"] * (1 - p["psi_ic_sle"] + p["psi_ic_sle"] * ICs)
    drive_t = p["D_sle_t"] * (1 - p["chi_ic_sle"] + p["chi_ic_sle"] * ICs)
    imm = add_immune(m, kin, drive_s=drive_s, drive_t=drive_t, species=species)
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
    m.rate(G, p["k_glom_sle"] * (N - G), desc="glomerular barrier injury follows active inflammation slowly",
           source="proteinuria under induction therapy halves in ~12 weeks (Korbet & Lewis 2012 NDT 27:2813)")
    prot = m.rule("proteinuria", p["prot_h_sle"] + p["beta_prot_sle"] * G, unit="g/24 h",
                  desc="24-hour urine protein", source="linear in glomerular injury [design]; Liang 2010 baseline",
                  output=True)
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
    m.rate(H, p["hf0_sle"] * IC, desc="flare hazard proportional to the immune-complex load",
           source="BLISS placebo severe-flare rate at typical serology (disease-models.md s.5.4) [form: design]")
    m.rule("relapse", 1 - sp.exp(-H), unit="probability", desc="probability of a flare (relapse) by now",
           source="1 - exp(-cumulative hazard)", output=True)

    # --- SLEDAI-2K items: expected score from the expected measurements ---
    a_clin = A * (1 - plc)
    clin_scale = m.rule("sledai_clin_scale", p["c_items_sle"] * _sat(a_clin, p["K_item_sle"]), unit="1",
                        desc="probability of a clinical SLEDAI descriptor per unit of its cohort prevalence",
                        source="[design] items tied to activity (disease-models.md s.5.3), less placebo", output=True)
    renal_scale = m.rule("sledai_renal_scale", _sat(N, p["K_item_sle"]), unit="1",
                         desc="probability of a urinary-sediment descriptor relative to the typical patient",
                         source="[design] items tied to renal inflammation", output=True)
    items = {k: sp.Min(1, share * p[prev] * clin_scale) for k, (prev, share) in CLINICAL_ITEMS.items()}
    items.update({k: sp.Min(1, p[q] * renal_scale) for k, q in RENAL_ITEMS.items()})
    items["increased_dna_binding"] = sp.Piecewise((1.0, Ab >= p["dsdna_cut_sle"]), (0.0, True))
    items["low_complement"] = sp.Piecewise((1.0, sp.Or(C3 < p["c3_cut_sle"], c4 < p["c4_cut_sle"])), (0.0, True))
    items["proteinuria"] = sp.Piecewise((1.0, prot > p["prot_cut_sle"]), (0.0, True))
    m.rule("sledai", scores.sledai_2k(items, xp=scores.SYM), unit="score",
           desc="SLEDAI-2K, expected over the probabilistic descriptors", source="scores.sledai_2k (Gladman 2002)",
           output=True)
    for s in ("bcell", "plasma", "anti_dsdna", "c3", "neph", "glom_injury", "damage", "survival", "flare_cumhaz"):
        m.output(s)
    return ComposedModel(m, species, NAME, TARGET, kin, disease_module=__import__(__name__, fromlist=["x"]),
                         subtype=subtype)


def _item_probabilities(out: pd.DataFrame) -> dict[str, np.ndarray]:
    """Probability of every probabilistic SLEDAI-2K descriptor at each time."""
    from mscsim import parameters as P_

    v = P_.value
    clin = out["sledai_clin_scale"].to_numpy()
    renal = out["sledai_renal_scale"].to_numpy()
    probs = {k: np.minimum(1.0, share * v(prev) * clin) for k, (prev, share) in CLINICAL_ITEMS.items()}
    probs.update({k: np.minimum(1.0, v(q) * renal) for k, q in RENAL_ITEMS.items()})
    return probs


def observe(out, rng=None) -> dict[str, np.ndarray]:
    """Laboratory values, SLEDAI-2K item by item, remission, relapse and survival at each time.

    Without ``rng``: noise-free laboratory values, the expected SLEDAI-2K, the probability of
    clinical remission, of a flare by t and of being alive. With ``rng``: visit noise on the
    laboratory values, each descriptor drawn at each visit, and one uniform per patient for the
    flare and for death (so each history is consistent over time).
    """
    from mscsim import parameters as P_

    v = P_.value
    n = len(out)
    # event uniforms first, so a patient's flare and death times do not depend on the visit grid
    u_flare, u_death = (rng.random(), rng.random()) if rng is not None else (None, None)
    dsdna = lognoise(rng, out["anti_dsdna"], v("cv_dsdna_sle"))
    c3 = lognoise(rng, out["c3"], v("cv_c3_sle"))
    c4 = lognoise(rng, out["c4"], v("cv_c3_sle"))
    prot = lognoise(rng, out["proteinuria"], v("cv_prot_sle"))
    alb = np.clip(gauss(rng, out["albumin"], v("sd_alb_sle")), 5.0, 60.0)
    probs = _item_probabilities(out)
    if rng is None:
        items = dict(probs)
    else:
        items = {k: (rng.random(n) < p).astype(float) for k, p in probs.items()}
    items["increased_dna_binding"] = (dsdna >= v("dsdna_cut_sle")).astype(float)
    items["low_complement"] = ((c3 < v("c3_cut_sle")) | (c4 < v("c4_cut_sle"))).astype(float)
    items["proteinuria"] = (prot > v("prot_cut_sle")).astype(float)
    sledai = scores.sledai_2k(items)
    clinical = [k for k in scores.SLEDAI_2K_ITEMS if k not in ("increased_dna_binding", "low_complement")]
    if rng is None:
        # probability that no clinical descriptor is present (independent descriptors)
        remission = items["proteinuria"] == 0
        remission = remission * np.prod([1 - items[k] for k in clinical if k != "proteinuria"], axis=0)
    else:
        remission = (sum(items[k] for k in clinical) == 0).astype(float)
    p_flare = out["relapse"].to_numpy()
    p_alive = out["survival"].to_numpy()
    if rng is None:
        relapse, alive = p_flare, p_alive
    else:
        relapse = (u_flare < p_flare).astype(float)
        alive = (u_death >= 1 - p_alive).astype(float)
    obs = {
        "sledai": sledai, "proteinuria": prot, "anti_dsdna": dsdna, "c3": c3, "c4": c4, "albumin": alb,
        "remission": np.asarray(remission, dtype=float), "relapse": relapse, "survival": alive,
        "damage": out["damage"].to_numpy(),
    }
    for k, x in items.items():
        obs[f"sledai_{k}"] = x
    return obs


def responders(obs, baseline) -> dict[str, np.ndarray]:
    """Major and partial clinical response versus baseline, as 0/1 (module docstring)."""
    s = obs["sledai"].to_numpy()
    pr = obs["proteinuria"].to_numpy()
    cut = _prot_cut()
    major = (s <= 3) & (pr <= cut)
    renal_ok = (pr <= 0.5 * baseline["proteinuria"]) if baseline["proteinuria"] > cut else np.ones(len(obs), bool)
    partial = ~major & (baseline["sledai"] - s >= 4) & renal_ok
    return {"major_clinical_response": major.astype(float),
                         "partial_clinical_response": partial.astype(float)}


def _prot_cut() -> float:
    from mscsim import parameters as P_

    return P_.value("prot_cut_sle")
