"""SBML export: the composed model of one patient as an SBML Level 3 Version 2 document.

The export is generated from the same :class:`~mscsim.numerics.language.OdeModel` as the compiled
simulator, so the two cannot drift apart; ``tests/test_sbml.py`` simulates the file with
libRoadRunner and checks it against the native simulation.

How the model maps onto SBML (the reasons are in ``docs/interoperability.md``):

- **Cells are species amounts** (``hasOnlySubstanceUnits="true"``, substance unit ``cell`` =
  item) in one compartment per place: venous and arterial blood, each organ, the target tissue,
  the CSF, the local injection site, the whole body (MSC material in migrating phagocytes) and
  "cleared" (label that left the body). Because the species stand for amounts, the compartment
  sizes (organ volumes at 1 kg/L) never enter the mathematics, and the native equations carry
  over verbatim: the file reproduces the simulator exactly whatever a tool does with volumes.
- **Cell transfers are reactions.** The kinetics is written with mass-conserving fluxes
  (``OdeModel.flux``); each flux becomes one reaction (transport between compartments, a
  conversion such as death of an arrested cell into debris, or a dose input), so tools that
  show fluxes (COPASI) show where cells go, and conservation is structural.
- **Everything else is a parameter with a rate rule**: immune-cell levels (relative to healthy),
  licensing, disease activity, damage, placebo response, CRP, the cumulative dose counter. They
  are dimensionless indices or read-outs with their own units, not amounts in a volume; making
  them species would need invented volumes and substance units.
- **Algebraic rules are assignment rules** (cytokines, percent of dose, clinical scores).
- **Initial state** = the patient's untreated steady state (``steady.steady_state``), written
  as numbers (a state set from a patient parameter keeps ``init_mode="param:X"`` in its
  annotation; see ``_Builder.build`` for why it is not an initial assignment).
- **Doses are events**: per administration, ``dose<k>_on`` at ``time >= dose<k>_time`` and
  ``dose<k>_off`` at ``time >= dose<k>_time + dose<k>_duration`` set the route's input
  parameter (``in_iv``, ``in_ia_<artery>``, ...) to the total rate of the doses running just
  after that time (absolute values, so simultaneous events commute). Triggers start false
  (``initialValue="false"``) so a dose at time 0 fires, are persistent, and assignments use
  the values at trigger time (they are constants anyway).
- Every element carries its description as SBML ``name`` and XHTML notes, and its unit, kind,
  source and group in a small ``mscsim`` annotation (namespace :data:`MSCSIM_NS`); cytokines,
  CRP, immune cells, MSCs, species and disease carry MIRIAM ``bqbiol`` terms; compartments,
  species, reactions and rate constants carry SBO terms.

Units: every distinct unit string of the model becomes a ``unitDefinition`` named after it
(``pg/mL`` = gram 1e-12 per litre 1e-3, ``cells/day`` = item per 86400 s, ``%`` = dimensionless
x 0.01, ...). Count-like or descriptive units (``score``, ``joints``, ``relative to healthy``,
insulin ``U``) have no SI dimension and are defined as dimensionless with the original string
as the name.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import sympy as sp
from sympy.printing.str import StrPrinter

from mscsim.dosing import Administration, Regimen
from mscsim.numerics import OdeModel, State, Term
from mscsim.errors import MscsimError

#: XML namespace of mscsim's own annotations (a URN: it names, it does not point anywhere)
MSCSIM_NS = "urn:mscsim:sbml:1"
_XHTML = "http://www.w3.org/1999/xhtml"

#: state units that make a state a species (an amount of cells somewhere)
CELL_UNITS = frozenset({"cells", "cell-equivalents"})
#: cell-unit states that are counters, not cells anywhere: parameters with a rate rule
BOOKKEEPING = frozenset({"X_dosed"})

# ------------------------------------------------------------------------------------------
# units


@dataclass(frozen=True)
class UnitFactor:
    """One SBML ``<unit>``: (multiplier * 10^scale * kind)^exponent."""

    kind: str
    exponent: float = 1.0
    scale: int = 0
    multiplier: float = 1.0


# token -> (SBML base kind, scale, multiplier); the value is (multiplier * 10^scale) kind
_TOKENS: dict[str, tuple[str, int, float]] = {
    "cell": ("item", 0, 1.0), "cells": ("item", 0, 1.0), "MSC": ("item", 0, 1.0),
    "T cell": ("item", 0, 1.0), "T cells": ("item", 0, 1.0),
    "cell-equivalent": ("item", 0, 1.0), "cell-equivalents": ("item", 0, 1.0),
    "g": ("gram", 0, 1.0), "kg": ("gram", 3, 1.0), "mg": ("gram", -3, 1.0),
    "ug": ("gram", -6, 1.0), "µg": ("gram", -6, 1.0), "ng": ("gram", -9, 1.0),
    "pg": ("gram", -12, 1.0),
    "L": ("litre", 0, 1.0), "dL": ("litre", -1, 1.0), "mL": ("litre", -3, 1.0),
    "uL": ("litre", -6, 1.0), "µL": ("litre", -6, 1.0),
    "mol": ("mole", 0, 1.0), "mmol": ("mole", -3, 1.0), "umol": ("mole", -6, 1.0),
    "µmol": ("mole", -6, 1.0), "nmol": ("mole", -9, 1.0), "pmol": ("mole", -12, 1.0),
    "um": ("metre", -6, 1.0), "µm": ("metre", -6, 1.0), "mm": ("metre", -3, 1.0),
    "cm": ("metre", -2, 1.0),
    "s": ("second", 0, 1.0), "min": ("second", 0, 60.0), "h": ("second", 0, 3600.0),
    "hr": ("second", 0, 3600.0), "d": ("second", 0, 86400.0), "day": ("second", 0, 86400.0),
    "days": ("second", 0, 86400.0), "wk": ("second", 0, 604800.0),
    "week": ("second", 0, 604800.0), "mo": ("second", 0, 2592000.0),
    "month": ("second", 0, 2592000.0), "y": ("second", 0, 31536000.0),
    "yr": ("second", 0, 31536000.0), "year": ("second", 0, 31536000.0),
    "mmHg": ("pascal", 0, 133.322387415),
    "%": ("dimensionless", 0, 0.01),
    "1": ("dimensionless", 0, 1.0),
    # activity units without an SI dimension (insulin units): dimensionless, scaled
    "U": ("dimensionless", 0, 1.0), "IU": ("dimensionless", 0, 1.0),
    "uU": ("dimensionless", -6, 1.0), "µU": ("dimensionless", -6, 1.0),
}
_NONDIM_TOKENS = {"U", "IU", "uU", "µU"}


def parse_unit(text: str) -> tuple[list[UnitFactor], bool]:
    """SBML unit factors of one of mscsim's unit strings, and whether the reading is exact.

    ``exact`` is False when a word without an SI dimension (``score``, ``joints``, ``relative to
    healthy``, insulin ``U``) was read as dimensionless.
    """
    s = text.strip()
    if not s or s == "1":
        return [UnitFactor("dimensionless")], True
    if " per " in s or s.startswith("per "):
        num, den = (s.split(" per ", 1) if " per " in s else ("1", s[4:]))
        fn, en = parse_unit(num)
        fd, ed = parse_unit(den)
        return _simplify(fn + [UnitFactor(f.kind, -f.exponent, f.scale, f.multiplier) for f in fd]), en and ed
    if " of " in s or "=" in s:      # "% of dose", "fraction of healthy", "1 = typical ..."
        return ([UnitFactor("dimensionless", 1, 0, 0.01)] if s.startswith("%") else
                [UnitFactor("dimensionless")]), False
    parts = s.split("/")
    factors: list[UnitFactor] = []
    exact = True
    for i, part in enumerate(parts):
        sign = 1.0 if i == 0 else -1.0
        f, ok = _parse_token(part.strip())
        exact &= ok
        factors += [UnitFactor(x.kind, sign * x.exponent, x.scale, x.multiplier) for x in f]
    return _simplify(factors), exact


def _parse_token(tok: str) -> tuple[list[UnitFactor], bool]:
    exp = 1.0
    m = re.fullmatch(r"(.+?)\^(-?\d+(?:\.\d+)?)", tok)
    if m:
        tok, exp = m.group(1).strip(), float(m.group(2))
    mult = 1.0
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s+(.+)", tok)         # "180 min", "24 h"
    if m:
        mult, tok = float(m.group(1)), m.group(2).strip()
    if tok in _TOKENS:
        kind, scale, mu = _TOKENS[tok]
        return [UnitFactor(kind, exp, scale, mu * mult)], tok not in _NONDIM_TOKENS
    if tok.startswith("%"):                                  # "%-points"
        return [UnitFactor("dimensionless", exp, 0, 0.01 * mult)], False
    # a number range ("0-3", "0..1") or a word ("score", "joints", "mTSS units"): no SI dimension
    return [UnitFactor("dimensionless", exp, 0, mult)], False


def _simplify(factors: list[UnitFactor]) -> list[UnitFactor]:
    keep = [f for f in factors if not (f.kind == "dimensionless" and f.scale == 0 and f.multiplier == 1.0)]
    return keep or [UnitFactor("dimensionless")]


def unit_id(text: str) -> str:
    """An SBML UnitSId for a unit string (``cells/day`` -> ``u_cells_per_day``)."""
    s = text.strip().replace("/", "_per_").replace("%", "pct").replace("^", "").replace("µ", "u")
    s = re.sub(r"[^A-Za-z0-9_]+", "_", s).strip("_")
    return "u_" + (s or "none")


# ------------------------------------------------------------------------------------------
# mathematics


class _L3Printer(StrPrinter):
    """sympy -> libSBML L3 infix formula (parsed back with ``parseL3FormulaWithModel``)."""

    def _print_Symbol(self, e):
        return "time" if e.name == "t" else e.name

    def _print_Float(self, e):
        return _num(float(e))

    def _print_Integer(self, e):
        return str(int(e))

    def _print_Pow(self, expr, rational=False):
        return super()._print_Pow(expr, rational).replace("**", "^")

    def _print_Exp1(self, e):
        return "exponentiale"

    def _print_Pi(self, e):
        return "pi"

    def _print_Infinity(self, e):
        return "INF"

    def _print_NegativeInfinity(self, e):
        return "-INF"

    def _print_BooleanTrue(self, e):
        return "true"

    def _print_BooleanFalse(self, e):
        return "false"

    def _minmax(self, name, expr):
        return f"{name}(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Max(self, expr):
        return self._minmax("max", expr)

    def _print_Min(self, expr):
        return self._minmax("min", expr)

    def _print_log(self, expr):
        if len(expr.args) != 1:
            raise MscsimError(f"cannot export log with base: {expr}")
        return f"ln({self._print(expr.args[0])})"

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_Heaviside(self, expr):      # as codegen: 1 if x > 0 else 0
        return f"piecewise(1, {self._print(expr.args[0])} > 0, 0)"

    def _print_Piecewise(self, expr):
        out = []
        for val, cond in expr.args:
            if cond is sp.true:
                out.append(self._print(val))
                break
            out += [self._print(val), self._print(cond)]
        return "piecewise(" + ", ".join(out) + ")"

    def _print_Relational(self, expr):
        op = {"==": "==", "!=": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<="}[expr.rel_op]
        return f"({self._print(expr.lhs)} {op} {self._print(expr.rhs)})"

    def _print_And(self, expr):
        return "(" + " && ".join(self._print(a) for a in expr.args) + ")"

    def _print_Or(self, expr):
        return "(" + " || ".join(self._print(a) for a in expr.args) + ")"

    def _print_Not(self, expr):
        return f"!({self._print(expr.args[0])})"

    def _print_Function(self, expr):
        name = type(expr).__name__
        allowed = {"exp": "exp", "sqrt": "sqrt", "floor": "floor", "ceiling": "ceiling",
                   "sin": "sin", "cos": "cos", "tan": "tan", "tanh": "tanh"}
        if name not in allowed:
            raise MscsimError(f"function {name} has no SBML export (in {expr})")
        return f"{allowed[name]}(" + ", ".join(self._print(a) for a in expr.args) + ")"


def _num(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "INF" if x > 0 else "-INF"
    r = repr(float(x))
    return f"({r})" if r.startswith("-") else r


def formula(expr) -> str:
    """The L3 infix formula of a sympy expression (time ``t`` becomes the csymbol ``time``)."""
    return _L3Printer().doprint(sp.sympify(expr))


def _ast_names(node, out: set[str]) -> set[str]:
    import libsbml

    if node.getType() == libsbml.AST_NAME:
        out.add(node.getName())
    for i in range(node.getNumChildren()):
        _ast_names(node.getChild(i), out)
    return out


# ------------------------------------------------------------------------------------------
# MIRIAM terms (identifiers.org compact URIs)

_UNIPROT = {"tnf": "P01375", "ifng": "P01579", "il6": "P05231", "il10": "P22301", "il4": "P05112",
            "il17": "Q16552", "tgfb": "P01137", "crp": "P02741"}
_CELL_ONTOLOGY = {"Th1": "CL:0000545", "Th2": "CL:0000546", "Th17": "CL:0000899",
                  "Treg": "CL:0000815", "M1": "CL:0000863", "M2": "CL:0000890"}
_MSC_CL = "CL:0000134"  # mesenchymal stem cell
_TAXON = {"human": "9606", "mouse": "10090", "rat": "10116"}
_DISEASE_DOID = {"ra": "DOID:7148", "t1d": "DOID:9744", "ms": "DOID:2377", "sle": "DOID:9074",
                 "ibd": "DOID:0050589", "liver": "DOID:5082"}


def _miriam_for(name: str, *, is_cell_species: bool) -> tuple[str, str] | None:
    """(qualifier, identifiers.org URI) for a model quantity, when one is obvious."""
    if is_cell_species:
        if name.startswith(("D_", "M_phag", "X_")):   # debris/label: no ontology term for "MSC debris"
            return None
        return "is", f"https://identifiers.org/{_MSC_CL}"
    base = re.sub(r"(_tissue|_out|_t|_s)$", "", name)
    if base in _UNIPROT:
        return "is", f"https://identifiers.org/uniprot:{_UNIPROT[base]}"
    if base in _CELL_ONTOLOGY:
        return "is", f"https://identifiers.org/{_CELL_ONTOLOGY[base]}"
    return None


# ------------------------------------------------------------------------------------------
# fluxes -> reactions


@dataclass
class Flux:
    src: str | None
    dst: str | None
    expr: sp.Expr
    desc: str
    source: str
    name: str


def split_terms(model: OdeModel) -> tuple[list[Flux], list[Term]]:
    """Recover the fluxes written with ``OdeModel.flux`` (pairs of terms -e on src, +e on dst,
    one after the other) and the remaining plain rate terms."""
    fluxes: list[Flux] = []
    plain: list[Term] = []
    terms = model.terms
    i = 0
    while i < len(terms):
        a = terms[i]
        if a.flux is None:
            plain.append(a)
            i += 1
            continue
        b = terms[i + 1] if i + 1 < len(terms) else None
        if (b is not None and b.flux == a.flux and b.state != a.state
                and (a.expr + b.expr) == 0):
            fluxes.append(Flux(a.state, b.state, b.expr, a.desc, a.source, a.flux))
            i += 2
            continue
        if a.flux.endswith("_to_out") or (a.expr.could_extract_minus_sign() and not a.flux.startswith("in_to_")):
            fluxes.append(Flux(a.state, None, -a.expr, a.desc, a.source, a.flux))
        else:
            fluxes.append(Flux(None, a.state, a.expr, a.desc, a.source, a.flux))
        i += 1
    return fluxes, plain


# ------------------------------------------------------------------------------------------
# the document


@dataclass(frozen=True)
class SbmlIssue:
    """One message of libSBML's consistency check."""

    severity: str      # "Info" | "Warning" | "Error" | "Fatal"
    error_id: int
    category: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.severity} {self.error_id} ({self.category}, line {self.line}): {self.message}"


@dataclass
class SbmlExport:
    """An exported model: the SBML text plus what went into it."""

    sbml: str
    model_id: str
    params: dict[str, float]
    initial_state: dict[str, float]
    administrations: list[Administration]
    issues: list[SbmlIssue] = field(default_factory=list)
    species_ids: list[str] = field(default_factory=list)
    reaction_count: int = 0
    rate_rule_count: int = 0

    @property
    def errors(self) -> list[SbmlIssue]:
        return [i for i in self.issues if i.severity in ("Error", "Fatal")]

    @property
    def warnings(self) -> list[SbmlIssue]:
        return [i for i in self.issues if i.severity == "Warning"]

    def issue_summary(self) -> dict[str, int]:
        """Count of messages per ``severity id`` (e.g. ``{"Warning 99505": 812}``)."""
        out: dict[str, int] = {}
        for i in self.issues:
            k = f"{i.severity} {i.error_id}"
            out[k] = out.get(k, 0) + 1
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def write(self, path) -> None:
        """Write the file atomically (temporary name, then rename)."""
        from mscsim.io import write_text

        write_text(self.sbml, path)


def check_consistency(sbml: str, *, units: bool = True) -> list[SbmlIssue]:
    """Run libSBML's consistency checks (all categories, units included) on an SBML string."""
    import libsbml

    doc = libsbml.readSBMLFromString(sbml)
    if not units:
        doc.setConsistencyChecks(libsbml.LIBSBML_CAT_UNITS_CONSISTENCY, False)
    doc.checkConsistency()
    out = []
    for k in range(doc.getNumErrors()):
        e = doc.getError(k)
        out.append(SbmlIssue(e.getSeverityAsString(), int(e.getErrorId()), e.getCategoryAsString(),
                             int(e.getLine()), e.getMessage().strip().replace("\n", " ")))
    return out


def _sid(text: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return s if re.match(r"[A-Za-z_]", s) else "_" + s


def _check(rc: int, what: str) -> None:
    import libsbml

    if rc != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise RuntimeError(f"libSBML refused {what}: {libsbml.OperationReturnValue_toString(rc)}")


class _Builder:
    """Builds one SBML document from a composed model and one patient's values."""

    def __init__(self, composed, p: np.ndarray, y0: np.ndarray, admins: list[Administration], body,
                 meta: dict):
        import libsbml

        self.sb = libsbml
        self.composed = composed
        self.m: OdeModel = composed.ode
        self.p = dict(zip(self.m.param_names, (float(v) for v in p)))
        self.y0 = dict(zip(self.m.state_names, (float(v) for v in y0)))
        self.admins = admins
        self.body = body
        self.meta = meta
        self.doc = libsbml.SBMLDocument(3, 2)
        self.doc.getNamespaces().add(MSCSIM_NS, "mscsim")
        self.model = self.doc.createModel()
        self.units: dict[str, str] = {}
        self.inexact_units: set[str] = set()
        self._meta_n = 0

    # -- helpers -------------------------------------------------------------------------
    def _metaid(self, obj, base: str) -> None:
        self._meta_n += 1
        _check(obj.setMetaId(f"meta_{_sid(base)}_{self._meta_n}"), f"metaid {base}")

    def _notes(self, obj, *paras: str) -> None:
        body = "".join(f"<p>{escape(x)}</p>" for x in paras if x)
        if body:
            _check(obj.setNotes(f'<body xmlns="{_XHTML}">{body}</body>'), "notes")

    def _annot(self, obj, tag: str, **attrs) -> None:
        a = " ".join(f"{k}={quoteattr(str(v))}" for k, v in attrs.items() if v not in (None, ""))
        _check(obj.setAnnotation(f'<annotation><mscsim:{tag} xmlns:mscsim="{MSCSIM_NS}" {a}/></annotation>'),
               f"annotation on {tag}")

    def _cv(self, obj, qualifier: str, uri: str, model_qualifier: bool = False) -> None:
        sb = self.sb
        if model_qualifier:
            cv = sb.CVTerm(sb.MODEL_QUALIFIER)
            cv.setModelQualifierType({"isDescribedBy": sb.BQM_IS_DESCRIBED_BY, "is": sb.BQM_IS}[qualifier])
        else:
            cv = sb.CVTerm(sb.BIOLOGICAL_QUALIFIER)
            cv.setBiologicalQualifierType({
                "is": sb.BQB_IS, "isVersionOf": sb.BQB_IS_VERSION_OF, "hasTaxon": sb.BQB_HAS_TAXON,
                "hasProperty": sb.BQB_HAS_PROPERTY,
            }[qualifier])
        cv.addResource(uri)
        _check(obj.addCVTerm(cv), f"CV term {uri}")

    def unit(self, text: str) -> str | None:
        """Id of the unit definition for ``text`` (created on first use)."""
        text = (text or "").strip()
        if not text:
            return None
        if text == "1":
            return "dimensionless"
        if text in self.units:
            return self.units[text]
        uid = unit_id(text)
        taken = set(self.units.values())
        k = 2
        base = uid
        while uid in taken or uid in ("u_day", "u_cell"):
            uid, k = f"{base}_{k}", k + 1
        factors, exact = parse_unit(text)
        self._unit_def(uid, text, factors)
        if not exact:
            self.inexact_units.add(text)
        self.units[text] = uid
        return uid

    def _unit_def(self, uid: str, name: str, factors: list[UnitFactor]) -> None:
        ud = self.model.createUnitDefinition()
        ud.setId(uid)
        ud.setName(name)
        for f in factors:
            u = ud.createUnit()
            u.setKind(self.sb.UnitKind_forName(f.kind))
            u.setExponent(float(f.exponent))
            u.setScale(int(f.scale))
            u.setMultiplier(float(f.multiplier))

    def math(self, expr, where: str):
        """libSBML AST of a sympy expression, checked to use exactly the expected names."""
        text = formula(expr)
        ast = self.sb.parseL3FormulaWithModel(text, self.model)
        if ast is None:
            raise RuntimeError(f"SBML formula of {where} did not parse: {text!r}: "
                               f"{self.sb.getLastParseL3Error()}")
        want = {s.name for s in sp.sympify(expr).free_symbols if s.name != "t"}
        got = _ast_names(ast, set())
        if got != want:
            raise RuntimeError(f"SBML formula of {where} reads names {sorted(got ^ want)} differently: {text!r}")
        return ast

    # -- structure -----------------------------------------------------------------------
    def build(self) -> SbmlExport:
        sb, m, model = self.sb, self.m, self.model
        model.setId(_sid(m.name))
        model.setName(self.meta.get("title", m.name))
        self._unit_def("day", "day", [UnitFactor("second", 1, 0, 86400.0)])
        self._unit_def("cell", "cell", [UnitFactor("item")])
        self.units.update({"day": "day", "d": "day", "cells": "cell", "cell": "cell"})
        model.setTimeUnits("day")
        model.setSubstanceUnits("cell")
        model.setExtentUnits("cell")
        model.setVolumeUnits("litre")
        self._model_annotations()

        fluxes, _plain = split_terms(m)
        species = [s for s in m.states.values() if s.unit in CELL_UNITS and s.name not in BOOKKEEPING]
        species_names = {s.name for s in species}
        plain_states = {t.state for t in m.terms if t.flux is None}
        # species changed only by fluxes are driven by reactions; the others get rate rules
        by_reaction = {n for n in species_names if n not in plain_states}

        comps = self._compartments(species)
        for s in species:
            self._species(s, comps[s.name], boundary=s.name not in by_reaction)
        for pname, prm in m.params.items():
            self._parameter(pname, self.p[pname], prm.unit, prm.desc, prm.source, prm.kind,
                            constant=not pname.startswith("in_"))
        for s in m.states.values():
            if s.name not in species_names:
                self._state_parameter(s)
        for r in m.ordered_rules():
            self._rule_parameter(r, output=r.name in m.outputs)
        dose_ids = self._dose_parameters()

        # initial assignments: compartment sizes from the volume parameters, dose rates.
        # States set from a patient parameter (init_mode "param:X") are written as numbers
        # (annotated with their init_mode), not as "state = X" initial assignments: such an
        # assignment on a rate-rule variable that feeds the exponent of a power sends libSBML
        # 5.21's unit checker into endless recursion (a segfault in checkConsistency).
        for cid, pname in self._comp_size_params.items():
            ia = model.createInitialAssignment()
            ia.setSymbol(cid)
            ia.setMath(self.math(sp.Symbol(pname), f"size of {cid}"))
        for k, a in enumerate(self.admins, start=1):
            ia = model.createInitialAssignment()
            ia.setSymbol(f"dose{k}_rate")
            ia.setMath(self.math(sp.Symbol(f"dose{k}_cells") / sp.Symbol(f"dose{k}_duration"), f"dose {k} rate"))

        # rules (in dependency order), rate rules, reactions
        for r in m.ordered_rules():
            ar = model.createAssignmentRule()
            ar.setVariable(r.name)
            ar.setMath(self.math(r.expr, f"rule {r.name}"))
            self._metaid(ar, f"rule_{r.name}")
            self._notes(ar, r.desc, f"Source: {r.source}" if r.source else "")
        n_rate = 0
        for s in m.states.values():
            if s.name in by_reaction:
                continue
            rr = model.createRateRule()
            rr.setVariable(s.name)
            rr.setMath(self.math(m.derivative(s.name), f"rate of {s.name}"))
            terms = [t for t in m.terms if t.state == s.name]
            self._metaid(rr, f"rate_{s.name}")
            self._notes(rr, f"d{s.name}/dt = sum of {len(terms)} term(s):",
                        *[f"{t.desc} [{t.source}]" for t in terms])
            n_rate += 1
        n_rx = 0
        for f in fluxes:
            ends = [e for e in (f.src, f.dst) if e is not None]
            if not any(e in by_reaction for e in ends):
                continue
            n_rx += 1
            self._reaction(n_rx, f, species_names, comps)
        self._events(dose_ids)

        text = sb.writeSBMLToString(self.doc)
        return SbmlExport(text, model.getId(), dict(self.p), dict(self.y0), list(self.admins),
                          species_ids=[s.name for s in species], reaction_count=n_rx,
                          rate_rule_count=n_rate)

    def _model_annotations(self) -> None:
        model, meta = self.model, self.meta
        self._metaid(model, "model")
        lines = [
            f"{meta.get('title', self.m.name)}: generated by mscsim {meta.get('version', '')} from the same "
            "equations as its compiled simulator (exported SBML is checked against the native "
            "simulation with libRoadRunner).",
            "Time is in days. MSCs are species amounts (cells) in their compartment; cell transfers "
            "are reactions; immune, disease and score quantities are parameters with rate or "
            "assignment rules. The initial state is this patient's untreated steady state.",
            f"Species {meta.get('species')}, body weight {meta.get('weight_kg'):g} kg"
            + (f", disease {meta['disease']}" + (f" ({meta['subtype']})" if meta.get("subtype") else "")
               if meta.get("disease") else "")
            + (f", target tissue {meta['target']}" if meta.get("target") else "") + ".",
        ]
        if meta.get("regimen_text"):
            lines.append("Doses: " + meta["regimen_text"])
        if meta.get("days"):
            lines.append(f"Suggested simulation: 0 to {meta['days']:g} days.")
        self._notes(model, *lines)
        self._annot(model, "export", version=meta.get("version"), disease=meta.get("disease"),
                    subtype=meta.get("subtype"), target=meta.get("target"), species=meta.get("species"),
                    weight_kg=meta.get("weight_kg"), days=meta.get("days"),
                    fingerprint=self.m.fingerprint())
        sp_name = meta.get("species", "human")
        if sp_name in _TAXON:
            self._cv(model, "hasTaxon", f"https://identifiers.org/taxonomy:{_TAXON[sp_name]}")
        if meta.get("disease") in _DISEASE_DOID:
            self._cv(model, "hasProperty", f"https://identifiers.org/{_DISEASE_DOID[meta['disease']]}")

    def _compartments(self, species: list[State]) -> dict[str, str]:
        """Create the compartments; return species name -> compartment id."""
        body = self.body
        organs = list(self.composed.kinetics.comps) if self.composed.kinetics else []
        masses = dict(body.masses)
        defs: list[tuple[str, str, float, str | None]] = [   # id, name, size (L), size parameter
            ("C_body", "whole body (MSC material in migrating phagocytes)", body.weight_kg, "BW"),
            ("C_venous_blood", "venous blood", body.v_ven, "V_ven"),
            ("C_arterial_blood", "arterial blood", body.v_art, "V_art"),
        ]
        for c in organs:
            name = f"target tissue ({self.composed.target})" if c == "target" else c
            defs.append((f"C_{c}", name, float(masses.get(c, 1.0)), "mass_target" if c == "target" else None))
        defs += [("C_csf", "cerebrospinal fluid (and the meninges it bathes)", body.csf_volume or 1.0, "V_csf"),
                 ("C_injection_site", "local injection site depot (nominal 1 mL) [design]", 1e-3, None),
                 ("C_cleared", "outside the body (cleared label; nominal size 1 L)", 1.0, None)]
        self._comp_size_params: dict[str, str] = {}
        names = set(self.m.states) | set(self.m.params) | set(self.m.rules)
        for cid, name, size, par in defs:
            if cid in names:
                raise RuntimeError(f"compartment id {cid} clashes with a model name")
            c = self.model.createCompartment()
            c.setId(cid)
            c.setName(name)
            c.setSpatialDimensions(3.0)
            c.setSize(float(size) if size and size > 0 else 1.0)
            c.setUnits("litre")
            c.setConstant(True)
            c.setSBOTerm(290)
            # size parameters in kg (BW, mass_target) are volumes at 1 kg/L; only L-valued ones link
            if par is not None and par in self.m.params and self.m.params[par].unit == "L":
                self._comp_size_params[cid] = par
            self._metaid(c, cid)
            self._notes(c, f"{name}; size in litres" + ("" if par and self.m.params.get(par) and
                                                       self.m.params[par].unit == "L"
                                                       else " (organ mass at 1 kg/L) [design]")
                        + ". Species here are amounts, so sizes do not enter the equations.")
        ids = {d[0] for d in defs}
        out = {}
        for s in species:
            n = s.name
            if n in ("N_ven",):
                cid = "C_venous_blood"
            elif n in ("N_art",):
                cid = "C_arterial_blood"
            elif n in ("N_csf", "A_men"):
                cid = "C_csf"
            elif n == "depot":
                cid = "C_injection_site"
            elif n == "X_cleared":
                cid = "C_cleared"
            else:
                suffix = n.rsplit("_", 1)[-1] if "_" in n else ""
                cid = f"C_{suffix}" if f"C_{suffix}" in ids and suffix in organs else "C_body"
            out[n] = cid
        return out

    def _species(self, s: State, comp: str, boundary: bool) -> None:
        sp_ = self.model.createSpecies()
        sp_.setId(s.name)
        sp_.setName(s.desc)
        sp_.setCompartment(comp)
        sp_.setInitialAmount(self.y0[s.name])
        sp_.setHasOnlySubstanceUnits(True)
        sp_.setBoundaryCondition(boundary)
        sp_.setConstant(False)
        sp_.setSubstanceUnits("cell")
        sp_.setSBOTerm(285)
        self._metaid(sp_, s.name)
        self._notes(sp_, s.desc, f"Unit: {s.unit}; group: {s.group}; initial value: untreated steady state.")
        self._annot(sp_, "state", unit=s.unit, group=s.group, init_mode=s.init_mode)
        mir = _miriam_for(s.name, is_cell_species=True)
        if mir:
            self._cv(sp_, *mir)

    def _parameter(self, pid: str, value: float | None, unit: str, desc: str, source: str, kind: str,
                   *, constant: bool, tag: str = "parameter", extra: dict | None = None, sbo_rate=True):
        prm = self.model.createParameter()
        prm.setId(pid)
        if desc:
            prm.setName(desc)
        if value is not None:
            prm.setValue(float(value))
        prm.setConstant(constant)
        u = self.unit(unit)
        if u:
            prm.setUnits(u)
        if sbo_rate and unit.strip() == "1/day":
            prm.setSBOTerm(9)          # kinetic constant
        self._metaid(prm, pid)
        self._notes(prm, desc, f"Source: {source}" if source else "", f"Kind: {kind}" if kind else "",
                    f"Unit: {unit}" if unit else "")
        self._annot(prm, tag, unit=unit, kind=kind, source=source, **(extra or {}))
        mir = _miriam_for(pid, is_cell_species=False)
        if mir:
            self._cv(prm, *mir)
        return prm

    def _state_parameter(self, s: State) -> None:
        self._parameter(s.name, self.y0[s.name], s.unit, s.desc, "", "state", constant=False, tag="state",
                        extra={"group": s.group, "init_mode": s.init_mode}, sbo_rate=False)

    def _rule_parameter(self, r, output: bool) -> None:
        self._parameter(r.name, None, r.unit, r.desc, r.source, "rule", constant=False, tag="rule",
                        extra={"output": "true" if output else "false"}, sbo_rate=False)

    def _reaction(self, k: int, f: Flux, species_names: set[str], comps: dict[str, str]) -> None:
        rid = _sid(f"J{k}_{f.name}")
        rx = self.model.createReaction()
        rx.setId(rid)
        rx.setName(f.desc)
        rx.setReversible(False)
        if f.src in species_names:
            r = rx.createReactant()
            r.setSpecies(f.src)
            r.setStoichiometry(1.0)
            r.setConstant(True)
        if f.dst in species_names:
            r = rx.createProduct()
            r.setSpecies(f.dst)
            r.setStoichiometry(1.0)
            r.setConstant(True)
        kl = rx.createKineticLaw()
        kl.setMath(self.math(f.expr, f"flux {rid}"))
        if f.src in species_names and f.dst in species_names:
            rx.setSBOTerm(185 if comps[f.src] != comps[f.dst] else 182)   # transport | conversion
        elif f.dst in species_names:
            rx.setSBOTerm(393)                                            # production (a dose input)
        else:
            rx.setSBOTerm(179)                                            # degradation
        self._metaid(rx, rid)
        self._notes(rx, f.desc, f"Source: {f.source}" if f.source else "")
        self._annot(rx, "flux", name=f.name, source=f.source)

    # -- doses ---------------------------------------------------------------------------
    def _dose_parameters(self) -> list[int]:
        names = set(self.m.states) | set(self.m.params) | set(self.m.rules)
        ks = []
        for k, a in enumerate(self.admins, start=1):
            pre = f"dose{k}"
            for suffix in ("time", "duration", "cells", "rate"):
                if f"{pre}_{suffix}" in names:
                    raise RuntimeError(f"dose parameter {pre}_{suffix} clashes with a model name")
            what = f"dose {k} ({a.route}" + (f", site {a.site}" if a.site else "") + f", into {a.input})"
            self._parameter(f"{pre}_time", a.start, "day", f"start of {what}", "regimen", "dose", constant=True,
                            tag="dose", sbo_rate=False)
            self._parameter(f"{pre}_duration", a.duration, "day", f"infusion time of {what} (a bolus is 1 min)",
                            "regimen", "dose", constant=True, tag="dose", sbo_rate=False)
            self._parameter(f"{pre}_cells", a.cells, "cells", f"cells given in {what}", "regimen", "dose",
                            constant=True, tag="dose", sbo_rate=False)
            self._parameter(f"{pre}_rate", a.rate, "cells/day", f"infusion rate of {what}",
                            "regimen: cells / duration", "dose", constant=True, tag="dose", sbo_rate=False)
            ks.append(k)
        return ks

    def _events(self, ks: list[int]) -> None:
        sb = self.sb
        admins = self.admins
        start = {k: sp.Symbol(f"dose{k}_time") for k in ks}
        dur = {k: sp.Symbol(f"dose{k}_duration") for k in ks}
        rate = {k: sp.Symbol(f"dose{k}_rate") for k in ks}
        tsym = sp.Symbol("t", real=True)

        def running_after(time: float, inp: str) -> sp.Expr:
            """Sum of the rate parameters of the doses into ``inp`` running just after ``time``
            (same rule as solve.input_rates: start <= t < end)."""
            on = [k for k, a in zip(ks, admins) if a.input == inp and a.start <= time < a.end]
            return sp.Add(*[rate[k] for k in on]) if on else None

        for k, a in zip(ks, admins):
            for which, when, trig in (("on", a.start, tsym >= start[k]),
                                      ("off", a.end, tsym >= start[k] + dur[k])):
                ev = self.model.createEvent()
                ev.setId(f"dose{k}_{which}")
                ev.setName(f"dose {k} {'starts' if which == 'on' else 'ends'}: {a.input} "
                           f"{'on' if which == 'on' else 'reset'} ({a.route}, {a.cells:.4g} cells)")
                ev.setUseValuesFromTriggerTime(True)
                tr = ev.createTrigger()
                tr.setInitialValue(False)      # true at t0 counts as a transition: a dose at 0 fires
                tr.setPersistent(True)
                tr.setMath(self.math(trig, f"trigger of dose {k} {which}"))
                ea = ev.createEventAssignment()
                ea.setVariable(a.input)
                val = running_after(when, a.input)
                if val is None:
                    uid = self.unit("cells/day")
                    ast = sb.parseL3FormulaWithModel(f"0 {uid}", self.model)
                    if ast is None:
                        ast = sb.parseL3Formula("0")
                    ea.setMath(ast)
                else:
                    ea.setMath(self.math(val, f"dose {k} {which}"))
                self._metaid(ev, f"dose{k}_{which}")
                self._notes(ev, f"{a.input} = total rate of the {a.input} doses running after "
                                f"t = {when:.6g} d (absolute value, so simultaneous events commute).")


def model_to_sbml(composed, p: np.ndarray, y0: np.ndarray, admins: list[Administration], *, body,
                  meta: dict | None = None, check: bool = True) -> SbmlExport:
    """SBML of ``composed`` with parameter vector ``p``, initial state ``y0`` and doses ``admins``."""
    composed = composed.symbolic()  # the equations (a model from `build_model` is its sheet)
    from mscsim import __version__

    meta = dict(meta or {})
    meta.setdefault("version", __version__)
    meta.setdefault("species", composed.species)
    meta.setdefault("disease", composed.disease)
    meta.setdefault("subtype", composed.subtype)
    meta.setdefault("target", composed.target)
    meta.setdefault("weight_kg", body.weight_kg)
    meta.setdefault("title", f"mscsim {composed.disease or 'kinetics'} model"
                    + (f" ({composed.subtype})" if composed.subtype else "")
                    + (f", target {composed.target}" if composed.target else ""))
    exp = _Builder(composed, p, y0, admins, body, meta).build()
    if check:
        exp.issues = check_consistency(exp.sbml)
    return exp


def export_sbml(disease: str | None = None, *, subtype: str | None = None,
                injury: tuple[str, float] | None = None, species: str = "human",
                weight_kg: float | None = None, regimen: Regimen | None = None,
                params: dict[str, float] | None = None, days: float | None = None,
                check: bool = True) -> SbmlExport:
    """Export one patient's model (same arguments as :func:`mscsim.simulate.simulate`).

    >>> exp = export_sbml("ra", regimen=Regimen((Dose.parse("1e6 cells/kg", "iv"),)))   # doctest: +SKIP
    >>> exp.write("ra.xml"); exp.errors                                                  # doctest: +SKIP
    []
    """
    from mscsim.numerics import compile_model
    from mscsim.model import build_model
    from mscsim.physiology import make_body
    from mscsim.simulate import check_regimen_safety, injury_target, parameter_vector
    from mscsim.numerics import steady_state

    regimen = regimen or Regimen()
    target, severity = injury_target(injury, disease)
    if days is not None and not (isinstance(days, (int, float)) and math.isfinite(days) and days > 0):
        raise MscsimError(f"days must be a positive number, got {days!r}", field="days")
    composed = build_model(disease, target, species, subtype)
    body = make_body(species, weight_kg, composed.target)
    check_regimen_safety(regimen, body.weight_kg, species)
    p = parameter_vector(composed, weight_kg=body.weight_kg, regimen=regimen, injury=severity,
                         overrides=params)
    y0 = steady_state(compile_model(composed.ode), p)
    admins = regimen.administrations(body.weight_kg)
    meta = {"days": days, "regimen_text": "; ".join(_dose_text(d) for d in regimen) or "none"}
    if injury is not None:
        meta["title"] = f"mscsim kinetics model, injured {target} (severity {float(severity):g})"
    return model_to_sbml(composed, p, y0, admins, body=body, meta=meta, check=check)


def _dose_text(d) -> str:
    where = f" ({d.artery} artery)" if d.artery else (f" (site {d.site})" if d.site else "")
    rep = f", every {d.every:g} d x {d.times}" if d.times > 1 else ""
    inf = f", infused over {d.duration * 1440:g} min" if d.duration > 0 else ", bolus (1 min)"
    return f"{d.amount.text} {d.route}{where} at {d.at:g} d{inf}{rep}, product {d.product_spec.label}"
