"""``mscsim evidence``: list the published MSC trials shipped with the package, show one study's
endpoints and values, or pool comparable records with a random-effects meta-analysis."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from mscsim.cli import app
from mscsim.errors import MscsimError


def _console():
    from rich.console import Console

    # a wide fixed width when not on a terminal (pipes, tests), so ids are never folded
    return Console(width=None if sys.stdout.isatty() else 240, soft_wrap=False,
                   highlight=False)


def _g(x, digits: int = 3) -> str:
    if x is None or x != x:
        return "-"
    return f"{x:.{digits}g}"


def _value_text(r) -> str:
    if r.value is None:
        return r.value_text or "not reported"
    if r.stat == "count" and r.total is not None:
        return f"{r.value:g} of {r.total}"
    return f"{r.value:.4g}"


def _spread_text(r) -> str:
    parts = []
    if r.sd is not None:
        parts.append(f"SD {r.sd:g}")
    if r.ci_low is not None:
        parts.append(f"{100 * (r.ci_level or 0.95):g}% CI {r.ci_low:g} to {r.ci_high:g}")
    if r.events is not None and r.stat != "count":
        parts.append(f"{r.events}/{r.total}" if r.total is not None else f"{r.events} events")
    if r.diff is not None:
        parts.append(f"diff {r.diff:g} ({100 * r.diff_ci_level:g}% CI {r.diff_ci_low:g} to "
                     f"{r.diff_ci_high:g})")
    if r.baseline_mean is not None:
        b = f"baseline {r.baseline_mean:g}"
        parts.append(b + (f" (SD {r.baseline_sd:g})" if r.baseline_sd is not None else ""))
    return "; ".join(parts)


def _list_studies(console, disease: Optional[str]) -> None:
    from rich.table import Table

    from mscsim.evidence.records import studies

    df = studies(disease)
    n_rec, n_num = int(df["records"].sum()), int(df["numeric"].sum())
    title = (f"Published MSC trials{f' ({disease})' if disease else ''}: {len(df)} studies, "
             f"{n_rec} records, {n_num} with a number")
    t = Table(title=title, show_lines=False)
    t.add_column("study", no_wrap=True)
    t.add_column("disease", no_wrap=True)
    t.add_column("design", max_width=34)
    t.add_column("arms (n)", max_width=40)
    t.add_column("cells", max_width=26)
    t.add_column("dose", max_width=22)
    t.add_column("route", max_width=28)
    t.add_column("schedule", max_width=16)
    t.add_column("PMID / DOI", max_width=34, overflow="fold")
    for row in df.itertuples(index=False):
        t.add_row(row.study_id, row.disease, row.design, row.arms, row.cell_source, row.dose,
                  row.route, row.schedule, row.source)
    console.print(t)
    console.print("mscsim evidence --study ID: endpoints and values of one study; "
                  "mscsim evidence --meta ENDPOINT --disease X: random-effects meta-analysis")


def _show_study(console, study: str, disease: Optional[str]) -> None:
    from rich.table import Table

    from mscsim.evidence.records import (
        dose_label,
        n_label,
        records,
        route_label,
        schedule_label,
        study_ids,
    )

    if study not in study_ids():
        from mscsim.errors import unknown

        raise unknown("study", study, study_ids(), field="study")
    recs = [r for r in records() if r.study_id == study]
    first = recs[0]
    if disease is not None and first.disease != disease:
        raise MscsimError(f"study {study!r} belongs to disease {first.disease!r}, "
                          f"not {disease!r}", field="study")
    console.print(f"[bold]{study}[/bold] ({first.disease}; trial {first.trial_id})")
    console.print(f"population: {first.population}")
    console.print(f"design: {first.design}")
    ids = [f"PMID {first.pmid}" if first.pmid else "", f"DOI {first.doi}" if first.doi else "",
           first.pmcid or ""]
    console.print(f"source: {first.citation}" + (f"  [{', '.join(i for i in ids if i)}]"
                                                  if any(ids) else ""))
    flags = sorted({f for r in recs for f in r.flags})
    if flags:
        console.print(f"flags: {', '.join(flags)}")

    arms = Table(title="Arms")
    for col in ("arm", "role", "n", "cells", "dose", "route", "schedule"):
        arms.add_column(col)
    seen: dict[str, object] = {}
    for r in recs:
        if r.arm not in seen or (seen[r.arm].n is None and r.n is not None):
            seen[r.arm] = r
    for arm, r in seen.items():
        arms.add_row(arm, r.arm_role, str(r.n) if r.n is not None else r.n_text, r.cell_source,
                     dose_label(r), route_label(r), schedule_label(r))
    console.print(arms)

    t = Table(title=f"Endpoints and values ({len(recs)} records, "
                    f"{sum(r.value is not None for r in recs)} with a number)")
    t.add_column("record", no_wrap=True)
    t.add_column("arm", max_width=22)
    t.add_column("endpoint", max_width=34)
    t.add_column("code", no_wrap=True)
    t.add_column("day", justify="right")
    t.add_column("stat")
    t.add_column("value", max_width=24)
    t.add_column("spread", max_width=40)
    t.add_column("n")
    t.add_column("derived", max_width=30)
    for r in recs:
        t.add_row(r.record_id, r.arm, r.endpoint, r.endpoint_code or "-",
                  _g(r.timepoint_days, 6), r.stat, _value_text(r), _spread_text(r),
                  n_label(r), r.derived or "")
    console.print(t)


def _write_csv(df, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_csv(tmp, index=False)
    os.replace(tmp, path)


def _run_meta(console, endpoint: str, disease: Optional[str], method: str, hksj: bool,
              measure: Optional[str], at: Optional[float], include_meta: bool, out: Path) -> None:
    from rich.table import Table

    from mscsim.evidence.forest import forest_plot
    from mscsim.evidence.meta import MEASURES, back_transform, meta_analysis
    from mscsim.evidence.records import DISEASES

    if disease is None:
        raise MscsimError(f"--meta needs --disease (one of {', '.join(DISEASES)})",
                          field="disease")
    rep = meta_analysis(endpoint, disease, method=method, hksj=hksj,
                        measure=measure.upper() if measure else None, at=at,
                        include_meta_analyses=include_meta)
    eff, res = rep.effects, rep.result
    label = MEASURES[eff.measure][2]
    console.print(f"[bold]Meta-analysis: {endpoint} in {disease}[/bold] - {label}; "
                  f"random effects, tau^2 by {res.method}"
                  f"{', Hartung-Knapp-Sidik-Jonkman CI' if res.hksj else ''}")

    t = Table(title=f"{res.k} trials (one effect per trial, latest timepoint"
                    f"{'' if at is None else f' = day {at:g}'})")
    for col, kw in (("study", {"no_wrap": True}), ("day", {"justify": "right"}),
                    ("n MSC", {"justify": "right"}), ("n control", {"justify": "right"}),
                    ("effect", {"justify": "right"}), ("95% CI", {}),
                    ("weight", {"justify": "right"}), ("basis", {"max_width": 30}),
                    ("records", {"max_width": 44}), ("PMID / DOI", {"max_width": 30})):
        t.add_column(col, **kw)
    df = res.to_dataframe()
    for i, row in enumerate(eff.table.itertuples(index=False)):
        t.add_row(row.study_id, _g(row.at_days, 6), _g(row.n_msc, 4), _g(row.n_control, 4),
                  f"{row.yi:.3f}", f"{row.ci_low:.3f} to {row.ci_high:.3f}",
                  f"{df['weight_pct'].iloc[i]:.1f}%", row.basis, row.records, row.source)
    console.print(t)
    for sid, why in eff.excluded:
        console.print(f"not pooled: {sid} ({why})")

    test = f"t({res.df})" if res.df is not None else "z"
    console.print(f"Pooled effect: {res.estimate:.3f} ({100 * (1 - res.alpha):g}% CI "
                  f"{res.ci_low:.3f} to {res.ci_high:.3f}), {test} = {res.statistic:.2f}, "
                  f"p = {res.p_value:.3g}")
    if eff.measure in ("OR", "PLO"):
        name = "odds ratio" if eff.measure == "OR" else "proportion"
        e, lo, hi = back_transform(eff.measure, [res.estimate, res.ci_low, res.ci_high])
        console.print(f"  as {name}: {e:.3f} ({lo:.3f} to {hi:.3f})")
    console.print(f"Heterogeneity: tau^2 = {res.tau2:.4g} (tau = {res.tau:.3g}), "
                  f"I^2 = {res.i2:.1f}%, H^2 = {res.h2:.2f}, Q = {res.q:.2f} "
                  f"(df = {res.q_df}, p = {res.q_p:.3g})")
    if res.k < 5:
        console.print(f"Caution: only {res.k} trials; tau^2 and I^2 are very uncertain.")

    stem = f"meta_{endpoint}_{disease}_{res.method}{'_hksj' if res.hksj else ''}"
    png = forest_plot(res, out / f"{stem}.png", measure=eff.measure,
                      title=f"{endpoint} ({disease}): {res.method}"
                            f"{' + HKSJ' if res.hksj else ''}")
    csv = out / f"{stem}.csv"
    _write_csv(rep.to_dataframe(), csv)
    console.print(f"forest plot: {png}")
    console.print(f"table: {csv}")


@app.command("evidence")
def evidence(
    disease: Annotated[Optional[str], typer.Option(
        "--disease", help="ra | t1d | ms | sle | ibd | liver")] = None,
    study: Annotated[Optional[str], typer.Option(
        "--study", help="show one study's endpoints and values (a study id)")] = None,
    meta: Annotated[Optional[str], typer.Option(
        "--meta", metavar="ENDPOINT",
        help="pool this endpoint (design.md name, e.g. fistula_closure) across trials")] = None,
    method: Annotated[str, typer.Option(
        "--method", help="tau^2 estimator: DL | REML | PM")] = "REML",
    hksj: Annotated[bool, typer.Option(
        "--hksj/--no-hksj", help="Hartung-Knapp-Sidik-Jonkman CI (t, k-1 df)")] = False,
    measure: Annotated[Optional[str], typer.Option(
        "--measure", help="effect measure: RD | OR | MD | SMD (MSC vs control), "
                          "PLO | PR | MN (MSC arms only); default: chosen from the data")] = None,
    at: Annotated[Optional[float], typer.Option(
        "--at", help="use only effects at this day (default: each trial's latest)")] = None,
    include_meta_analyses: Annotated[bool, typer.Option(
        "--include-meta-analyses",
        help="also pool effects reported by published meta-analyses")] = False,
    out: Annotated[Path, typer.Option(
        "-o", "--out", help="folder for the forest plot (PNG) and pooled table (CSV)")]
        = Path("mscsim-out/evidence"),
) -> None:
    """List published MSC trials, show one study, or run a random-effects meta-analysis."""
    from mscsim.evidence.records import DISEASES

    if disease is not None and disease not in DISEASES:
        from mscsim.cli.common import check_disease

        disease = check_disease(disease, field="disease")
    console = _console()
    if meta is not None:
        if study is not None:
            raise MscsimError("use either --study or --meta, not both")
        _run_meta(console, meta, disease, method, hksj, measure, at, include_meta_analyses, out)
    elif study is not None:
        _show_study(console, study, disease)
    else:
        _list_studies(console, disease)
