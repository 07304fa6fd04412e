"""Every parameter, equation term and rule carries a source or a design mark, in one place
(the parameter table), and the generated docs are current."""

import importlib.util
from pathlib import Path

import pytest

from mscsim import parameters
from mscsim.model import DISEASES, build_model
from mscsim.paramdocs import parameter_table_markdown

ROOT = Path(__file__).resolve().parents[1]
CASES = [(None, "liver")] + [(d, None) for d in DISEASES if importlib.util.find_spec(f"mscsim.diseases.{d}")]


def test_registry_entries_are_sourced():
    reg = parameters.registry()
    assert len(reg) > 100
    for name, spec in reg.items():
        assert spec.source.strip(), name
        if spec.kind == "design":
            assert "design" in spec.source.lower() or spec.source.strip(), name
        if spec.bounds is not None:
            lo, hi = spec.bounds
            for v in (spec.value.values() if isinstance(spec.value, dict) else [spec.value]):
                assert lo <= v <= hi, (name, v, spec.bounds)


@pytest.mark.parametrize("disease,target", CASES, ids=[c[0] or "kinetics" for c in CASES])
def test_every_model_constant_and_equation_has_a_source(disease, target):
    m = build_model(disease, target).symbolic().ode
    reg = parameters.registry()
    for p in m.params.values():
        if p.kind == "input" or p.source.startswith("data/physiology.yaml"):
            continue
        assert p.name in reg, f"{p.name} is not in the parameter table"
        assert p.source == reg[p.name].source
    for t in m.terms:
        assert t.source.strip(), (t.state, t.desc)
    for r in m.rules.values():
        assert r.source.strip(), r.name


def test_parameter_docs_are_generated_from_the_table():
    doc = (ROOT / "docs" / "parameters.md").read_text()
    assert doc.strip() == parameter_table_markdown().strip(), "run: python tools/gen_param_table.py"


def test_calibration_docs_are_generated_from_the_shipped_files():
    from mscsim.paramdocs import calibration_markdown

    doc = (ROOT / "docs" / "calibration.md").read_text()
    assert calibration_markdown().strip() in doc, "run: python tools/gen_param_table.py"
