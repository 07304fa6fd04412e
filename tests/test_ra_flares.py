"""RA flares as visit-level events (issue 15): their size is the OMERACT DAS28 flare criterion and
their frequency the observed share of visits in flare."""

import numpy as np

import mscsim
from mscsim import parameters, scores
from mscsim.diseases import ra
from mscsim.dosing import Regimen


def test_flare_raises_typical_das28_by_the_omeract_criterion():
    # van der Maas 2013 (DOI 10.1136/annrheumdis-2012-202281): a flare is a DAS28 rise > 1.2
    o = mscsim.simulate(Regimen(()), days=1, disease="ra").outputs.iloc[0]
    f = 1 + parameters.value("a_flare_ra")
    before = scores.das28_esr(o.tjc28, o.sjc28, o.esr, o.ptga)
    during = scores.das28_esr(min(o.tjc28 * f, 28), min(o.sjc28 * f, 28), o.esr * f, min(o.ptga * f, 100))
    assert abs((during - before) - 1.2) < 0.1


def test_share_of_visits_in_flare_is_the_observed_share():
    # Raheel 2017 (PMID 28968703): 17 % of visits in flare
    fl = ra.flare_factor(np.random.default_rng(1), 20000)
    share = float(np.mean(fl > 1))
    p = parameters.value("p_flare_ra")
    assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / 20000)


def test_no_flare_in_the_expected_trajectory():
    assert np.all(ra.flare_factor(None, 5) == 1.0)
