"""Steroid-refractory acute graft-versus-host disease (SR-aGvHD) after allogeneic HSCT: skin, liver
and gut involvement, MAGIC organ stages and grade, IBMTR index, response at day 28, survival.

Structure (a reduced model; every form below is a design choice unless its source says otherwise):

- ``allo``: the alloreactive drive of donor T cells (1 = typical patient at enrolment, i.e. after
  failing 2 mg/kg/day methylprednisolone: progression within 3 days or no improvement within 7,
  the MSB-GVHD001 definition). Steroids have already failed, so the drive fades only slowly, at
  the patient's own rate ``k_tol_gvhd`` (tolerance, second-line best available therapy), which
  varies widely between patients: this spread is what makes some untreated patients respond.
  MSCs speed the fade through the tolerogenic phagocytes that clear them (``imm.memory``): in
  GvHD patients the response to MSCs needed recipient cytotoxic cells to kill the infused MSCs
  (Galleu 2017 Sci Transl Med 9:eaam7828, PMID 29141887).
- The immune network (``add_immune``) takes the alloreactive drive in blood and in the target
  tissue, the gut wall (lower-GI involvement dominates steroid-refractory disease and its
  mortality); MSCs act there through licensed local suppression, the systemic secretome and the
  phagocyte memory.
- ``gut_gvhd``, ``skin_gvhd``, ``liver_gvhd``: organ involvement (0 = none; 1 = the organ of a
  typical patient with full susceptibility) follow the alloimmune inflammation of the gut wall
  (gut) or blood (skin, liver): a share ``f_immune_gvhd`` is the weighted cytokine excess of the
  immune network (CD4 subsets, macrophages: what MSCs suppress directly), the rest is direct
  cytotoxicity of alloreactive CD8 T cells, which the network does not carry and which follows
  ``allo``, times the patient's organ susceptibility (``w_<organ>_gvhd``,
  log-normal between patients: the organ mix differs from patient to patient); gut repair gets a
  trophic boost from MSCs in the gut wall.
- ``survival``: non-relapse death hazard growing with the organ burden (gut weighted most) plus a
  background hazard (relapse, infection).

Read-outs: involvement above a subclinical level (``x0_<organ>_gvhd``) shows as organ disease:
stool volume (mL/kg/day; adult MAGIC thresholds use mL/day), active erythema (% BSA), bilirubin,
the probabilities of the stage-4 features (grossly bloody stool/ileus, bullae) and of persistent
nausea (upper GI); with the spread of organ susceptibility this gives the organ mix of the trials
(TEMCELL phase II/III: GI 20/25, skin 12/25, liver 6/25). ``observe`` turns them into MAGIC stages, the overall grade and the
IBMTR index with the exact functions of ``mscsim.scores``; ``responders`` gives CR, PR, ORR and
the organ responses against the baseline stages. A patient who has died is a non-responder.

Simplifications (said here because the trials differ): the regimens give every planned dose;
"continue weekly in responders" (MSB-GVHD001 weeks 5-8) is given to the whole arm or to no one,
as the scenario says; the durable response (CR lasting >= 28 days, TEMCELL) needs the patient's
history and is not an endpoint.
"""

from __future__ import annotations

import numpy as np

from mscsim import scores
from mscsim.diseases.base import Background, Endpoint, lognoise
from mscsim.immune import ratio_to_healthy
from mscsim.kinetics import KineticsHandles
from mscsim.kinetics.common import P
from mscsim.numerics import sympy as sp

NAME = "gvhd"
TARGET = "gut_wall"
SUBTYPES = ("adult", "pediatric")
DEFAULT_SUBTYPE = "adult"
ORGANS = ("skin", "liver", "upper_gi", "lower_gi")
ENDPOINTS = {e.name: e for e in [
    Endpoint("gvhd_grade", "mean", "0-4", "overall MAGIC grade (0, I-IV as 0-4)"),
    Endpoint("ibmtr_index", "mean", "0-4", "IBMTR severity index (none, A-D as 0-4)"),
    Endpoint("grade_3_4", "proportion", "0/1", "MAGIC grade III-IV"),
    Endpoint("skin_stage", "mean", "0-4", "MAGIC skin stage"),
    Endpoint("liver_stage", "mean", "0-4", "MAGIC liver stage"),
    Endpoint("lower_gi_stage", "mean", "0-4", "MAGIC lower-GI stage"),
    Endpoint("upper_gi_stage", "mean", "0-1", "MAGIC upper-GI stage"),
    Endpoint("bilirubin", "mean", "mg/dL", "serum total bilirubin"),
    Endpoint("stool_volume", "mean", "mL/day", "stool output"),
    Endpoint("gvhd_cr", "proportion", "0/1", "complete response: every organ stage 0 (alive)"),
    Endpoint("gvhd_pr", "proportion", "0/1",
             "partial response: >= 1 organ better by >= 1 stage, none worse, not CR (alive)"),
    Endpoint("gvhd_orr", "proportion", "0/1", "overall response: CR or PR (alive)"),
    Endpoint("gut_cr", "proportion", "0/1", "lower-GI complete response among patients with gut involvement"),
    Endpoint("skin_cr", "proportion", "0/1", "skin complete response among patients with skin involvement"),
    Endpoint("liver_cr", "proportion", "0/1", "liver complete response among patients with liver involvement"),
    Endpoint("nrm", "proportion", "0/1", "death by the time point (the background hazard lumps relapse with "
             "non-relapse causes, so this is all-cause mortality, an upper bound of non-relapse mortality)"),
]}

#: read-outs drawn side by side (untreated vs treated) by `mscsim simulate --disease gvhd`
KEY_OUTPUTS = [("allo", "alloreactive drive (1 = enrolment)"), ("gut_gvhd", "gut involvement"),
               ("skin_gvhd", "skin involvement"), ("liver_gvhd", "liver involvement"),
               ("stool_ml_kg", "stool (mL/kg/day)"), ("bilirubin_out", "bilirubin (mg/dL)"),
               ("erythema_bsa", "active erythema (% BSA)"), ("survival", "survival probability")]
SUMMARY_ENDPOINTS = ["gvhd_grade", "gvhd_orr", "gvhd_cr", "lower_gi_stage", "survival"]
#: the one constant `mscsim calibrate --disease gvhd` fits (records: role calibration): how much of the
#: inflammation MSCs suppress directly
#: standard of care (``background: [...]``; docs/disease-modules.md): what every SR-aGvHD patient
#: of the shipped trials got; stable (inside the calibrated natural history), so it sets nothing
BACKGROUND = {b.name: b for b in [
    Background("steroids_bat", "corticosteroids continued and tapered, with second-line best available therapy at "
               "the centre's discretion: the slow fade of the alloreactive drive (k_tol_gvhd) and the survival of "
               "untreated patients are set on such patients, so nothing changes", {},
               "REACH2 best available therapy arm (Zeiser 2020 N Engl J Med 382:1800, PMID 32320566) sets h_org_gvhd/"
               "h0_gvhd; MSB-GVHD001 (Kurtzberg 2020) and TEMCELL (Muroi 2016) kept steroids"),
]}
#: the background an arm gets when it lists none, per subtype
DEFAULT_BACKGROUND = {"adult": ("steroids_bat",), "pediatric": ("steroids_bat",)}
CALIBRATION_PARAMETERS = ["f_immune_gvhd"]
#: tools/calibrate_baselines.py: free constants, baseline targets of the typical patient, sources
BASELINE_TARGETS = (
    {"S_ref_gvhd_t": (0.1, 500.0), "S_ref_gvhd_s": (0.1, 500.0)},
    {"gut_gvhd": (1.0, 0.01), "skin_gvhd": (0.6, 0.01)},
    "organ involvement 1 (gut) defines the typical patient with full gut susceptibility; skin at its "
    "typical susceptibility w_skin_gvhd (design)",
)


def compose(m, body, layers, *, species, subtype) -> KineticsHandles:
    p = {n: P(m, n, species) for n in (
        "allo0_gvhd", "D_gvhd_s", "D_gvhd_t", "k_tol_gvhd", "a_msc_gvhd",
        "w_tnf_gvhd", "w_ifng_gvhd", "w_il17_gvhd", "S_ref_gvhd_t", "S_ref_gvhd_s", "f_immune_gvhd",
        "w_gut_gvhd", "w_skin_gvhd", "w_liver_gvhd", "k_gut_gvhd", "k_skin_gvhd", "k_liver_gvhd",
        "a_troph_gvhd", "K_troph_gvhd", "K_sdf1_gvhd",
        "stool_h_gvhd", "stool_a_gvhd", "K_bsa_gvhd", "bil_h_gvhd", "bil_a_gvhd",
        "x0_gut_gvhd", "x0_skin_gvhd", "x0_liver_gvhd",
        "K_severe_gi_gvhd", "K_bullae_gvhd", "K_ugi_gvhd",
        "h0_gvhd", "h_org_gvhd", "c_skin_death_gvhd", "c_liver_death_gvhd", "n_death_gvhd",
        "f_h_child_gvhd")}
    allo = m.state("allo", unit="1", group="disease", init=1.0, atol=1e-9, init_mode="param:allo0_gvhd",
                   desc="alloreactive drive of donor T cells (1 = typical steroid-refractory patient at enrolment)")
    gut = m.state("gut_gvhd", unit="1", group="disease", init=1.0, atol=1e-8, init_mode="steady",
                  desc="gut involvement (1 = typical patient with full gut susceptibility)")
    skin = m.state("skin_gvhd", unit="1", group="disease", init=0.6, atol=1e-8, init_mode="steady",
                   desc="skin involvement")
    liv = m.state("liver_gvhd", unit="1", group="disease", init=0.4, atol=1e-8, init_mode="steady",
                  desc="liver involvement (cholestatic)")
    S = m.state("survival", unit="probability", group="disease", init=1.0, atol=1e-9,
                desc="probability of being alive")

    sdf1 = m.rule("sdf1_target", gut / (gut + p["K_sdf1_gvhd"]), unit="1",
                  desc="SDF-1 (CXCL12) signal of the GvHD-inflamed gut wall, 0..1",
                  source="[design form, as ibd] inflamed gut mucosa makes CXCL12", output=True)
    kin = layers.kinetics(sdf1)
    imm = layers.immune(kin, drive_s=p["D_gvhd_s"] * allo, drive_t=p["D_gvhd_t"] * allo, species=species)

    m.rate(allo, -p["k_tol_gvhd"] * (1 + p["a_msc_gvhd"] * imm.memory) * allo,
           desc="the alloreactive drive fades slowly after steroid failure; faster with MSC-educated phagocytes",
           source="steroid-refractory course (REACH2 best available therapy, Zeiser 2020 N Engl J Med 382:1800, "
                  "PMID 32320566) [form: design]; MSC effect needs MSC apoptosis by recipient cytotoxic cells "
                  "(Galleu 2017 Sci Transl Med, PMID 29141887)")

    def excess(c):
        return (p["w_tnf_gvhd"] * (ratio_to_healthy(imm, c, "tnf") - 1)
                + p["w_ifng_gvhd"] * (ratio_to_healthy(imm, c, "ifng") - 1)
                + p["w_il17_gvhd"] * (ratio_to_healthy(imm, c, "il17") - 1))
    f = p["f_immune_gvhd"]
    e_t = m.rule("gvhd_inflammation_gut", f * sp.Max(excess("t"), 0) / p["S_ref_gvhd_t"] + (1 - f) * allo,
                 unit="1", desc="alloimmune inflammation of the gut wall (1 = typical patient): the CD4/macrophage "
                                "cytokine part of the immune network plus direct cytotoxicity that follows the "
                                "alloreactive drive",
                 source="TNF-alpha, IFN-gamma (Th1), IL-17 and CD8 cytotoxic T cells drive acute GvHD tissue damage "
                        "(Ferrara JL et al. Lancet 2009;373:1550, PMID 19282026) [weights and share: design, share "
                        "fitted by mscsim calibrate]", output=True)
    e_s = m.rule("gvhd_inflammation_systemic", f * sp.Max(excess("s"), 0) / p["S_ref_gvhd_s"] + (1 - f) * allo,
                 unit="1", desc="systemic alloimmune inflammation reaching skin and liver (1 = typical patient)",
                 source="as gvhd_inflammation_gut [design]", output=True)
    dens = imm.local_msc_density
    X = m.rule("msc_trophic_gvhd", dens / (dens + p["K_troph_gvhd"]), unit="1",
               desc="trophic signal of viable MSCs in the gut wall, 0..1",
               source="[design] MSC secretome promotes epithelial repair (as ibd)", output=True)
    m.rate(gut, p["k_gut_gvhd"] * (p["w_gut_gvhd"] * e_t - gut * (1 + p["a_troph_gvhd"] * X)),
           desc="gut involvement follows the gut-wall inflammation times gut susceptibility; MSCs aid repair",
           source="[design] crypt renewal ~5 days (van der Flier & Clevers 2009, PMID 18808327) sets a ~1-week "
                  "time scale")
    m.rate(skin, p["k_skin_gvhd"] * (p["w_skin_gvhd"] * e_s - skin),
           desc="skin involvement follows systemic inflammation times skin susceptibility",
           source="[design] epidermal turnover of weeks")
    m.rate(liv, p["k_liver_gvhd"] * (p["w_liver_gvhd"] * e_s - liv),
           desc="liver involvement (bile-duct injury) follows systemic inflammation times liver susceptibility",
           source="[design] cholestasis resolves over weeks")

    # --- clinical read-outs: involvement above a subclinical level shows as organ disease ---
    def clinical(x, x0):
        return sp.Max(x - p[x0], 0)
    stool = m.rule("stool_ml_kg", p["stool_h_gvhd"] + p["stool_a_gvhd"] * clinical(gut, "x0_gut_gvhd"),
                   unit="mL/kg/day", desc="stool output per kg body weight",
                   source="[design] linear in gut involvement above its subclinical level", output=True)
    m.rule("stool_ml_day", stool * m.symbol("BW"), unit="mL/day", desc="stool output", source="read-out",
           output=True)
    sk = clinical(skin, "x0_skin_gvhd")
    m.rule("erythema_bsa", 100 * sk / (sk + p["K_bsa_gvhd"]), unit="%",
           desc="active erythema, % of body surface area",
           source="[design] saturating in skin involvement above its subclinical level", output=True)
    m.rule("bilirubin_out", p["bil_h_gvhd"] + p["bil_a_gvhd"] * clinical(liv, "x0_liver_gvhd"), unit="mg/dL",
           desc="serum total bilirubin", source="[design] linear in liver involvement above its subclinical level",
           output=True)
    gc = clinical(gut, "x0_gut_gvhd")
    for name, x, K, desc in (("p_severe_gi", gc, p["K_severe_gi_gvhd"],
                              "probability of grossly bloody stool or ileus (lower-GI stage 4)"),
                             ("p_bullae", sk, p["K_bullae_gvhd"],
                              "probability of bullae/desquamation > 5 % BSA (skin stage 4)")):
        m.rule(name, x**4 / (K**4 + x**4), unit="probability", desc=desc,
               source="[design] steep Hill in clinical involvement", output=True)
    m.rule("p_upper_gi", gc**2 / (p["K_ugi_gvhd"]**2 + gc**2), unit="probability",
           desc="probability of persistent nausea, vomiting or anorexia (upper-GI stage 1)",
           source="[design] upper-GI involvement accompanies clinical gut disease", output=True)

    # --- survival ---
    burden = m.rule("gvhd_burden", gut + p["c_skin_death_gvhd"] * skin + p["c_liver_death_gvhd"] * liv, unit="1",
                    desc="organ burden of GvHD weighted for mortality (gut most)",
                    source="gut and liver stage dominate aGvHD mortality (MAGIC, Harris 2016 PMID 26386318; "
                           "IBMTR index, Rowlings 1997 PMID 9217188) [weights: design]", output=True)
    child = p["f_h_child_gvhd"] if subtype == "pediatric" else 1
    h = m.rule("death_hazard", child * (p["h0_gvhd"] + p["h_org_gvhd"] * burden ** p["n_death_gvhd"]),
               unit="1/day", desc="death hazard: background (relapse, infection) + GvHD organ burden",
               source="h_org/h0 set so untreated adults have the survival of REACH2 best available therapy "
                      "(median 6.5 months, PMID 32320566) [form: design]", output=True)
    m.rate(S, -h * S, desc="survival", source="dS/dt = -h(t) S (docs/disease-modules.md)")
    m.rule("pediatric_gvhd", sp.Integer(1 if subtype == "pediatric" else 0), unit="1",
           desc="1 for the paediatric subtype (MAGIC stages a child's stool per kg)", source="subtype", output=True)
    for s in ("allo", "gut_gvhd", "skin_gvhd", "liver_gvhd", "survival"):
        m.output(s)
    return kin


def _stages(skin_bsa, bullae, bil, stool_ml_day, stool_ml_kg, severe_gi, upper, pediatric: bool):
    if pediatric:
        lgi = scores.gvhd_lower_gi_stage(stool_ml_kg, severe_gi, child_weight_kg=1.0)
    else:
        lgi = scores.gvhd_lower_gi_stage(stool_ml_day, severe_gi)
    return {"skin": scores.gvhd_skin_stage(skin_bsa, bullae), "liver": scores.gvhd_liver_stage(bil),
            "upper_gi": np.asarray(upper, dtype=float), "lower_gi": lgi}


def observe(out, rng=None) -> dict[str, np.ndarray]:
    """Organ stages, grade and index at each time (visit noise on the measurements when ``rng`` is
    given; stage-4 features, upper-GI symptoms and death drawn with one uniform per patient each)."""
    from mscsim import parameters as P_

    v = P_.value
    n = len(out)
    pediatric = bool(out["pediatric_gvhd"][0] > 0.5)
    bw = out["stool_ml_day"].to_numpy(dtype=float) / np.maximum(out["stool_ml_kg"].to_numpy(dtype=float), 1e-12)
    # the rash is estimated in whole percent of body surface area (rule of nines); the estimate's error
    # scales with the rash (no rash reads as none)
    bsa = np.round(np.clip(lognoise(rng, out["erythema_bsa"], v("cv_bsa_gvhd")), 0, 100))
    bil = lognoise(rng, out["bilirubin_out"], v("cv_bil_gvhd"))
    st_kg = np.maximum(lognoise(rng, out["stool_ml_kg"], v("cv_stool_gvhd")), 0)
    st_day = st_kg * bw
    if rng is None:
        severe = out["p_severe_gi"].to_numpy() >= 0.5
        bullae = out["p_bullae"].to_numpy() >= 0.5
        upper = out["p_upper_gi"].to_numpy() >= 0.5
        alive = out["survival"].to_numpy(dtype=float)
    else:
        u_gi, u_sk, u_up, u_death = rng.uniform(size=4)
        severe = u_gi < out["p_severe_gi"].to_numpy()
        bullae = u_sk < out["p_bullae"].to_numpy()
        upper = u_up < out["p_upper_gi"].to_numpy()
        alive = (u_death >= 1 - out["survival"].to_numpy(dtype=float)).astype(float)
    st = _stages(bsa, bullae, bil, st_day, st_kg, severe, upper, pediatric)
    grade = scores.magic_grade(st["skin"], st["liver"], st["upper_gi"], st["lower_gi"])
    return {
        "skin_stage": st["skin"].astype(float), "liver_stage": st["liver"].astype(float),
        "upper_gi_stage": st["upper_gi"].astype(float), "lower_gi_stage": st["lower_gi"].astype(float),
        "gvhd_grade": grade.astype(float),
        "ibmtr_index": scores.ibmtr_index(st["skin"], st["liver"], st["lower_gi"]).astype(float),
        "grade_3_4": (grade >= 3).astype(float),
        "bilirubin": bil, "stool_volume": st_day, "erythema_bsa": bsa,
        "survival": alive, "nrm": 1 - alive,
    }


def responders(obs, baseline) -> dict[str, np.ndarray]:
    """CR, PR, ORR versus the baseline organ stages (a patient who has died is a non-responder),
    and the organ complete responses (NaN for a patient without that organ involved at baseline,
    so the proportion is among the involved)."""
    n = len(obs)
    keys = {"skin": "skin_stage", "liver": "liver_stage", "upper_gi": "upper_gi_stage", "lower_gi": "lower_gi_stage"}
    base = {o: np.full(n, baseline[k]) for o, k in keys.items()}
    cur = {o: obs[k].to_numpy(dtype=float) for o, k in keys.items()}
    alive = obs["survival"].to_numpy(dtype=float) > 0.5
    r = scores.gvhd_response(base, cur)
    out = {"gvhd_cr": ((r == "CR") & alive).astype(float), "gvhd_pr": ((r == "PR") & alive).astype(float)}
    out["gvhd_orr"] = out["gvhd_cr"] + out["gvhd_pr"]
    for organ, name in (("lower_gi", "gut_cr"), ("skin", "skin_cr"), ("liver", "liver_cr")):
        involved = base[organ] > 0
        out[name] = np.where(involved, ((cur[organ] == 0) & alive).astype(float), np.nan)
    return out
