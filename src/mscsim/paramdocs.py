"""Generate the documentation tables from the code: the parameter table (docs/parameters.md)
from the parameter registry, and the equation list (docs/equations.md) from the composed models.
One source of truth: the docs are never edited by hand (``python tools/gen_param_table.py``)."""

from __future__ import annotations

from collections import defaultdict

from mscsim import parameters

LAYER_TITLES = {"kinetics": "Cell kinetics", "immune": "Immune network", "ra": "Rheumatoid arthritis",
                "t1d": "Type 1 diabetes", "ms": "Multiple sclerosis", "sle": "Systemic lupus erythematosus",
                "ibd": "Inflammatory bowel disease", "liver": "Liver cirrhosis and failure",
                "gvhd": "Steroid-refractory acute graft-versus-host disease",
                "ards": "Acute respiratory distress syndrome (incl. COVID-19 ARDS)"}


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _value(spec) -> str:
    if isinstance(spec.value, dict):
        return ", ".join(f"{k}: {v:g}" for k, v in spec.value.items())
    return f"{spec.value:g}"


def parameter_table_markdown() -> str:
    reg = parameters.registry()
    by_layer = defaultdict(list)
    for spec in reg.values():
        by_layer[spec.layer].append(spec)
    counts = defaultdict(int)
    for spec in reg.values():
        counts[spec.kind] += 1
    lines = ["# Parameter table", "",
             "Generated from `src/mscsim/data/parameters/*.yaml` by `python tools/gen_param_table.py`; "
             "do not edit by hand.", "",
             f"{len(reg)} parameters: " + ", ".join(f"{counts[k]} {k}" for k in ("sourced", "derived",
                                                                                  "calibrated", "design")) + ".",
             "Kinds: **sourced** (value read from the cited paper), **derived** (arithmetic on a sourced value), "
             "**calibrated** (fitted to the named data), **design** (our choice where sources are silent; "
             "rationale given). **records**: the published outcome records (evidence record ids) the value was "
             "calibrated to, derived from or tuned to; `mscsim validate` scores those records as calibration, "
             "not validation.", ""]
    order = [k for k in LAYER_TITLES if k in by_layer] + sorted(set(by_layer) - set(LAYER_TITLES))
    for layer in order:
        lines += [f"## {LAYER_TITLES.get(layer, layer)} (`{layer}`)", "",
                  "| name | value | unit | kind | IIV CV | description | source | records |",
                  "|---|---|---|---|---|---|---|---|"]
        for spec in by_layer[layer]:
            iiv = f"{spec.iiv_cv:g}" if spec.iiv_cv else ""
            lines.append(f"| `{spec.name}` | {_value(spec)} | {_cell(spec.unit)} | {spec.kind} | {iiv} | "
                         f"{_cell(spec.desc)} | {_cell(spec.source)} | {_cell(', '.join(spec.records))} |")
        lines.append("")
    return "\n".join(lines)


def equations_markdown(models) -> str:
    """Every rate term and rule of each composed model with its source."""
    lines = ["# Equations", "", "Generated from the composed models by `python tools/gen_param_table.py`; "
             "do not edit by hand. Each state's rate of change is the sum of the listed terms; "
             "rules are algebraic.", ""]
    for title, m in models:
        lines += [f"## {title} (`{m.name}`): {len(m.states)} states, {len(m.rules)} rules", "",
                  "| state | term | description | source |", "|---|---|---|---|"]
        for t in m.terms:
            lines.append(f"| `{t.state}` | `{_cell(t.expr)}` | {_cell(t.desc)} | {_cell(t.source)} |")
        lines += ["", "| rule | expression | unit | description | source |", "|---|---|---|---|---|"]
        for r in m.ordered_rules():
            lines.append(f"| `{r.name}` | `{_cell(r.expr)}` | {_cell(r.unit)} | {_cell(r.desc)} | {_cell(r.source)} |")
        lines.append("")
    return "\n".join(lines)


def calibration_markdown() -> str:
    """The shipped calibrations (``data/calibration/<disease>.json``): per disease, each fitted
    parameter with its table value, fitted value and profile-likelihood 95 % CI, and the evidence
    records used. All other evidence records were only used to check (``mscsim validate``)."""
    import json
    from importlib import resources

    from mscsim.model import DISEASES

    lines = ["| disease | parameter | table value | fitted | 95% CI (profile) | records used to fit |",
             "|---|---|---|---|---|---|"]
    for d in DISEASES:
        path = resources.files("mscsim.data").joinpath(f"calibration/{d}.json")
        if not path.is_file():
            lines.append(f"| {d} | (not calibrated) | | | | |")
            continue
        data = json.loads(path.read_text())
        recs = ", ".join(data.get("records", []))
        for k, (name, v) in enumerate(data["parameters"].items()):
            lo, hi = v.get("ci_low"), v.get("ci_high")
            ci = f"{'open' if lo is None else f'{lo:.3g}'} to {'open' if hi is None else f'{hi:.3g}'}"
            lines.append(f"| {d if k == 0 else ''} | `{name}` | {v['table_value']:.3g} | {v['value']:.3g} | {ci} | "
                         f"{recs if k == 0 else ''} |")
    return "\n".join(lines)
