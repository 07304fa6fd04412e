"""Safety read-outs of a trial arm: adverse events per patient, then risk and risk ratio per arm
(docs/safety.md; issue 17 items 3-4).

The ODE model holds no adverse events. This layer turns what it does hold (the regimen's routes,
doses and products; the model's lung-occlusion signal and anti-donor antibody state) into events
per virtual patient, each an explicit mechanism or an event model with a sourced rate
(parameter table, layer ``safety``):

- ``fever``, ``infusion_reaction``: a per-infusion risk (from individual trials' counts) on top of
  a background risk of patients without MSCs; an intrathecal or local dose carries part of it.
- ``thrombosis``: per intravascular infusion, risk proportional to dose per kg x product tissue
  factor (CD142, the trigger of the instant blood-mediated inflammatory reaction; Moll 2019 PMID
  30711482); intrathecal and local cells do not meet blood (Hoang 2024: no D-dimer change).
- ``d_dimer`` (ng/mL): baseline x (1 + rise after each intravascular dose, peak at 24 h, back at
  48 h; Hoang 2024 doi:10.1186/s13287-023-03582-3), rise proportional to the dose per kg x tissue
  factor above a threshold load (no rise for BM-MSC at 1-3e6/kg, Moll 2012 doi:10.1002/stem.1111).
- ``lung_embolism``: probability from the model's peak ``lung_occlusion`` signal (dose x
  diameter^3 of the lung-trapped cells), Weibull steepness from the intra-arterial infarcts of
  Ge 2014 (PMID 24390934: 17.9 vs 30.4 um cells, 1/5 vs 5/5).
- ``dsa``: donor-specific antibodies when the model's ``anti_donor`` index (sensitised patient x
  allogeneic product, population trait ``allo_sensitised`` ~ 11.5 %) passes a threshold.
- ``infection``, ``death``, ``malignancy``: the NULL model, a background risk with no MSC term
  (the meta-analyses found no excess). Disease modules with a mortality endpoint carry their own.

Risks are per patient over the trial's follow-up (day 0 to the last endpoint time). Each patient's
draws come from his own random stream, so results do not depend on the number of workers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from mscsim import parameters
from mscsim.diseases.base import SAFETY_ENDPOINTS
from mscsim.streams import generators

#: continuous safety read-outs
MARKERS: tuple[str, ...] = ("d_dimer",)
#: 0/1 safety events (endpoints of every disease, declared in diseases.base), in a fixed order (the draw order)
EVENTS: tuple[str, ...] = tuple(e for e in SAFETY_ENDPOINTS if e not in MARKERS)
#: events with no MSC term (null model)
NULL_EVENTS: tuple[str, ...] = ("infection", "death", "malignancy")
#: share of a dose that meets blood right away, by route (IT and local cells do not: Hoang 2024)
BLOOD_CONTACT = {"iv": 1.0, "intra_arterial": 1.0, "intraportal": 1.0, "intrathecal": 0.0, "local": 0.0}
#: extra output times after each infusion (days) to catch the peak lung occlusion
PEAK_OFFSETS = np.array([1.0, 5.0, 15.0, 60.0, 240.0]) / 1440.0
_REF_PER_KG = 1e6


@lru_cache(maxsize=None)
def _p(name: str) -> float:
    """A safety parameter's table value (memoised: the table is read once per process, and a trial
    asks for ~20 values per patient)."""
    return parameters.value(name)


def _tissue_factor(product: str) -> float:
    """The product's tissue factor (CD142) relative to BM-MSC (1 when the table has none)."""
    from mscsim.products import get_product

    return float(getattr(get_product(product), "tissue_factor", 1.0))


def dose_tissue_factor(dose) -> float:
    """Tissue factor of one dose line: its product with any inline attributes (``product_spec``
    where the dose has one), else the named product of the table."""
    spec = getattr(dose, "product_spec", None)
    if spec is not None:
        return float(getattr(spec, "tissue_factor", 1.0))
    return _tissue_factor(dose.product)


def regimen_administrations(regimen, weight_kg: float) -> list[tuple]:
    """(administration, tissue factor) of every infusion of ``regimen``, in time order (each dose
    line expanded by ``Regimen.administrations``, so the cells given are the same)."""
    out = []
    for d in regimen.doses:
        tf = dose_tissue_factor(d)
        out += [(a, tf) for a in type(regimen)((d,)).administrations(weight_kg)]
    return sorted(out, key=lambda x: x[0].start)


def safety_times(admins) -> np.ndarray:
    """Output times that resolve the lung-occlusion peak of each infusion (dense output: adding
    them does not change the integration). Read-only: one array per infusion schedule."""
    return _safety_times(tuple((a.start, a.duration, a.end) for a in admins))


@lru_cache(maxsize=256)
def _safety_times(schedule: tuple) -> np.ndarray:
    out = np.unique(np.concatenate([end + PEAK_OFFSETS for _, _, end in schedule]
                                   + [start + duration * np.array([0.5, 1.0]) for start, duration, _ in schedule])
                    ) if schedule else np.empty(0)
    out.flags.writeable = False
    return out


@dataclass
class PatientSafety:
    """One patient's safety: ``risk`` (probability of each event by the end of follow-up),
    ``onset`` (day of his drawn event, inf = none), D-dimer baseline and rises."""

    risk: dict[str, float]
    onset: dict[str, float]
    d_dimer_base: float
    dd_rises: tuple[tuple[float, float], ...]   # (infusion day, fold rise at its peak)

    def d_dimer(self, t) -> np.ndarray:
        """Serum D-dimer (ng/mL) at days ``t``: log-normal bump around ``d_dimer_peak_days`` after
        each intravascular dose."""
        t = np.asarray(t, dtype=float)
        peak, width = _p("d_dimer_peak_days"), _p("d_dimer_width")
        fold = np.ones_like(t)
        for t0, rise in self.dd_rises:
            dt = t - t0
            ok = dt > 0
            fold[ok] += rise * np.exp(-np.log(dt[ok] / peak) ** 2 / (2 * width * width))
        return self.d_dimer_base * fold

    def columns(self, t) -> dict[str, np.ndarray]:
        """Endpoint columns at days ``t``: 0/1 per event (1 from its onset on) and ``d_dimer``."""
        t = np.asarray(t, dtype=float)
        out = {e: (t >= self.onset[e]).astype(float) for e in EVENTS}
        out["d_dimer"] = self.d_dimer(t)
        return out

    def d_dimer_peak(self) -> float:
        """Highest D-dimer within 3 days after any dose (baseline when there is none)."""
        if not self.dd_rises:
            return self.d_dimer_base
        t = np.concatenate([t0 + np.linspace(0.05, 3.0, 60) for t0, _ in self.dd_rises])
        return float(np.max(self.d_dimer(t)))


def safety_rng(noise_seed: tuple) -> np.random.Generator:
    """The patient's safety stream, apart from his visit noise and screening streams."""
    return safety_rngs([noise_seed])[0]


def safety_rngs(noise_seeds: list) -> list[np.random.Generator]:
    """`safety_rng` of each noise seed, made together (`streams.generators`: the same streams)."""
    return generators([(list(s), (7,)) for s in noise_seeds])


def patient_safety(admins, weight_kg: float, horizon: float, rng: np.random.Generator, *,
                   lung_peak: tuple[float, float] = (0.0, 0.0),
                   anti_donor: tuple[np.ndarray, np.ndarray] | None = None) -> PatientSafety:
    """Events of one patient given his administrations (``regimen.administrations``, or
    (administration, tissue factor) pairs from `regimen_administrations`), body weight (kg),
    follow-up ``horizon`` (days), the peak of the model's ``lung_occlusion`` signal as (value,
    day) and the ``anti_donor`` index as (days, values)."""
    pairs = [x if isinstance(x, tuple) else (x, None) for x in admins]
    given = [(a, tf) for a, tf in pairs if a.start <= horizon]
    per_inf: dict[str, list[tuple[float, float]]] = {e: [] for e in ("fever", "infusion_reaction", "thrombosis")}
    dd = []
    p_fev, p_ir, p_thr = _p("fever_per_infusion"), _p("infusion_reaction_per_infusion"), \
        _p("thrombosis_per_infusion_ref")
    f_nonvasc = _p("fever_nonvascular_factor")
    for a, tf in given:
        blood = BLOOD_CONTACT[a.route]
        tf = _tissue_factor(a.product) if tf is None else tf
        load = a.cells / weight_kg / _REF_PER_KG * tf * blood   # per kg, in reference units, x TF
        share = blood + (1.0 - blood) * f_nonvasc
        per_inf["fever"].append((a.start + 0.25, p_fev * share))
        per_inf["infusion_reaction"].append((a.start + 1.0 / 24.0, p_ir * share))
        per_inf["thrombosis"].append((a.start + 1.0, min(1.0, p_thr * load)))
        excess = load - _p("d_dimer_load_threshold")
        if excess > 0:
            dd.append((a.start, _p("d_dimer_rise_ref") * excess))
    occ, t_occ = lung_peak
    p_lung = 1.0 - math.exp(-math.log(2.0) * (max(occ, 0.0) / _p("lung_embolism_occ50")) ** _p("lung_embolism_hill"))
    risk, onset = {}, {}
    # fixed number of draws per event and infusion, in a fixed order (determinism); drawn at once,
    # the same numbers as one call each (a generator's uniform doubles come in sequence either way)
    u = iter(rng.random(2 * len(EVENTS) + sum(len(per_inf.get(e, ())) for e in EVENTS)
                        + ("lung_embolism" in EVENTS)).tolist())
    for e in EVENTS:
        bg = _p(f"{e}_background") if e in ("fever", "infusion_reaction", "thrombosis") + NULL_EVENTS else 0.0
        u_bg, t_bg = next(u), next(u) * horizon
        times = [t_bg] if u_bg < bg else []
        stay = 1.0 - bg
        for t_k, p_k in per_inf.get(e, []):
            if next(u) < p_k:
                times.append(t_k)
            stay *= 1.0 - p_k
        if e == "lung_embolism":
            if next(u) < p_lung:
                times.append(t_occ)
            stay *= 1.0 - p_lung
        if e == "dsa" and anti_donor is not None:
            t_ab, ab = anti_donor
            pos = np.nonzero((ab >= _p("dsa_threshold")) & (t_ab <= horizon))[0]
            if len(pos):
                times.append(float(t_ab[pos[0]]))
                stay = 0.0
        risk[e] = 1.0 - stay
        onset[e] = min(times) if times else math.inf
    base = _p("d_dimer_baseline")
    cv = _p("d_dimer_baseline_cv")
    omega = math.sqrt(math.log(1.0 + cv * cv))
    d0 = base * math.exp(omega * rng.standard_normal())
    return PatientSafety(risk, onset, d0, tuple(dd))


def _ratio(a: float, b: float) -> float | None:
    return a / b if b > 0 else None


def _odds_ratio(a: float, b: float) -> float | None:
    if not (0 < a < 1 and 0 < b < 1):
        return None
    return (a / (1 - a)) / (b / (1 - b))


def _nanmean(v: np.ndarray) -> float:
    """Mean of the non-NaN values, NaN if there is none (pandas' ``Series.mean``; numpy's
    ``nanmean`` without its warning on an all-NaN slice)."""
    return float(np.nanmean(v)) if (~np.isnan(v)).any() else float("nan")


def arm_block(table, arms: list[str], control: str) -> dict:
    """The summary's ``safety`` block from the per-patient table (columns arm, risk_<event>,
    event_<event>, d_dimer_peak: a DataFrame or a dict of columns): per arm, events (drawn), risk
    (mean probability: the expectation, free of the draw's Monte-Carlo noise), and the risk and odds
    ratios vs control. NumPy on the columns (a trial under uncertainty computes it per draw)."""
    out = {"control_arm": control, "null_model": list(NULL_EVENTS), "arms": []}
    if table is None or len(table["arm"] if isinstance(table, dict) else table) == 0:
        return out
    arm_of = np.asarray(table["arm"], dtype=object)
    ctrl = arm_of == control
    n_ctrl = int(ctrl.sum())
    risk = {e: np.asarray(table[f"risk_{e}"], dtype=float) for e in EVENTS}
    drawn = {e: np.asarray(table[f"event_{e}"], dtype=float) for e in EVENTS}
    dd = np.asarray(table["d_dimer_peak"], dtype=float)
    rc_of = {e: _nanmean(risk[e][ctrl]) if n_ctrl else None for e in EVENTS}
    for arm in arms:
        sel = arm_of == arm
        n = int(sel.sum())
        events = {}
        for e in EVENTS:
            r = _nanmean(risk[e][sel]) if n else None
            rc = rc_of[e]
            k = int(np.where(np.isnan(drawn[e][sel]), 0.0, drawn[e][sel]).sum())
            events[e] = {"events": k, "observed_risk": k / n if n else None, "risk": r,
                         "risk_ratio": None if arm == control or r is None or rc is None else _ratio(r, rc),
                         "odds_ratio": None if arm == control or r is None or rc is None else _odds_ratio(r, rc)}
        out["arms"].append({"name": arm, "n": n, "events": events,
                            "d_dimer_peak_mean": _nanmean(dd[sel]) if n else None,
                            "d_dimer_over_500": float((dd[sel] >= 500.0).mean()) if n else None})
    return out
