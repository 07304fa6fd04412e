"""Fit the new-onset T1D typical patient (natural history) to TrialNet C-peptide data.

``beta0_t1d_new`` is fitted to a baseline OGTT C-peptide AUC of ``auc0`` and ``k_kill_t1d`` so
that C-peptide at 12 months is ``slope_ratio_12m`` of baseline (Greenbaum 2012, PMID 22688329:
-0.0245 pmol/mL/month from ~0.75 pmol/mL). Lives in tools/ because it runs whole simulations
(the disease module does not import the layers above it). Run:

    python tools/fit_t1d_natural_history.py     # prints the values for parameters/t1d.yaml
"""

from __future__ import annotations

from scipy.optimize import brentq

from mscsim.baseline import baseline_outputs
from mscsim.simulate import simulate


def fit_natural_history(slope_ratio_12m: float = 0.608, auc0: float = 135.0) -> dict[str, float]:
    b0 = brentq(lambda b: baseline_outputs("t1d", {"beta0_t1d_new": b}, subtype="new_onset")["c_peptide_auc"]
                - auc0, 0.02, 0.9, xtol=1e-5)

    def ratio(k):
        s = simulate(None, 365, disease="t1d", subtype="new_onset", times=[0.0, 365.0],
                     params={"beta0_t1d_new": b0, "k_kill_t1d": k})
        c = s.outputs["c_peptide_auc"].to_numpy()
        return c[-1] / c[0] - slope_ratio_12m

    k = brentq(ratio, 1e-5, 0.02, xtol=1e-7)
    return {"beta0_t1d_new": b0, "k_kill_t1d": k}


if __name__ == "__main__":
    print("fitted:", {n: round(x, 6) for n, x in fit_natural_history().items()})
