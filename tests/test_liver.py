"""Liver cirrhosis / ACLF module (issue 4, liver part): natural history, MSC effects, headline trials."""

import numpy as np
import pandas as pd
import pytest

from mscsim import scores
from mscsim.diseases import liver
from mscsim.diseases.base import endpoint_frame
from mscsim.dosing import Dose, Regimen
from mscsim.simulate import simulate

T = np.array([0.0, 1 / 24, 7, 30, 90, 180, 365, 730, 1460])
I1H, D7, D30, D90, D180, D365, Y2, Y4 = range(1, 9)
UMOL_PER_MG_BIL = 17.1   # bilirubin 1 mg/dL = 17.1 umol/L
G_L_PER_G_DL = 10.0      # albumin 1 g/dL = 10 g/L


def run(doses=(), subtype=None, days=1460, **kw):
    reg = Regimen(tuple(doses)) if doses else None
    s = simulate(reg, days, disease="liver", subtype=subtype, times=T[T <= days], **kw)
    return s, endpoint_frame(liver, s.outputs)


def iv(dose, **kw):
    return Dose.parse(dose, "iv", **kw)


def hepatic(dose, **kw):
    return Dose.parse(dose, "intra_arterial", artery="hepatic", **kw)


@pytest.fixture(scope="module")
def untreated():
    return run()


@pytest.fixture(scope="module")
def untreated_aclf():
    return run(subtype="aclf", days=365)


def test_untreated_decompensated_cirrhosis_follows_its_natural_history(untreated):
    s, ef = untreated
    b = ef.iloc[0]
    # typical MSC-trial patient: MELD > 10, Child-Pugh B, albumin < 35 g/L (NCT03529136)
    assert 12 <= b["meld"] <= 18 and b["meld_na"] > b["meld"]
    assert 7 <= b["child_pugh"] <= 9.5 and scores.child_pugh_class(b["child_pugh"]) == "B"
    assert b["albumin"] < 3.5 and 1.5 < b["bilirubin"] < 3.5 and 1.2 < b["inr"] < 1.7
    assert b["collagen"] == pytest.approx(20.0)                       # Suk 2016 baselines 19.5-21.1 %
    assert ef["il6"].iloc[0] == pytest.approx(11.2, rel=0.05)         # Alcohol 2001 decompensated
    # slow progression, no spontaneous improvement
    assert np.all(np.diff(ef["meld"]) >= -1e-9) and np.all(np.diff(ef["collagen"]) > 0)
    # decompensated median survival 2-4 years (D'Amico 2006, disease-models.md s.7.4)
    assert ef["survival"].iloc[Y2] > 0.5 > ef["survival"].iloc[Y4]
    assert 0.15 < ef["severe_infection"].iloc[D365] < 0.45
    assert np.all(np.diff(ef["survival"]) <= 0) and np.all(np.diff(ef["severe_infection"]) >= 0)
    assert s.outputs["msc_memory"].max() == 0.0 and np.ptp(ef["tnf"]) < 1e-9
    print(f"\nuntreated decompensated: MELD {b['meld']:.1f}, MELD-Na {b['meld_na']:.1f}, Child-Pugh "
          f"{b['child_pugh']:.1f}, bilirubin {b['bilirubin']:.2f} mg/dL, albumin {b['albumin']:.2f} g/dL, "
          f"INR {b['inr']:.2f}; survival 2 y {ef['survival'].iloc[Y2]:.2f}, 4 y {ef['survival'].iloc[Y4]:.2f}")


def test_aclf_is_sicker_and_short_term_mortality_is_high(untreated, untreated_aclf):
    _, dec = untreated
    s, ef = untreated_aclf
    b = ef.iloc[0]
    assert 17 <= b["meld"] <= 30 and b["meld"] > dec["meld"].iloc[0] + 5   # ACLF trials MELD 17-30
    assert b["bilirubin"] >= 5 and b["inr"] >= 1.5                          # APASL entry labs
    assert ef["il6"].iloc[0] > 2 * dec["il6"].iloc[0]                        # systemic inflammation
    # alcohol-related ACLF survival 69/48/36 % at 1/3/12 months (Murakami 2023)
    assert 0.55 < ef["survival"].iloc[D30] < 0.8
    assert 0.4 < ef["survival"].iloc[D90] < 0.65
    assert 0.25 < ef["survival"].iloc[D365] < 0.5
    # survivors recover as the acute insult resolves
    assert ef["meld"].iloc[D365] < b["meld"] - 5
    assert s.outputs["homing_multiplier"].iloc[0] > 2.0


def test_msc_improve_labs_and_fibrosis_with_dose_response(untreated):
    _, base = untreated
    falls, alb = [], []
    for dose in ("2.5e5 cells/kg", "1e6 cells/kg", "4e6 cells/kg"):
        s, ef = run([iv(dose)], days=365)
        i = D90
        assert ef["meld"].iloc[i] < base["meld"].iloc[i]
        assert ef["bilirubin"].iloc[i] < base["bilirubin"].iloc[i]
        assert ef["albumin"].iloc[i] > base["albumin"].iloc[i]
        assert ef["collagen"].iloc[D180] < base["collagen"].iloc[D180]
        assert s.outputs["hsc"].iloc[D30] < 1.0 and s.outputs["liver_inflammation"].iloc[D30] < 1.0
        assert ef["tnf"].iloc[D30] < base["tnf"].iloc[D30] and ef["il10"].iloc[D30] > base["il10"].iloc[D30]
        falls.append(base["meld"].iloc[i] - ef["meld"].iloc[i])
        alb.append(ef["albumin"].iloc[i] - base["albumin"].iloc[i])
    assert falls[0] < falls[1] < falls[2] and alb[0] < alb[1] < alb[2]
    # the effect wanes once the cells and their memory are gone
    s, ef = run([iv("1e6 cells/kg")])
    assert base["meld"].iloc[Y4] - ef["meld"].iloc[Y4] < 0.5 * (base["meld"].iloc[D90] - ef["meld"].iloc[D90])


def test_hepatic_artery_and_intraportal_deliver_more_cells_to_the_liver():
    iv_s, iv_ef = run([iv("5e7 cells")], days=365)
    ha_s, ha_ef = run([hepatic("5e7 cells")], days=365)
    pv_s, pv_ef = run([Dose.parse("5e7 cells", "intraportal")], days=365)
    liv = {k: s.outputs["msc_liver_pct"].iloc[I1H] for k, s in (("iv", iv_s), ("ha", ha_s), ("pv", pv_s))}
    assert liv["ha"] > 80 and liv["pv"] > 80 and liv["iv"] < 5
    assert ha_s.outputs["msc_local_density"].iloc[I1H] > 20 * iv_s.outputs["msc_local_density"].iloc[I1H]
    assert ha_s.outputs["msc_trophic"].max() > 5 * iv_s.outputs["msc_trophic"].max()
    # same cells, more effect where they land
    assert ha_ef["collagen"].iloc[D180] < iv_ef["collagen"].iloc[D180] - 1.0
    assert ha_ef["meld"].iloc[D180] < iv_ef["meld"].iloc[D180]
    print(f"\nviable MSCs in liver 1 h after 5e7 cells: IV {liv['iv']:.1f} %, hepatic artery {liv['ha']:.1f} %, "
          f"intraportal {liv['pv']:.1f} %; CPA at 6 mo IV {iv_ef['collagen'].iloc[D180]:.1f} % vs hepatic artery "
          f"{ha_ef['collagen'].iloc[D180]:.1f} %")


def test_headline_zhang_shi_2012_uc_msc_iv_in_hbv_decompensated_cirrhosis(untreated):
    """LIV_ZhangShi2012: UC-MSC 0.5e6/kg IV x3 (4-week intervals) vs saline; 1 year: albumin up,
    bilirubin and MELD-Na down, ascites down (directions, P < 0.05). LIV_ChenPang2019_meta (mixed
    autologous cells): albumin WMD +2.47 (units not in abstract; g/L assumed), bilirubin -2.26
    (umol/L assumed)."""
    _, base = untreated
    _, ef = run([iv("0.5e6 cells/kg", every="4 wk", times=3, product="uc-msc")], days=365)
    i = D365
    d_alb = (ef["albumin"].iloc[i] - base["albumin"].iloc[i]) * G_L_PER_G_DL
    d_bil = (ef["bilirubin"].iloc[i] - base["bilirubin"].iloc[i]) * UMOL_PER_MG_BIL
    d_meldna = ef["meld_na"].iloc[i] - base["meld_na"].iloc[i]
    d_asc = ef["ascites"].iloc[i] - base["ascites"].iloc[i]
    assert d_alb > 0 and d_bil < 0 and d_meldna < 0 and d_asc < 0
    assert ef["survival"].iloc[i] >= base["survival"].iloc[i]
    print(f"\nZhang/Shi 2012 at 1 y, MSC - saline: albumin {d_alb:+.1f} g/L (meta +2.47), bilirubin "
          f"{d_bil:+.1f} umol/L (meta -2.26), MELD-Na {d_meldna:+.1f}, ascites {d_asc:+.2f} L "
          f"(published: directions only)")


def test_headline_suk_2016_hepatic_artery_bm_msc_in_alcoholic_cirrhosis(untreated):
    """LIV_Suk2016: 5e7 autologous BM-MSC via the hepatic artery once, or twice (1 month apart):
    collagen proportion 19.5 -> 14.5 % (-25 %) and 21.1 -> 13.2 % (-37 %) at 6 months; Child-Pugh improved."""
    _, base = untreated
    _, one = run([hepatic("5e7 cells", product="bm-msc")], days=365)
    _, two = run([hepatic("5e7 cells", every="30 d", times=2, product="bm-msc")], days=365)
    rel = {k: ef["collagen"].iloc[D180] / ef["collagen"].iloc[0] - 1 for k, ef in (("one", one), ("two", two))}
    assert -0.40 < rel["one"] < -0.12
    assert rel["two"] < rel["one"] and rel["two"] > -0.55
    assert base["collagen"].iloc[D180] > base["collagen"].iloc[0]         # no regression without MSCs
    for ef in (one, two):
        assert ef["child_pugh"].iloc[D180] < ef["child_pugh"].iloc[0] - 1
        assert ef["child_pugh_improved"].iloc[D180] == 1.0
    assert base["child_pugh_improved"].iloc[D180] == 0.0
    print(f"\nSuk 2016 CPA at 6 mo: one dose {one['collagen'].iloc[0]:.1f} -> {one['collagen'].iloc[D180]:.1f} % "
          f"({100 * rel['one']:+.0f} %, published -25 %), two doses -> {two['collagen'].iloc[D180]:.1f} % "
          f"({100 * rel['two']:+.0f} %, published -37 %); Child-Pugh {one['child_pugh'].iloc[0]:.1f} -> "
          f"{one['child_pugh'].iloc[D180]:.1f} / {two['child_pugh'].iloc[D180]:.1f}")


def test_cao_2018_meld_falls_more_in_aclf(untreated_aclf):
    """Cao 2018 pooled: MELD fall after MSC 14.9 in ACLF vs 4.6 in chronic liver failure."""
    reg = [iv("1e6 cells/kg", every="1 wk", times=3, product="uc-msc")]
    _, aclf = run(reg, subtype="aclf", days=365)
    _, dec = run(reg, days=365)
    _, aclf0 = untreated_aclf
    fall = {k: ef["meld"].iloc[0] - ef["meld"].iloc[D180] for k, ef in (("aclf", aclf), ("dec", dec), ("aclf0", aclf0))}
    assert fall["aclf"] > fall["dec"] + 4
    assert fall["aclf"] > fall["aclf0"]                                   # beyond the natural recovery
    assert aclf["survival"].iloc[D90] > aclf0["survival"].iloc[D90]
    print(f"\nMELD fall at 6 mo with MSC: ACLF {fall['aclf']:.1f} (untreated survivor {fall['aclf0']:.1f}) vs "
          f"decompensated {fall['dec']:.1f} (Cao 2018: 14.9 vs 4.6); ACLF 90-day survival "
          f"{aclf0['survival'].iloc[D90]:.2f} -> {aclf['survival'].iloc[D90]:.2f}")


def test_observe_with_noise_gives_consistent_events_and_valid_scores(untreated):
    s, _ = untreated
    for seed in range(5):
        rng = np.random.default_rng(seed)
        obs = pd.DataFrame(liver.observe(s.outputs, rng))
        for ev in ("severe_infection", "survival"):
            assert set(np.unique(obs[ev])) <= {0.0, 1.0}
        assert np.all(np.diff(obs["severe_infection"]) >= 0) and np.all(np.diff(obs["survival"]) <= 0)
        assert obs["child_pugh"].between(5, 15).all() and obs["meld"].between(6, 40).all()
        assert set(np.unique(obs["ascites_grade"])) <= {0.0, 1.0, 2.0}
    exp = liver.observe(s.outputs)
    assert np.allclose(exp["severe_infection"], s.outputs["p_severe_infection"])
    assert np.allclose(exp["meld"], s.outputs["meld"])
    assert set(liver.ENDPOINTS) <= set(endpoint_frame(liver, s.outputs).columns)
