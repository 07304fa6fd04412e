"""Regenerate docs/parameters.md and docs/equations.md from the code (one source of truth)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mscsim.model import DISEASES, build_model
from mscsim.paramdocs import equations_markdown, parameter_table_markdown

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
    print("wrote docs/parameters.md and docs/equations.md")


if __name__ == "__main__":
    main()
