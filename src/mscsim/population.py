"""Virtual patients: covariates, inter-individual variability, own baselines, and screening.

Each candidate patient draws covariates (body weight, age) and log-normal random effects on
every parameter whose table entry has an ``iiv_cv`` (median = the table value), from a seed
derived from (scenario seed, arm, candidate number): the same scenario and seed give the same
patients whatever the number of workers. Each patient starts at his own untreated steady
state; inclusion criteria are applied to the values measured at a screening visit (with the
visit noise of the module's ``observe``), and candidates are screened until the arm is full.
The baseline visit (day 0) is a separate noisy measurement, so regression to the mean between
screening and later visits emerges as it does in real trials. Binary traits (e.g. forming
anti-donor antibodies, ``BINARY_TRAITS``) are drawn from their own stream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mscsim import parameters
from mscsim.errors import MscsimError
from mscsim.scenario import CovariateSpec, Scenario, parse_criterion

DEFAULT_COVARIATES = {
    "weight_kg": CovariateSpec(mean=70.0, sd=12.0, min=40.0, max=140.0),
    "age": CovariateSpec(min=18.0, max=75.0),
}
MAX_SCREEN_FACTOR = 200  # give up when this many candidates per enrolled patient fail screening


@dataclass
class VirtualPatient:
    """One enrolled (or screened) virtual patient."""

    arm: str
    index: int                    # within the arm, 0..n-1
    candidate: int                # candidate number in the arm's screening stream
    covariates: dict[str, float]
    params: dict[str, float]      # parameter overrides (random effects)
    noise_seed: tuple             # SeedSequence entropy for visit noise
    baseline: dict = field(default_factory=dict)   # values measured at the screening visit
    #: model inputs of this patient beyond random effects: binary traits, background therapy, design
    settings: dict = field(default_factory=dict)

    @property
    def pid(self) -> str:
        return f"{self.arm}-{self.index:05d}"


def iiv_table(model_params) -> dict[str, float]:
    """Parameters of this model that vary between patients: name -> CV."""
    reg = parameters.registry()
    return {n: reg[n].iiv_cv for n in model_params if n in reg and reg[n].iiv_cv}


def _draw_covariate(rng: np.random.Generator, spec: CovariateSpec) -> float:
    if spec.mean is None:
        return float(rng.uniform(spec.min, spec.max))
    lo = -math.inf if spec.min is None else spec.min
    hi = math.inf if spec.max is None else spec.max
    for _ in range(1000):
        x = float(spec.mean + (spec.sd or 0.0) * rng.standard_normal())
        if lo <= x <= hi:
            return x
    raise MscsimError("covariate distribution leaves almost no mass inside [min, max]", field="covariates")


def draw_candidate(seed: int, arm_index: int, k: int, covariates: dict[str, CovariateSpec],
                   iiv: dict[str, float], typical: dict[str, float]) -> tuple[dict, dict, tuple]:
    """Covariates, random-effect parameters and a noise seed for candidate ``k`` of an arm."""
    ss = np.random.SeedSequence(entropy=seed, spawn_key=(arm_index, k))
    rng = np.random.default_rng(ss)
    cov = {name: _draw_covariate(rng, spec) for name, spec in covariates.items()}
    reg = parameters.registry()
    params = {}
    for name in sorted(iiv):
        omega = math.sqrt(math.log(1.0 + iiv[name] ** 2))
        v = typical[name] * math.exp(omega * rng.standard_normal())
        b = reg[name].bounds
        if b is not None:
            v = min(max(v, b[0]), b[1])
        params[name] = v
    return cov, params, (seed, arm_index, k, 1)


#: 0/1 model inputs drawn per patient: input parameter -> table parameter giving its probability
BINARY_TRAITS = {"allo_sensitised": "p_allo_sensitised"}


def draw_traits(seed: int, arm_index: int, k: int, model_params) -> dict[str, float]:
    """Binary traits of candidate ``k`` (own random stream: adding one changes no other draw)."""
    rng = np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=(arm_index, k, 2)))
    out = {}
    for name in sorted(BINARY_TRAITS):
        if name in model_params:
            out[name] = float(rng.random() < parameters.value(BINARY_TRAITS[name]))
    return out


def screening_rng(noise_seed: tuple) -> np.random.Generator:
    """Visit noise of the screening visit: a stream apart from the trial visits' (``noise_seed``)."""
    return np.random.default_rng(np.random.SeedSequence(entropy=list(noise_seed), spawn_key=(9,)))


def covariate_specs(scenario: Scenario, module) -> dict[str, CovariateSpec]:
    specs = dict(DEFAULT_COVARIATES)
    specs.update(getattr(module, "COVARIATES", {}))
    specs.update(scenario.population.covariates)
    return specs


def inclusion_mask(frame: pd.Series | dict, covariates: dict, inclusion: dict) -> bool:
    """Whether one candidate meets every criterion (criteria on endpoints or covariates)."""
    for key, crit in inclusion.items():
        lo, hi, lo_inc, hi_inc = parse_criterion(f"population.inclusion.{key}", crit)
        x = covariates[key] if key in covariates else frame[key]
        x = float(x)
        if not (x > lo or (lo_inc and x == lo)) or not (x < hi or (hi_inc and x == hi)):
            return False
    return True
