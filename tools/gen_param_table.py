"""Regenerate docs/parameters.md, docs/equations.md and docs/calibration.md from the code (one source of truth)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mscsim.model import DISEASES, build_model
from mscsim.paramdocs import calibration_markdown, equations_markdown, parameter_table_markdown

ROOT = Path(__file__).resolve().parents[1]


def models():
    out = [("Kinetics with an injured liver", build_model(None, "liver").ode)]
    for d in DISEASES:
        if importlib.util.find_spec(f"mscsim.diseases.{d}"):
            out.append((d, build_model(d).ode))
    return out


def main():
    (ROOT / "docs" / "parameters.md").write_text(parameter_table_markdown() + "\n")
    (ROOT / "docs" / "equations.md").write_text(equations_markdown(models()) + "\n")
    (ROOT / "docs" / "calibration.md").write_text(
        "# Shipped calibrations\n\nGenerated from `src/mscsim/data/calibration/*.json` by "
        "`python tools/gen_param_table.py`; refit with `mscsim calibrate --disease X --save`. "
        "'open': the profile likelihood did not rise by 3.84 before the parameter's table bound, so the "
        "data do not limit it on that side.\n\n" + calibration_markdown() + "\n")
    print("wrote docs/parameters.md, docs/equations.md and docs/calibration.md")


if __name__ == "__main__":
    main()
