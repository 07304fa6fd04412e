"""``mscsim export-sbml``: one patient's composed model as an SBML Level 3 Version 2 file
(for COPASI, Tellurium/libRoadRunner, ...), with his parameters, his untreated steady state
and his doses as events. See docs/interoperability.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from mscsim.cli import app
from mscsim.cli.common import (ArteryOpt, AtOpt, DoseOpt, EveryOpt, InfusionOpt, ProductOpt, RouteOpt, SiteOpt,
                               SpeciesOpt, TimesOpt, console, err_console)


def read_patient_file(path: Path) -> tuple[float | None, dict[str, float]]:
    """``(weight_kg, parameter overrides)`` from a patient JSON file.

    Accepted shapes: ``{"parameters": {...}, "covariates": {"weight_kg": 80}}`` (as a trial's
    failure record), or a flat ``{"name": value, ..., "weight_kg": 80}``.
    """
    from mscsim.errors import MscsimError

    try:
        data = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise MscsimError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno})", field="--patient") from None
    if not isinstance(data, dict):
        raise MscsimError(f"{path} must hold a JSON object of parameter values", field="--patient")
    weight = data.get("weight_kg")
    if "parameters" in data or "covariates" in data:
        unknown_keys = set(data) - {"parameters", "covariates", "weight_kg", "patient", "arm", "message"}
        if unknown_keys:
            raise MscsimError(f"unknown key(s) {sorted(unknown_keys)}; accepted: parameters, covariates, "
                              "weight_kg", field="--patient")
        params = data.get("parameters") or {}
        cov = data.get("covariates") or {}
        if not isinstance(params, dict) or not isinstance(cov, dict):
            raise MscsimError("'parameters' and 'covariates' must be JSON objects", field="--patient")
        weight = cov.get("weight_kg", weight)
    else:
        params = {k: v for k, v in data.items() if k != "weight_kg"}
    if weight is not None:
        try:
            weight = float(weight)
        except (TypeError, ValueError):
            raise MscsimError(f"weight_kg {weight!r} is not a number", field="--patient") from None
    return weight, params


def _event_regimen(path: Path, pid: str | None):
    from mscsim.errors import MscsimError
    from mscsim.eventtable import read_event_table, read_event_table_weights

    regs = read_event_table(path)
    weights = read_event_table_weights(path)
    if not regs:
        raise MscsimError(f"{path.name} has no patients", field="--events")
    if pid is None:
        if len(regs) > 1:
            raise MscsimError(f"{path.name} holds {len(regs)} patients; choose one with --id "
                              f"({', '.join(map(str, list(regs)[:10]))}{', ...' if len(regs) > 10 else ''})",
                              field="--id")
        key = next(iter(regs))
    else:
        key = next((k for k in regs if str(k) == pid.strip()), None)
        if key is None:
            raise MscsimError(f"ID {pid} is not in {path.name}; IDs: {', '.join(map(str, list(regs)[:20]))}",
                              field="--id")
    return regs[key], weights.get(key)


@app.command("export-sbml")
def export_sbml_cmd(
    out: Path = typer.Option(..., "-o", "--out", help="SBML file to write (e.g. model.xml)"),
    disease: Optional[str] = typer.Option(None, "--disease", help="ra | t1d | ms | sle | ibd | liver | gvhd | ards"),
    subtype: Optional[str] = typer.Option(None, "--subtype", help="disease subtype"),
    injury: Optional[str] = typer.Option(None, "--injury", help="kinetics only: injured tissue and severity, e.g. liver:0.6"),
    patient: Optional[Path] = typer.Option(None, "--patient", help="patient JSON: parameter values (and covariates.weight_kg)"),
    species: SpeciesOpt = "human",
    weight: Optional[float] = typer.Option(None, "--weight", help="body weight in kg"),
    dose: DoseOpt = None,
    route: RouteOpt = "iv",
    artery: ArteryOpt = None,
    site: SiteOpt = None,
    infusion: InfusionOpt = None,
    every: EveryOpt = None,
    times: TimesOpt = 1,
    product: ProductOpt = "msc",
    at: AtOpt = None,
    events: Optional[Path] = typer.Option(None, "--events", help="NONMEM-style event table (CSV) instead of --dose"),
    pid: Optional[str] = typer.Option(None, "--id", help="with --events: the patient ID to export"),
    days: Optional[str] = typer.Option(None, "--days", help="suggested simulation length (days, or e.g. '12 wk'), recorded in the file"),
):
    """Write one patient's model as SBML L3V2: compartments, units, parameters with sources,
    rules, cell-transfer reactions, the untreated steady state, and the doses as events."""
    from mscsim.cli.common import dose_regimen, parse_days, parse_injury
    from mscsim.dosing import Regimen
    from mscsim.errors import MscsimError
    from mscsim.sbml import export_sbml

    from mscsim.cli.common import check_disease, check_output_file, write_error

    out = check_output_file(out)
    disease = check_disease(disease)
    if disease is None and injury is None:
        raise MscsimError("give a --disease, or --injury TISSUE:SEVERITY for the kinetics-only model",
                          field="--disease")
    inj = parse_injury(injury)
    regimen = Regimen()
    table_weight = None
    if events is not None:
        if dose is not None:
            raise MscsimError("give either --dose or --events, not both", field="--events")
        regimen, table_weight = _event_regimen(events, pid)
    elif pid is not None:
        raise MscsimError("--id is for --events", field="--id")
    elif dose is not None:
        regimen = dose_regimen(dose, route, at=at, artery=artery, site=site, infusion=infusion, every=every,
                               times=times, product=product)
    elif any(v is not None for v in (artery, site, infusion, every, at)):
        raise MscsimError("--artery/--site/--infusion/--every/--at need a --dose", field="--dose")
    ndays = parse_days(days) if days is not None else None
    p_weight, overrides = (None, {})
    if patient is not None:
        p_weight, overrides = read_patient_file(patient)
    w = weight if weight is not None else (p_weight if p_weight is not None else table_weight)
    exp = export_sbml(disease, subtype=subtype, injury=inj, species=species, weight_kg=w, regimen=regimen,
                      params=overrides or None, days=ndays)
    if exp.errors:
        for e in exp.errors[:5]:
            err_console.print(f"[red]{e}[/red]")
        err_console.print(f"error: libSBML found {len(exp.errors)} error(s) in the exported model "
                          "(a bug in mscsim); nothing written")
        raise typer.Exit(1)
    try:
        exp.write(out)
    except OSError as exc:
        raise write_error(out, exc) from None
    summary = ", ".join(f"{k} x{n}" for k, n in exp.issue_summary().items()) or "none"
    console.print(f"wrote [bold]{escape(str(out))}[/bold]: SBML L3V2 model {exp.model_id}, {len(exp.initial_state)} states "
                  f"({len(exp.species_ids)} cell species, {exp.reaction_count} reactions, "
                  f"{exp.rate_rule_count} rate rules), {len(exp.params)} parameters, "
                  f"{2 * len(exp.administrations)} dose events")
    console.print(f"libSBML consistency check: 0 errors; warnings: {summary}")
