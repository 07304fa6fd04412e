"""Systemic lupus erythematosus module (issue 4): untreated natural history, MSC response in the
direction of the Nanjing trials, dose-response, item-wise SLEDAI-2K, events, headline numbers."""

import numpy as np
import pandas as pd
import pytest

from mscsim import parameters, scores
from mscsim.diseases import sle
from mscsim.diseases.base import endpoint_frame
from mscsim.dosing import Dose, Regimen
from mscsim.simulate import simulate

#             0   1 mo 3 mo 6 mo 9 mo 12 mo 2 y  5 y
T = np.array([0.0, 30, 90, 180, 270, 365, 730, 1825])
M1, M3, M6, M9, M12, Y2, Y5 = range(1, 8)


def regimen(dose, n=2, every=7.0):
    """``n`` IV infusions ``every`` days apart (SLE_WangD2014: days 0 and 7)."""
    return Regimen(tuple(Dose.parse(dose, "iv", at=f"{every * k} d") if k else Dose.parse(dose, "iv")
                         for k in range(n)))


def run(reg=None, **kw):
    s = simulate(reg, float(T[-1]), disease="sle", times=T, **kw)
    return s, endpoint_frame(sle, s.outputs)


@pytest.fixture(scope="module")
def untreated():
    return run()


@pytest.fixture(scope="module")
def wang2014():
    """Allogeneic UC-MSC 1e6 cells/kg IV on days 0 and 7 (Wang D 2014, PMID 24661633)."""
    return run(regimen("1e6 cells/kg"))


def test_untreated_refractory_sle_keeps_its_disease(untreated):
    s, ef = untreated
    o = s.outputs
    # typical refractory patient: SLEDAI 12.2 +/- 3.3 (Liang 2010), median 13 (Wen 2019)
    assert 12.2 - 3.3 <= ef["sledai"].iloc[0] <= 12.2 + 3.3
    assert ef["proteinuria"].iloc[0] == pytest.approx(2.5, rel=0.05)       # Liang 2010 2505 mg/24 h
    assert ef["anti_dsdna"].iloc[0] >= parameters.value("dsdna_cut_sle")   # increased DNA binding
    assert ef["c3"].iloc[0] < 90                                           # low complement (BLISS cut-off)
    assert ef["il6"].iloc[0] == pytest.approx(12.4, rel=0.05)
    # active SLE: Treg below and Th17 above the healthy reference (Front Immunol 2019; Huang 2024)
    assert ef["treg_pct"].iloc[0] < parameters.value("Treg_pct_h")
    assert ef["th17_pct"].iloc[0] > parameters.value("Th17_pct_h")
    for c in ("sledai", "proteinuria", "anti_dsdna", "c3"):
        assert np.ptp(ef[c]) < 1e-3 * ef[c].iloc[0], c
    # natural history: damage accrues, survival falls, flares keep coming
    assert np.all(np.diff(o["damage"]) > 0)
    assert np.all(np.diff(o["survival"]) < 0)
    # flare hazard at typical serology: BLISS placebo severe flare 29.6 % over 52 weeks
    assert ef["relapse"].iloc[M12] == pytest.approx(0.296, abs=0.02)
    # persistent nephritis: 5-year survival near the no-remission cohorts (69 %, Korbet 2000)
    assert 0.6 < ef["survival"].iloc[Y5] < 0.85
    assert not ef["major_clinical_response"].any() and not ef["partial_clinical_response"].any()
    assert ef["remission"].max() == 0.0


def test_msc_move_sle_the_way_trials_report(untreated, wang2014):
    _, base = untreated
    _, ef = wang2014
    # SLEDAI lower at 3, 6, 9, 12 months (Wang D 2014)
    for i in (M3, M6, M9, M12):
        assert ef["sledai"].iloc[i] < base["sledai"].iloc[i] - 1.0, i
    # proteinuria lower, clearly so at 9 and 12 months (Wang D 2014; Liang 2010)
    for i in (M9, M12):
        assert ef["proteinuria"].iloc[i] < 0.75 * base["proteinuria"].iloc[i]
    assert ef["anti_dsdna"].iloc[M3] < 0.8 * base["anti_dsdna"].iloc[M3]     # significant at 3 months
    assert ef["c3"].iloc[M6] > base["c3"].iloc[M6] + 15                      # C3 up
    assert ef["albumin"].iloc[M6] > base["albumin"].iloc[M6]                 # albumin up
    assert ef["treg_pct"].iloc[M1] > base["treg_pct"].iloc[M1]
    # the typical patient is a partial responder within 12 months
    assert ef["partial_clinical_response"].iloc[[M9, M12]].max() == 1.0
    # fewer flares and better survival than untreated
    assert ef["relapse"].iloc[M12] < base["relapse"].iloc[M12]
    assert ef["survival"].iloc[Y5] > base["survival"].iloc[Y5] + 0.05
    # the improvement wanes over years without re-dosing
    gain = lambda i: base["sledai"].iloc[i] - ef["sledai"].iloc[i]  # noqa: E731
    assert gain(Y5) < 0.5 * gain(M12)


def test_dose_response(untreated):
    _, base = untreated
    drops, prots = [], []
    for dose in ("3e5 cells/kg", "1e6 cells/kg", "3e6 cells/kg"):
        s, ef = run(regimen(dose))
        drops.append(base["sledai"].iloc[M6] - ef["sledai"].iloc[M6])
        prots.append(ef["proteinuria"].iloc[M9])
    assert drops[0] < drops[1] < drops[2]
    assert prots[0] > prots[1] > prots[2]
    # two infusions do more than one
    _, one = run(regimen("1e6 cells/kg", n=1))
    _, two = run(regimen("1e6 cells/kg", n=2))
    assert two["proteinuria"].iloc[M9] < one["proteinuria"].iloc[M9]


def test_sledai_is_scored_item_by_item(wang2014):
    s, ef = wang2014
    o = s.outputs
    # the model's expected score and observe() (no noise) agree, item by item
    assert np.allclose(ef["sledai"], o["sledai"])
    items = {k: ef[f"sledai_{k}"].to_numpy() for k in scores.SLEDAI_2K_ITEMS}
    assert np.allclose(scores.sledai_2k(items), ef["sledai"])
    # laboratory items follow their cut-offs exactly
    assert np.array_equal(items["increased_dna_binding"] == 1, o["anti_dsdna"].to_numpy() >= 30)
    assert np.array_equal(items["proteinuria"] == 1, o["proteinuria"].to_numpy() > 0.5)
    low = (o["c3"].to_numpy() < 90) | (o["c4"].to_numpy() < 16)
    assert np.array_equal(items["low_complement"] == 1, low)
    # the serological items switch off when anti-dsDNA and complement normalise (months 6-12)
    assert items["increased_dna_binding"][0] == 1 and items["increased_dna_binding"][M9] == 0
    assert items["low_complement"][0] == 1 and items["low_complement"][M9] == 0


def test_visit_noise_and_events_are_consistent(wang2014):
    s, _ = wang2014
    t = np.arange(0.0, 1826.0, 30.0)
    sim = simulate(regimen("1e6 cells/kg"), 1825.0, disease="sle", times=t)
    out = sim.outputs
    rng = np.random.default_rng(11)
    relapses, deaths = [], []
    for _ in range(200):
        obs = pd.DataFrame(sle.observe(out, rng))
        w = obs["sledai"].to_numpy()
        assert np.all(w == np.round(w)) and np.all((w >= 0) & (w <= 105))
        for c in ("relapse", "survival", "remission"):
            assert set(np.unique(obs[c])) <= {0.0, 1.0}
        assert np.all(np.diff(obs["relapse"]) >= 0)      # once flared, flared
        assert np.all(np.diff(obs["survival"]) <= 0)     # once dead, dead
        relapses.append(obs["relapse"].iloc[12])
        deaths.append(1 - obs["survival"].iloc[-1])
    # event frequencies match the model probabilities
    assert np.mean(relapses) == pytest.approx(out["relapse"].iloc[12], abs=0.08)
    assert np.mean(deaths) == pytest.approx(1 - out["survival"].iloc[-1], abs=0.08)


def test_response_definitions():
    base = pd.Series({"sledai": 12.0, "proteinuria": 2.5})
    obs = pd.DataFrame({"sledai": [12.0, 8.0, 8.0, 3.0, 3.0, 2.0],
                        "proteinuria": [2.5, 1.2, 1.4, 0.4, 0.6, 0.4]})
    r = pd.DataFrame(sle.responders(obs, base))
    assert r["major_clinical_response"].tolist() == [0, 0, 0, 1, 0, 1]
    assert r["partial_clinical_response"].tolist() == [0, 1, 0, 0, 1, 0]
    # without renal disease at baseline, partial response needs only the SLEDAI fall
    r = pd.DataFrame(sle.responders(pd.DataFrame({"sledai": [6.0], "proteinuria": [0.3]}),
                                     pd.Series({"sledai": 10.0, "proteinuria": 0.3})))
    assert r["partial_clinical_response"].iloc[0] == 1


def test_headline_regimens_typical_patient(untreated, wang2014):
    """SLE_WangD2014, SLE_Liang2010, SLE_Wang2017_5y: typical patient next to the published numbers."""
    _, base = untreated
    _, ef = wang2014
    rows = [
        ("SLEDAI baseline -> 12 mo", "12.2 -> 3.2 (Liang 2010)",
         f"{ef['sledai'].iloc[0]:.1f} -> {ef['sledai'].iloc[M12]:.1f}"),
        ("proteinuria g/24 h -> 12 mo", "2.51 -> 0.86 (Liang 2010)",
         f"{ef['proteinuria'].iloc[0]:.2f} -> {ef['proteinuria'].iloc[M12]:.2f}"),
        ("anti-dsDNA IU/mL at 3 mo", "down, significant (Wang 2014)",
         f"{ef['anti_dsdna'].iloc[0]:.0f} -> {ef['anti_dsdna'].iloc[M3]:.0f}"),
        ("C3 mg/dL at 6 mo", "up, peak at 6 mo (Wang 2014)", f"{ef['c3'].iloc[0]:.0f} -> {ef['c3'].iloc[M6]:.0f}"),
        ("survival 12 mo", "92.5 % (Wang 2014)", f"{100 * ef['survival'].iloc[M12]:.1f} %"),
        ("survival 5 y", "84 % (Wang 2017/2018)",
         f"{100 * ef['survival'].iloc[Y5]:.1f} % (untreated {100 * base['survival'].iloc[Y5]:.1f} %)"),
        ("flare by 9 / 12 mo", "12.5 / 16.7 % of responders (Wang 2014)",
         f"{100 * ef['relapse'].iloc[M9]:.1f} / {100 * ef['relapse'].iloc[M12]:.1f} %"),
        ("MCR / PCR at 12 mo", "32.5 / 27.5 % (Wang 2014)",
         f"{ef['major_clinical_response'].iloc[M12]:.0f} / {ef['partial_clinical_response'].iloc[M12]:.0f} (0/1)"),
    ]
    print("\n" + "\n".join(f"{a:30s} published {b:40s} model {c}" for a, b, c in rows))
    assert ef["sledai"].iloc[M12] < ef["sledai"].iloc[0] - 3
    assert ef["proteinuria"].iloc[M12] < 0.6 * ef["proteinuria"].iloc[0]
    assert 0.75 < ef["survival"].iloc[Y5] < 0.93
    assert ef["survival"].iloc[M12] > 0.9
    assert 0.05 < ef["relapse"].iloc[M12] < 0.3
