"""One typical (no random effects, no visit noise) patient per headline regimen: the change from
baseline of the headline endpoints, untreated vs treated, next to the published numbers.

    python tools/headline_typical.py            # prints and writes docs/headline-typical-patients.md

The published column is text from ../shared/reference/evidence.yaml (the shipped copy is
``mscsim/data/evidence.yaml``); the comparison that counts is the virtual trial in
``mscsim validate``, which has a population, placebo and visit noise. Calibrated parameters
(``data/calibration/*.json``) are in force.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mscsim.diseases.base import endpoint_frame
from mscsim.dosing import Dose, Regimen
from mscsim.model import build_model
from mscsim.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]

#: (disease, subtype, label, regimen doses, day, endpoints, published text)
HEADLINES = [
    ("ra", None, "RA: autologous BM-MSC 1e6 cells/kg IV once (Alvaro-Gracia 2017)",
     [("1e6 cells/kg", "iv", {"product": "bm-msc"})], 90, ["das28_crp", "crp", "tnf", "il10", "th17_pct", "treg_pct"],
     "ACR20 cohort A 45 % (1 mo), 25 % (3 mo); placebo 29 %, 0 % (RA_AlvaroGracia2017#1,2,10,11)"),
    ("ra", None, "RA: UC-MSC 4e7 cells IV once (Wang L 2019)",
     [("4e7 cells", "iv", {"product": "uc-msc"})], 365, ["das28_esr", "crp", "tnf", "il10", "th17_pct", "treg_pct"],
     "DAS28-ESR, HAQ and CRP fell at 1 and 3 years (direction only retrieved)"),
    ("t1d", "established", "T1D: UC-MSC 1.1e6 cells/kg intra-arterial pancreatic (Cai 2016)",
     [("1.1e6 cells/kg", "intra_arterial", {"artery": "pancreatic", "product": "uc-msc"})], 365,
     ["c_peptide_auc", "hba1c", "fasting_glucose", "insulin_dose"],
     "at 1 year, SCT vs control: C-peptide AUC 13.6 vs 7.7 pmol/mL/180 min, HbA1c 7.5 vs 8.8 %, fasting glucose 151 vs 184 mg/dL, insulin 0.6 vs 0.9 IU/kg/day (T1D_Cai2016#1-10)"),
    ("ms", "progressive", "MS: BM-MSC 1e6 cells/kg intrathecal (Petrou 2020)",
     [("1e6 cells/kg", "intrathecal", {"product": "bm-msc"})], 180, ["edss", "tnf_tissue", "il17_tissue"],
     "EDSS change at 6 months: IT -0.2 (SD 0.3), IV -0.13 (0.4), sham +0.3 (0.4); treatment failure 6.7 % IT, 9.7 % IV, 41.9 % sham (MS_Petrou2020#1-3,13-15)"),
    ("ms", "progressive", "MS: BM-MSC 1e6 cells/kg IV (Petrou 2020)",
     [("1e6 cells/kg", "iv", {"product": "bm-msc"})], 180, ["edss", "tnf_tissue", "il17_tissue"],
     "see the intrathecal row"),
    ("ms", "progressive", "MS: MSC-NP 1e7 cells intrathecal every 12 weeks x3 (Harris 2018)",
     [("1e7 cells", "intrathecal", {"product": "msc-np", "every": "12 wk", "times": 3})], 270, ["edss"],
     "median EDSS improved (direction)"),
    ("sle", None, "SLE: UC-MSC 1e6 cells/kg IV days 0 and 7 (Wang D 2014)",
     [("1e6 cells/kg", "iv", {"product": "uc-msc", "every": "7 d", "times": 2})], 365,
     ["sledai", "proteinuria", "anti_dsdna", "c3"],
     "at 12 months: major clinical response 32.5 %, partial 27.5 %, survival 92.5 %; SLEDAI and proteinuria fell (SLE_WangD2014#1-3,7)"),
    ("ibd", "crohns_perianal", "Crohn's perianal: darvadstrocel 1.2e8 cells local (Panes 2016, ADMIRE-CD)",
     [("1.2e8 cells", "local", {"site": "perianal_fistula", "product": "ad-msc"})], 168,
     ["combined_remission", "fistula_closure"],
     "combined remission at week 24: 50 % vs 34 % placebo (CD_Panes2016_ADMIRE#1-2)"),
    ("ibd", "crohns_luminal", "Crohn's luminal: UC-MSC 1e6 cells/kg IV weekly x4 (Zhang 2018)",
     [("1e6 cells/kg", "iv", {"product": "uc-msc", "every": "7 d", "times": 4})], 365, ["cdai", "crp"],
     "CDAI fell by 62.5 (SD 23.2) at 12 months vs 23.6 (12.4) in controls (CD_Zhang2018#1-2)"),
    ("liver", "decompensated", "Cirrhosis: UC-MSC 0.5e6 cells/kg IV x3 q4wk (Zhang/Shi 2012)",
     [("0.5e6 cells/kg", "iv", {"product": "uc-msc", "every": "4 wk", "times": 3})], 365,
     ["meld", "meld_na", "albumin", "bilirubin", "ascites", "collagen"],
     "ascites down, albumin up, bilirubin and MELD-Na down vs control (P<0.05)"),
]


def _doses(specs) -> Regimen:
    out = []
    for dose, route, kw in specs:
        kw = dict(kw)
        every, times = kw.pop("every", None), kw.pop("times", 1)
        out.append(Dose.parse(dose, route, every=every, times=times, **kw))
    return Regimen(tuple(out))


def rows() -> list[dict]:
    res = []
    for disease, subtype, label, specs, day, endpoints, published in HEADLINES:
        times = np.array([0.0, float(day)])
        # trial participation (placebo) in both columns, where the disease has a placebo response
        par = {"trial_on": 1.0} if "trial_on" in build_model(disease, None, "human", subtype).ode.params else None
        ef = {}
        for arm, reg in (("untreated", None), ("treated", _doses(specs))):
            s = simulate(reg, float(day), disease=disease, subtype=subtype, times=times, params=par)
            e_f = endpoint_frame(s.composed.disease_module, s.outputs)
            ef[arm] = e_f.join(s.outputs[[c for c in s.outputs.columns if c not in e_f.columns]])
        for e in endpoints:
            b = float(ef["treated"][e].iloc[0])
            def change(arm):  # solver-level noise (below 1e-7 of the baseline) shown as 0
                d = float(ef[arm][e].iloc[-1]) - b
                return 0.0 if abs(d) < 1e-7 * max(abs(b), 1.0) else d

            res.append({"regimen": label, "day": day, "endpoint": e, "baseline": b,
                        "untreated": change("untreated"), "treated": change("treated"), "published": published})
    return res


def markdown(rs: list[dict]) -> str:
    lines = ["# Headline regimens, one typical patient", "",
             "Generated by `python tools/headline_typical.py`: change from baseline at the trial's "
             "time point in one typical patient (no random effects, no visit noise), with the trial's "
             "placebo/standard-of-care participation effect in both columns. The virtual trials "
             "(`mscsim validate`) are the comparison that counts.", "",
             "| regimen | day | endpoint | baseline | change untreated | change treated | published |",
             "|---|---|---|---|---|---|---|"]
    last = None
    for r in rs:
        pub = r["published"] if r["regimen"] != last else ""
        reg = r["regimen"] if r["regimen"] != last else ""
        lines.append(f"| {reg} | {r['day']} | {r['endpoint']} | {r['baseline']:.3g} | {r['untreated']:+.3g} | "
                     f"{r['treated']:+.3g} | {pub} |")
        last = r["regimen"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    md = markdown(rows())
    (ROOT / "docs" / "headline-typical-patients.md").write_text(md)
    print(md)
