"""``mscsim export-petab``: a disease's calibration problem as a PEtab v1 problem (SBML model,
conditions, observables, measurements, parameters, problem.yaml) for pyPESTO, AMICI, COPASI,
Data2Dynamics. The problem is the typical patient's; see docs/interoperability.md, "PEtab"."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from mscsim.cli import app
from mscsim.cli.common import console, df_table


def writable_folder(path: Path) -> Path:
    """Create ``path`` if needed and check that files can be written there (one-line errors)."""
    import os

    from mscsim.errors import MscsimError

    if path.exists() and not path.is_dir():
        raise MscsimError(f"{path} exists and is not a folder", field="--out")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MscsimError(f"cannot create {path}: {exc.strerror or exc}", field="--out") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise MscsimError(f"cannot write to {path}: permission denied", field="--out")
    return path


@app.command("export-petab")
def export_petab_cmd(
    disease: str = typer.Option(..., "--disease", help="ra | t1d | ms | sle | ibd | liver"),
    out: Path = typer.Option(..., "--out", "-o", help="folder for model.xml, the tables and problem.yaml"),
    subtype: Optional[str] = typer.Option(None, "--subtype",
                                          help="model subtype (default: that of most exportable records)"),
    check: bool = typer.Option(False, "--check", help="also evaluate the problem's objective with mscsim and "
                                                      "with libRoadRunner from the written files"),
) -> None:
    """Write the disease's calibration problem (continuous endpoints, typical patient) as PEtab v1."""
    from mscsim.errors import MscsimError
    from mscsim.model import DISEASES
    from mscsim.petab import build_problem, petab_objective, typical_objective

    if disease not in DISEASES:
        from mscsim.errors import unknown

        raise unknown("disease", disease, DISEASES, field="--disease")
    folder = writable_folder(out)
    problem = build_problem(disease, subtype)
    errors = problem.lint()
    if errors:
        raise MscsimError(f"the PEtab linter found {len(errors)} error(s): {errors[0]}", field="petab")
    yaml_path = problem.write(folder)
    console.print(df_table(problem.summary(), title=f"{disease} ({problem.subtype or 'default subtype'}): "
                                                     "calibration records"))
    est = ", ".join(problem.parameter_df.index)
    console.print(f"estimated: {est}" + (f"; not in this model: {', '.join(problem.not_in_model)}"
                                          if problem.not_in_model else ""))
    warn = ", ".join(f"{n} x {k}" for k, n in problem.sbml_warnings.items()) or "none"
    console.print(f"PEtab lint: no errors; SBML consistency: 0 errors ({warn})")
    if check:
        ref = typical_objective(disease, problem.subtype)
        pe = petab_objective(yaml_path)
        console.print(f"objective at the calibrated values: mscsim typical patient chi2 = {ref:.8g}; "
                      f"PEtab files + libRoadRunner chi2 = {pe['chi2']:.8g} (log-likelihood {pe['llh']:.6g})")
    console.print(f"wrote {escape(str(yaml_path))}")
