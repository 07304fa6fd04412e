#!/usr/bin/env python3
"""Build the package copy of the published-trial evidence (``src/mscsim/data/evidence.yaml``).

Reads the hand-curated ``reference/evidence.yaml`` (one record per study / arm / endpoint /
timepoint, numbers as found in the source, "not reported" where nothing could be read) and
writes a cleaned, schema-validated copy that the package reads at run time (the package never
reads ``../shared``).

What the cleaning does, and what it never does:

* every original field is kept, under its own name or as ``<name>_text`` beside its parsed
  form (``n_text``, ``value_text``, ``route_text``, ...), so nothing is lost;
* parsed fields are numbers or null: "not reported", "n/a", ranges, "up to" bounds and
  ambiguous text become null, never a guess;
* arithmetic is written down in the record's ``derived`` note (percent -> proportion, sign of a
  reported "mean decrease", points -> proportion for a difference); interpretation choices that
  are not arithmetic go to ``cleaning_notes``;
* each free-text form seen in the source is handled by an explicit table below, and an unknown
  form stops the script, so a new reference record cannot slip through half-parsed.

Run from the repository root::

    python tools/clean_evidence.py [--source PATH] [--out PATH] [--check]

``--check`` exits non-zero when the committed package copy differs from a fresh conversion.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = ROOT.parent / "shared" / "reference" / "evidence.yaml"
DEFAULT_OUT = ROOT / "src" / "mscsim" / "data" / "evidence.yaml"

MISSING = {"not reported", "n/a", "variable", ""}

# ---------------------------------------------------------------------------------------------
# Explicit tables (one entry per free-text form found in reference/evidence.yaml)
# ---------------------------------------------------------------------------------------------

#: population text -> disease code (design.md: ra | t1d | ms | sle | ibd | liver)
DISEASE = {
    "refractory rheumatoid arthritis": "ra",
    "rheumatoid arthritis": "ra",
    "active rheumatoid arthritis": "ra",
    "active RA refractory to conventional drugs": "ra",
    "refractory rheumatoid arthritis (failed >=2 biologics)": "ra",
    "rheumatoid arthritis, moderate activity on methotrexate": "ra",
    "established type 1 diabetes": "t1d",
    "type 1 diabetes": "t1d",
    "type 1 diabetes (33 adult-onset, 20 juvenile-onset)": "t1d",
    "new-onset type 1 diabetes (adults)": "t1d",
    "recent-onset type 1 diabetes (adults 18-40 y, <2 y from diagnosis)": "t1d",
    "new-onset type 1 diabetes": "t1d",
    "newly diagnosed type 1 diabetes (children and adults)": "t1d",
    "type 1 and type 2 diabetes": "t1d",
    "active progressive multiple sclerosis (EDSS 3.0-6.5)": "ms",
    "progressive multiple sclerosis": "ms",
    "secondary progressive MS with visual pathway involvement (EDSS 5.5-6.5)": "ms",
    "multiple sclerosis": "ms",
    "active refractory SLE": "sle",
    "refractory SLE": "sle",
    "persistently active / refractory SLE": "sle",
    "severe drug-resistant SLE": "sle",
    "CTX/glucocorticoid-refractory SLE": "sle",
    "Crohn's disease, refractory complex perianal fistulas": "ibd",
    "Crohn's disease perianal fistulas": "ibd",
    "Crohn's disease, complex perianal fistulas (Japan)": "ibd",
    "Crohn's disease, moderate-severe (CDAI 220-450) on steroid maintenance": "ibd",
    "Crohn's disease, refractory perianal fistulas": "ibd",
    "luminal Crohn's disease refractory to anti-TNF (CDAI >250)": "ibd",
    "refractory Crohn's disease": "ibd",
    "moderate-severe ulcerative colitis": "ibd",
    "viral-hepatitis-related liver cirrhosis": "liver",
    "HBV decompensated cirrhosis": "liver",
    "biopsy-proven alcoholic cirrhosis, abstinent >6 months": "liver",
    "decompensated cirrhosis": "liver",
}

#: later reports of an earlier trial share its ``trial_id`` (a meta-analysis takes one effect
#: per trial, never two reports of the same patients)
TRIAL = {
    "CD_Panes2018_ADMIRE52": ("CD_Panes2016_ADMIRE", "52-week follow-up of ADMIRE-CD"),
    "CD_Barnhoorn2019": ("CD_Molendijk2015", "4-year follow-up of the Molendijk trial"),
    "MS_Harris2021": ("MS_Harris2018", "2-year follow-up of MS_Harris2018"),
}

#: endpoint text -> design.md endpoint name (None: no design.md endpoint fits). Records that
#: lump several endpoints (all of them direction-only or "not reported") take the first listed
#: endpoint that has a name; they are marked in cleaning_notes.
ENDPOINT = {
    # RA
    "Th17 cell % (vs time zero)": "th17_pct",
    "regulatory T cell % (vs time zero)": "treg_pct",
    "DAS28-ESR, VAS, ESR, CRP": "das28_esr",
    "DAS28": None,  # ESR or CRP variant not stated
    "HAQ": None,
    "ESR, CRP, RF": "crp",
    "anti-CCP": None,
    "blood count, liver/kidney function, immunoglobulins": None,
    "serious adverse events": None,
    "ACR improvement criteria, DAS28, HAQ": None,
    "ACR20 response": "acr20",
    "patients with >=1 adverse event": None,
    "change in DAS28-ESR": "das28_esr",
    "change in ESR": None,
    "dose-limiting / major toxicity": None,
    "reduction in ESR, DAS28 and pain VAS": None,
    "EULAR moderate response": "eular_response",
    "EULAR good or moderate response": "eular_response",
    # T1D
    "C-peptide AUC during OGTT (pmol/mL/180 min)": "c_peptide_auc",
    "insulin AUC during OGTT (units as printed: mmol/mL/180 min)": None,
    "HbA1c (%)": "hba1c",
    "fasting glucose (mg/dL)": "fasting_glucose",
    "daily insulin requirement (IU/kg/day)": "insulin_dose",
    "C-peptide AUC responders": None,
    "clinical remission (>=10% rise in fasting and/or postprandial C-peptide)": None,
    "clinical remission": None,  # T1D_Lu2021 control arm, same C-peptide definition as above
    "insulin independence": "insulin_free",
    "HbA1c and insulin dose vs control": "hba1c",
    "C-peptide peak and AUC (MMTT)": "c_peptide_auc",
    "endogenous insulin production (C-peptide)": None,
    "exogenous insulin requirement": "insulin_dose",
    "treatment-related serious adverse events": None,
    "HbA1c and C-peptide": "hba1c",
    "HbA1c, hypoglycaemic episodes, Treg": "hba1c",
    "insulin-free period (1-80 months)": "insulin_free",
    "reduction in total daily insulin dose": None,  # count of patients, not a dose
    "insulin-free / reduced TDD": None,
    "HbA1c vs baseline (T1DM+T2DM)": "hba1c",
    "fasting C-peptide": "fasting_c_peptide",
    "insulin requirement vs baseline": "insulin_dose",
    "HbA1c": "hba1c",
    "C-peptide AUC": "c_peptide_auc",
    # MS
    "treatment failure, definition 'a' (primary; definition in table footnote not retrieved)":
        "treatment_failure",
    "treatment failure, definition 'c' (footnote not retrieved)": "treatment_failure",
    "treatment failure, definition 'c'": "treatment_failure",
    "change in EDSS": "edss_change",
    "change in ambulation score": None,
    "change in sum of functional system scores": None,
    "relapses per patient": "relapse",
    "relapse-free patients": None,  # complement of a relapse proportion; not recoded
    "timed 25-foot walk, % change": None,
    "9-hole peg test dominant hand, % change": None,
    "9-hole peg test non-dominant hand, % change": None,
    "treatments completed without serious adverse effects": None,
    "median EDSS": "edss",
    "sustained EDSS improvement": None,
    "sustained T25FW improvement": None,
    "visual acuity, visual evoked response latency, optic nerve area": None,
    "transplant-related mortality": None,
    "disease progression": None,
    "NEDA": None,
    # SLE
    "overall survival": "survival",
    "major clinical response": None,
    "partial clinical response": None,
    "relapse after prior response": "relapse",
    "deaths (judged unrelated to MSCT)": None,
    "SLEDAI, BILAG, 24-h proteinuria": "sledai",
    "infusion reaction": None,
    "new tumour-marker rise (AFP, CEA, CA125, CA199), blood count change, ECG/chest X-ray "
    "abnormality": None,
    "complete clinical remission": "remission",
    "relapse rate": "relapse",
    "5-year overall survival": "survival",
    "complete clinical remission at 5 years": "remission",
    "partial clinical remission at 5 years": None,
    "relapse among responders over 5 years": "relapse",
    "SLEDAI": "sledai",
    "24-h proteinuria (mg)": "proteinuria",
    "relapse of proteinuria": None,
    "stable disease remission": "remission",
    # IBD
    "combined remission (clinical closure + no collection >2 cm on MRI)": "combined_remission",
    "combined remission": "combined_remission",
    "combined remission (mITT)": "combined_remission",
    "combined remission (ITT)": "combined_remission",
    "clinical remission (no draining fistula, mITT)": "fistula_closure",
    "any adverse event": None,
    "sustained closure to week 52": None,  # among week-24 remitters only
    "decrease in CDAI": "cdai",
    "decrease in HBI": None,
    "decrease in corticosteroid dose (mg/day)": None,
    "fever after infusion": None,
    "fistula healing (patient level)": "fistula_closure",
    "fistulas closed": "fistula_closure",
    "clinical response (CDAI fall >100)": "cdai_response",
    "clinical remission (CDAI <150)": "cdai_remission",
    "endoscopic improvement": None,
    "clinical response (CDAI fall >=70)": "cdai_response",
    "good response": None,  # response definition not in the source
    "median Mayo score, histology score, IBDQ": "mayo",
    "median Mayo score": "mayo",
    # liver
    "serum albumin": "albumin",
    "total bilirubin": "bilirubin",
    "ALT": None,
    "prothrombin time": None,
    "ascites volume, serum albumin, total bilirubin, MELD-Na": "albumin",
    "ascites volume": None,
    "collagen proportion on biopsy (%)": None,
    "liver function": None,
}
LUMPED = {
    "DAS28-ESR, VAS, ESR, CRP", "ESR, CRP, RF", "HbA1c and insulin dose vs control",
    "C-peptide peak and AUC (MMTT)", "HbA1c and C-peptide", "HbA1c, hypoglycaemic episodes, Treg",
    "SLEDAI, BILAG, 24-h proteinuria", "median Mayo score, histology score, IBDQ",
    "ascites volume, serum albumin, total bilirubin, MELD-Na",
}
ENDPOINT_NOTES = {
    "clinical response (CDAI fall >=70)": "response threshold CDAI fall >=70 (others use >100)",
    "clinical remission (no draining fistula, mITT)":
        "ADMIRE 'clinical remission' = closure of all treated draining openings",
    "fistula healing (patient level)": "coded as fistula closure (healing of treated fistulas)",
    "relapses per patient": "mean number of relapses per patient, not a proportion",
}

#: stat in the source -> normalised stat (proportion_pct becomes a 0..1 proportion)
STAT = {
    "proportion_pct": "proportion", "direction": "direction", "count": "count", "mean": "mean",
    "mean_change": "mean_change", "mean_decrease": "mean_change",
    "mean_change_pct": "mean_change_pct", "WMD": "WMD", "SMD": "SMD",
    "mean_difference": "mean_difference", "safety": "safety",
}

#: route text -> (route, artery)
ROUTE = {
    "IV": ("iv", None), "IV (systemic)": ("iv", None), "IV (30 min)": ("iv", None),
    "peripheral vein": ("iv", None),
    "intrathecal": ("intrathecal", None),
    "local intralesional injection": ("local", None),
    "local injection into fistula wall": ("local", None),
    "local injection": ("local", None),
    "intra-arterial (supraselective pancreatic artery)": ("intra_arterial", "pancreatic"),
    "hepatic artery": ("intra_arterial", "hepatic"),
    "not reported": (None, None), "n/a": (None, None),
}

#: dose text that is not a plain number -> (number or None, note). Keyed by (field, text);
#: a callable gets the arm name (one text covers several arms).
DOSE_TEXT = {
    ("dose_cells_per_kg", "UC-MSC 1.1e6/kg + aBM-MNC 106.8e6/kg"):
        (1.1e6, "MSC component only; autologous BM-MNC 106.8e6/kg co-infused"),
    ("dose_cells_per_kg", "mean 1.6e6"): (1.6e6, "mean dose per kg"),
    ("dose_cells_per_kg", "median 2.75e6 (range 2.1-3.6e6)"): (2.75e6, "median dose per kg"),
    ("dose_cells_per_kg", "1-2e6"): (None, "range 1-2e6 per kg; no single dose"),
    ("dose_cells_per_kg", "0.5e6 (per secondary table PMC9066724)"):
        (0.5e6, "dose from a secondary review table"),
    ("dose_total_cells", "up to 1e7 per dose"): (None, "upper bound 1e7 per dose only"),
    ("dose_total_cells", "2.5e7 / 5e7 / 1e8 (single dose by cohort)"):
        (None, "arm pools cohorts dosed 2.5e7, 5e7 and 1e8"),
    ("dose_total_cells", "phase I: 2.5e7 / 1e8 / 2e8; phase II: 2e8"):
        (lambda arm: (2e8, "phase II arm dose") if arm == "ProTrans 2e8"
         else (None, "arm pools phase I doses 2.5e7 / 1e8 / 2e8 and phase II 2e8")),
    ("dose_total_cells", "2.6e7 +/- 1.2e7 (secondary tables disagree whether per kg or total)"):
        (None, "per-kg vs total unclear in secondary sources"),
    ("dose_total_cells", "5e7 per injection"): (5e7, "per hepatic-artery injection"),
}

#: n_doses text -> (number or None, note)
N_DOSES_TEXT = {
    "1 per cycle": (1, "one dose per 6-month cycle; results pool both cycles"),
    "1 or more": (None, "one or more infusions"),
    ">=1": (None, "one or more infusions"),
    "1 or repeated": (None, "one or repeated infusions"),
}
INTERVAL_TEXT = {"crossover at 180": (None, "crossover/retreatment at day 180 (next cycle)")}

#: n text -> (n, n_total, note)
N_TEXT = {
    "mITT (204 total)": (None, 204, "arm n not given; 204 in the mITT population"),
    "212 ITT total": (None, 212, "arm n not given; 212 randomised (ITT)"),
    "172 total (split not in abstract)": (None, 172, "arm n not given; 172 in the cohort"),
    "172 total": (None, 172, "arm n not given; 172 in the cohort"),
    "27 (total)": (27, 27, None),
    "16 (15 evaluable)": (16, None, "15 evaluable"),
    "10 (9 evaluable)": (10, None, "9 evaluable"),
    "18 (per secondary table)": (18, None, "arm n from a secondary table"),
    "19 (per secondary table)": (19, None, "arm n from a secondary table"),
    "107 (ITT)": (107, None, None),
    "105 (ITT)": (105, None, None),
    "21 randomised": (21, None, None),
}

#: count values that are text -> (value, events, total, note)
COUNT_TEXT_RE = [
    (re.compile(r"^(\d+) of (\d+)(?: \(.*\))?$"), "of"),
    (re.compile(r"^(\d+)/(\d+) as printed$"), "as_printed"),
    (re.compile(r"^(\d+) \((\d+(?:\.\d+)?)%\)$"), "pct"),
    (re.compile(r"^(\d+)$"), "plain"),
]
COUNT_TEXT_NULL = {
    "none observed during or after infusion": "text only ('none observed'); left non-numeric",
    "5 insulin-free; 23 reduced TDD": "two counts in one record, unverified; left non-numeric",
}

#: numbers the reference itself derived (marked "[derived]" in its notes); applied to every
#: record of the study, since the derived number (the dose) belongs to all of them
DERIVED_IN_SOURCE = {
    "RA_WangL2019": "dose_total_cells 4e7 derived in the source (40 mL at 2e7 cells per 20 mL)",
}

FLAG_RULES = [
    ("meta_analysis", lambda r: "meta-analysis" in r["design"] or r["study_id"].endswith("_meta")),
    ("secondary_source", lambda r: any(s in (r["notes"] + " " + str(r["pmid_or_doi"]) + " "
                                             + str(r["n"]) + " " + str(r["dose_cells_per_kg"]))
                                       for s in ("secondary", "review table", "via "))),
    ("unverified", lambda r: "UNVERIFIED" in r["notes"]),
    ("company_reported", lambda r: "company-reported" in r["notes"]),
    ("source_inconsistency", lambda r: "inconsisten" in r["notes"]),
    ("not_msc_only", lambda r: any(s in r["cell_source"] for s in ("not MSC-only", "HSC",
                                                                   "BM-MNC", "mononuclear"))),
]

# ---------------------------------------------------------------------------------------------
# Second batch: reference/evidence-next.yaml, sections 1-2 only (steroid-refractory acute GvHD,
# ARDS / COVID-19 ARDS). Same rules; the tables below only add entries, so the first batch
# converts exactly as before.
# ---------------------------------------------------------------------------------------------

DEFAULT_NEXT_SOURCE = ROOT.parent / "shared" / "reference" / "evidence-next.yaml"
#: study ids of evidence-next.yaml taken into the package (sections 1 and 2)
NEXT_STUDY_PREFIXES = ("GVHD_", "ARDS_", "COVID_Shi2021")

DISEASE.update({
    "steroid-refractory acute GvHD, paediatric (2 mo-17 y)": "gvhd",
    "steroid-refractory acute GvHD grade III-IV (age 5-66 y, median 33)": "gvhd",
    "steroid-refractory acute GvHD grade II-III (median age 52)": "gvhd",
    "acute GvHD treated with TEMCELL, all ages (real-world registry, Japan)": "gvhd",
    "steroid-resistant severe acute GvHD grade II-IV (adults and children)": "gvhd",
    "steroid-refractory acute GvHD grade III-IV, biopsy-proven": "gvhd",
    "steroid-resistant acute GvHD grade II-IV, 15 children + 25 adults": "gvhd",
    "steroid-refractory / therapy-resistant acute GvHD": "gvhd",
    "refractory acute GvHD (1/3 steroid-refractory only, 2/3 refractory to steroids + >=2 further "
    "lines), children and adults": "gvhd",
    "steroid-refractory GvHD (pooled clinical studies)": "gvhd",
    "moderate-to-severe ARDS (ventilated)": "ards",
    "moderate-to-severe ARDS": "ards",
    "ARDS (Berlin), PaO2/FiO2 <200": "ards",
    "COVID-19 ARDS, early (<96 h) mild-to-severe": "ards",
    "COVID-19 ARDS (mild-moderate to moderate-severe)": "ards",
    "severe COVID-19 with lung damage (not all ARDS)": "ards",
})

TRIAL.update({
    "GVHD_Bonig2019_MSCFFM": ("GVHD_Bader2018_MSCFFM", "update of the MSC-FFM cohort (Bader 2018, n=69)"),
})

ENDPOINT.update({
    # GvHD
    "overall response (CR+PR), IBMTR-based organ staging": "gvhd_orr",
    "complete response": "gvhd_cr",
    "partial response": "gvhd_pr",
    "duration of overall response (days)": None,
    "overall response (CR+PR), press-release analysis": "gvhd_orr",
    "overall response (CR+PR)": "gvhd_orr",
    "overall survival": "survival",
    "mortality (all-cause)": None,  # the complement of survival; the survival records carry it
    "overall survival in day-28 responders": None,
    "overall survival in day-28 non-responders": None,
    "baseline IBMTR grade C or D (share of patients)": None,
    "mixed response": None,
    "no change": None,
    "durable complete response (CR lasting >=28 d) by week 24 (primary endpoint)": None,
    "alive in complete response (6 MSC only + 6 MSC plus additional treatment)": None,
    "organ complete response (stage 0), gastrointestinal": "gut_cr",
    "organ complete response (stage 0), skin": "skin_cr",
    "organ complete response (stage 0), liver": "liver_cr",
    "baseline grade III (share)": None,
    "survival, overall responders vs non-responders at week 4": None,
    "alive (10 CR + 1 PR)": "survival",
    "alive in complete response": None,
    "overall response (all evaluable)": "gvhd_orr",
    "overall response": "gvhd_orr",
    "partial response ('improvement')": "gvhd_pr",
    "no response": None,
    "transplantation-related mortality, complete vs partial/no responders": None,
    "clinical improvement of aGVHD": None,  # no response definition in the source
    "overall response (CR+PR), 28 days after the LAST infusion": "gvhd_orr",
    "complete response, 28 days after last infusion": "gvhd_cr",
    "complete response: grade II value; grade III-IV in baseline_value": None,
    "complete response: children value; adults in baseline_value": None,
    "overall survival from first MSC": "survival",
    "adverse events and serious adverse events (count; 72.1% infectious)": None,
    "overall response at first evaluation": "gvhd_orr",
    "overall response at last evaluation": "gvhd_orr",
    "overall survival (estimated)": "survival",
    "baseline grade >=III (share)": None,
    "overall response (pooled)": "gvhd_orr",
    # ARDS
    "28-day mortality": "mortality",
    "hazard ratio for 28-day mortality, MSC vs placebo": None,
    "pre-specified MSC-related haemodynamic or respiratory adverse events within 6 h": None,
    "baseline APACHE III score": None,
    "60-day mortality": "mortality",
    "oxygenation index change (days 1-3)": None,
    "MSC product viability (% viable after thaw)": None,
    "pre-specified infusion-associated adverse events": None,
    "infusion toxicity or MSC-related serious adverse events": None,
    "length of hospital stay, ventilator-free days and ICU-free days at day 28 vs placebo":
        "ventilator_free_days",
    "serum surfactant protein D (SP-D), day 5 vs day 0 within MSC group": None,
    "serum IL-8, day 5 vs day 0 within MSC group": None,
    "serum IL-6 change": "il6",
    "PaO2/FiO2 change day 0 to day 7 (mmHg)": "pf_change",
    "patients with serious adverse events": None,
    "deaths": "mortality",
    "patients with adverse events (count)": None,
    "patients with serious adverse events (count)": None,
    "patient survival and time to recovery vs control": "survival",
    "change in whole-lung lesion volume (% of baseline), baseline to day 28: median difference MSC "
    "- placebo": "lung_lesion_change_pct",
    "change in solid-component lesion volume: median difference MSC - placebo": None,
    "whole-lung lesion volume difference MSC - placebo (percentage points)": "lung_lesion_change_pct",
    "normal chest CT": None,
})
LUMPED |= {"length of hospital stay, ventilator-free days and ICU-free days at day 28 vs placebo",
           "patient survival and time to recovery vs control"}
ENDPOINT_NOTES.update({
    "overall response (CR+PR), 28 days after the LAST infusion":
        "response read 28 days after the last infusion (median 3 infusions), not at day 28",
    "complete response, 28 days after last infusion":
        "response read 28 days after the last infusion (median 3 infusions), not at day 28",
    "alive (10 CR + 1 PR)": "alive at week 24 (11/14)",
    "deaths": "deaths over the study follow-up (time point not in the source)",
    "overall response at first evaluation": "evaluation day not in the source",
    "overall response at last evaluation": "evaluation day not in the source",
    "change in whole-lung lesion volume (% of baseline), baseline to day 28: median difference MSC "
    "- placebo": "between-arm difference of medians (MSC - placebo), percentage points",
    "whole-lung lesion volume difference MSC - placebo (percentage points)":
        "between-arm difference (MSC - placebo), percentage points, 1-year follow-up report",
})
STAT.update({"median": "median", "hazard_ratio": "hazard_ratio", "proportion": "proportion"})
ROUTE.update({"IV (over ~60-80 min)": ("iv", None), "mostly IV": ("iv", None)})
N_TEXT.update({"65 vs 35": (None, 100, "65 MSC vs 35 placebo (a between-arm record)")})
DOSE_TEXT.update({
    ("dose_cells_per_kg", "1-2 x10^6 (see notes)"): (None, "range 1-2e6 per kg; no single dose"),
    ("dose_cells_per_kg", "1000000.0 / 5000000.0 / 10000000.0 (per cohort, predicted body weight)"):
        (None, "cohorts of 1e6, 5e6 and 1e7 per kg predicted body weight"),
})
N_DOSES_TEXT.update({
    "8 (+4 weekly for partial/mixed responders)":
        (8, "8 twice-weekly doses; 4 more weekly doses for partial/mixed responders"),
    "8 (+4 weekly for PR)": (8, "8 twice-weekly doses; 4 more weekly doses for partial responders"),
    "8 (+4 weekly if needed)": (8, "8 twice-weekly doses; 4 more weekly doses if needed"),
    "most common 8 (in 100 patients)": (None, "8 doses most common (100 patients)"),
    "median 3": (None, "median 3 infusions"),
})
INTERVAL_TEXT.update({
    "3 to 5 (twice weekly x 4 weeks); then 7 (optional extra doses)":
        (None, "twice weekly (3-5 d apart) for 4 weeks, then weekly"),
    "twice weekly x 4 weeks; then 7": (None, "twice weekly for 4 weeks, then weekly"),
    "7 (weekly; from a garbled mirror copy, low confidence)":
        (None, "weekly per a garbled mirror copy (low confidence)"),
    "3 infusions within 5 days (exact spacing not in abstract)": (None, "3 infusions within 5 days"),
    "2 (first within 24 h, second within 72 h of enrolment)":
        (None, "first within 24 h, second within 72 h of enrolment"),
})
#: sd_or_ci text that is not an SD/CI of the value -> (parsed fields, cleaning note)
SPREAD_TEXT = {
    "range 7-159+": ({}, "range 7-159+ days (kept as text)"),
    "p=0.0003 vs historical control 45%": ({}, "p-value versus the protocol's historical control"),
    "dose range 0.4-9 x10^6/kg": ({}, "the field gives the dose range, not a spread"),
    "P=.002": ({}, "p-value of the subgroup comparison"),
    "P=.065": ({}, "p-value of the subgroup comparison"),
    "IQR -15.5 to 93.3": ({}, "interquartile range of the median (kept as text)"),
    "IQR -33.3 to 104.6": ({}, "interquartile range of the median (kept as text)"),
    "95% CI -29.14 to 2.13; P=0.080": ({"ci_low": -29.14, "ci_high": 2.13, "ci_level": 0.95}, None),
    "CI cut off in retrieved text": ({}, "confidence interval cut off in the retrieved text"),
    "95% CI -20.7 to -1.5; p=0.030": ({"ci_low": -20.7, "ci_high": -1.5, "ci_level": 0.95}, None),
    "p=0.013 vs placebo (0 patients)": ({}, "p-value versus placebo (0 patients)"),
}
#: baseline_value text that gives a comparator's value (not a baseline mean) -> note
BASELINE_TEXT = {
    "grade III-IV 0.111": "comparator subgroup value (grade III-IV 0.111) kept as text",
    "adults 0.160": "comparator subgroup value (adults 0.160) kept as text",
    "placebo 89": "comparator arm value (placebo 89) kept as text",
    "adults 0.451": "comparator subgroup value (adults 0.451) kept as text",
}
ARM_ROLE = {"protocol-defined historical control": "control", "vehicle + heparin (control)": "control"}
#: studies whose reference notes mark a number as [derived]
DERIVED_IN_SOURCE.update({
    sid: "the reference marks some numbers of this study [derived] (arithmetic on reported counts; see notes)"
    for sid in ("GVHD_Kurtzberg2020_GVHD001", "GVHD_Muroi2016_TEMCELL_P2_3", "GVHD_Muroi2013_TEMCELL_P1_2",
                "GVHD_LeBlanc2008", "GVHD_Introna2014", "GVHD_Bonig2019_MSCFFM",
                "ARDS_Matthay2019_START2a", "ARDS_Zheng2014")
})
FLAG_RULES += [
    # the second batch writes SECONDARY in capitals, and names press releases / company sources
    ("secondary_source", lambda r: "SECONDARY" in r["notes"]),
    ("company_reported", lambda r: "press release" in r["notes"] or "Mesoblast" in r["notes"]),
    # issue 18: numbers the reference marks SECONDARY, "design choice" or "verify" are not facts
    ("unverified", lambda r: any(s in r["notes"] for s in ("SECONDARY", "design choice", "(verify", "verify)"))),
]


# ---------------------------------------------------------------------------------------------
# Third batch (issue 17): the safety meta-analyses of evidence-next.yaml section 3 (Thompson 2020,
# Wang Y 2021). Mixed indications: disease code "mixed"; pooled ratios: stat risk_ratio /
# odds_ratio (value = the pooled ratio, ci = its 95 % CI).
# ---------------------------------------------------------------------------------------------

NEXT_STUDY_PREFIXES += ("SAFETY_Thompson2020_meta", "SAFETY_WangY2021_meta")
DISEASE.update({"mixed indications (adult RCTs)": "mixed", "~20 disease types": "mixed"})
ENDPOINT.update({
    "fever (vs control)": "fever",
    "non-fever acute infusional toxicity (vs control)": "infusion_reaction",
    "infection (vs control)": "infection",
    "thrombotic/embolic events (vs control)": "thrombosis",
    "death (vs control)": "death",
    "malignancy (vs control)": "malignancy",
    "administration-site adverse events (vs control)": None,
    "constipation (vs control)": None,
    "fatigue (vs control)": None,
    "sleeplessness (vs control)": None,
    "arrhythmia (vs control)": None,
    "death and infection (vs control)": None,  # two outcomes, direction only
})
STAT.update({"risk_ratio": "risk_ratio", "odds_ratio": "odds_ratio"})
ROUTE.update({"intravascular (IV/IA)": (None, None), "IV or local implantation": (None, None)})
SPREAD_TEXT.update({
    text: ({"ci_low": lo, "ci_high": hi, "ci_level": 0.95}, "p-value of the pooled ratio kept as text")
    for text, lo, hi in (("95% CI 2.05-6.49; p<0.01", 2.05, 6.49), ("95% CI 1.01-3.87; p=0.05", 1.01, 3.87),
                         ("95% CI 1.01-5.97; p=0.05", 1.01, 5.97), ("95% CI 1.06-8.44; p=0.04", 1.06, 8.44),
                         ("95% CI 1.04-33.47; p=0.05", 1.04, 33.47), ("95% CI 0.36-1.07; p=0.09", 0.36, 1.07))
})


class CleaningError(ValueError):
    """A source record the tables above do not cover."""


# ---------------------------------------------------------------------------------------------
# Parsers
# ---------------------------------------------------------------------------------------------

def _is_missing(x) -> bool:
    return x is None or (isinstance(x, str) and x.strip() in MISSING)


def _num(x) -> float | None:
    """A plain number (int/float/numeric string) as float, else None."""
    if isinstance(x, bool):
        return None
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, str):
        try:
            return float(x.strip())
        except ValueError:
            return None
    return None


def _text(x) -> str:
    """The source value as text (kept beside its parsed form)."""
    return "" if x is None else str(x)


def _pct(x: float) -> float:
    """Percent -> proportion, rounded to 12 decimals so that 40.7 % gives 0.407, not
    0.40700000000000003 (float noise only; no information is lost at 12 decimals)."""
    return round(x / 100.0, 12)


def _fmt(x: float) -> str:
    """Short number for notes (no float noise)."""
    return f"{x:.6g}"


def parse_citation(text: str) -> dict:
    """PMID / DOI / PMCID written at the head of ``pmid_or_doi`` (before any parenthesis).

    Identifiers after a parenthesis or "via" belong to secondary sources and are not taken as
    the study's own.
    """
    head = text.split(" (")[0]
    out = {"pmid": None, "doi": None, "pmcid": None}
    for part in head.split(";"):
        part = part.strip()
        if m := re.fullmatch(r"PMID:(\d+)", part):
            out["pmid"] = m.group(1)
        elif m := re.fullmatch(r"DOI:(10\.\S+)", part):
            out["doi"] = m.group(1)
        elif m := re.fullmatch(r"PMCID:(PMC\d+)", part):
            out["pmcid"] = m.group(1)
    return out


def arm_role(arm: str) -> str:
    """msc (cell-treated arm), control (placebo / sham / standard care) or contrast (an
    'X vs Y' between-arm effect reported as one record)."""
    if arm in ARM_ROLE:
        return ARM_ROLE[arm]
    a = arm.lower()
    if " vs " in a:
        return "contrast"
    if a.startswith(("placebo", "sham", "control", "saline")):
        return "control"
    return "msc"


def analysis_set(rec: dict) -> str | None:
    text = f"{rec['endpoint']} {rec['n']} {rec['arm']}"
    if "mITT" in text:
        return "mITT"
    if re.search(r"\bITT\b", text):
        return "ITT"
    if "wk-24 remitters" in text:
        return "week-24 remitters"
    return None


def parse_n(text) -> tuple[int | None, int | None, str | None]:
    if isinstance(text, int) and not isinstance(text, bool):
        return text, None, None
    if _is_missing(text):
        return None, None, None
    if text in N_TEXT:
        return N_TEXT[text]
    raise CleaningError(f"unhandled n text {text!r}")


def parse_dose(field: str, raw, arm: str, role: str) -> tuple[float | None, str | None]:
    if _is_missing(raw):
        return None, None
    num = _num(raw)
    if role == "control":
        if num == 0:
            return 0.0, None
        return None, f"control arm: source {field} text {raw!r} describes the cell-treated arms"
    if num is not None:
        return num, None
    key = (field, raw)
    if key not in DOSE_TEXT:
        raise CleaningError(f"unhandled {field} text {raw!r}")
    entry = DOSE_TEXT[key]
    return entry(arm) if callable(entry) else entry


def parse_int_field(raw, table: dict, name: str) -> tuple[float | None, str | None]:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return raw, None
    if _is_missing(raw):
        return None, None
    if raw in table:
        return table[raw]
    raise CleaningError(f"unhandled {name} text {raw!r}")


def parse_spread(text: str, is_pct: bool) -> tuple[dict, list[str]]:
    """SD, CI, events/total or a between-arm difference from ``sd_or_ci``."""
    out: dict = {}
    derived: list[str] = []
    if _is_missing(text):
        return out, derived
    if text in SPREAD_TEXT:
        return dict(SPREAD_TEXT[text][0]), derived
    scale = _pct if is_pct else float
    if m := re.fullmatch(r"SD (-?[\d.]+)(?:; .*)?", text):
        out["sd"] = float(m.group(1))
    elif m := re.fullmatch(r"95% CI (-?[\d.]+) (?:to|-) (-?[\d.]+)", text) or re.fullmatch(
            r"95% CI (-?[\d.]+)-(-?[\d.]+)", text):
        lo, hi = float(m.group(1)), float(m.group(2))
        out["ci_low"], out["ci_high"], out["ci_level"] = scale(lo), scale(hi), 0.95
        if is_pct:
            derived.append(f"ci: {_fmt(lo)}-{_fmt(hi)} % / 100")
    elif m := re.fullmatch(r"(\d+)/(\d+)", text):
        out["events"], out["total"] = int(m.group(1)), int(m.group(2))
    elif m := re.fullmatch(r"(\d+) patients", text):
        out["events"] = int(m.group(1))
    elif m := re.fullmatch(
            r"difference (-?[\d.]+) points, (\d+(?:\.\d+)?)% CI (-?[\d.]+)-(-?[\d.]+)(?:, P=.*)?",
            text):
        d, level, lo, hi = (float(g) for g in m.groups())
        if not is_pct:
            raise CleaningError(f"difference in points on a non-percent stat: {text!r}")
        out.update(diff=_pct(d), diff_ci_low=_pct(lo), diff_ci_high=_pct(hi),
                   diff_ci_level=_pct(level))
        derived.append(f"diff: {_fmt(d)} points ({_fmt(level)}% CI {_fmt(lo)}-{_fmt(hi)}) / 100")
    else:
        raise CleaningError(f"unhandled sd_or_ci text {text!r}")
    return out, derived


def parse_baseline(raw) -> dict:
    if _is_missing(raw):
        return {}
    if (num := _num(raw)) is not None:
        return {"baseline_mean": num}
    if m := re.fullmatch(r"(-?[\d.]+) \(SD ([\d.]+)\)", raw):
        return {"baseline_mean": float(m.group(1)), "baseline_sd": float(m.group(2))}
    if raw.startswith("median ") or raw in BASELINE_TEXT:
        return {}  # a median / a comparator value is not a baseline mean; kept as baseline_text only
    raise CleaningError(f"unhandled baseline_value text {raw!r}")


def parse_value(rec: dict, stat: str) -> tuple[dict, list[str], list[str]]:
    """value / events / total from ``value`` (derived notes, cleaning notes)."""
    raw = rec["value"]
    out: dict = {"value": None}
    derived: list[str] = []
    notes: list[str] = []
    if _is_missing(raw) or stat in ("direction", "safety"):
        return out, derived, notes
    src_stat = rec["stat"]
    if stat == "count" and isinstance(raw, str):
        if raw in COUNT_TEXT_NULL:
            notes.append(COUNT_TEXT_NULL[raw])
            return out, derived, notes
        for pattern, kind in COUNT_TEXT_RE:
            if m := pattern.fullmatch(raw):
                out["value"] = float(m.group(1))
                out["events"] = int(m.group(1))
                if kind in ("of", "as_printed"):
                    out["total"] = int(m.group(2))
                if kind == "as_printed":
                    notes.append(f"denominator {m.group(2)} as printed; arm n is {rec['n']}")
                if kind == "pct":
                    notes.append(f"source also gives {m.group(2)}% (denominator not given)")
                return out, derived, notes
        raise CleaningError(f"unhandled count text {raw!r}")
    num = _num(raw)
    if num is None:
        raise CleaningError(f"non-numeric value {raw!r} for stat {src_stat}")
    if src_stat == "proportion_pct":
        out["value"] = _pct(num)
        derived.append(f"value: {_fmt(num)} % / 100")
    elif src_stat == "mean_decrease":
        out["value"] = -num
        derived.append(f"value: -(reported mean decrease {_fmt(num)})")
    else:
        out["value"] = num
    return out, derived, notes


# ---------------------------------------------------------------------------------------------
# One record
# ---------------------------------------------------------------------------------------------

def clean_record(rec: dict, index_in_study: int) -> dict:
    sid = rec["study_id"]
    rid = f"{sid}#{index_in_study}"
    try:
        return _clean(rec, rid)
    except CleaningError as exc:
        raise CleaningError(f"record {rid}: {exc}") from None


def _clean(rec: dict, rid: str) -> dict:
    sid = rec["study_id"]
    population = rec["disease"]
    if population not in DISEASE:
        raise CleaningError(f"unknown disease text {population!r}")
    if rec["endpoint"] not in ENDPOINT:
        raise CleaningError(f"unhandled endpoint text {rec['endpoint']!r}")
    if rec["stat"] not in STAT:
        raise CleaningError(f"unhandled stat {rec['stat']!r}")
    if rec["route"] not in ROUTE:
        raise CleaningError(f"unhandled route {rec['route']!r}")

    role = arm_role(rec["arm"])
    stat = STAT[rec["stat"]]
    derived: list[str] = []
    notes: list[str] = []

    n, n_total, n_note = parse_n(rec["n"])
    if n_note:
        notes.append(f"n: {n_note}")
    dose_kg, note_kg = parse_dose("dose_cells_per_kg", rec["dose_cells_per_kg"], rec["arm"], role)
    dose_tot, note_tot = parse_dose("dose_total_cells", rec["dose_total_cells"], rec["arm"], role)
    notes += [f"dose: {x}" for x in (note_kg, note_tot) if x]
    route, artery = ROUTE[rec["route"]]
    site = "perianal_fistula" if route == "local" and "fistula" in population else None
    n_doses, nd_note = parse_int_field(rec["n_doses"], N_DOSES_TEXT, "n_doses")
    interval, iv_note = parse_int_field(rec["interval_days"], INTERVAL_TEXT, "interval_days")
    notes += [f"schedule: {x}" for x in (nd_note, iv_note) if x]
    tp = rec["timepoint_days"]
    timepoint = float(tp) if isinstance(tp, (int, float)) and not isinstance(tp, bool) else None
    if timepoint is None and not _is_missing(tp):
        raise CleaningError(f"unhandled timepoint {tp!r}")

    val, d_val, n_val = parse_value(rec, stat)
    derived += d_val
    notes += n_val
    spread, d_spread = parse_spread(rec["sd_or_ci"], rec["stat"] == "proportion_pct")
    derived += d_spread
    for key in ("events", "total"):
        if key in spread and key in val and spread[key] != val[key]:
            raise CleaningError(f"{key} differs between value and sd_or_ci")
    merged = {**val, **spread}
    if rec["sd_or_ci"] in SPREAD_TEXT and SPREAD_TEXT[rec["sd_or_ci"]][1]:
        notes.append(SPREAD_TEXT[rec["sd_or_ci"]][1])
    if rec["baseline_value"] in BASELINE_TEXT:
        notes.append(BASELINE_TEXT[rec["baseline_value"]])
    if rec["sd_or_ci"] and "median" in str(rec["sd_or_ci"]):
        notes.append("sd_or_ci also gives a median and IQR (kept as text only)")
    baseline = parse_baseline(rec["baseline_value"])

    code = ENDPOINT[rec["endpoint"]]
    if rec["endpoint"] in LUMPED:
        notes.append("record lumps several endpoints; coded by the first listed endpoint "
                     "that has a design.md name")
    if rec["endpoint"] in ENDPOINT_NOTES:
        notes.append(ENDPOINT_NOTES[rec["endpoint"]])
    trial_id, trial_note = TRIAL.get(sid, (sid, None))
    if trial_note:
        notes.append(f"trial: {trial_note}")

    if sid in DERIVED_IN_SOURCE:
        derived.append(DERIVED_IN_SOURCE[sid])
    elif "[derived]" in (rec["notes"] or ""):
        raise CleaningError("notes mark a derived number; add the study to DERIVED_IN_SOURCE")

    cit = parse_citation(str(rec["pmid_or_doi"]))
    flags = list(dict.fromkeys(name for name, rule in FLAG_RULES if rule(rec)))

    out = {
        "record_id": rid,
        "study_id": sid,
        "trial_id": trial_id,
        "disease": DISEASE[population],
        "population": population,
        "design": rec["design"],
        "arm": rec["arm"],
        "arm_role": role,
        "analysis_set": analysis_set(rec),
        "n": n,
        "n_total": n_total,
        "n_text": _text(rec["n"]),
        "cell_source": rec["cell_source"],
        "dose_cells_per_kg": dose_kg,
        "dose_cells_per_kg_text": _text(rec["dose_cells_per_kg"]),
        "dose_total_cells": dose_tot,
        "dose_total_cells_text": _text(rec["dose_total_cells"]),
        "route": route,
        "artery": artery,
        "site": site,
        "route_text": _text(rec["route"]),
        "n_doses": None if n_doses is None else int(n_doses),
        "n_doses_text": _text(rec["n_doses"]),
        "interval_days": None if interval is None else float(interval),
        "interval_days_text": _text(rec["interval_days"]),
        "endpoint": rec["endpoint"],
        "endpoint_code": code,
        "timepoint_days": timepoint,
        "timepoint_text": _text(tp),
        "stat": stat,
        "stat_text": rec["stat"],
        "value": merged.get("value"),
        "value_text": _text(rec["value"]),
        "sd": merged.get("sd"),
        "ci_low": merged.get("ci_low"),
        "ci_high": merged.get("ci_high"),
        "ci_level": merged.get("ci_level"),
        "events": merged.get("events"),
        "total": merged.get("total"),
        "diff": merged.get("diff"),
        "diff_ci_low": merged.get("diff_ci_low"),
        "diff_ci_high": merged.get("diff_ci_high"),
        "diff_ci_level": merged.get("diff_ci_level"),
        "sd_or_ci": _text(rec["sd_or_ci"]),
        "baseline_mean": baseline.get("baseline_mean"),
        "baseline_sd": baseline.get("baseline_sd"),
        "baseline_text": _text(rec["baseline_value"]),
        "citation": str(rec["pmid_or_doi"]),
        "pmid": cit["pmid"],
        "doi": cit["doi"],
        "pmcid": cit["pmcid"],
        "flags": flags,
        "derived": "; ".join(derived) if derived else None,
        "cleaning_notes": notes,
        "notes": rec["notes"] or "",
        "use": None,
    }
    for key, v in out.items():
        if isinstance(v, float) and not math.isfinite(v):
            raise CleaningError(f"{key} is not finite")
    return out


def convert(source: Path, next_source: Path | None = None) -> dict:
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    rows = list(data["records"])
    origin = "reference/evidence.yaml"
    if next_source is not None:
        nxt = yaml.safe_load(next_source.read_text(encoding="utf-8"))
        rows += [r for r in nxt["records"] if r["study_id"].startswith(NEXT_STUDY_PREFIXES)]
        origin += " + reference/evidence-next.yaml (sections 1-2: GvHD, ARDS; section 3: safety meta-analyses)"
    counters: dict[str, int] = defaultdict(int)
    records = []
    for rec in rows:
        counters[rec["study_id"]] += 1
        records.append(clean_record(rec, counters[rec["study_id"]]))
    return {
        "schema_version": 1,
        "source": origin,
        "source_schema": data.get("schema", ""),
        "generated_by": "tools/clean_evidence.py",
        "records": records,
    }


HEADER = (
    "# mscsim evidence records: GENERATED by tools/clean_evidence.py from\n"
    "# reference/evidence.yaml. Do not edit by hand; fix the reference or the script and rerun.\n"
    "# Every number keeps its source (citation / pmid / doi). Arithmetic done while cleaning is\n"
    "# written in `derived`; interpretation choices in `cleaning_notes`.\n"
)


def dump(doc: dict) -> str:
    return HEADER + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    ap.add_argument("--next-source", type=Path, default=None,
                    help="second batch (evidence-next.yaml); default: next to --source when present")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true",
                    help="compare with the existing output instead of writing it")
    args = ap.parse_args(argv)
    try:
        nxt = args.next_source or args.source.parent / DEFAULT_NEXT_SOURCE.name
        text = dump(convert(args.source, nxt if nxt.exists() else None))
    except CleaningError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print("up to date" if same else f"{args.out} differs from a fresh conversion")
        return 0 if same else 1
    tmp = args.out.with_suffix(".yaml.tmp")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(args.out)
    # validate with the package schema when the package is importable
    try:
        from mscsim.evidence.records import load_records
    except ImportError:
        print(f"wrote {args.out} (package not importable; schema not checked)")
        return 0
    df = load_records(path=args.out)
    print(f"wrote {args.out}: {len(df)} records, {int(df['value'].notna().sum())} with a number")
    return 0


if __name__ == "__main__":
    sys.exit(main())
