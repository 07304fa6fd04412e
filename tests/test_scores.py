"""Clinical score functions against hand-computed values of the published formulas (to 1e-9),
and the symbolic (model/SBML) form of each formula against the numeric one."""

import math

import numpy as np
import pytest
import sympy as sp

from mscsim import scores


def test_das28_crp_hand_computed():
    # 0.56*sqrt(4) + 0.28*sqrt(9) + 0.36*ln(16+1) + 0.014*64 + 0.96
    #  = 1.12 + 0.84 + 0.36*2.833213344056216 + 0.896 + 0.96 = 4.835956803860238
    assert scores.das28_crp(4, 9, 16.0, 64) == pytest.approx(4.835956803860238, abs=1e-9)


def test_das28_crp3_hand_computed():
    # 1.10*(1.12 + 0.84 + 1.019956803860238) + 1.15 = 4.427952484246262
    assert scores.das28_crp3(4, 9, 16.0) == pytest.approx(4.427952484246262, abs=1e-9)


def test_das28_esr_hand_computed():
    # 0.56*4 + 0.28*3 + 0.70*ln(49) + 0.014*50 = 2.24 + 0.84 + 0.70*3.8918202981106265 + 0.70
    assert scores.das28_esr(16, 9, 49.0, 50) == pytest.approx(6.5042742086774386, abs=1e-9)


def test_das28_categories_and_eular():
    assert list(scores.das28_category([2.0, 3.0, 4.0, 6.0])) == ["remission", "low", "moderate", "high"]
    # fall 1.5 to 3.0 -> good; fall 1.5 to 4.0 -> moderate; fall 0.8 to 5.0 -> moderate; fall 0.8 to 5.5 -> none
    got = scores.eular_response([4.5, 5.5, 5.8, 6.3, 6.0], [3.0, 4.0, 5.0, 5.5, 5.7])
    assert list(got) == ["good", "moderate", "moderate", "none", "none"]


def test_acr_response_definition():
    base = {"tjc68": 20, "sjc68": 10, "pain": 60, "ptga": 60, "phga": 60, "haq": 1.5, "crp": 30}
    # >= 20 % in both joint counts and in exactly 3 of 5 core measures -> ACR20 yes, ACR50 no
    cur = {"tjc68": 16, "sjc68": 8, "pain": 48, "ptga": 48, "phga": 48, "haq": 1.5, "crp": 30}
    assert scores.acr_response(base, cur, 20) and not scores.acr_response(base, cur, 50)
    # only 2 of 5 core measures improved -> no
    cur2 = dict(cur, phga=55)
    assert not scores.acr_response(base, cur2, 20)
    # joints improved 19 % -> no
    cur3 = dict(cur, tjc68=16.2)
    assert not scores.acr_response(base, cur3, 20)


def test_adag_and_idaa1c():
    # A1C = (eAG + 46.7)/28.7 ; eAG 154 mg/dL -> 7.0 % (Nathan 2008 table: 7 % <-> 154 mg/dL)
    assert scores.hba1c_from_mean_glucose(154.0) == pytest.approx((154 + 46.7) / 28.7, abs=1e-12)
    assert scores.hba1c_from_mean_glucose(154.0) == pytest.approx(6.993031358885017, abs=1e-9)
    assert scores.idaa1c(7.0, 0.5) == pytest.approx(9.0, abs=1e-12)


def test_sledai_2k_weights():
    items = {"seizure": 1, "arthritis": 1, "proteinuria": 1, "low_complement": 1, "increased_dna_binding": 1,
             "fever": 1}
    assert scores.sledai_2k(items) == 8 + 4 + 4 + 2 + 2 + 1
    assert sum(w * len(v) for w, v in scores.SLEDAI_2K_WEIGHTS.items()) == 105   # full scale 0..105
    with pytest.raises(KeyError):
        scores.sledai_2k({"headache": 1})


def test_clinical_sledai_and_remission():
    # rash (2) + low complement (2) + increased DNA binding (2): SLEDAI-2K 6, clinical SLEDAI-2K 2
    items = {"rash": 1, "low_complement": 1, "increased_dna_binding": 1, "fever": 0}
    assert scores.sledai_2k(items) == 6
    assert scores.sledai_2k_clinical(items) == 2
    # serology alone is clinical SLEDAI 0: remission (DORIS without PGA and steroid dose)
    sero = {"low_complement": 1, "increased_dna_binding": 1, "rash": 0}
    assert scores.sledai_2k_clinical(sero) == 0
    assert list(scores.sle_clinical_remission([0, 0.0, 1, 4])) == [True, True, False, False]


def test_sle_major_and_partial_response_hand_computed():
    # MCR: no BILAG A/B-level descriptor (serology does not count), proteinuria < 0.5 g/24 h,
    # no active sediment, albumin >= 35 g/L
    none = {"rash": 0, "arthritis": 0, "haematuria": 0, "increased_dna_binding": 1, "low_complement": 1}
    assert scores.sle_major_clinical_response(none, 0.4, 38)          # serology and nothing else: major
    assert scores.sle_major_clinical_response(none | {"rash": 1}, 0.4, 38)        # rash is mild (C)
    assert not scores.sle_major_clinical_response(none | {"arthritis": 1}, 0.4, 38)  # arthritis is B
    assert not scores.sle_major_clinical_response(none | {"haematuria": 1}, 0.4, 38)  # active sediment
    assert not scores.sle_major_clinical_response(none, 0.5, 38)      # proteinuria at the cut-off
    assert not scores.sle_major_clinical_response(none, 0.4, 34)      # albumin below normal
    # organ counting: pleurisy and pericarditis are one (cardiorespiratory) organ; vasculitis is A
    assert scores.sle_nonrenal_organs({"pleurisy": 1, "pericarditis": 1, "arthritis": 1}, "B") == 2
    assert scores.sle_nonrenal_organs({"vasculitis": 1, "rash": 1}, "A") == 1
    assert scores.sle_nonrenal_organs({"vasculitis": 1, "rash": 1}, "B") == 0
    # an expected patient's probability counts from 0.5
    assert scores.sle_nonrenal_organs({"arthritis": 0.49}, "B") == 0
    assert scores.sle_nonrenal_organs({"arthritis": 0.5}, "B") == 1
    # PCR with nephritis at baseline (2.5 g/24 h): proteinuria <= 1.25 and < 3, no A, at most one B
    b0 = {"arthritis": 1, "pleurisy": 1}
    got = [scores.sle_partial_clinical_response(it, pr, 2.5, b0)
           for it, pr in [({"arthritis": 1}, 1.2), ({"arthritis": 1}, 1.3), ({"arthritis": 1}, 1.25),
                          ({"arthritis": 1, "pleurisy": 1}, 1.0), ({"vasculitis": 1}, 0.6)]]
    assert got == [True, False, True, False, False]
    # nephrotic baseline 8 g/24 h: a 50 % fall to 4 g/24 h is not below 3 g/24 h
    assert not scores.sle_partial_clinical_response({}, 4.0, 8.0, {})
    assert scores.sle_partial_clinical_response({}, 2.9, 8.0, {})
    # no nephritis at baseline (0.3 g/24 h): fewer moderate-or-severe organs than at baseline
    assert scores.sle_partial_clinical_response({"arthritis": 1}, 0.3, 0.3, b0)
    assert not scores.sle_partial_clinical_response(b0, 0.3, 0.3, b0)


def test_cdai_hand_computed():
    # 2*20 + 5*14 + 7*14 + 20*2 + 30*1 + 10*2 + 6*(47-40) + 1*10 = 350
    assert scores.cdai(20, 14, 14, 2, 1, 2, 40, 47, 10) == pytest.approx(350.0, abs=1e-9)


def test_mayo():
    assert scores.mayo_score(2, 2, 3, 2) == 9
    assert scores.mayo_response(9, 5, 2, 1) and not scores.mayo_response(9, 7, 2, 1)
    assert scores.mayo_response(10, 6, 3, 3) == False  # noqa: E712 - bleeding neither fell nor is 0-1
    assert scores.mayo_remission(2, 1) and not scores.mayo_remission(2, 2)


def test_meld_and_meld_na_hand_computed():
    # 3.78*ln(4) + 11.2*ln(1.5) + 9.57*ln(2) + 6.43
    m = scores.meld(4.0, 1.5, 2.0)
    assert m == pytest.approx(22.844820413803305, abs=1e-9)
    # MELD + 1.32*(137-130) - 0.033*MELD*(137-130)
    assert scores.meld_na(m, 130.0) == pytest.approx(26.80766689821474, abs=1e-9)
    # bounds: values < 1 set to 1 -> MELD 6.43; creatinine capped at 4; score bounded 6-40
    assert scores.meld(0.5, 0.9, 0.4) == pytest.approx(6.43, abs=1e-12)
    assert scores.meld(1.0, 1.0, 9.0) == pytest.approx(9.57 * math.log(4.0) + 6.43, abs=1e-12)
    assert scores.meld(60.0, 8.0, 4.0) == 40.0
    assert scores.meld_na(20.0, 150.0) == 20.0 and scores.meld_na(20.0, 110.0) == scores.meld_na(20.0, 125.0)


def test_child_pugh():
    # bilirubin 2.5 (2), albumin 3.0 (2), INR 1.5 (1), mild ascites (2), no encephalopathy (1) = 8 -> B
    s = scores.child_pugh(2.5, 3.0, 1.5, 1, 0)
    assert s == 8 and scores.child_pugh_class(s) == "B"
    assert scores.child_pugh(1.0, 4.0, 1.0, 0, 0) == 5
    assert scores.child_pugh(4.0, 2.5, 2.5, 2, 2) == 15


@pytest.mark.parametrize("fn,args", [
    (scores.das28_crp, (4.0, 9.0, 16.0, 64.0)), (scores.das28_esr, (16.0, 9.0, 49.0, 50.0)),
    (scores.das28_crp3, (4.0, 9.0, 16.0)), (scores.hba1c_from_mean_glucose, (154.0,)),
    (scores.meld, (4.0, 1.5, 2.0)), (scores.meld, (0.5, 0.9, 9.0)), (scores.child_pugh, (2.5, 3.0, 1.5, 1.0, 0.0)),
    (scores.child_pugh, (3.2, 2.7, 2.4, 2.0, 2.0)),
])
def test_symbolic_form_equals_numeric(fn, args):
    syms = sp.symbols(f"a0:{len(args)}", real=True)
    expr = fn(*syms, xp=scores.SYM)
    val = float(expr.subs(dict(zip(syms, args))))
    assert val == pytest.approx(float(fn(*[np.float64(a) for a in args])), abs=1e-12)


# ------------------------------------------------------------------------------ multiple sclerosis


def test_edss_worsening_rule_kalincik():
    """1.5 from baseline 0, 1.0 from 1.0-5.5, 0.5 above 5.5 (Kalincik 2015)."""
    assert scores.edss_worsening_threshold([0.0, 1.0, 3.0, 5.5, 6.0, 6.5]).tolist() == [1.5, 1.0, 1.0, 1.0, 0.5, 0.5]
    assert scores.edss_worsened(5.5, [6.0, 6.5]).tolist() == [False, True]
    assert scores.edss_worsened(6.0, [6.5]).tolist() == [True]


def test_confirmed_progression_hand_examples():
    t = [0, 90, 180, 270]
    # 5.0 -> 6.0 at day 90, still 6.0 at 180 (>= 84 days later): onset day 90, confirmed
    assert scores.confirmed_progression(t, [5.0, 6.0, 6.0, 5.5]).tolist() == [0, 1, 1, 1]
    # worse at 90, back at 180: not confirmed
    assert scores.confirmed_progression(t[:3], [6.0, 6.5, 6.0]).tolist() == [0, 0, 0]
    # worse only at the last visit: nothing 12 weeks later confirms it
    assert scores.confirmed_progression(t[:3], [6.0, 6.0, 6.5]).tolist() == [0, 0, 0]
    # worse at 30, not at 60, worse at 120: not sustained through the confirmation period
    assert scores.confirmed_progression([0, 30, 60, 120], [4.0, 5.0, 4.5, 5.0]).tolist() == [0, 0, 0, 0]
    # a 6-month confirmation needs a visit >= 168 days after onset
    assert scores.confirmed_progression(t, [5.0, 6.0, 6.0, 6.0], confirm_days=168).tolist() == [0, 1, 1, 1]
    assert scores.confirmed_progression(t, [5.0, 5.0, 6.0, 6.0], confirm_days=168).tolist() == [0, 0, 0, 0]


def test_mri_activity_and_neda3_hand_examples():
    # a Gd+ lesion on the baseline scan is not new activity; one on a later scan is
    assert scores.mri_activity([2, 0, 1], [0, 0, 0]).tolist() == [0, 0, 1]
    assert scores.mri_activity([0, 0, 0], [0, 1, 1]).tolist() == [0, 1, 1]
    # NEDA-3: no relapse, no CDP, no MRI activity
    assert scores.neda3([0, 0, 1, 0], [0, 0, 0, 1], [0, 1, 1, 0]).tolist() == [1, 0, 0, 0]
    # probabilities of independent events: (1 - 0.5)(1 - 0.2)(1 - 0.1) = 0.36
    assert scores.neda3(0.5, 0.2, 0.1) == pytest.approx(0.36)


def test_petrou_treatment_failure_hand_examples():
    """EDSS rise >= 0.5 from baseline at the visit (Petrou 2020 definition 'a', inferred from Table 3)."""
    assert scores.petrou_treatment_failure(5.0, [5.0, 5.5, 4.5, 6.0]).tolist() == [0, 1, 0, 1]
    assert scores.petrou_treatment_failure(6.5, [7.0]).tolist() == [1]
