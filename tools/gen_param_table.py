"""Regenerate docs/parameters.md, docs/equations.md and docs/calibration.md from the code (one source of truth)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mscsim.model import DISEASES, build_model
from mscsim.paramdocs import calibration_markdown, equations_markdown, parameter_table_markdown

ROOT = Path(__file__).resolve().parents[1]


def models():
    out = [("Kinetics with an injured liver", build_model(None, "liver").symbolic().ode)]
    for d in DISEASES:
        if importlib.util.find_spec(f"mscsim.diseases.{d}"):
            out.append((d, build_model(d).symbolic().ode))
    return out


POSTERIOR_DOC = """## The posterior and `--uncertainty`

`mscsim calibrate --disease X` first fits the parameters by weighted least squares (as before;
`--maxfev 0` keeps the shipped optimum), then samples their joint posterior with emcee
(Foreman-Mackey et al. 2013, PASP 125:306), started in a small ball around the optimum:

- **Likelihood**: each published arm summary is Normal(simulated arm mean, se_pub^2 + se_sim^2):
  se_pub from the published SD/n, CI or proportion (as in the fit), se_sim the simulated arm's own
  Monte-Carlo error (SD of its virtual patients / sqrt(n)). Each evaluation is a virtual trial with
  at least `--n-sim` (default 20) virtual patients per arm, the same patients at every evaluation
  (common random numbers); se_sim keeps so few patients from making the posterior over-confident
  (tests/test_inference.py shows the coverage collapse without it).
- **Prior**: uniform on the fitting scale (log for positive ranges over a decade, else linear)
  within the parameter table's bounds; the table carries no prior distributions.
- **Cost**: walkers x (steps + 1) evaluations (default 8 x 61 for two parameters, `--walkers`,
  `--steps`, `--burn`); liver (two parameters, 3 arms of 20): 2 min 43 s of CPU.
- **Diagnostics**: acceptance fraction, integrated autocorrelation time per parameter and the
  effective sample size are printed and stored in the JSON's `posterior` block;
  `chain_longer_than_50_tau: false` says the chain is short and the intervals indicative.
- **Files**: `--save` writes `data/calibration/<disease>.posterior.csv` (post burn-in draws) and
  per parameter `posterior: {median, low, high}` in the JSON. Single runs keep using `value`, the
  least-squares optimum (the posterior mode on the fitting scale under the flat prior).
- **One name, one value**: a parameter that several disease models use under the same name (e.g.
  an immune-layer constant) is refused; it needs a disease-specific name first.

`mscsim trial SCENARIO --uncertainty N` runs the trial N more times: draw k takes a posterior row
(chosen with the scenario seed) and its own virtual patients (seed derived from the scenario seed
and k, independent of the parameter values: common random numbers across designs and posterior
files). `summary.json` gains per arm and endpoint `predictive: {median, low, high}` (95 %
predictive interval of the arm's mean or proportion: parameter uncertainty, between-patient
variability and the trial's own sampling), per comparison `assurance: {value, mc_error}` (share of
draws significant at `--alpha`, Monte-Carlo error sqrt(a(1-a)/N)) and `predictive_difference`, and
the report shows them. Same seed, same `summary.json` with any number of workers. Without a
posterior sample for the disease the draws come from the profile-likelihood CIs of the calibration
file (independent split normals on the fitting scale, open sides to the table bounds, correlations
ignored), and the summary's `uncertainty.source` says so; a disease with no calibration file is
refused.
"""


def main():
    (ROOT / "docs" / "parameters.md").write_text(parameter_table_markdown() + "\n")
    (ROOT / "docs" / "equations.md").write_text(equations_markdown(models()) + "\n")
    (ROOT / "docs" / "calibration.md").write_text(
        "# Shipped calibrations\n\nGenerated from `src/mscsim/data/calibration/*.json` by "
        "`python tools/gen_param_table.py`; refit with `mscsim calibrate --disease X --save`. "
        "'open': the profile likelihood did not rise by 3.84 before the parameter's table bound, so the "
        "data do not limit it on that side.\n\n" + calibration_markdown() + "\n\n" + POSTERIOR_DOC)
    print("wrote docs/parameters.md, docs/equations.md and docs/calibration.md")


if __name__ == "__main__":
    main()
