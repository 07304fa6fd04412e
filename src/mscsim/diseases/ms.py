"""Multiple sclerosis: CNS lesion activity, demyelination/remyelination, axon loss; EDSS,
relapses, gadolinium-enhancing lesions, treatment failure.

Structure (disease-models.md s.4.3, Kotelnikova-type; equations of Kotelnikova 2017 were not
retrieved, so the forms are design choices):

- ``les``: CNS lesion activity (enhancing-lesion load; 1 = the typical patient of the subtype).
  It follows the CNS effector cytokines of the immune network (tissue IFN-gamma, IL-17,
  TNF-alpha) and the blood effectors that enter the CNS, with the ~3-week time scale of
  gadolinium enhancement. Lesions make SDF-1 (CXCL12), which feeds homing to the CNS.
- ``axon_loss`` / ``demyelinated``: fractions of the clinically eloquent axon pool (lost axons start
  from the patient parameter lost0; the demyelinated pool is at rest at baseline); myelinated
  axons are the rest (1 - lost - demyelinated). Inflammation demyelinates (k_demyel les) and
  transects axons (delta_les les); demyelinated axons remyelinate (rho) or degenerate faster
  than myelinated ones (f_dm_degen); myelinated axons also degenerate slowly without
  inflammation (delta_my: the progressive, MSC-resistant part).
- MSCs act (1) through the shared immune network: licensed MSCs in the CNS suppress effector
  activation there, lung-trapped MSCs act systemically for a day or two through their
  secretome, and efferocytosed MSCs leave a tolerogenic memory for months (both routes);
  (2) at the CNS border (CSF, meninges, perivascular cuffs), where effectors enter and are
  re-activated to form new lesions: the shared Emax on the licensed MSC:T-cell ratio, with the
  few border T cells (CSF ~7.5e5 cells) instead of the whole-CNS T-cell pool, cuts the lesion
  drive (``msc_suppression_border``); (3) neurotrophically: viable MSCs per gram of CNS
  (``msc_local_density``) raise remyelination (HGF, Bai 2012). (2) and (3) count the viable MSCs
  of the CNS target, which after intrathecal dosing are mostly the meningeal ``A_men``.
  Intrathecal dosing beats IV because it puts the cells on the CNS (CSF -> meninges) where IV
  cells stop in the lung (< 1 % of an IV dose reaches the CNS). Nothing here depends on the
  route: cut the meningeal attachment (``k_csf_attach`` = 0) and the intrathecal edge is gone.
- EDSS = 10 (1 - exp(-u)), u = w_lost lost + w_dm demyelinated + w_les les: monotone,
  saturating at 10; a reversible part (inflammation, demyelination) and an irreversible one
  (axon loss).
- Relapses: hazard ARR les^n (cumulative hazard state ``H_relapse``), P(>= 1 relapse by t) =
  1 - exp(-H).
- MRI at the scans (every visit of a scenario is a visit with a scan: the observation times are the
  scenario's endpoint times plus baseline). Gd-enhancing lesions on a scan are a snapshot: lesions
  enhance ~3 weeks (tau_gd), so the count is Poisson with mean = new enhancing lesions per day x tau =
  gd les(t). New or enlarging T2 lesions between consecutive scans are Poisson with mean = the
  expected new T2 lesions over the interval (state ``H_lesion``, rate t2 les). Both rates are per
  subtype and sourced from placebo arms (progressive: ORATORIO, INFORMS; relapsing: FREEDOMS); they
  are separate because in progressive MS many enhancing events leave no new T2 lesion on yearly
  scans (INFORMS: 13 % Gd+ at baseline but 0.5 new/enlarging T2 lesions a year). A patient's MRI
  activity is overdispersed: one gamma frailty (shape k_nb_ms) per patient multiplies both means, so
  counts are negative binomial across patients and correlated across his scans.

Read-outs (``responders``; definitions with their sources in ``mscsim.scores``):
- EDSS worsening at a visit: rise >= 1.5 / 1.0 / 0.5 from baseline 0 / 1.0-5.5 / > 5.5 (Kalincik
  2015), unconfirmed; CDP: the same rise confirmed at a visit >= 12 weeks later, sustained in between.
- Treatment failure = Petrou 2020's primary end point (a): EDSS rise >= 0.5 from baseline at the
  visit (the footnote was not retrieved; inferred from Table 3, see scores.petrou_treatment_failure).
- NEDA-3 (Giovannoni 2015): no relapse, no CDP, no new MRI activity (Gd+ on a scan after baseline or
  new/enlarging T2) since baseline.
EDSS is observed with inter-rater noise (sd_edss_ms, Noseworthy 1990) and rounded to 0.5 steps.
No placebo state: Petrou's sham arm worsened and EDSS, relapses and MRI are rater-blinded.

Standard of care (``BACKGROUND``): disease-modifying drugs started at day 0 (interferon-beta,
glatiramer acetate, natalizumab) scale the lesion drive by ``rr^(1/n_relapse_ms)`` with an onset
of weeks (state ``dmd_ms``), so at steady state the relapse hazard ``arr les^n`` falls by the
relapse-rate ratio ``rr`` of the drug's pivotal trial (lesions, MRI and EDSS follow). The shipped
progressive-MS trials did not start one, and the subtype defaults change nothing.
"""

from __future__ import annotations

import numpy as np

from mscsim import scores
from mscsim.diseases.base import Background, Endpoint
from mscsim.immune import ratio_to_healthy
from mscsim.kinetics import KineticsHandles
from mscsim.kinetics.common import P
from mscsim.numerics import sympy as sp

NAME = "ms"
TARGET = "cns"
SUBTYPES = ("progressive", "relapsing")
DEFAULT_SUBTYPE = "progressive"
#: suffix of the subtype-specific parameters
_SUB = {"progressive": "prog", "relapsing": "rel"}
ENDPOINTS = {e.name: e for e in [
    Endpoint("edss", "mean", "score", "Expanded Disability Status Scale (0-10)"),
    Endpoint("edss_change", "mean", "score", "EDSS change from baseline"),
    Endpoint("relapse", "proportion", "0/1", "at least one relapse by t"),
    Endpoint("gd_lesions", "mean", "lesions", "gadolinium-enhancing lesions on the scan at t"),
    Endpoint("new_t2_lesions", "mean", "lesions", "new or enlarging T2 lesions between the baseline scan and t"),
    Endpoint("treatment_failure", "proportion", "0/1",
             "Petrou 2020 treatment failure (a): EDSS rise >= 0.5 from baseline at t "
             "(scores.petrou_treatment_failure; footnote not retrieved, inferred from Table 3)"),
    Endpoint("relapses", "mean", "relapses", "number of relapses by t"),
    Endpoint("mri_activity", "proportion", "0/1",
             "new MRI activity by t: Gd+ lesion on a scan after baseline or new/enlarging T2 lesion"),
    Endpoint("edss_worsening", "proportion", "0/1",
             "EDSS rise >= 1.5 / 1.0 / 0.5 from baseline 0 / 1.0-5.5 / > 5.5 at t (not confirmed)"),
    Endpoint("cdp", "proportion", "0/1",
             "12-week confirmed disability progression with onset by t (Kalincik 2015)"),
    Endpoint("neda", "proportion", "0/1", "NEDA-3 by t: no relapse, no CDP, no new MRI activity (Giovannoni 2015)"),
]}

#: read-outs drawn side by side (untreated vs treated) by `mscsim simulate --disease ms`
KEY_OUTPUTS = [("edss", "EDSS"), ("les", "CNS lesion activity (1 = typical)"),
               ("relapse_prob", "P(>= 1 relapse)"), ("gd_lesions", "Gd+ lesions on a scan (expected)"),
               ("demyelinated", "demyelinated axons (fraction)"), ("axon_loss", "lost axons (fraction)"),
               ("remyelination_boost", "remyelination boost by MSCs (fold - 1)"),
               ("msc_local_density", "viable MSCs per g CNS")]
SUMMARY_ENDPOINTS = ["edss", "edss_change", "relapse", "gd_lesions", "treatment_failure"]
#: tools/calibrate_baselines.py (default subtype, progressive)
BASELINE_TARGETS = (
    {"D_ms_s": (0.0, 10.0), "S_ref_ms": (0.1, 100.0), "lost0_prog_ms": (0.0, 0.9),
     "delta_my_prog_ms": (0.0, 0.001)},
    {"th17_pct": (3.09, 0.05), "les": (1.0, 0.01), "edss": (5.6, 0.01), "edss_rate": (0.5, 0.01)},
    "blood Th17 1.2 % healthy + 1.89 points in MS (doi:10.3760/cma.j.issn.1007-7480.2018.12.008); lesion "
    "activity 1 defines the typical patient; EDSS 5.6 (Petrou 2020 baseline, PMID 33253391); worsening "
    "0.5 EDSS/year (PPMS 0.35/year PMC3961431; Petrou sham +0.30 in 6 months)",
)

#: EDSS worsening by baseline EDSS, (baseline up to, rise): scores.EDSS_WORSENING_RULE (Kalincik 2015)
WORSENING_THRESHOLDS = scores.EDSS_WORSENING_RULE


#: disease-modifying drugs a scenario arm may start at day 0 (``background: [...]``): name ->
#: (model input, relapse-rate-ratio parameter, description, source)
_DMD = {
    "interferon_beta": ("ifnb_start_ms", "rr_ifnb_ms", "interferon-beta (1a or 1b) started at day 0",
                        "IFNB MSSG 1993 (PMID 8469318), PRISMS 1998 (PMID 9820297): relapse rate -30 %"),
    "glatiramer": ("ga_start_ms", "rr_ga_ms", "glatiramer acetate 20 mg/day started at day 0",
                   "Johnson 1995 Neurology 45:1268 (PMID 7617181): relapse rate -29 %"),
    "natalizumab": ("ntz_start_ms", "rr_ntz_ms", "natalizumab 300 mg every 4 weeks started at day 0",
                    "AFFIRM, Polman 2006 N Engl J Med 354:899 (PMID 16510744): relapse rate -68 %"),
}
#: standard of care a scenario arm may list; see docs/disease-modules.md
BACKGROUND = {b.name: b for b in [
    Background("no_dmd", "no disease-modifying drug during the trial (as in the shipped progressive-MS "
               "trials); the calibrated drive is that of such patients", {},
               "Petrou 2020 (PMID 33253391) and Harris 2018 (PMID 29449193) populations; lesion drive "
               "calibrated on the Petrou sham arm"),
    *[Background(name, f"{desc}: relapse rate x {rr} at full effect (lesion drive x {rr}^(1/n_relapse_ms)), "
                 f"onset k_dmd_ms", {inp: 1.0}, src) for name, (inp, rr, desc, src) in _DMD.items()],
]}
#: the background an arm gets when it lists none, per subtype
DEFAULT_BACKGROUND = {"progressive": ("no_dmd",), "relapsing": ("no_dmd",)}

#: free parameters fitted by `mscsim calibrate --disease ms` (records: role calibration in the scenarios)
CALIBRATION_PARAMETERS = ['a_remyel_msc_ms']  # delta_my_prog_ms is a natural-history (baseline) parameter


def compose(m, body, layers, *, species, subtype) -> KineticsHandles:
    sfx = _SUB[subtype]
    names = ("D_ms_t", "D_ms_s", "w_les_ifng_ms", "w_les_il17_ms", "w_les_tnf_ms", "w_les_sys_ms", "S_ref_ms",
             "k_les_ms", "K_les_sdf1_ms", "k_demyel_ms", "f_dm_degen_ms", "delta_les_ms", "a_remyel_msc_ms",
             "D50_remyel_msc_ms", "w_edss_lost_ms", "w_edss_dm_ms", "w_edss_les_ms", "n_relapse_ms",
             "tau_gd_ms", "n_T_border_ms")
    p = {n: P(m, n, species) for n in names}
    for base in ("rho_remyel", "delta_my", "lost0", "arr", "gd", "t2"):
        p[base] = P(m, f"{base}_{sfx}_ms", species)
    les = m.state("les", unit="1", group="disease", init=1.0, atol=1e-8, init_mode="steady",
                  desc="CNS inflammatory lesion activity (enhancing-lesion load; 1 = typical patient)")
    lost = m.state("axon_loss", unit="fraction of axons", group="disease", init=0.4, atol=1e-9,
                   init_mode=f"param:lost0_{sfx}_ms", desc="lost fraction of the eloquent axon pool (irreversible)")
    dm = m.state("demyelinated", unit="fraction of axons", group="disease", init=0.1, atol=1e-9,
                 init_mode="steady", desc="intact demyelinated fraction of the axon pool (at rest at baseline)")
    h_rel = m.state("H_relapse", unit="relapses", group="disease", init=0.0, atol=1e-9,
                    desc="expected number of relapses since time 0 (cumulative relapse hazard)")
    h_les = m.state("H_lesion", unit="lesions", group="disease", init=0.0, atol=1e-9,
                    desc="expected number of new or enlarging T2 lesions since time 0")

    sdf1 = m.rule("sdf1_target", les / (les + p["K_les_sdf1_ms"]), unit="1",
                  desc="CNS SDF-1 (CXCL12) signal from active lesions, 0..1",
                  source="CXCL12 up in active lesions, CSF CXCL12 rose after IT MSC-NP (Harris 2021) [design form]",
                  output=True)
    kin = layers.kinetics(sdf1)
    imm = layers.immune(kin, drive_s=p["D_ms_s"], drive_t=p["D_ms_t"], species=species)

    # --- lesion activity ---
    sys_eff = (imm.cells["s", "Th1"] + imm.cells["s", "Th17"]) / 2 - 1
    excess = (p["w_les_ifng_ms"] * (ratio_to_healthy(imm, "t", "ifng") - 1)
              + p["w_les_il17_ms"] * (ratio_to_healthy(imm, "t", "il17") - 1)
              + p["w_les_tnf_ms"] * (ratio_to_healthy(imm, "t", "tnf") - 1)
              + p["w_les_sys_ms"] * sys_eff)
    # MSCs at the CNS border (meninges, CSF, perivascular spaces: where effectors enter and are
    # re-activated to form new lesions) suppress them with the shared Emax on the licensed MSC:T ratio
    T_border = m.rule("t_cells_cns_border", p["n_T_border_ms"] * m.symbol("cd4_index_t"), unit="cells",
                      desc="CD4 T cells at the CNS border (CSF, meninges, perivascular cuffs)",
                      source="CSF >= 5 cells/uL x 150 mL, 94 % T cells (parameter-sources.md s.4) [design scale]",
                      output=True)
    r_b = m.rule("msc_t_ratio_border", m.symbol("msc_potency_effective") * m.symbol("msc_licensed_t") * kin.cells_target / T_border,
                 unit="MSC per T cell", desc="licensed MSC : T-cell ratio at the CNS border",
                 source="Emax on MSC:T ratio (disease-models.md s.1.4c)", output=True)
    r_b = r_b + 1e-12  # finite Jacobian of r^n at r = 0
    n_msc, r50, imax = (m.symbol(n) for n in ("n_msc", "r50_msc", "Imax_msc"))
    gate = m.rule("msc_suppression_border", imax * r_b**n_msc / (r50**n_msc + r_b**n_msc), unit="1",
                  desc="suppression of lesion formation by MSCs at the CNS border (0..1)",
                  source="Di Nicola 2002 PMID 11986244 (Imax); doi:10.1186/s13287-023-03589-w (r50); "
                         "IT MSCs outnumber CSF leukocytes ~100-fold (parameter-sources.md s.4)", output=True)
    # disease-modifying drugs started at day 0 (BACKGROUND): relapse-rate ratio rr at full effect
    rr_all = 1
    for inp, rr, _desc, _src in _DMD.values():
        on = m.param(inp, 0.0, unit="1", kind="input", desc=f"1 when {_desc.split(' started')[0]} starts at day 0",
                     source="set by the trial from the arm's background")
        rr_all = rr_all * P(m, rr, species) ** on
    dmd = m.state("dmd_ms", unit="fraction", group="disease", init=0.0, atol=1e-9,
                  desc="disease-modifying-drug effect built up since its start (0..1)")
    m.rate(dmd, P(m, "k_dmd_ms", species) * (sp.Min(sum(m.symbol(v[0]) for v in _DMD.values()), 1) - dmd),
           desc="the disease-modifying drug's effect builds up over weeks", source="onset k_dmd_ms [design]")
    dmd_cut = m.rule("dmd_lesion_factor", 1 - dmd * (1 - rr_all ** (1 / p["n_relapse_ms"])), unit="1",
                     desc="factor on the lesion drive from disease-modifying drugs (relapse hazard x rr at steady "
                          "state, since it goes as les^n_relapse_ms)",
                     source="relapse-rate ratios of the pivotal trials (ms.yaml rr_*_ms) [form: design]", output=True)
    m.rate(les, p["k_les_ms"] * (dmd_cut * (1 - gate) * sp.Max(excess, 0) / p["S_ref_ms"] - les),
           desc="lesion activity follows CNS IFN-gamma, IL-17, TNF-alpha and blood effectors entering the CNS, "
                "less what MSCs at the CNS border suppress",
           source="disease-models.md s.4.3 [design]; rate from the ~3-week enhancement of new lesions (Cotton 2003)")

    # --- myelin and axons ---
    my = m.rule("myelinated", 1 - lost - dm, unit="fraction of axons",
                desc="intact myelinated fraction of the axon pool", source="conservation of the axon pool",
                output=True)
    trophic = m.rule("remyelination_boost",
                     p["a_remyel_msc_ms"] * imm.local_msc_density / (imm.local_msc_density + p["D50_remyel_msc_ms"]),
                     unit="1", desc="fold increase - 1 of remyelination by viable MSCs in/on the CNS",
                     source="MSC HGF drives remyelination (Bai 2012 Nat Neurosci [recalled]); CSF HGF up after IT "
                            "MSC-NP (Harris 2021) [form: design]", output=True)
    demyel = m.rule("demyelination_rate", p["k_demyel_ms"] * les * my, unit="1/day",
                    desc="myelinated axons demyelinated per day", source="Kotelnikova 2017 structure [design]")
    remyel = m.rule("remyelination_rate", p["rho_remyel"] * (1 + trophic) * dm, unit="1/day",
                    desc="demyelinated axons remyelinated per day", source="Kotelnikova 2017 structure [design]")
    loss_my = m.rule("axon_loss_myelinated", (p["delta_my"] + p["delta_les_ms"] * les) * my, unit="1/day",
                     desc="myelinated axons lost per day (degeneration + inflammatory transection)",
                     source="Kotelnikova 2017 (myelinated-axon degeneration); Trapp 1998 (transection) [design]")
    loss_dm = m.rule("axon_loss_demyelinated",
                     (p["f_dm_degen_ms"] * p["delta_my"] + p["delta_les_ms"] * les) * dm, unit="1/day",
                     desc="demyelinated axons lost per day", source="Kotelnikova 2017 (faster loss when demyelinated)")
    m.rate(lost, loss_my + loss_dm, desc="axons lost from the myelinated and demyelinated pools",
           source="disease-models.md s.4.3 (Kotelnikova-type)")
    m.rate(dm, demyel - remyel - loss_dm, desc="demyelinated axons: demyelination in, remyelination and loss out",
           source="disease-models.md s.4.3")

    # --- relapses and MRI ---
    les_pos = sp.Max(les, 1e-12)
    m.rate(h_rel, p["arr"] / 365 * les_pos ** p["n_relapse_ms"], desc="relapse hazard rises with lesion activity",
           source="ARR: Petrou 2020 sham (progressive) / Velez de Mendizabal 2011 (relapsing); form [design]")
    m.rate(h_les, p["t2"] / 365 * les, desc="new or enlarging T2 lesions per day, proportional to lesion activity",
           source="FREEDOMS placebo (relapsing) / INFORMS placebo (progressive) new/enlarging T2 rates at les 1; "
                  "form [design]")
    m.rule("relapses_expected", h_rel, unit="relapses", desc="expected relapses since time 0", source="state",
           output=True)
    m.rule("relapse_prob", 1 - sp.exp(-h_rel), unit="1", desc="probability of >= 1 relapse since time 0 (Poisson)",
           source="survival with the relapse hazard", output=True)
    m.rule("new_enhancing_rate", p["gd"] / p["tau_gd_ms"] * les, unit="lesions/day",
           desc="new gadolinium-enhancing lesions per day (expected Gd+ count on a scan / enhancement time)",
           source="Cotton 2003 (~3-week enhancement) [design]", output=True)
    m.rule("gd_lesions", p["gd"] * les, unit="lesions",
           desc="expected gadolinium-enhancing lesions on a scan (new enhancing lesions per day x enhancement time)",
           source="snapshot of the lesions of the last ~3 weeks (Cotton 2003 [recalled]); les follows its drive "
                  "with the same 3-week time constant [design]", output=True)
    m.rule("new_t2_expected", h_les, unit="lesions", desc="expected new or enlarging T2 lesions since time 0",
           source="state", output=True)

    # --- EDSS ---
    u = p["w_edss_lost_ms"] * lost + p["w_edss_dm_ms"] * dm + p["w_edss_les_ms"] * les
    m.rule("disability_index", u, unit="1", desc="disability index u (EDSS = 10 (1 - exp(-u)))",
           source="[design]", output=True)
    m.rule("edss", 10 * (1 - sp.exp(-u)), unit="score", desc="expected EDSS (continuous)",
           source="[design] monotone, saturating at 10 (Kurtzke 1983 scale 0-10)", output=True)
    du = (p["w_edss_lost_ms"] * (loss_my + loss_dm) + p["w_edss_dm_ms"] * (demyel - remyel - loss_dm)
          + p["w_edss_les_ms"] * p["k_les_ms"] * (dmd_cut * (1 - gate) * sp.Max(excess, 0) / p["S_ref_ms"] - les))
    m.rule("edss_rate", 3650 * sp.exp(-u) * du, unit="EDSS points/year",
           desc="current rate of change of the expected EDSS", source="d(edss)/dt of the rule above", output=True)
    for s in ("les", "demyelinated", "axon_loss", "dmd_ms"):
        m.output(s)
    return kin


def _poisson_quantile(u, mean):
    """Smallest k with P(Poisson(mean) <= k) >= u (vectorised over mean)."""
    from scipy.stats import poisson

    return poisson.ppf(u, np.maximum(mean, 0.0))


def observe(out, rng=None) -> dict[str, np.ndarray]:
    """EDSS, relapses and MRI at each visit (first row = baseline; every visit has a scan).

    Without ``rng``: expected values and probabilities for the typical patient (MRI activity from the
    gamma-Poisson closed form). With ``rng``: one uniform for the relapse path, one gamma frailty
    (shape k_nb_ms, mean 1) for the patient's MRI activity, Poisson Gd+ counts on each scan and Poisson
    new/enlarging T2 counts between consecutive scans, EDSS with inter-rater noise rounded to 0.5 steps."""
    from mscsim import parameters as P_

    edss = out["edss"].to_numpy(dtype=float)
    p_rel = out["relapse_prob"].to_numpy(dtype=float)
    gd = np.maximum(out["gd_lesions"].to_numpy(dtype=float), 0.0)
    h_t2 = np.maximum(out["new_t2_expected"].to_numpy(dtype=float), 0.0)
    h_rel = np.maximum(out["relapses_expected"].to_numpy(dtype=float), 0.0)
    k = P_.value("k_nb_ms")
    if rng is None:
        # P(no Gd+ on the scans after baseline and no new T2) = E_Z exp(-Z L) = (1 + L/k)^-k
        load = h_t2 + np.cumsum(np.concatenate([[0.0], gd[1:]]))
        p_mri = 1 - (1 + load / k) ** (-k)
        return {"edss": edss, "relapse": p_rel, "relapses": h_rel, "mri_activity": p_mri,
                "gd_lesions": gd, "new_t2_lesions": h_t2}
    u_rel = rng.uniform()
    relapse = (u_rel < p_rel).astype(float)
    # the count is the Poisson quantile at 1 - u: >= 1 exactly when u < 1 - exp(-H), monotone in time
    relapses = np.where(relapse > 0, np.maximum(_poisson_quantile(1 - u_rel, h_rel), 1.0), 0.0)
    frailty = rng.gamma(k, 1.0 / k)
    gd_counts = rng.poisson(frailty * gd).astype(float)
    new_t2 = np.concatenate([[0.0], np.cumsum(rng.poisson(frailty * np.maximum(np.diff(h_t2), 0.0)))])
    e = edss + rng.normal(0.0, P_.value("sd_edss_ms"), size=edss.shape)
    e = np.clip(np.round(2 * e) / 2, 0.0, 10.0)
    return {"edss": e, "relapse": relapse, "relapses": relapses,
            "mri_activity": scores.mri_activity(gd_counts, new_t2), "gd_lesions": gd_counts,
            "new_t2_lesions": new_t2}


def worsening_threshold(baseline_edss):
    """EDSS rise that counts as worsening, by baseline EDSS (scores.edss_worsening_threshold)."""
    return scores.edss_worsening_threshold(baseline_edss)


def responders(obs, baseline) -> dict[str, np.ndarray]:
    """EDSS change, EDSS worsening, CDP, treatment failure (Petrou 2020) and NEDA-3 versus baseline."""
    edss = obs["edss"].to_numpy(dtype=float)
    worse = scores.edss_worsened(baseline["edss"], edss).astype(float)
    cdp = scores.confirmed_progression(np.asarray(obs.index, dtype=float), edss)
    return {"edss_change": edss - float(baseline["edss"]), "edss_worsening": worse, "cdp": cdp,
            "treatment_failure": scores.petrou_treatment_failure(baseline["edss"], edss),
            "neda": scores.neda3(obs["relapse"].to_numpy(dtype=float), cdp,
                                 obs["mri_activity"].to_numpy(dtype=float))}
