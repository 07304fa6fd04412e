"""Rheumatoid arthritis module (issue 3) and the immune network's response, on RA."""

import numpy as np
import pytest

from mscsim.diseases import ra
from mscsim.diseases.base import endpoint_frame
from mscsim.dosing import Dose, Regimen
from mscsim.simulate import simulate

T = np.array([0.0, 7, 30, 90, 180, 365])


def run(dose=None, route="iv", **kw):
    reg = Regimen((Dose.parse(dose, route, **kw),)) if dose else None
    s = simulate(reg, 365, disease="ra", times=T)
    return s, endpoint_frame(ra, s.outputs)


@pytest.fixture(scope="module")
def untreated():
    return run()


def test_untreated_refractory_ra_keeps_its_disease(untreated):
    s, ef = untreated
    # RADIATE placebo arm baseline DAS28 6.80 (SD 1.06) (Emery 2008, PMID 18625622)
    assert 6.8 - 1.06 <= ef["das28_esr"].iloc[0] <= 6.8 + 1.06
    assert np.ptp(ef["das28_esr"]) < 0.01 and np.ptp(ef["crp"]) < 0.01
    assert s.outputs["erosion"].iloc[-1] > s.outputs["erosion"].iloc[0]   # damage keeps accruing
    # active RA: Th17 up and Treg down vs healthy reference (PMC7397677; Morita 2016)
    assert ef["th17_pct"].iloc[0] > 1.2 and ef["treg_pct"].iloc[0] < 5.0
    assert ef["il6"].iloc[0] == pytest.approx(13.3, rel=0.05)          # PMID 19077953
    assert not ef["acr20"].any()


def test_msc_move_ra_the_way_trials_report(untreated):
    _, base = untreated
    _, ef = run("1e6 cells/kg")
    d30, d90, d365 = 2, 3, 5
    assert ef["das28_esr"].iloc[d30] < base["das28_esr"].iloc[d30] - 0.5
    assert ef["crp"].iloc[d30] < base["crp"].iloc[d30]
    assert ef["treg_pct"].iloc[d30] > base["treg_pct"].iloc[d30]          # Ghoryani 2019: Treg up at month 1
    assert ef["th17_pct"].iloc[d90] < base["th17_pct"].iloc[d90]          # Th17 down
    # (ACR20 of the typical patient is not asserted: the calibrated effect gives 27-33 % ACR20 in the
    # virtual Alvaro-Gracia trial, so the typical patient sits near the threshold; see mscsim validate)
    # effect maintained for months, then wanes (Wang L 2013: 3-6 months)
    gain = lambda i: base["das28_esr"].iloc[i] - ef["das28_esr"].iloc[i]  # noqa: E731
    assert gain(d90) > 0.5 * gain(d30) and gain(d365) < 0.5 * gain(d90)


def test_immune_network_direction_and_dose_response(untreated):
    _, base = untreated
    effects = []
    for dose in ("3e5 cells/kg", "1e6 cells/kg", "3e6 cells/kg"):
        _, ef = run(dose)
        i = 2  # day 30
        for down in ("tnf", "ifng", "il17", "th17_pct", "il6"):
            assert ef[down].iloc[i] < base[down].iloc[i], (dose, down)
        for up in ("il10", "il4", "treg_pct", "tgfb"):
            assert ef[up].iloc[i] > base[up].iloc[i], (dose, up)
        effects.append(base["tnf"].iloc[i] - ef["tnf"].iloc[i])
    assert effects[0] < effects[1] < effects[2]


def test_no_dose_no_change(untreated):
    s, ef = untreated
    for c in ("tnf", "ifng", "il17", "il10", "il4", "th17_pct", "treg_pct"):
        assert np.ptp(ef[c]) < 1e-6 * max(1.0, abs(ef[c].iloc[0]))
    assert s.outputs["msc_memory"].max() == 0.0


def test_headline_regimens_typical_patient(untreated):
    """RA_WangL2019 (4e7 UC-MSC IV) and RA_Ghoryani2019 (1e6/kg): directions at their time points."""
    _, base = untreated
    _, wang = run("4e7 cells", product="uc-msc")
    assert wang["das28_esr"].iloc[3] < base["das28_esr"].iloc[3]     # lower at 3 months
    _, gh = run("1e6 cells/kg", product="bm-msc")
    assert gh["treg_pct"].iloc[2] > base["treg_pct"].iloc[2]


def test_local_joint_injection_acts_locally():
    s, ef = run("1.2e8 cells", "local", site="joint")
    assert s.outputs["msc_suppression_tissue"].iloc[2] > 0.5
