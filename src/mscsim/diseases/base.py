"""What every disease module provides, and the helpers they share.

A disease module (``mscsim.diseases.<name>``) defines:

- ``NAME``, ``TARGET`` (target tissue, see data/physiology.yaml), ``SUBTYPES``, ``DEFAULT_SUBTYPE``;
- ``ENDPOINTS``: its endpoint names (design.md contract) with kind and unit;
- ``compose(m, body, *, species, subtype, d_cell, cxcr4) -> ComposedModel``: declares the
  disease states, derives the SDF-1 signal from tissue damage (homing), adds kinetics and the
  immune network with the disease's autoimmune drive, then the disease equations and the
  clinical read-outs (exact score formulas from ``mscsim.scores``);
- ``observe(out, rng=None) -> DataFrame``: clinical measurements at each time from the model
  read-outs, with visit-to-visit measurement noise when ``rng`` is given, and the scores;
- ``responders(obs, baseline) -> DataFrame``: endpoints that compare with baseline (ACR20,
  EULAR response, CDAI response, ...), as 0/1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mscsim.equations import OdeModel
from mscsim.kinetics.common import P

ORGAN_PCT = ("lung", "liver", "spleen")


@dataclass(frozen=True)
class Endpoint:
    """One endpoint: ``stat`` is 'mean' (continuous) or 'proportion' (0/1 per patient)."""

    name: str
    stat: str
    unit: str
    desc: str


COMMON_ENDPOINTS: dict[str, Endpoint] = {e.name: e for e in [
    Endpoint("msc_blood", "mean", "cells/mL", "free viable MSCs in blood"),
    Endpoint("msc_lung_pct", "mean", "% of dose", "viable MSCs in the lungs"),
    Endpoint("msc_liver_pct", "mean", "% of dose", "viable MSCs in the liver"),
    Endpoint("msc_spleen_pct", "mean", "% of dose", "viable MSCs in the spleen"),
    Endpoint("msc_target_pct", "mean", "% of dose", "viable MSCs in the target tissue"),
    Endpoint("tnf", "mean", "pg/mL", "serum TNF-alpha"),
    Endpoint("ifng", "mean", "pg/mL", "serum IFN-gamma"),
    Endpoint("il17", "mean", "pg/mL", "serum IL-17A"),
    Endpoint("il6", "mean", "pg/mL", "serum IL-6"),
    Endpoint("il10", "mean", "pg/mL", "serum IL-10"),
    Endpoint("il4", "mean", "pg/mL", "serum IL-4"),
    Endpoint("tgfb", "mean", "pg/mL", "plasma TGF-beta1"),
    Endpoint("th17_pct", "mean", "% of CD4", "blood Th17 cells"),
    Endpoint("treg_pct", "mean", "% of CD4", "blood regulatory T cells"),
    Endpoint("th17_treg_ratio", "mean", "1", "blood Th17/Treg ratio"),
    Endpoint("lung_occlusion", "mean", "1", "lung-occlusion signal (1 = lung load that killed mice)"),
    Endpoint("survival", "proportion", "0/1", "alive at the time point"),
]}


def label_endpoint(name: str) -> Endpoint | None:
    """``label_<organ>_pct`` endpoints (viable + debris, for imaging)."""
    from mscsim.physiology import ORGANS

    if name.startswith("label_") and name.endswith("_pct"):
        organ = name[len("label_"):-len("_pct")]
        if organ in ORGANS or organ in ("target", "blood"):
            return Endpoint(name, "mean", "% of dose", f"MSC label in {organ}")
    return None


def add_placebo(m: OdeModel, disease: str, species: str = "human"):
    """Placebo/participation response state ``placebo`` (0..1) that rises once a patient is in a
    trial (``trial_on`` = 1, both arms) towards ``placebo_max_<disease>``; subjective read-outs use it."""
    trial_on = m.param("trial_on", 0.0, unit="1", desc="1 while the patient is in a trial (placebo/participation)",
                       source="set by the trial runner", kind="input")
    k = P(m, f"k_placebo_{disease}", species)
    pmax = P(m, f"placebo_max_{disease}", species)
    plc = m.state("placebo", unit="fraction", group="disease", init=0.0, atol=1e-9,
                  desc="placebo/participation response (0..1)")
    m.rate(plc, k * (trial_on * pmax - plc), desc="placebo response builds up during a trial",
           source="indirect-response placebo model (Ma 2020 Clin Pharmacokinet 59:1451, PMID 32451909) [design]")
    return plc


def gauss(rng, x, sd):
    """x + N(0, sd) (no noise when rng is None)."""
    x = np.asarray(x, dtype=float)
    return x if rng is None else x + rng.normal(0.0, 1.0, size=x.shape) * sd


def lognoise(rng, x, cv):
    """x * exp(N(0, cv) - cv^2/2) (mean-preserving; no noise when rng is None)."""
    x = np.asarray(x, dtype=float)
    return x if rng is None else x * np.exp(rng.normal(0.0, cv, size=x.shape) - cv * cv / 2)


def observe_common(out: pd.DataFrame) -> pd.DataFrame:
    """Common endpoints (kinetics, cytokines, T cells) straight from the read-outs."""
    cols = [c for c in out.columns if c in COMMON_ENDPOINTS or label_endpoint(c)]
    obs = out[cols].copy()
    if "survival" not in obs:
        obs["survival"] = 1.0
    return obs


def endpoint_frame(module, out: pd.DataFrame, rng=None) -> pd.DataFrame:
    """Every endpoint at every time of ``out`` (first row = baseline): common + disease + responders."""
    obs = observe_common(out)
    dis = module.observe(out, rng)
    # a disease's own observation (e.g. survival drawn as 0/1) replaces the common read-out
    obs = pd.concat([obs.drop(columns=[c for c in obs.columns if c in dis.columns]), dis], axis=1)
    resp = module.responders(obs, obs.iloc[0])
    return pd.concat([obs, resp], axis=1)
