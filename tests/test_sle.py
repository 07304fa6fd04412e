"""Systemic lupus erythematosus module (issues 4, 16): untreated natural history, MSC response in the
direction of the Nanjing trials, the bistable immune-complex loop, item-wise SLEDAI-2K with each
patient's own persistent descriptors, response definitions, events, headline numbers."""

import numpy as np
import pandas as pd
import pytest

from mscsim import parameters, scores
from mscsim.diseases import sle
from mscsim.diseases.base import Readouts, endpoint_frame
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


def test_immune_complex_loop_has_a_refractory_and_a_remission_state(untreated):
    """Mechanism (issue 15 item 3, issue 16): the IC loop is bistable. A small perturbation of the
    refractory state dies away; a deep, long enough fall of the immune-complex load leaves the
    patient in the low state after the cells have gone; a patient whose IC stimulus is half-maximal
    at a much lower load (K_ic_sle) improves for months and returns."""
    _, base = untreated
    ic = lambda s: s.outputs["immune_complex"].to_numpy()  # noqa: E731
    tiny, _ = run(regimen("1e3 cells/kg", n=1))
    assert abs(ic(tiny)[Y5] - 1.0) < 0.02 and abs(ic(tiny)[M12] - 1.0) < 0.05
    reset, ef = run(regimen("1e6 cells/kg"))
    assert ic(reset)[Y2] < 0.3 and abs(ic(reset)[Y5] - ic(reset)[Y2]) < 0.05      # a new steady state
    o = reset.outputs
    assert o["neph"].iloc[Y5] < 0.15 and o["glom_injury"].iloc[Y5] < 0.15          # renal activity resolved
    # the renal remission the reset patient reaches: proteinuria below the 0.5 g/24 h cut-off
    assert ef["proteinuria"].iloc[Y5] < parameters.value("prot_cut_sle")
    deep, _ = run(regimen("1e6 cells/kg"), params={"K_ic_sle": 0.08})
    assert ic(deep)[M9] < 0.6                  # the same cells lower the IC load for months ...
    assert ic(deep)[Y5] > 0.8                  # ... and the refractory state returns


def test_scarred_glomerular_injury_stays_when_inflammation_resolves():
    """Chronic lesions: at entry the injury splits into a reversible share (1 - f_scar_sle) and a
    scarred share f_scar_sle of the renal inflammation (so entry proteinuria does not depend on
    f_scar_sle); the scarred share never falls, so proteinuria after a renal response tends to
    prot_h + beta x (scar + what inflammation is left)."""
    prot_h, beta = parameters.value("prot_h_sle"), parameters.value("beta_prot_sle")
    for f in (0.0, 0.3):
        s, ef = run(regimen("1e6 cells/kg"), params={"f_scar_sle": f})
        o = s.outputs
        assert o["glom_scar"].iloc[0] == pytest.approx(f * o["neph"].iloc[0], abs=1e-6)
        assert o["glom_injury"].iloc[0] == pytest.approx((1 - f) * o["neph"].iloc[0], abs=1e-6)
        assert ef["proteinuria"].iloc[0] == pytest.approx(prot_h + beta * o["neph"].iloc[0], rel=1e-6)
        assert np.all(np.diff(o["glom_scar"]) >= -1e-9)                        # never heals
        assert o["glom_scar"].iloc[Y5] == pytest.approx(f * o["neph"].iloc[0], abs=1e-6)
        assert ef["proteinuria"].to_numpy() == pytest.approx(prot_h + beta * (o["glom_injury"] + o["glom_scar"]))
    assert ef["proteinuria"].iloc[Y5] > prot_h + beta * 0.3 - 1e-9


def test_glomerular_healing_rate_gives_half_the_proteinuria_in_12_weeks():
    """k_glom_sle is derived so that the chain inflammation (k_N_sle) -> reversible injury
    (k_glom_sle) loses half of a step fall in 84 days (Korbet & Lewis 2012: remitters lose about
    half their proteinuria in 12 weeks of induction)."""
    k1, k2 = parameters.value("k_N_sle"), parameters.value("k_glom_sle")
    t = 84.0
    left = (k1 * np.exp(-k2 * t) - k2 * np.exp(-k1 * t)) / (k1 - k2)
    assert left == pytest.approx(0.5, abs=0.01)


def test_standard_of_care_lowers_the_drive():
    """More background immunosuppression (soc_is_sle > 0) lowers activity; the default (continued
    entry therapy) changes nothing."""
    s0, e0 = run()
    s1, e1 = run(params={"soc_is_sle": 0.3})
    assert e0["sledai"].iloc[0] == pytest.approx(12.5, abs=0.2)
    assert e1["sledai"].iloc[0] < e0["sledai"].iloc[0] - 1
    assert s1.outputs["bcell_help"].iloc[0] < 0.85


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


def _visits(proteinuria, albumin, **items):
    """Observations at visits: proteinuria, albumin and the named descriptors (0/1 per visit)."""
    n = len(proteinuria)
    obs = {f"sledai_{k}": np.zeros(n) for k in scores.SLEDAI_2K_ITEMS}
    obs.update({f"sledai_{k}": np.asarray(v, dtype=float) for k, v in items.items()})
    obs.update({"proteinuria": np.asarray(proteinuria, float), "albumin": np.asarray(albumin, float)})
    return obs


def test_response_definitions():
    """Best response by visit (hand-computed): baseline proteinuria 2.5 g/24 h with arthritis."""
    # visits: baseline; 1.2 g, arthritis (partial); 0.4 g, nothing (major); 1.3 g again -> stays major
    obs = _visits([2.5, 1.2, 0.4, 1.3], [33, 36, 38, 37], arthritis=[1, 1, 0, 1])
    r = sle.responders(obs, {k: v[0] for k, v in obs.items()})
    assert r["major_clinical_response"].tolist() == [0, 0, 1, 1]
    assert r["partial_clinical_response"].tolist() == [0, 1, 0, 0]
    # a partial response once achieved counts by the later visits even if activity returns
    obs = _visits([2.5, 1.0, 2.5], [33, 36, 33])
    r = sle.responders(obs, {k: v[0] for k, v in obs.items()})
    assert r["partial_clinical_response"].tolist() == [0, 1, 1]
    assert r["major_clinical_response"].tolist() == [0, 0, 0]
    # 0.4 g/24 h but albumin 34 g/L: not major (albumin not normal); 84 % fall -> partial
    obs = _visits([2.5, 0.4], [33, 34])
    r = sle.responders(obs, {k: v[0] for k, v in obs.items()})
    assert r["major_clinical_response"].tolist() == [0, 0] and r["partial_clinical_response"].tolist() == [0, 1]
    # persistent anti-dsDNA and low complement do not stand in the way of a major response (BILAG)
    obs = _visits([2.5, 0.3], [33, 40], increased_dna_binding=[1, 1], low_complement=[1, 1])
    r = sle.responders(obs, {k: v[0] for k, v in obs.items()})
    assert r["major_clinical_response"].tolist() == [0, 1]


def _readouts(activity, neph=None):
    """Synthetic read-outs at constant laboratory values and the given activity course."""
    a = np.asarray(activity, dtype=float)
    n = len(a)
    cols = {"sledai_clin_activity": a, "neph": a if neph is None else np.asarray(neph, float),
            "anti_dsdna": np.full(n, 10.0), "c3": np.full(n, 110.0), "c4": np.full(n, 25.0),
            "proteinuria": np.full(n, 0.1), "albumin": np.full(n, 41.0), "relapse": np.zeros(n),
            "survival": np.ones(n), "damage": np.ones(n)}
    return Readouts(cols, pd.Index(np.arange(n, dtype=float) * 30.0))


CLIN = [k for k in sle.DESCRIPTOR_ORGAN]


def _present(obs):
    return np.array([obs[f"sledai_{k}"] for k in CLIN])      # descriptors x visits


def test_each_patient_keeps_his_descriptors_at_steady_activity():
    """Same patient, constant activity: a descriptor present at one visit is very likely present
    at the next and an absent one stays absent (independent draws at each visit would give the
    marginal frequency in both cases), and the same seed gives the same patient."""
    out = _readouts(np.full(12, 1.5))
    kept = had = came = lacked = 0
    marginal = []
    for seed in range(300):
        x = _present(sle.observe(out, np.random.default_rng(seed)))
        assert np.array_equal(x, _present(sle.observe(out, np.random.default_rng(seed))))   # deterministic
        now, nxt = x[:, :-1], x[:, 1:]
        kept += (now * nxt).sum()
        had += now.sum()
        came += ((1 - now) * nxt).sum()
        lacked += (1 - now).sum()
        marginal.append(x.mean())
    p_marg = np.mean(marginal)
    assert kept / had > 0.6 > 4 * p_marg            # present now -> present next visit
    assert came / lacked < 0.5 * p_marg             # absent now -> absent next visit
    # without visit fluctuation a patient's descriptors are exactly constant
    probs = sle._item_probabilities(out)
    u = sle.descriptor_latents(np.random.default_rng(3), 12, 0.5, 0.0)
    for k in CLIN:
        present = u[k] < probs[k]
        assert present.all() or not present.any()


def test_descriptors_resolve_as_activity_falls():
    """Falling activity: each patient loses descriptors and gains none (no visit fluctuation), and
    at a tenth of the typical activity almost nobody has any."""
    a = np.geomspace(2.0, 0.1, 10)
    out = _readouts(a)
    probs = sle._item_probabilities(out)
    counts = []
    for seed in range(300):
        u = sle.descriptor_latents(np.random.default_rng(seed), len(a), 0.5, 0.0)
        present = np.array([u[k] < probs[k] for k in CLIN])
        assert np.all(np.diff(present.astype(int), axis=1) <= 0)      # nothing appears as activity falls
        counts.append(present.sum(axis=0))
    counts = np.array(counts)
    assert counts[:, 0].mean() > 5 * counts[:, -1].mean()
    assert np.mean(counts[:, -1] == 0) > 0.9


def test_descriptor_frequencies_and_organ_correlation():
    """Across patients each descriptor is present as often as its probability says (so the drawn
    SLEDAI-2K averages to the expected one), and descriptors of one organ system go together."""
    out = _readouts(np.full(3, 2.0))
    probs = sle._item_probabilities(out)
    draws = [sle.observe(out, np.random.default_rng(s)) for s in range(3000)]
    for k in ("rash", "arthritis", "haematuria", "pyuria"):
        freq = np.mean([d[f"sledai_{k}"][0] for d in draws])
        assert freq == pytest.approx(probs[k][0], abs=0.03), k
    expected = sle.observe(out)["sledai"][0]
    assert np.mean([d["sledai"][0] for d in draws]) == pytest.approx(expected, rel=0.05)
    x = lambda k: np.array([d[f"sledai_{k}"][0] for d in draws])  # noqa: E731
    same_organ = np.corrcoef(x("haematuria"), x("pyuria"))[0, 1]
    other_organ = np.corrcoef(x("haematuria"), x("arthritis"))[0, 1]
    assert same_organ > 0.15 and abs(other_organ) < 0.06


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
    assert ef["survival"].iloc[M12] > 0.9
    assert 0.05 < ef["relapse"].iloc[M12] < 0.3
