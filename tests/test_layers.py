"""The house rules of the package layout (design.md, "The body as the program sees it"):
the numerics import nothing from the biology, and no biology module imports a layer above it.
Checked on the source (AST), so a lazy import inside a function counts too."""

import ast
from pathlib import Path

import mscsim

SRC = Path(mscsim.__file__).parent


def imports_of(path: Path) -> set[str]:
    """Every mscsim module a file imports (absolute names), wherever the import statement is."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("mscsim")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mscsim"):
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def modules_of(path: Path) -> set[str]:
    """The modules named in import statements (``from M import x`` gives M)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_numerics_import_nothing_from_the_biology():
    allowed = ("mscsim.numerics", "mscsim.errors")
    for f in sorted((SRC / "numerics").glob("*.py")):
        bad = {m for m in imports_of(f) if not m.startswith(allowed)}
        assert not bad, f"{f.name} imports {sorted(bad)}"


def test_numerics_have_no_import_cycle_between_engine_and_solve():
    engine = imports_of(SRC / "numerics" / "engine.py")
    assert not any(m.startswith("mscsim.numerics.solve") for m in engine)


def test_biology_layers_use_the_numerics_through_their_interface():
    """Outside the numerics, code imports names from ``mscsim.numerics``, never its submodules."""
    for f in sorted(SRC.rglob("*.py")):
        if "numerics" in f.relative_to(SRC).parts:
            continue
        deep = {m for m in modules_of(f) if m.startswith("mscsim.numerics.")}
        assert not deep, f"{f.relative_to(SRC)} reaches into {sorted(deep)}"


def test_disease_modules_do_not_import_layers_above_them():
    above = ("mscsim.model", "mscsim.simulate", "mscsim.baseline", "mscsim.trial", "mscsim.population",
             "mscsim.cli", "mscsim.evidence", "mscsim.calibrate", "mscsim.report", "mscsim.uncertainty",
             "mscsim.sensitivity", "mscsim.sbml")
    for f in sorted((SRC / "diseases").glob("*.py")):
        bad = {m for m in imports_of(f) if m.startswith(above)}
        assert not bad, f"diseases/{f.name} imports {sorted(bad)}"


def test_the_layers_are_wired_in_model_py_only():
    """Disease modules get the kinetics and the immune network from model.build_model (issue 15,
    item 5): none of them imports the functions that add those layers."""
    for f in sorted((SRC / "diseases").glob("*.py")):
        names = imports_of(f)
        assert "mscsim.kinetics.add_kinetics" not in names and "mscsim.immune.add_immune" not in names, f.name
