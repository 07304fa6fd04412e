"""Between-patient spread of each disease's main score at baseline against published Table 1s
(issue 21: a 40-per-arm cirrhosis trial gave p = 4.5e-13 because the virtual baseline MELD SD was
1.5-1.9 where real cohorts show ~6.5).

For each disease: the shipped scenario of a comparable published population, one untreated arm
of 120 virtual patients screened by that scenario's inclusion criteria, and the SD of the main
score at baseline (visit noise included, as in a Table 1). The accepted range is 0.75 x the
smallest to 1.5 x the largest published SD: published SDs come from 12-850 patients (the 95 % CI
of an SD from 20 patients is about -25 % / +45 %) and populations differ, so the test guards
against implausibly clean (or wild) virtual populations, not a precise match.
"""

from __future__ import annotations

import pytest

from mscsim.scenario import resolve_scenario
from mscsim.trial import run_trial

# disease: (scenario, endpoint, published baseline SDs, source)
PUBLISHED_SD = {
    "ra": ("RA_AlvaroGracia2017", "das28_esr", (1.06, 0.93, 0.97),
           "RADIATE (refractory RA) baseline DAS28 6.80 (SD 1.06) placebo, 6.79 (0.93), 6.78 (0.97): "
           "Emery 2008 Ann Rheum Dis 67:1516, PMID 18625622 (reference/disease-models.md s.RA)"),
    "t1d_hba1c": ("T1D_Cai2016", "hba1c", (0.81, 0.9),
                  "Cai 2016 Diabetes Care, PMID 26628416: baseline HbA1c 8.6 (SD 0.81) and 8.7 (SD 0.9) %"),
    "t1d_cpeptide": ("T1D_Cai2016", "c_peptide_auc", (6.1, 6.8),
                     "Cai 2016, PMID 26628416: baseline C-peptide AUC 6.6 (SD 6.1) and 8.4 (SD 6.8) pmol/mL/180 min"),
    "ms": ("MS_Petrou2020", "edss", (0.8, 0.68),
           "Petrou 2020 Brain (NCT02166021) EDSS 5.6 +/- 0.8 (n = 48); Petrou 2021 Front Neurol 6.75 +/- 0.68 "
           "(reference/disease-models.md s.4.5)"),
    "sle": ("SLE_Liang2010", "sledai", (3.3, 3.8),
            "Liang 2010 Ann Rheum Dis 69:1423 SLEDAI 12.2 +/- 3.3; pooled BLISS-52/76 (n = 1684) "
            "SELENA-SLEDAI 9.7 +/- 3.8 (reference/disease-models.md s.SLE)"),
    "sle_proteinuria": ("SLE_Liang2010", "proteinuria", (1.324,),
                        "Liang 2010 Ann Rheum Dis 69:1423 24-h proteinuria 2505.0 +/- 1323.9 mg (n = 15)"),
    "ibd": ("CD_Forbes2014", "cdai", (64.2, 61.9, 63.3, 73.4, 62.0),
            "active luminal CD, CDAI 220-450 entry: ANDANTE (Gut 2019, Table 1) 320.7 (64.2), 319.9 (61.9), "
            "296.7 (63.3), 337.4 (73.4); CHARM (Gut, Table 1) 313.1 (62.0), n = 854"),
    "liver": ("LIV_Suk2016", "meld", (6.53, 6.62),
              "decompensated cirrhosis: MELD 16.32 +/- 6.53 (n = 189, World J Hepatol 2016;8:739, "
              "doi:10.4254/wjh.v8.i17.739, Table 1); 20.90 (SD 6.62) (n = 79, Clin Gastroenterol Hepatol "
              "2018;16:748, doi:10.1016/j.cgh.2017.09.012, Table 1)"),
}


def virtual_baseline(scenario_id: str, endpoint: str, n: int = 120):
    sc = resolve_scenario(scenario_id)
    # the model's own between-patient spread: without the scenario's Table 1 matching (issue 20)
    arm = sc.arms[-1].model_copy(update={"n": n, "regimen": [], "name": "untreated", "table1": {}})
    sc = sc.model_copy(update={"arms": [arm], "endpoints": [type(sc.endpoints[0])(name=endpoint, at="1 d")],
                               "population": sc.population.model_copy(update={"table1": {}})})
    return run_trial(sc, progress=False).patients["baseline"]


#: known gaps, each a strict xfail (the test reports when the model is fixed)
KNOWN_GAPS = {
    "liver": "MELD SD ~4.6 after widening H0_liver (CV 0.2 -> 1.0, clipped to its bounds 0.1-0.9) vs >= 4.9; "
             "the lab maps saturate: creatinine and bilirubin need their own between-patient spread",
}


@pytest.mark.parametrize("key", [pytest.param(k, marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[k]))
                                 if k in KNOWN_GAPS else k for k in sorted(PUBLISHED_SD)])
def test_baseline_sd_of_main_score_is_plausible(key):
    scenario, endpoint, sds, source = PUBLISHED_SD[key]
    b = virtual_baseline(scenario, endpoint)
    sd = float(b.std(ddof=1))
    lo, hi = 0.75 * min(sds), 1.5 * max(sds)
    assert lo <= sd <= hi, (f"{key}: virtual baseline {endpoint} SD {sd:.3g} (mean {b.mean():.3g}) outside "
                            f"[{lo:.3g}, {hi:.3g}] from {source}")
