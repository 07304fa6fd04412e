"""Type 1 diabetes: beta cells under autoimmune attack, insulin, glucose, C-peptide, HbA1c, dose.

Structure (disease-models.md s.3): the slow Topp 2000 glucose-insulin core with the fast
variables averaged over the day: mean plasma glucose ``glc_t1d`` follows
``dG/dt = R0 - (EG0 + SI (I_endo + I_exo)) G`` (hours, quasi-steady on the model's time
scale); plasma insulin is algebraic (half-life minutes): endogenous
``I_endo = sigma beta_mg phi G^2/(alpha + G^2)/k`` plus the glucose-lowering action of the
subcutaneous dose ``I_exo = I_h D/D_eq``.

Beta cells (``beta_t1d``, 1 = a healthy adult) are killed in proportion to an islet attack index
made from islet (target-tissue) IFN-gamma and TNF-alpha of the shared immune network, restrained
by islet Treg. The islet autoimmune drive is antigen-driven: it scales with beta/(beta + K_ag)
(insulitis affects insulin-containing islets), so the decline is fast after diagnosis and slows
to a few % per year in established disease (Greenbaum 2012; Shields 2018). The same attack
reversibly lowers the secretory function ``phi`` of surviving cells. The Topp glucose-dependent
beta-cell turnover (rodent rates) is left out: adult human beta cells turn over over years and
the immune kill dominates in T1D.

Glucose-insulin layer (daily means; the model runs for years, so meal-scale dynamics are averaged).
Mean glucose follows the glucose equation of the Bergman minimal model (Bergman 1979, PMID 443421)
with the remote insulin action at its quasi-steady state (X = SI I; its time constant 1/p2 is
~40 min), which is the glucose equation of Topp 2000. Insulin action is the sum of endogenous,
glucose-responsive (portal) insulin, scaled by beta-cell mass x function (what C-peptide
reflects), and the subcutaneous dose. Insulin sensitivity falls with systemic inflammation
(blood TNF-alpha and IL-6 over healthy; Hotamisligil 1993, PMID 7678183; size a design choice).

Standard of care is treat-to-target insulin (both arms of every shipped trial): the daily dose
``tdd_t1d`` (U/kg/day) follows, over weeks, the dose that brings mean glucose to the lowest level
that hypoglycaemia allows: ``G_set = max(G_goal, G_hypo / (1 - z CV))``, i.e. the mean at which
the lower tail of daily glucose (coefficient of variation CV) keeps time below 70 mg/dL under
4 % (Battelino 2019 consensus, PMID 31177185). Glucose-responsive endogenous insulin lowers CV
(share ``f_endo`` of insulin action: ``CV = cv_h + (cv_exo - cv_h)(1 - f_endo)^n``), so more
residual secretion lowers both the dose (it replaces injected insulin) and, a little, the
glucose the titration can reach; ``n`` is calibrated to the DCCT association of stimulated
C-peptide with HbA1c (Lachin 2014, PMID 24089509). HbA1c follows mean glucose through ADAG
(``scores.hba1c_from_mean_glucose``) with a ~30-day lag. C-peptide is proportional to endogenous
secretion (Klinke 2011): fasting at fasting glucose and OGTT AUC (0-180 min) at the OGTT
glucose, scaled to a healthy adult.

MSCs act (i) through the immune network (less islet effector activity and cytokines: protection
and recovery of function), (ii) through new beta cells while the islets feel the MSC effect, at a
rate that does not scale with the surviving beta-cell mass (a non-beta source, e.g. alpha-to-beta
conversion, which grows with the deficit: Thorel 2010, PMID 20364121), bounded by the healthy
mass (design form, rate calibrated to Cai 2016): the same effect doubles the ~1 % residual mass
of established T1D but adds ~1 % of healthy mass in new-onset disease, where the trials saw
preservation rather than restoration of C-peptide (Carlsson 2015; Lu 2021), and (iii) through a
small trophic term from the local MSC density in the pancreas (design). No placebo/participation
term: the control arm of Cai 2016 did not improve.

Insulin-free (complete remission) is judged as in the trials and registries: insulin stopped with
HbA1c < 7 % (Podolakova 2023, doi:10.1038/s41598-023-34037-7; ISPAD remission definition).
"""

from __future__ import annotations

import numpy as np

from mscsim import scores
from mscsim.diseases.base import Background, Endpoint, gauss, lognoise
from mscsim.immune import ratio_to_healthy
from mscsim.kinetics import KineticsHandles
from mscsim.kinetics.common import P
from mscsim.numerics import sympy as sp

NAME = "t1d"
TARGET = "pancreas"
SUBTYPES = ("established", "new_onset")
DEFAULT_SUBTYPE = "established"
ENDPOINTS = {e.name: e for e in [
    Endpoint("c_peptide_auc", "mean", "pmol/mL/180 min", "C-peptide AUC during a 180-min OGTT"),
    Endpoint("fasting_c_peptide", "mean", "nmol/L", "fasting serum C-peptide"),
    Endpoint("hba1c", "mean", "%", "glycated haemoglobin A1c"),
    Endpoint("fasting_glucose", "mean", "mg/dL", "fasting plasma glucose"),
    Endpoint("insulin_dose", "mean", "U/kg/day", "daily exogenous insulin dose"),
    Endpoint("insulin_free", "proportion", "0/1", "insulin independence (no exogenous insulin)"),
    Endpoint("insulin_free_3mo", "proportion", "0/1",
             "insulin independence kept for at least 3 months at some time by the visit"),
]}

#: read-outs drawn side by side (untreated vs treated) by `mscsim simulate --disease t1d`
KEY_OUTPUTS = [("c_peptide_auc", "C-peptide AUC (pmol/mL/180 min)"), ("hba1c", "HbA1c (%)"),
               ("fasting_glucose", "fasting glucose (mg/dL)"), ("insulin_dose", "insulin (U/kg/day)"),
               ("beta_pct_t1d", "beta-cell mass (% of healthy)"), ("islet_attack_t1d", "islet attack index")]
SUMMARY_ENDPOINTS = ["c_peptide_auc", "fasting_c_peptide", "hba1c", "fasting_glucose", "insulin_dose",
                     "insulin_free", "insulin_free_3mo"]
#: tools/calibrate_baselines.py: free constants, baseline targets of the typical patient, sources
BASELINE_TARGETS = (
    {"beta0_t1d_est": (0.001, 0.1), "D_eq_t1d": (0.5, 10.0), "cv_exo_t1d": (0.25, 0.5)},
    {"c_peptide_auc": (5.58, 0.1), "insulin_dose": (0.9, 0.01), "hba1c": (8.65, 0.01)},
    "established T1D, Cai 2016 baselines (PMID 26628416): C-peptide AUC 6.6/8.4 pmol/mL/180 min "
    "(mean 7.5, SD/mean ~0.85), so the typical (median) patient of a log-normal with beta0's CV 0.9 "
    "is at 7.5/sqrt(1 + 0.9^2) = 5.58; insulin 0.9 U/kg/day in both arms, HbA1c 8.6/8.7 %",
)

_PARAMS = (
    "R0_t1d", "EG0_t1d", "SI_t1d", "sigma_t1d", "alpha_t1d", "k_ins_t1d", "beta_mass_h_t1d",
    "K_ag_t1d", "D_t1d_t", "D_t1d_s", "w_ifng_t1d", "kappa_treg_t1d", "k_kill_t1d", "c_dys_t1d",
    "k_phi_t1d",
    "sdf1_max_t1d", "r_reg_t1d", "r_troph_t1d", "rho50_troph_t1d", "D_eq_t1d", "G_goal_t1d",
    "G_hypo_t1d", "z_tbr_t1d", "cv_exo_t1d", "cv_h_t1d", "n_cv_t1d", "c_ir_t1d", "k_titr_t1d", "k_a1c_t1d", "r_fpg_t1d", "cpauc_h_t1d", "cpf_h_t1d",
    "G_ogtt_h_t1d", "dG_ogtt_t1d", "G_fast_h_t1d", "ins_free_thr_t1d", "a1c_free_max_t1d", "w_ins_free_t1d",
    "w_a1c_free_t1d")
_BETA0 = {"established": "beta0_t1d_est", "new_onset": "beta0_t1d_new"}
_TOPP = "Topp 2000 J Theor Biol 206:605 (doi:10.1006/jtbi.2000.2150); disease-models.md s.3.1"
_BERGMAN = ("Bergman minimal model glucose equation, remote insulin action at quasi-steady state (Bergman 1979 "
            "Am J Physiol 236:E667, PMID 443421); same form as Topp 2000 (doi:10.1006/jtbi.2000.2150)")


#: free parameters fitted by `mscsim calibrate --disease t1d` (records: role calibration in the scenarios)
#: standard of care (``background: [...]``; docs/disease-modules.md): treat-to-target insulin is the
#: module's own dose equation (``tdd_t1d``), so it is declared here, required in every arm
BACKGROUND = {b.name: b for b in [
    Background("insulin", "insulin titrated to target, limited by hypoglycaemia (the dose state tdd_t1d follows "
               "the dose that brings mean glucose to the achievable level): every T1D patient is on it, in both "
               "arms of every shipped trial", {},
               "Battelino 2019 time-in-range consensus (PMID 31177185); titration pace Riddle 2003 (PMID 14578243); "
               "Cai 2016 'standard care', Lu 2021 'intensive insulin', Carlsson 2015 control", required=True),
]}
#: the background an arm gets when it lists none, per subtype
DEFAULT_BACKGROUND = {"established": ("insulin",), "new_onset": ("insulin",)}
CALIBRATION_PARAMETERS = ['r_reg_t1d', 'P50_memory_t1d']
def compose(m, body, layers, *, species, subtype) -> KineticsHandles:
    p = {n: P(m, n, species) for n in _PARAMS}
    beta0 = _BETA0[subtype]
    P(m, beta0, species)
    beta = m.state("beta_t1d", unit="fraction of healthy", group="disease", init=0.05, atol=1e-7,
                   init_mode=f"param:{beta0}", desc="beta-cell mass relative to a healthy adult")
    glc = m.state("glc_t1d", unit="mg/dL", group="disease", init=200.0, atol=1e-4, init_mode="steady",
                  desc="mean plasma glucose (daily average)")
    dose = m.state("tdd_t1d", unit="U/kg/day", group="disease", init=0.9, atol=1e-7, init_mode="steady",
                   desc="prescribed daily exogenous insulin dose")
    phi = m.state("beta_function_t1d", unit="1", group="disease", init=0.9, atol=1e-8, init_mode="steady",
                  desc="secretory function of surviving beta cells (1 = normal)")
    a1c = m.state("a1c_t1d", unit="%", group="disease", init=8.6, atol=1e-6, init_mode="steady",
                  desc="glycated haemoglobin A1c")
    free_days = m.state("free_days_t1d", unit="day", group="disease", init=0.0, atol=1e-6,
                        desc="days spent insulin-free (insulin stopped, HbA1c < 7 %) since day 0")

    # --- antigen-driven insulitis -> SDF-1 and the islet autoimmune drive ---
    insulitis = m.rule("insulitis_t1d", beta / (beta + p["K_ag_t1d"]), unit="1",
                       desc="antigen-driven islet inflammation, 0..1 (falls as beta cells vanish)",
                       source="insulitis affects insulin-containing islets (Foulis 1986 Diabetologia 29:267 "
                              "[recalled]); [design form]", output=True)
    sdf1 = m.rule("sdf1_target", p["sdf1_max_t1d"] * insulitis, unit="1",
                  desc="islet SDF-1 (CXCL12) signal, 0..1", source="[design] proportional to insulitis", output=True)
    kin = layers.kinetics(sdf1)
    imm = layers.immune(kin, drive_s=p["D_t1d_s"], drive_t=p["D_t1d_t"] * insulitis, species=species)

    # --- islet attack: IFN-gamma and TNF-alpha in the islets, restrained by islet Treg ---
    w = p["w_ifng_t1d"]
    excess = w * (ratio_to_healthy(imm, "t", "ifng") - 1) + (1 - w) * (ratio_to_healthy(imm, "t", "tnf") - 1)
    kap = p["kappa_treg_t1d"]
    attack = m.rule("islet_attack_t1d", sp.Max(excess, 0) * (1 + kap) / (1 + kap * imm.cells["t", "Treg"]),
                    unit="1", desc="islet attack index (cytokine excess over healthy, Treg-restrained)",
                    source="disease-models.md s.3.1 autoimmune extension [design form]", output=True)
    m.rate(phi, p["k_phi_t1d"] * (1 / (1 + p["c_dys_t1d"] * attack) - phi),
           desc="secretory function of surviving beta cells follows the islet attack (reversible dysfunction)",
           source="reversible cytokine-induced beta-cell dysfunction (Eizirik & Mandrup-Poulsen 2001 "
                  "[recalled]) [design form]")

    # --- beta-cell mass: immune kill, MSC-supported replication, local trophic support ---
    rho = imm.local_msc_density
    # new beta cells while the islets feel the MSC effect come from a pool that does not scale with the
    # surviving beta cells (non-beta islet cells, preserved in T1D), bounded by the healthy mass: the
    # same MSC effect doubles a ~1 % residual mass (Cai 2016) but adds only ~1 % of healthy mass to the
    # ~30 % of new-onset disease, where trials see preservation, not restoration (Carlsson 2015; Lu 2021)
    neo = m.rule("beta_neogenesis_t1d", p["r_reg_t1d"] * imm.msc_effect_t * sp.Max(1 - beta, 0),
                 unit="fraction of healthy/day",
                 desc="new beta cells from non-beta islet cells while the islets feel the MSC effect",
                 source="[design form] alpha-to-beta conversion scales with the beta-cell deficit, not the "
                        "surviving mass (Thorel 2010 Nature 464:1149, PMID 20364121, mouse); MSC-educated M2 "
                        "macrophages support islet regeneration (Xiao 2014 PNAS, PMID 24706915)", output=True)
    regen = m.rule("beta_regen_t1d", p["r_troph_t1d"] * rho / (rho + p["rho50_troph_t1d"]), unit="1/day",
                   desc="extra replication of surviving beta cells from trophic factors of MSCs lodged in the pancreas",
                   source="[design; no human number] MSC trophic factors", output=True)
    m.rate(beta, -p["k_kill_t1d"] * attack * beta, desc="autoimmune killing of beta cells",
           source="disease-models.md s.3.1; k_kill from Greenbaum 2012 (PMID 22688329)")
    m.rate(beta, regen * beta, desc="MSC trophic support of beta-cell replication (pancreas-lodged MSCs)",
           source="[design]")
    m.rate(beta, neo, desc="MSC-supported beta-cell neogenesis (mass-independent, up to the healthy mass)",
           source="[design form] Thorel 2010 (PMID 20364121)")

    # --- insulin sensitivity lowered by systemic inflammation ---
    infl = m.rule("inflammation_ir_t1d", sp.Max(0.5 * (ratio_to_healthy(imm, "s", "tnf") - 1)
                                                + 0.5 * (ratio_to_healthy(imm, "s", "il6") - 1), 0),
                  unit="1", desc="systemic inflammation that lowers insulin sensitivity (blood TNF-alpha and IL-6 "
                  "excess over healthy, mean)", source="TNF-alpha and IL-6 impair insulin signalling (Hotamisligil "
                  "1993 Science 259:87, PMID 7678183) [design form]", output=True)
    si = m.rule("insulin_sensitivity_t1d", p["SI_t1d"] / (1 + p["c_ir_t1d"] * infl), unit="mL/uU/day",
                desc="insulin sensitivity, lowered by systemic inflammation", source="[design] c_ir_t1d",
                output=True)

    # --- insulin (algebraic, half-life minutes) and mean glucose (Bergman minimal model / Topp 2000) ---
    def secretion_shape(g):
        return g**2 / (p["alpha_t1d"] + g**2)

    B_mg = p["beta_mass_h_t1d"]
    I_h = p["sigma_t1d"] * B_mg * secretion_shape(100) / p["k_ins_t1d"]
    bphi = beta * phi
    i_endo = m.rule("insulin_endo_t1d", p["sigma_t1d"] * B_mg * bphi * secretion_shape(glc) / p["k_ins_t1d"],
                    unit="uU/mL", desc="insulin action of endogenous, glucose-responsive (portal) secretion",
                    source=_TOPP, output=True)
    i_exo = m.rule("insulin_exo_t1d", I_h * dose / p["D_eq_t1d"], unit="uU/mL",
                   desc="glucose-lowering action of the s.c. insulin dose, as endogenous-equivalent plasma insulin",
                   source="[calibrated] D_eq to the Cai 2016 baseline dose", output=True)
    m.rate(glc, p["R0_t1d"] - (p["EG0_t1d"] + si * (i_endo + i_exo)) * glc,
           desc="glucose production minus insulin-independent and insulin-dependent uptake", source=_BERGMAN)

    # --- treat-to-target insulin titration, limited by hypoglycaemia ---
    f_endo = m.rule("endo_share_t1d", i_endo / (i_endo + i_exo + 1e-9), unit="1",
                    desc="share of insulin action that is endogenous (glucose-responsive)", source="read-out",
                    output=True)
    cv = m.rule("glucose_cv_t1d", p["cv_h_t1d"] + (p["cv_exo_t1d"] - p["cv_h_t1d"]) * (1 - f_endo) ** p["n_cv_t1d"],
                unit="1", desc="day-to-day coefficient of variation of glucose (falls as endogenous insulin "
                "takes a larger share)", source="healthy and T1D CGM CV (parameter table); curvature calibrated "
                "to Lachin 2014 (PMID 24089509)", output=True)
    g_set = m.rule("glucose_set_t1d", sp.Max(p["G_goal_t1d"], p["G_hypo_t1d"] / (1 - p["z_tbr_t1d"] * cv)),
                   unit="mg/dL", desc="lowest mean glucose the titration reaches with < 4 % of time below 70 mg/dL",
                   source="Battelino 2019 time-in-range consensus (PMID 31177185); ADA goal HbA1c < 7 % [derived form]",
                   output=True)
    i_need = (p["R0_t1d"] / g_set - p["EG0_t1d"]) / si
    i_endo_set = p["sigma_t1d"] * B_mg * bphi * secretion_shape(g_set) / p["k_ins_t1d"]
    d_need = m.rule("dose_needed_t1d", p["D_eq_t1d"] * sp.Max(i_need - i_endo_set, 0) / I_h, unit="U/kg/day",
                    desc="insulin dose that brings mean glucose to the achievable level",
                    source="minimal-model steady state solved for the exogenous insulin [derived]", output=True)
    m.rate(dose, p["k_titr_t1d"] * (d_need - dose), desc="treat-to-target titration of the insulin dose",
           source="Riddle 2003 (PMID 14578243) [design rate]")
    eag_a1c = scores.hba1c_from_mean_glucose(glc, xp=scores.SYM)
    m.rate(a1c, p["k_a1c_t1d"] * (eag_a1c - a1c), desc="HbA1c follows mean glucose (ADAG) with a ~30-day lag",
           source="Nathan 2008 (PMID 18540046); lag Tahara & Shima 1995 [recalled]")

    # --- insulin-free time: insulin stopped with HbA1c < 7 % (smooth step, widths w_*) ---
    off_insulin = 1 / (1 + sp.exp((dose - p["ins_free_thr_t1d"]) / p["w_ins_free_t1d"]))
    a1c_ok = 1 / (1 + sp.exp((a1c - p["a1c_free_max_t1d"]) / p["w_a1c_free_t1d"]))
    m.rate(free_days, off_insulin * a1c_ok, desc="time spent insulin-free",
           source="complete remission: no insulin with HbA1c < 7 % (Podolakova 2023, doi:10.1038/s41598-023-34037-7)")
    m.output("free_days_t1d")

    # --- read-outs ---
    g_fast = m.rule("fasting_glucose", p["r_fpg_t1d"] * glc, unit="mg/dL", desc="fasting plasma glucose",
                    source="fasting/mean glucose ratio from Cai 2016 baselines [derived]", output=True)
    m.rule("c_peptide_auc", p["cpauc_h_t1d"] * bphi * secretion_shape(g_fast + p["dG_ogtt_t1d"])
           / secretion_shape(p["G_ogtt_h_t1d"]), unit="pmol/mL/180 min",
           desc="OGTT C-peptide AUC (0-180 min)",
           source="C-peptide proportional to endogenous secretion (Klinke 2011 PLoS ONE 6:e26873); healthy "
                  "scale Bonnet-Serrano 2022 (PMID 35074395)", output=True)
    m.rule("fasting_c_peptide", p["cpf_h_t1d"] * bphi * secretion_shape(g_fast)
           / secretion_shape(p["G_fast_h_t1d"]), unit="nmol/L", desc="fasting C-peptide",
           source="Klinke 2011; healthy 0.53 nmol/L (Bonnet-Serrano 2022)", output=True)
    m.rule("hba1c", a1c, unit="%", desc="HbA1c", source="state (ADAG, Nathan 2008)", output=True)
    m.rule("insulin_dose", sp.Max(dose, 0), unit="U/kg/day", desc="daily exogenous insulin dose",
           source="state", output=True)
    m.rule("idaa1c", scores.idaa1c(a1c, sp.Max(dose, 0), xp=scores.SYM), unit="%",
           desc="insulin-dose-adjusted A1C (<= 9: partial remission)", source="scores.idaa1c (Mortensen 2009)",
           output=True)
    m.rule("beta_pct_t1d", 100 * beta, unit="% of healthy", desc="beta-cell mass, % of a healthy adult",
           source="state", output=True)
    m.output("beta_function_t1d")
    m.rule("mean_glucose_t1d", glc, unit="mg/dL", desc="mean plasma glucose", source="state", output=True)
    return kin


def observe(out, rng=None) -> dict[str, np.ndarray]:
    """Clinical measurements at each time (with visit noise when ``rng`` is given)."""
    from mscsim import parameters as P_

    v = P_.value
    dose = np.maximum(lognoise(rng, out["insulin_dose"], v("cv_ins_t1d")), 0.0)
    obs = {
        "c_peptide_auc": lognoise(rng, out["c_peptide_auc"], v("cv_cpep_t1d")),
        "fasting_c_peptide": lognoise(rng, out["fasting_c_peptide"], v("cv_cpep_t1d")),
        "hba1c": np.asarray(gauss(rng, out["hba1c"], v("sd_hba1c_t1d"))),
        "fasting_glucose": lognoise(rng, out["fasting_glucose"], v("cv_fpg_t1d")),
        "insulin_dose": dose,
        # insulin-free (complete remission): insulin stopped with HbA1c < 7 % (Podolakova 2023, ISPAD);
        # judged on the model's dose and HbA1c, not the noisy report
        "insulin_free": ((out["insulin_dose"].to_numpy() < v("ins_free_thr_t1d"))
                         & (out["hba1c"].to_numpy() < v("a1c_free_max_t1d"))).astype(float),
    }
    # insulin independence reached and kept >= 3 months by the visit (Lu 2021: "insulin free for 3 to 12 months")
    obs["insulin_free_3mo"] = (out["free_days_t1d"].to_numpy() >= v("free_days_min_t1d")).astype(float)
    obs["idaa1c"] = scores.idaa1c(obs["hba1c"], obs["insulin_dose"])
    return obs


def responders(obs, baseline) -> dict[str, np.ndarray]:
    """No T1D endpoint of the design contract compares with baseline (insulin_free is absolute)."""
    return {}
