"""Clinical scores with their exact published formulas, one function each, with sources.

Every function works on plain floats / numpy arrays (``xp=numpy``, the default) and on sympy
expressions (``xp=SYM``), so the same formula gives the model's symbolic outputs (and SBML
assignment rules) and the hand-checkable numbers in the tests. Formulas: shared reference
disease-models.md sections 2-7.
"""

from __future__ import annotations

import numpy as np
import sympy as sp


class _Sym:
    """numpy-like namespace over sympy, for symbolic use of the score functions."""

    sqrt = staticmethod(sp.sqrt)
    log = staticmethod(sp.log)
    maximum = staticmethod(lambda a, b: sp.Max(a, b))
    minimum = staticmethod(lambda a, b: sp.Min(a, b))

    @staticmethod
    def where(cond, a, b):
        return sp.Piecewise((a, cond), (b, True))

    @staticmethod
    def clip(x, lo, hi):
        return sp.Min(sp.Max(x, lo), hi)


SYM = _Sym()


class _Np:
    sqrt = staticmethod(np.sqrt)
    log = staticmethod(np.log)
    maximum = staticmethod(np.maximum)
    minimum = staticmethod(np.minimum)
    where = staticmethod(np.where)
    clip = staticmethod(np.clip)


NP = _Np()

# ---------------------------------------------------------------------------- rheumatoid arthritis


def das28_crp(tjc28, sjc28, crp_mg_l, gh, xp=NP):
    """DAS28-CRP (4 variables) = 0.56 sqrt(TJC28) + 0.28 sqrt(SJC28) + 0.36 ln(CRP+1) + 0.014 GH + 0.96.

    CRP in mg/L, GH = patient global health VAS 0-100 mm. Source: NCT02504671 outcome description;
    disease-models.md s.2.1.
    """
    return 0.56 * xp.sqrt(tjc28) + 0.28 * xp.sqrt(sjc28) + 0.36 * xp.log(crp_mg_l + 1) + 0.014 * gh + 0.96


def das28_crp3(tjc28, sjc28, crp_mg_l, xp=NP):
    """DAS28-CRP (3 variables) = 1.10 [0.56 sqrt(TJC28) + 0.28 sqrt(SJC28) + 0.36 ln(CRP+1)] + 1.15."""
    return 1.10 * (0.56 * xp.sqrt(tjc28) + 0.28 * xp.sqrt(sjc28) + 0.36 * xp.log(crp_mg_l + 1)) + 1.15


def das28_esr(tjc28, sjc28, esr_mm_h, gh, xp=NP):
    """DAS28-ESR (4 variables) = 0.56 sqrt(TJC28) + 0.28 sqrt(SJC28) + 0.70 ln(ESR) + 0.014 GH.

    Prevoo MLL et al. Arthritis Rheum 1995;38:44 (formula as in NCT02046603).
    """
    return 0.56 * xp.sqrt(tjc28) + 0.28 * xp.sqrt(sjc28) + 0.70 * xp.log(esr_mm_h) + 0.014 * gh


def das28_category(das28):
    """remission < 2.6; low <= 3.2; moderate <= 5.1; high > 5.1 (NCT02046603)."""
    d = np.asarray(das28, dtype=float)
    return np.select([d < 2.6, d <= 3.2, d <= 5.1], ["remission", "low", "moderate"], "high")


ACR_CORE = ("pain", "ptga", "phga", "haq", "crp")


def acr_response(baseline: dict, current: dict, level: float = 20.0):
    """ACR20/50/70: >= level % improvement in tender (68) and swollen (66) joint counts AND in
    >= 3 of 5 of patient pain, patient global, physician global, HAQ-DI, CRP.

    Source: NCT01285310 outcome text (Felson 1995 definition); disease-models.md s.2.1.
    ``baseline``/``current``: dicts with keys tjc68, sjc68 and ACR_CORE (arrays allowed).
    """
    f = 1 - level / 100.0

    def improved(k):
        b = np.asarray(baseline[k], dtype=float)
        c = np.asarray(current[k], dtype=float)
        return (c <= f * b) & (b > 0)

    joints = improved("tjc68") & improved("sjc68")
    core = sum(improved(k).astype(int) for k in ACR_CORE)
    return joints & (core >= 3)


def eular_response(das28_baseline, das28_now):
    """EULAR response: 'good' = fall > 1.2 and now <= 3.2; 'moderate' = fall > 1.2 and now > 3.2,
    or fall 0.6-1.2 and now <= 5.1; else 'none' (van Gestel 1996 [recalled - verify])."""
    b = np.asarray(das28_baseline, dtype=float)
    n = np.asarray(das28_now, dtype=float)
    fall = b - n
    good = (fall > 1.2) & (n <= 3.2)
    moderate = ((fall > 1.2) & (n > 3.2)) | ((fall > 0.6) & (fall <= 1.2) & (n <= 5.1))
    return np.select([good, moderate], ["good", "moderate"], "none")

# ------------------------------------------------------------------------------ type 1 diabetes


def hba1c_from_mean_glucose(eag_mg_dl, xp=NP):
    """ADAG: eAG (mg/dL) = 28.7 x A1C (%) - 46.7, inverted: A1C = (eAG + 46.7) / 28.7.

    Nathan DM et al. Diabetes Care 2008;31:1473, PMID 18540046.
    """
    return (eag_mg_dl + 46.7) / 28.7


def idaa1c(a1c_pct, insulin_u_per_kg_day, xp=NP):
    """Insulin-dose-adjusted A1C = A1C (%) + 4 x insulin dose (U/kg/24 h); <= 9 = partial remission.

    Mortensen HB et al. Diabetes Care 2009;32:1384 (PMC2713624).
    """
    return a1c_pct + 4 * insulin_u_per_kg_day

# --------------------------------------------------------------------------------------- lupus


SLEDAI_2K_WEIGHTS = {
    8: ("seizure", "psychosis", "organic_brain_syndrome", "visual_disturbance", "cranial_nerve_disorder",
        "lupus_headache", "cva", "vasculitis"),
    4: ("arthritis", "myositis", "urinary_casts", "haematuria", "proteinuria", "pyuria"),
    2: ("rash", "alopecia", "mucosal_ulcers", "pleurisy", "pericarditis", "low_complement",
        "increased_dna_binding"),
    1: ("fever", "thrombocytopenia", "leukopenia"),
}
SLEDAI_2K_ITEMS = {item: w for w, items in SLEDAI_2K_WEIGHTS.items() for item in items}


def sledai_2k(items: dict, xp=NP):
    """SLEDAI-2K = sum of the weights of the descriptors present (0..105).

    Gladman DD, Ibanez D, Urowitz MB. J Rheumatol 2002;29:288; disease-models.md s.5.1. ``items``
    maps descriptor -> presence (0/1, or a probability for an expected score).
    """
    unknown = set(items) - set(SLEDAI_2K_ITEMS)
    if unknown:
        raise KeyError(f"unknown SLEDAI-2K descriptor(s): {sorted(unknown)}")
    return sum(SLEDAI_2K_ITEMS[k] * v for k, v in items.items())


#: laboratory descriptors that are serology only (left out of the clinical SLEDAI-2K)
SLEDAI_2K_SEROLOGY = ("low_complement", "increased_dna_binding")


def sledai_2k_clinical(items: dict, xp=NP):
    """Clinical SLEDAI-2K: SLEDAI-2K without its serological descriptors (low complement,
    increased DNA binding), as DORIS and the SRI use it (van Vollenhoven R et al. Ann Rheum Dis
    2017;76:554, DOI 10.1136/annrheumdis-2016-209519)."""
    return sledai_2k({k: v for k, v in items.items() if k not in SLEDAI_2K_SEROLOGY}, xp=xp)


def sle_clinical_remission(clinical_sledai):
    """Clinical remission = clinical SLEDAI-2K 0 (serology may stay active): the DORIS 2017
    definition of remission on treatment without its physician-global and steroid-dose parts,
    which the model does not carry (van Vollenhoven 2017, DOI 10.1136/annrheumdis-2016-209519).

    Used for the Nanjing cohorts' "complete clinical remission" (Wang D 2013 Cell Transplant,
    4-year experience; Wang D 2018 Stem Cell Reports 10:933, PMID 29478901), whose own definition text was
    not retrievable (searched: publisher abstracts, PubMed and the project's evidence notes)."""
    return np.asarray(clinical_sledai, dtype=float) == 0


#: Wang D 2014 response thresholds as implemented (see `sle_major_clinical_response`)
SLE_MCR_SLEDAI_BELOW = 3.0       # SLEDAI-2K < 3: no descriptor of weight >= 4, at most one of weight 2
SLE_MCR_PROTEINURIA_BELOW = 0.5  # g/24 h, the SLEDAI-2K proteinuria cut-off (Gladman 2002)
SLE_ALBUMIN_NORMAL = 35.0        # g/L, lower limit of the adult reference range
SLE_PCR_FALL = 0.30              # fraction of baseline


def sle_major_clinical_response(sledai, proteinuria_g24h, albumin_g_l):
    """Major clinical response (MCR) of the Nanjing UC-MSC trial (Wang D 2014 Arthritis Res Ther
    16:R79, PMID 24661633). The paper's definition (with BILAG) was not retrievable; implemented
    [design] as the usual inactive-disease reading: SLEDAI-2K < 3 (only mild features left: at most
    one weight-2 descriptor, nothing of weight >= 4), 24-h proteinuria < 0.5 g (the SLEDAI-2K renal
    cut-off) and serum albumin normal (>= 35 g/L). Serum creatinine normal is part of the usual
    reading too; the model has no creatinine, so it is not tested."""
    s = np.asarray(sledai, dtype=float)
    return ((s < SLE_MCR_SLEDAI_BELOW) & (np.asarray(proteinuria_g24h, dtype=float) < SLE_MCR_PROTEINURIA_BELOW)
            & (np.asarray(albumin_g_l, dtype=float) >= SLE_ALBUMIN_NORMAL))


def sle_partial_clinical_response(sledai_baseline, sledai, proteinuria_baseline, proteinuria):
    """Partial clinical response (PCR, Wang D 2014; definition not retrievable, [design]): SLEDAI-2K
    at least 30 % below baseline and, in a patient with proteinuria >= 0.5 g/24 h at baseline,
    24-h proteinuria at least 30 % below baseline. A major response is counted as major, not
    partial (the caller removes it)."""
    sb = np.asarray(sledai_baseline, dtype=float)
    pb = np.asarray(proteinuria_baseline, dtype=float)
    tol = 1e-9  # a fall of exactly 30 % counts, whatever the rounding
    activity = (sb > 0) & (sb - np.asarray(sledai, dtype=float) >= SLE_PCR_FALL * sb - tol)
    renal = np.where(pb >= SLE_MCR_PROTEINURIA_BELOW,
                     pb - np.asarray(proteinuria, dtype=float) >= SLE_PCR_FALL * pb - tol, True)
    return activity & renal

# ---------------------------------------------------------------------------------------- IBD


def cdai(liquid_stools_7d, pain_sum_7d, wellbeing_sum_7d, n_complications, antidiarrhoeal,
         abdominal_mass, haematocrit, expected_haematocrit, weight_deficit_pct, xp=NP):
    """Crohn's Disease Activity Index (Best 1976):
    2 x liquid stools (7-day sum) + 5 x abdominal pain (7-day sum of 0-3) + 7 x general well-being
    (7-day sum of 0-4) + 20 x complication categories + 30 x antidiarrhoeal/opiate use (0/1)
    + 10 x abdominal mass (0, 2, 5) + 6 x (expected - observed haematocrit; 47 men, 42 women)
    + 1 x percent below standard weight.

    Best WR et al. Gastroenterology 1976;70:439; disease-models.md s.6.1.
    """
    return (2 * liquid_stools_7d + 5 * pain_sum_7d + 7 * wellbeing_sum_7d + 20 * n_complications
            + 30 * antidiarrhoeal + 10 * abdominal_mass + 6 * (expected_haematocrit - haematocrit)
            + 1 * weight_deficit_pct)


def mayo_score(stool, bleeding, endoscopy, physician_global, xp=NP):
    """Mayo score (UC): sum of four 0-3 subscores, 0..12 (Schroeder 1987; disease-models.md s.6.1)."""
    return stool + bleeding + endoscopy + physician_global


def mayo_response(total_bl, total_now, bleeding_bl, bleeding_now):
    """Mayo response: fall >= 3 points and >= 30 %, with rectal-bleeding fall >= 1 or bleeding 0-1."""
    tb, tn = np.asarray(total_bl, float), np.asarray(total_now, float)
    rb, rn = np.asarray(bleeding_bl, float), np.asarray(bleeding_now, float)
    return ((tb - tn) >= 3) & ((tb - tn) >= 0.3 * tb) & (((rb - rn) >= 1) | (rn <= 1))


def mayo_remission(total, subscores_max):
    """Mayo remission: total <= 2 with no subscore > 1."""
    return (np.asarray(total, float) <= 2) & (np.asarray(subscores_max, float) <= 1)

# -------------------------------------------------------------------------------------- liver


def meld(bilirubin_mg_dl, inr, creatinine_mg_dl, xp=NP):
    """MELD = 3.78 ln(bilirubin) + 11.2 ln(INR) + 9.57 ln(creatinine) + 6.43 (Kamath 2001).

    Rules: values < 1.0 set to 1.0; creatinine capped at 4.0 mg/dL; score bounded 6-40
    (disease-models.md s.7.1). Unrounded.
    """
    b = xp.maximum(bilirubin_mg_dl, 1.0)
    i = xp.maximum(inr, 1.0)
    c = xp.minimum(xp.maximum(creatinine_mg_dl, 1.0), 4.0)
    score = 3.78 * xp.log(b) + 11.2 * xp.log(i) + 9.57 * xp.log(c) + 6.43
    return xp.clip(score, 6.0, 40.0)


def meld_na(meld_score, sodium_mmol_l, xp=NP):
    """MELD-Na = MELD + 1.32 (137 - Na) - 0.033 MELD (137 - Na), Na bounded 125-137
    (Kim WR 2008 N Engl J Med 359:1018 [recalled]; allocation form [secondary], parameter-sources.md s.8).
    Applied as written for every MELD (the allocation rule applies it only when MELD > 11)."""
    na = xp.clip(sodium_mmol_l, 125.0, 137.0)
    return meld_score + 1.32 * (137 - na) - 0.033 * meld_score * (137 - na)


def child_pugh(bilirubin_mg_dl, albumin_g_dl, inr, ascites_grade, encephalopathy_grade, xp=NP):
    """Child-Pugh score 5-15 (Pugh 1973): 1/2/3 points for bilirubin < 2 / 2-3 / > 3 mg/dL,
    albumin > 3.5 / 2.8-3.5 / < 2.8 g/dL, INR < 1.7 / 1.7-2.3 / > 2.3, ascites none/mild/moderate
    (grade 0/1/2), encephalopathy none/grade 1-2/grade 3-4 (grade 0/1/2). Class A 5-6, B 7-9, C 10-15."""
    def pts(x, lo, hi):  # 1 if x < lo, 2 if lo <= x <= hi, 3 if x > hi
        return 1 + xp.where(x >= lo, 1, 0) + xp.where(x > hi, 1, 0)

    bil = pts(bilirubin_mg_dl, 2.0, 3.0)
    alb = 1 + xp.where(albumin_g_dl <= 3.5, 1, 0) + xp.where(albumin_g_dl < 2.8, 1, 0)
    inr_p = pts(inr, 1.7, 2.3)
    asc = 1 + xp.clip(ascites_grade, 0, 2)
    enc = 1 + xp.clip(encephalopathy_grade, 0, 2)
    return bil + alb + inr_p + asc + enc


def child_pugh_class(score):
    s = np.asarray(score, dtype=float)
    return np.select([s <= 6, s <= 9], ["A", "B"], "C")

# ----------------------------------------------------------------------------- multiple sclerosis

#: EDSS rise that counts as worsening, by baseline EDSS: (baseline up to, rise). 1.5 from a baseline
#: of 0, 1.0 from 1.0-5.5, 0.5 above 5.5 (Kalincik T et al. Brain 2015;138:3287, doi:10.1093/brain/awv258;
#: ORATORIO and EXPAND used the 1.0 / 0.5 part for baselines 3.0-6.5, disease-models.md s.4.1)
EDSS_WORSENING_RULE = ((0.0, 1.5), (5.5, 1.0), (10.0, 0.5))
#: confirmation interval of 3-month (12-week) confirmed disability progression (Kalincik 2015; ORATORIO,
#: EXPAND: 'confirmed at a scheduled visit at least 12 weeks later')
CDP_CONFIRM_DAYS = 84.0


def edss_worsening_threshold(baseline_edss):
    """EDSS rise that counts as worsening from ``baseline_edss`` (EDSS_WORSENING_RULE)."""
    b = np.asarray(baseline_edss, dtype=float)
    return np.select([b <= upper for upper, _ in EDSS_WORSENING_RULE],
                     [rise for _, rise in EDSS_WORSENING_RULE], EDSS_WORSENING_RULE[-1][1])


def edss_worsened(baseline_edss, edss):
    """True where ``edss`` is worse than ``baseline_edss`` by at least the EDSS_WORSENING_RULE rise
    (unconfirmed: one visit)."""
    e = np.asarray(edss, dtype=float)
    return e - np.asarray(baseline_edss, dtype=float) >= edss_worsening_threshold(baseline_edss) - 1e-9


def confirmed_progression(times_d, edss, confirm_days: float = CDP_CONFIRM_DAYS):
    """Confirmed disability progression (CDP) with onset by each visit, fixed baseline = first visit.

    Onset at visit i counts when EDSS is worsened (EDSS_WORSENING_RULE) at visit i and at every visit
    up to a confirming visit j with t_j - t_i >= ``confirm_days`` (the worsening is sustained through
    the confirmation period; Kalincik 2015, doi:10.1093/brain/awv258). The event is dated at its onset,
    so a later visit confirms an earlier one; worsening at the last visits, with no visit 12 weeks
    later, is not confirmed. Returns 0/1 per visit (cumulative: once progressed, stays progressed)."""
    t = np.asarray(times_d, dtype=float)
    e = np.asarray(edss, dtype=float)
    worse = edss_worsened(e[0], e)
    onset = np.zeros(len(t), dtype=bool)
    for i in np.flatnonzero(worse):
        later = np.flatnonzero(t >= t[i] + confirm_days - 1e-9)
        if later.size and worse[i:later[0] + 1].all():
            onset[i] = True
    return np.maximum.accumulate(onset).astype(float)


def mri_activity(gd_counts, new_t2_cumulative):
    """New MRI activity by each scan: >= 1 gadolinium-enhancing lesion on any scan after the baseline
    scan, or >= 1 new or enlarging T2 lesion since baseline (the MRI part of NEDA-3, Giovannoni 2015).
    ``gd_counts``: Gd+ lesions on each scan (first = baseline, not counted); ``new_t2_cumulative``: new or
    enlarging T2 lesions since baseline at each scan. Returns 0/1 per scan."""
    gd = np.asarray(gd_counts, dtype=float).copy()
    gd[0] = 0.0
    return ((np.cumsum(gd) + np.asarray(new_t2_cumulative, dtype=float)) > 0).astype(float)


def neda3(relapse_by, cdp_by, mri_activity_by):
    """NEDA-3 (no evidence of disease activity): no relapse, no confirmed disability progression and no
    new MRI activity (new/enlarging T2 or Gd+ lesions) since baseline. Giovannoni G et al. Mult Scler
    Relat Disord 2015;4:329, doi:10.1016/j.msard.2015.04.006. Inputs 0/1 (or probabilities of
    independent events, for an expected value); returns 1 - P(any)."""
    r, c, m = (np.asarray(x, dtype=float) for x in (relapse_by, cdp_by, mri_activity_by))
    return (1 - r) * (1 - c) * (1 - m)


#: smallest EDSS step; Petrou 2020 treatment failure (a) is a rise of at least this much (inferred, see below)
PETROU_FAILURE_RISE = 0.5


def petrou_treatment_failure(baseline_edss, edss):
    """Petrou 2020 (Brain 143:3574, PMID 33253391) primary end point 'treatment failure (a)' at a visit:
    EDSS rise >= 0.5 from baseline, unconfirmed (the 6-month cycle has no later visit).

    The table footnote that defines (a) was not retrieved; the definition is inferred from Table 3
    (evidence.md s.4.1). (1) It is a disability criterion, not a composite with relapses: in the sham
    arm fewer patients failed (13/31, 41.9 %) than relapsed (15/32 not relapse-free), which no
    definition containing 'or relapse' allows. (2) The sham arm's 6-month EDSS change had median 0 and
    IQR 0 to +0.5, so 25-50 % rose by >= 0.5, which brackets 41.9 %; a baseline-dependent rise (1.0 at
    baseline <= 5.5, in about half of a population with mean 5.6) would need nearly every 0.5-point
    rise to fall in the EDSS >= 6 half."""
    rise = np.asarray(edss, dtype=float) - np.asarray(baseline_edss, dtype=float)
    return (rise >= PETROU_FAILURE_RISE - 1e-9).astype(float)
