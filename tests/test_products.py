"""The cell product as a first-class input (issue 17, items 1-2): each attribute changes what
happens, in the direction (and, where the source gives one, the size) its source reports."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mscsim import parameters
from mscsim.cli import main
from mscsim.dosing import Dose, Regimen
from mscsim.errors import MscsimError
from mscsim.products import (OVERRIDABLE, get_product, product_inputs, product_names, resolve_product,
                             tissue_names)
from mscsim.scenario import load_scenario
from mscsim.simulate import simulate

HOUR = 1.0 / 24.0
T = np.array([0.0, 1 / 1440, 2 / 1440, HOUR, 6 * HOUR, 1.0, 2.0, 3.0])


def one(product="msc", dose="1e6 cells/kg", route="iv", **kw):
    return Regimen((Dose.parse(dose, route, product=product, **kw),))


def ra(product="msc", route="iv", **kw):
    """Refractory RA patient (70 kg), one dose, first three days."""
    return simulate(one(product, route=route), 3.0, disease="ra", weight_kg=70.0, times=T, **kw).outputs


def kin(product="msc", route="iv", days=3.0, times=T, **kw):
    return simulate(one(product, route=route), days, injury=("liver", 0.6), weight_kg=70.0, times=times,
                    **kw).outputs


# ------------------------------------------------------------------------------- the table
def test_every_value_has_a_source_and_sourced_directions_hold():
    for n in product_names():
        p = get_product(n)
        assert p.tissue in tissue_names()
        srcs = dict(p.attr_sources)
        assert set(srcs) == set(OVERRIDABLE) and all(s.strip() for s in srcs.values()), n
    bm, uc, ad = get_product("bm-msc"), get_product("uc-msc"), get_product("ad-msc")
    # tissue factor: UC and adipose above marrow (Oeller 2018, Hoang 2024)
    assert uc.tissue_factor > bm.tissue_factor and ad.tissue_factor > bm.tissue_factor
    # adipose MSC the strongest T-cell suppressors (Ribeiro 2013)
    assert ad.potency > bm.potency
    # Ge 2014 PMID 24390934: 3D 12.6, small 17.9, unfractionated 26.5, large 30.4 um
    assert [get_product(n).diameter_um for n in ("msc-3d", "msc-small", "msc", "msc-large")] == [12.6, 17.9, 26.5, 30.4]
    assert not get_product("bm-msc-auto").allogeneic and bm.allogeneic
    assert get_product("msc-ifng").licensed


def test_inline_overrides_and_parser_errors():
    p = resolve_product({"name": "uc-msc", "cryopreserved": True, "viability": 0.8})
    assert p.cryopreserved and p.viability == 0.8 and p.tissue_factor == get_product("uc-msc").tissue_factor
    assert p.label == "uc-msc (viability=0.8, cryopreserved=True)" and p.source_of("viability") == "[scenario override]"
    # a new tissue brings its tissue factor and potency unless given
    q = resolve_product({"name": "msc", "tissue": "adipose"})
    assert (q.tissue_factor, q.potency) == (get_product("ad-msc").tissue_factor, get_product("ad-msc").potency)
    for bad, field in [({"name": "uc-msc", "viability": 0.0}, "product.viability"),
                       ({"name": "uc-msc", "cryopreserved": "yes"}, "product.cryopreserved"),
                       ({"name": "uc-msc", "colour": 1}, "product.colour"),
                       ({"name": "nope"}, "product.name"),
                       ({"cryopreserved": True}, "product"),
                       ({"name": "msc", "tissue": "liver"}, "product.tissue"),
                       ({"name": "msc", "diameter_um": -1}, "product.diameter_um")]:
        with pytest.raises(MscsimError) as exc:
            resolve_product(bad)
        assert exc.value.field == field and "\n" not in str(exc.value)


def test_product_inputs_reach_the_model_inputs():
    p = resolve_product({"name": "uc-msc", "cryopreserved": True, "licensed": True})
    assert product_inputs(p) == {"d_cell": 26.5, "cxcr4": 1.0, "potency": 1.0, "tf_ibmir": p.tissue_factor,
                                 "thawed": 1.0, "allogeneic": 1.0, "primed": 1.0}
    assert product_inputs(get_product("bm-msc-auto"))["allogeneic"] == 0.0


def test_scenario_product_inline_and_mixing_rules():
    base = {"name": "x", "disease": "ra", "endpoints": [{"name": "das28_esr", "at": "12 wk"}],
            "arms": [{"name": "a", "n": 2, "regimen": [
                {"dose": "1e6 cells/kg", "product": {"name": "bm-msc", "viability": 0.5}},
                {"dose": "1e6 cells/kg", "at": "7 d", "product": "msc"}]}]}
    reg = load_scenario(base).arms[0].to_regimen()
    assert reg.product == "bm-msc (viability=0.5) + msc"
    assert [a.cells for a in reg.administrations(70.0)] == [0.5 * 7e7, 7e7]   # live cells only
    from mscsim.eventtable import regimen_to_rows

    with pytest.raises(MscsimError, match="inline attributes"):     # event tables carry names only
        regimen_to_rows(reg, weight_kg=70.0)
    base["arms"][0]["regimen"][1]["product"] = "uc-msc"     # another tissue factor: one simulation cannot hold both
    with pytest.raises(Exception) as exc:
        load_scenario(base)
    assert "differ in tissue_factor" in str(exc.value) and "arms.a.regimen" in str(exc.value)


# ------------------------------------------------------------------------------- per attribute
def test_fresh_unprimed_product_leaves_the_product_states_at_zero():
    o = kin("bm-msc")
    assert np.all(o["thaw_impairment"] == 0.0) and np.all(o["primed_share"] == 0.0)


def test_thawed_cells_suppress_less_and_recover_within_a_day():
    """Francois 2012 PMID 22029655: thawed MSC are IFN-gamma refractory and suppress T cells poorly;
    fully restored after 24 h. Moll 2014: about 2-fold more complement lysis in blood."""
    fresh = ra("bm-msc")
    thawed = ra({"name": "bm-msc", "cryopreserved": True})
    loss = parameters.value("thaw_potency_loss")
    i1h = int(np.argmin(np.abs(T - HOUR)))
    i24 = int(np.argmin(np.abs(T - 1.0)))
    imp = thawed["thaw_impairment"].to_numpy()
    assert imp[2] == pytest.approx(loss, rel=0.05)                # arrives impaired by the loss (2 min)
    assert imp[i24] <= 0.05 * imp[2]                               # restored (>= 95 %) by 24 h
    s_f, s_t = fresh["msc_suppression_systemic"].to_numpy(), thawed["msc_suppression_systemic"].to_numpy()
    assert s_t[i1h] < 0.8 * s_f[i1h]
    assert thawed["ibmir_susceptibility"].iloc[1] == pytest.approx(2 * fresh["ibmir_susceptibility"].iloc[1])
    assert thawed["ibmir_lysis"].iloc[2] > fresh["ibmir_lysis"].iloc[2]
    # lysed cells do not educate phagocytes: less tolerogenic memory from the thawed dose
    assert thawed["msc_memory"].iloc[-1] < fresh["msc_memory"].iloc[-1]


def test_cord_vs_marrow_tissue_factor_acts_in_blood_only():
    """UC-MSC carry more tissue factor (Oeller 2018, Hoang 2024): more IBMIR lysis of an
    intravascular dose and less tolerogenic hand-off; an intrathecal dose does not meet blood
    (Hoang 2024: D-dimer rose after IV, not after intrathecal UC-MSC)."""
    t = np.linspace(0.0, 10.0, 201)

    def handoff(product, route):
        o = kin(product, route=route, days=10.0, times=t)
        return o["ibmir_lysis"].max(), np.trapezoid(o["msc_death_flux"], t)

    lys_bm, ho_bm = handoff("bm-msc", "iv")
    lys_uc, ho_uc = handoff("uc-msc", "iv")
    assert lys_uc > 1.3 * lys_bm and ho_uc < ho_bm
    it_bm, _ = handoff("bm-msc", "intrathecal")
    it_uc, _ = handoff("uc-msc", "intrathecal")
    # intrathecal cells reach blood only slowly through CSF drainage: the lysis share and the
    # cord-marrow gap stay at most a seventh of the IV ones
    assert it_uc - it_bm < 0.15 * (lys_uc - lys_bm) and it_uc < 0.15 * lys_uc


def test_adipose_potency_raises_direct_suppression():
    """Ribeiro 2013 PMID 24406104: AT-MSC suppress T-cell activation more than BM-MSC."""
    bm, ad = ra("bm-msc"), ra("ad-msc")
    i = int(np.argmin(np.abs(T - 6 * HOUR)))
    assert ad["msc_suppression_systemic"].iloc[i] > bm["msc_suppression_systemic"].iloc[i]


def test_potency_reaches_the_tolerogenic_memory():
    """Monocytes that efferocytose functional MSCs turn suppressive, those that engulf inactivated
    ones do not (Schrodt 2023, DOI 10.1186/s13287-023-03443-z): the memory built from the same
    dying cells scales with their potency (same product otherwise, so the same death flux)."""
    t = np.linspace(0.0, 10.0, 41)
    o1 = simulate(one({"name": "bm-msc", "potency": 1.0}), 10.0, disease="ra", weight_kg=70.0, times=t).outputs
    o2 = simulate(one({"name": "bm-msc", "potency": 2.0}), 10.0, disease="ra", weight_kg=70.0, times=t).outputs
    assert np.allclose(o1["msc_death_flux"], o2["msc_death_flux"], rtol=1e-4)   # the immune state barely feeds back on it
    p1 = o1["msc_memory"].iloc[-1] / (1 - o1["msc_memory"].iloc[-1])   # E/(1-E) = P_mem / P50
    p2 = o2["msc_memory"].iloc[-1] / (1 - o2["msc_memory"].iloc[-1])
    assert p2 == pytest.approx(2 * p1, rel=1e-3)


def test_allogeneic_vs_autologous_in_a_sensitised_patient():
    """Anti-donor antibodies follow allogeneic, not autologous, cells (Sanabria-de la Torre 2021)."""
    t = np.array([0.0, 0.5, 28.0, 28.5, 29.0])

    def run(product):
        reg = Regimen((Dose.parse("1e6 cells/kg", product=product, every="28 d", times=2),))
        return simulate(reg, 30.0, weight_kg=70.0, times=t, params={"allo_sensitised": 1.0}).outputs

    allo, auto = run("bm-msc"), run("bm-msc-auto")
    assert auto["clearance_boost"].max() == pytest.approx(1.0) and allo["clearance_boost"].iloc[2] > 1.5
    assert allo["msc_viable"].iloc[4] < 0.7 * auto["msc_viable"].iloc[4]


def test_viability_gives_only_the_live_cells():
    full = kin("bm-msc")
    half = kin({"name": "bm-msc", "viability": 0.5})
    assert half["msc_viable"].iloc[-1] < full["msc_viable"].iloc[-1]
    sim = simulate(one({"name": "bm-msc", "viability": 0.5}), 1.0, weight_kg=70.0)
    assert sim.states["X_dosed"].iloc[-1] == pytest.approx(0.5 * 7e7, rel=1e-6)


def test_primed_cells_arrive_licensed_and_suppress_more():
    plain, primed = ra("bm-msc"), ra("msc-ifng")
    assert primed["primed_share"].iloc[2] > 0.9
    i = int(np.argmin(np.abs(T - HOUR)))
    assert primed["msc_licensed_s"].iloc[i] > plain["msc_licensed_s"].iloc[i]
    assert primed["msc_suppression_systemic"].iloc[i] > plain["msc_suppression_systemic"].iloc[i]


def test_ifn_gamma_given_with_the_cells_licenses_them_on_arrival():
    """Systemic IFN-gamma with the infusion (a regimen item, ``with: [ifn_gamma]``) licenses the
    cells as priming does (Krampera 2006 PMID 16282444); an unknown co-medication is one error line."""
    base = {"name": "co", "disease": "ra", "endpoints": [{"name": "das28_esr", "at": "30 d"}]}
    sc = load_scenario(dict(base, arms=[{"name": "a", "n": 2, "regimen": [
        {"dose": "1e6 cells/kg", "product": "bm-msc", "with": ["ifn_gamma"]}]}]))
    spec = sc.arms[0].to_regimen().doses[0].product_spec
    assert spec.licensed and product_inputs(spec)["primed"] == 1.0
    assert not resolve_product("bm-msc").licensed
    with pytest.raises((MscsimError, ValueError), match="unknown co-medication 'aspirin'"):
        load_scenario(dict(base, arms=[{"name": "a", "n": 2, "regimen": [
            {"dose": "1e6 cells/kg", "with": ["aspirin"]}]}]))


# ------------------------------------------------------------------------------- CLI
def test_products_command_lists_the_table(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["products"]) == 0
    out = capsys.readouterr().out
    assert all(n in out for n in product_names())
    assert main(["products", "uc-msc", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["name"] == "uc-msc" and "Hoang 2024" in rows[0]["sources"]["tissue_factor"]
    assert main(["products", "uc-mcs"]) != 0
    err = capsys.readouterr().err
    assert "did you mean 'uc-msc'" in err and len(err.strip().splitlines()) == 1
