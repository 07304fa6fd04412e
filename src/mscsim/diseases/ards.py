"""Acute respiratory distress syndrome (ARDS) and COVID-19 ARDS on lung-protective ventilation:
alveolar-capillary injury, oxygenation (PaO2/FiO2, oxygenation index), ventilator-free days,
28- and 60-day mortality.

Structure (reduced; forms are design choices unless a source says otherwise):

- ``insult``: the precipitating insult (pneumonia, sepsis, aspiration; SARS-CoV-2 pneumonitis in
  the ``covid`` subtype), 1 at enrolment, resolving at the patient's own rate (slower in COVID-19).
- The immune network takes the insult as its drive in blood and in the lung. The lung is the
  target: IV MSCs arrest there on the first pass, so the network's "target tissue" is the lung
  compartment of the kinetics (viable arrested + engrafted MSCs per gram of lung). The kinetics
  cannot carry a separate target tissue inside the lung (all venous blood crosses it), hence
  ``TARGET = None`` and ``mass_target`` is defined here as the lung mass.
- ``injury``: alveolar-capillary injury (1 = typical patient at enrolment) follows alveolar
  inflammation, a share ``f_immune_ards`` of which is the lung's TNF-alpha / IL-6 / IL-17 /
  IFN-gamma excess of the immune network (what MSCs modulate) and the rest neutrophil and direct
  injury following the insult; it is repaired; repair is boosted by MSCs in the
  lung (KGF, angiopoietin-1, mitochondrial transfer: Lee JW 2009 PNAS 106:16357, PMID 19721001).
- Oxygenation: PaO2/FiO2 falls with injury. Standard care follows the ARDSNet protocol (PMID
  10793162): tidal volume 6 mL/kg predicted body weight, FiO2 titrated to PaO2 55-80 mmHg; the
  model sets FiO2 = PaO2 target / (PaO2/FiO2) (0.21-1) and a mean airway pressure that rises with
  injury; the oxygenation index is FiO2 x mean airway pressure x 100 / PaO2.
- ``vent_days``: expected days on the ventilator (on while PaO2/FiO2 is below the weaning
  threshold, smooth step); ventilator-free days to day 28 are 0 for non-survivors.
- ``survival``: death hazard grows with injury (plus a background hazard for the underlying
  illness).

Doses per kg of predicted body weight (START: 1e7 cells/kg PBW): the dose grammar multiplies by
the patient's weight, so ARDS scenarios give the ``weight_kg`` covariate as predicted body weight
(``scores.predicted_body_weight``); the physiology then scales with PBW instead of actual weight,
a small distortion for the kinetics that we accept.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from mscsim import scores
from mscsim.diseases.base import Background, Endpoint, lognoise
from mscsim.immune import ratio_to_healthy
from mscsim.kinetics import KineticsHandles
from mscsim.kinetics.common import P
from mscsim.numerics import sympy as sp

NAME = "ards"
#: the lung compartment of the kinetics is the target (see module docstring)
TARGET = None
SUBTYPES = ("ards", "covid")
DEFAULT_SUBTYPE = "ards"
ENDPOINTS = {e.name: e for e in [
    Endpoint("pf_ratio", "mean", "mmHg", "PaO2/FiO2"),
    Endpoint("pf_change", "mean", "mmHg", "change of PaO2/FiO2 from baseline"),
    Endpoint("oxygenation_index", "mean", "cmH2O/mmHg x 100", "oxygenation index FiO2 x MAP x 100 / PaO2"),
    Endpoint("ventilator_free_days", "mean", "days", "ventilator-free days to day 28 (0 if dead by day 28)"),
    Endpoint("mortality", "proportion", "0/1", "death by the time point"),
    Endpoint("severe_ards", "proportion", "0/1", "Berlin severe ARDS (PaO2/FiO2 <= 100)"),
    Endpoint("lung_injury", "mean", "1", "alveolar-capillary injury (1 = typical at enrolment)"),
    Endpoint("lung_lesion_change_pct", "mean", "%", "change of the CT lung lesion volume from baseline"),
]}

#: read-outs drawn side by side (untreated vs treated) by `mscsim simulate --disease ards`
KEY_OUTPUTS = [("injury", "alveolar-capillary injury (1 = enrolment)"), ("pf_ratio", "PaO2/FiO2 (mmHg)"),
               ("oxygenation_index", "oxygenation index"), ("fio2", "FiO2"), ("on_ventilator", "on ventilator"),
               ("survival", "survival probability"), ("msc_local_density", "MSCs per g lung")]
SUMMARY_ENDPOINTS = ["pf_ratio", "oxygenation_index", "ventilator_free_days", "mortality"]
#: the one constant `mscsim calibrate --disease ards` fits (records: role calibration): the share of
#: alveolar inflammation that MSCs can suppress through the immune network
#: standard of care (``background: [...]``; docs/disease-modules.md): the ventilation and care of the
#: control arms, inside the model's oxygenation and mortality; stable, so they set nothing
BACKGROUND = {b.name: b for b in [
    Background("lung_protective_ventilation", "ARDSNet lung-protective ventilation (6 mL/kg predicted body "
               "weight, FiO2 titrated to PaO2 55-80 mmHg): the model's FiO2 and airway pressure follow it and "
               "the death hazard is set on its 28-day mortality", {},
               "ARDS Network 2000 N Engl J Med 342:1301 (PMID 10793162); START (Matthay 2019) and Zheng 2014 controls"),
    Background("covid_standard_care", "lung-protective ventilation and the COVID-19 care of the trial period "
               "(anticoagulation; corticosteroids at the centre's discretion, routine after RECOVERY): part of the "
               "covid subtype's natural history, nothing changes", {},
               "RECOVERY dexamethasone (PMID 32678530); Lanzoni 2021 (heparin in both arms), Monsel 2022, Shi 2021 "
               "control arms"),
]}
#: the background an arm gets when it lists none, per subtype
DEFAULT_BACKGROUND = {"ards": ("lung_protective_ventilation",), "covid": ("covid_standard_care",)}
CALIBRATION_PARAMETERS = ["f_immune_ards"]
#: tools/calibrate_baselines.py: free constants, baseline targets of the typical patient, sources
BASELINE_TARGETS = (
    {"S_ref_ards": (0.1, 500.0)},
    {"injury": (1.0, 0.01)},
    "injury 1 defines the typical patient at enrolment",
)

_INSULT_RATE = {"ards": "k_insult_ards", "covid": "k_insult_covid_ards"}


def compose(m, body, layers, *, species, subtype) -> KineticsHandles:
    p = {n: P(m, n, species) for n in (
        "insult0_ards", "D_ards_s", "D_ards_t", _INSULT_RATE[subtype],
        "w_tnf_ards", "w_il6_ards", "w_il17_ards", "w_ifng_ards", "S_ref_ards", "f_immune_ards", "k_inj_ards",
        "a_repair_msc_ards", "K_repair_msc_ards", "lung_mass_frac_ards", "K_sdf1_ards",
        "pf_h_ards", "b_pf_ards", "pao2_target_ards", "map0_ards", "map_a_ards",
        "pf_wean_ards", "w_wean_ards", "h0_ards", "h_inj_ards", "n_death_ards")}
    ins = m.state("insult", unit="1", group="disease", init=1.0, atol=1e-9, init_mode="param:insult0_ards",
                  desc="precipitating insult (1 = enrolment), resolving")
    inj = m.state("injury", unit="1", group="disease", init=1.0, atol=1e-8, init_mode="steady",
                  desc="alveolar-capillary injury (1 = typical patient at enrolment)")
    vd = m.state("vent_days", unit="day", group="disease", init=0.0, atol=1e-8,
                 desc="expected days on the ventilator since enrolment")
    S = m.state("survival", unit="probability", group="disease", init=1.0, atol=1e-9,
                desc="probability of being alive")

    sdf1 = m.rule("sdf1_target", inj / (inj + p["K_sdf1_ards"]), unit="1",
                  desc="SDF-1 signal of the injured lung, 0..1 (no separate target tissue: kept as a read-out)",
                  source="[design form, as ra]", output=True)
    kin = layers.kinetics(sdf1)
    # the lung compartment is the immune network's target tissue
    m.rule("mass_target", p["lung_mass_frac_ards"] * m.symbol("BW"), unit="kg",
           desc="lung mass (the target tissue of ARDS)", source="lung_mass_frac_ards (NRC 1999)")
    lung_cells = m.symbol("A_lung") + m.symbol("G_lung")
    m.rule("msc_target_pct", m.symbol("msc_lung_pct"), unit="% of dose",
           desc="viable MSCs in the target tissue (the lungs), percent of cells given", source="read-out",
           output=True)
    kin = dataclasses.replace(kin, cells_target=lung_cells)
    imm = layers.immune(kin, drive_s=p["D_ards_s"] * ins, drive_t=p["D_ards_t"] * ins, species=species)

    m.rate(ins, -p[_INSULT_RATE[subtype]] * ins, desc="the precipitating insult resolves",
           source="[design] rates from the duration of ventilation under lung-protective care "
                  "(ARDSNet 2000, PMID 10793162; COVID-19: RECOVERY, PMID 32678530)")
    excess = (p["w_tnf_ards"] * (ratio_to_healthy(imm, "t", "tnf") - 1)
              + p["w_il6_ards"] * (ratio_to_healthy(imm, "t", "il6") - 1)
              + p["w_il17_ards"] * (ratio_to_healthy(imm, "t", "il17") - 1)
              + p["w_ifng_ards"] * (ratio_to_healthy(imm, "t", "ifng") - 1))
    f = p["f_immune_ards"]
    e = m.rule("lung_inflammation", f * sp.Max(excess, 0) / p["S_ref_ards"] + (1 - f) * ins, unit="1",
               desc="alveolar inflammation (1 = typical patient at enrolment): the part carried by the immune "
                    "network (TNF-alpha, IL-6, IL-17, IFN-gamma of the lung) plus neutrophil/direct injury that "
                    "follows the insult",
               source="cytokines of ARDS lavage and neutrophil-driven injury (Matthay 2019 Nat Rev Dis Primers "
                      "5:18, PMID 30872586) [weights and share: design, share fitted by mscsim calibrate]",
               output=True)
    dens = imm.local_msc_density
    X = m.rule("msc_repair_ards", dens / (dens + p["K_repair_msc_ards"]), unit="1",
               desc="repair signal of viable MSCs in the lung (KGF, angiopoietin-1), 0..1",
               source="Lee JW 2009 PNAS 106:16357, PMID 19721001 (KGF restores alveolar fluid clearance in "
                      "human lungs) [form: design]", output=True)
    m.rate(inj, p["k_inj_ards"] * (e - inj * (1 + p["a_repair_msc_ards"] * X)),
           desc="injury follows alveolar inflammation; repair boosted by MSCs in the lung",
           source="[design] alveolar epithelial repair over 1-3 weeks")

    # --- oxygenation on lung-protective ventilation ---
    pf = m.rule("pf_ratio", p["pf_h_ards"] / (1 + p["b_pf_ards"] * inj), unit="mmHg", desc="PaO2/FiO2",
                source="[design] hyperbolic in injury; typical patient at enrolment ~150 mmHg (moderate, Berlin "
                       "PMID 22797452)", output=True)
    fio2 = m.rule("fio2", sp.Min(sp.Max(p["pao2_target_ards"] / pf, 0.21), 1.0), unit="1",
                  desc="FiO2 titrated to the PaO2 target", source="ARDSNet protocol: PaO2 55-80 mmHg "
                  "(PMID 10793162)", output=True)
    pao2 = m.rule("pao2", pf * fio2, unit="mmHg", desc="arterial PaO2", source="PaO2 = (PaO2/FiO2) x FiO2",
                  output=True)
    mp = m.rule("mean_airway_pressure", p["map0_ards"] + p["map_a_ards"] * inj, unit="cmH2O",
                desc="mean airway pressure (PEEP rises with injury, ARDSNet FiO2/PEEP table)",
                source="[design] linear in injury", output=True)
    m.rule("oxygenation_index", scores.oxygenation_index(fio2, mp, pao2, xp=scores.SYM), unit="cmH2O/mmHg",
           desc="oxygenation index", source="scores.oxygenation_index", output=True)
    on = m.rule("on_ventilator", 1 / (1 + sp.exp((pf - p["pf_wean_ards"]) / p["w_wean_ards"])), unit="probability",
                desc="probability of still being ventilated (PaO2/FiO2 below the weaning threshold)",
                source="[design] weaning once FiO2 <= 0.4 and PEEP <= 8 (ARDSNet weaning criteria, PMID 10793162)",
                output=True)
    m.rate(vd, on, desc="days on the ventilator accumulate", source="read-out")
    h = m.rule("death_hazard", p["h0_ards"] + p["h_inj_ards"] * inj ** p["n_death_ards"], unit="1/day",
               desc="death hazard: background + alveolar injury",
               source="h_inj set so that untreated typical patients have the 28-day mortality of lung-protective "
                      "ventilation (ARDSNet 2000: 31 %, PMID 10793162; Berlin moderate 32 %, PMID 22797452) "
                      "[form: design]", output=True)
    m.rate(S, -h * S, desc="survival", source="dS/dt = -h(t) S (docs/disease-modules.md)")
    m.rule("lung_lesion", inj, unit="1", desc="CT lung lesion volume relative to enrolment (tracks injury)",
           source="[design] lesion volume proportional to injury", output=True)
    for s in ("insult", "injury", "vent_days", "survival"):
        m.output(s)
    return kin


def observe(out, rng=None) -> dict[str, np.ndarray]:
    """Blood gases, oxygenation index, ventilator-free days to day 28 and mortality at each time
    (visit noise on the PaO2/FiO2 when ``rng`` is given; death drawn with one uniform per patient)."""
    from mscsim import parameters as P_

    v = P_.value
    t = np.asarray(out.index, dtype=float)
    pf = np.maximum(lognoise(rng, out["pf_ratio"], v("cv_pf_ards")), 20.0)
    fio2 = out["fio2"].to_numpy(dtype=float)
    oi = scores.oxygenation_index(fio2, out["mean_airway_pressure"].to_numpy(dtype=float), pf * fio2)
    S = out["survival"].to_numpy(dtype=float)
    if rng is None:
        alive = S
    else:
        u = rng.uniform()
        alive = (u >= 1 - S).astype(float)
    # ventilator-free days to day 28 exist only at day 28 (they need the ventilator days up to then)
    at28 = np.isclose(t, 28.0)
    vd = out["vent_days"].to_numpy(dtype=float)
    vfd_drawn = scores.ventilator_free_days(vd, alive > 0.5)
    vfd = np.where(at28, vfd_drawn if rng is not None else S * (28 - np.clip(vd, 0, 28)), np.nan)
    return {
        "pf_ratio": pf, "oxygenation_index": oi, "lung_injury": out["injury"].to_numpy(dtype=float),
        "lung_lesion": out["lung_lesion"].to_numpy(dtype=float),
        "ventilator_free_days": vfd, "survival": alive, "mortality": 1 - alive,
        "severe_ards": (scores.berlin_category(pf) == "severe").astype(float),
    }


def responders(obs, baseline) -> dict[str, np.ndarray]:
    """Changes from baseline: PaO2/FiO2 (mmHg) and CT lesion volume (%)."""
    return {"pf_change": obs["pf_ratio"].to_numpy(dtype=float) - baseline["pf_ratio"],
            "lung_lesion_change_pct": 100 * (obs["lung_lesion"].to_numpy(dtype=float) / baseline["lung_lesion"] - 1)}
