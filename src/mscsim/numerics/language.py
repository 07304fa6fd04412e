"""A small symbolic model container: states, parameters, algebraic rules, rates, outputs.

Every layer of the body (kinetics, immune network, disease) writes its equations into one
:class:`OdeModel` with sympy expressions, each term carrying its source. From that single
description mscsim generates the compiled right-hand side and Jacobian (``codegen``), the
SBML export (``sbml``) and the equation list in the docs, so the three never drift apart.

Why hand-written: sympy gives the algebra, but no library offers "a documented QSP model
whose every term carries a citation and compiles to numba and SBML"; this file is that glue
and nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mscsim.errors import MscsimError


class _LazySympy:
    """``sympy``, imported on first use (issue 19): a trial or simulation whose model comes from
    its cached sheet (`ModelSheet`) never needs the equations, and importing sympy costs ~0.4 s
    of every start-up. ``from mscsim.numerics import sympy as sp`` in the modules that write
    equations; each attribute is looked up once."""

    def __getattr__(self, name: str):
        import sympy

        value = getattr(sympy, name)
        setattr(self, name, value)
        return value


sp = _LazySympy()


class _Names:
    """The state and parameter names, in model order (an `OdeModel` and its `ModelSheet` alike)."""

    @property
    def state_names(self) -> list[str]:
        return list(self.states)

    @property
    def param_names(self) -> list[str]:
        return list(self.params)


@dataclass
class State:
    name: str
    symbol: "sp.Symbol | None"   # None on a `ModelSheet`
    unit: str
    desc: str
    group: str
    init: float = 0.0
    #: atol for the solver, in the state's own unit
    atol: float = 1e-6
    #: how the untreated baseline sets this state: "value" (init), "steady" (solved so that the
    #: state is at rest given the others), or "param:<name>" (a patient parameter's value)
    init_mode: str = "value"


@dataclass
class Param:
    name: str
    symbol: "sp.Symbol | None"   # None on a `ModelSheet`
    value: float
    unit: str
    desc: str = ""
    source: str = ""
    kind: str = ""


@dataclass
class Rule:
    """An algebraic (assignment) rule: name = expr, evaluated before the rates."""

    name: str
    symbol: sp.Symbol
    expr: sp.Expr
    unit: str
    desc: str
    source: str


@dataclass
class Term:
    """One additive term of a state's rate of change (d state / dt += sign * expr)."""

    state: str
    expr: sp.Expr
    desc: str
    source: str
    flux: str | None = None  # name of the flux this term belongs to (for conservation/SBML)


@dataclass
class OdeModel(_Names):
    """The composed ODE system of one simulated body (see module docstring)."""

    name: str
    states: dict[str, State] = field(default_factory=dict)
    params: dict[str, Param] = field(default_factory=dict)
    rules: dict[str, Rule] = field(default_factory=dict)
    terms: list[Term] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    meta: dict = field(default_factory=dict)

    # -- declaration -------------------------------------------------------------------
    def state(self, name: str, *, unit: str, desc: str, group: str, init: float = 0.0,
              atol: float = 1e-6, init_mode: str = "value") -> sp.Symbol:
        if name in self.states or name in self.params or name in self.rules:
            raise ValueError(f"duplicate model name {name!r}")
        if not (init_mode in ("value", "steady") or init_mode.startswith("param:")):
            raise ValueError(f"bad init_mode {init_mode!r}")
        sym = sp.Symbol(name, real=True)
        self.states[name] = State(name, sym, unit, desc, group, init, atol, init_mode)
        return sym

    def param(self, name: str, value: float, *, unit: str = "", desc: str = "",
              source: str = "", kind: str = "") -> sp.Symbol:
        """Declare a parameter (or return the existing one; values must then agree)."""
        if name in self.params:
            return self.params[name].symbol
        if name in self.states or name in self.rules:
            raise ValueError(f"duplicate model name {name!r}")
        sym = sp.Symbol(name, real=True)
        self.params[name] = Param(name, sym, float(value), unit, desc, source, kind)
        return sym

    def rule(self, name: str, expr, *, unit: str, desc: str, source: str,
             output: bool = False) -> sp.Symbol:
        if name in self.states or name in self.params or name in self.rules:
            raise ValueError(f"duplicate model name {name!r}")
        sym = sp.Symbol(name, real=True)
        self.rules[name] = Rule(name, sym, sp.sympify(expr), unit, desc, source)
        if output:
            self.outputs.append(name)
        return sym

    def rate(self, state: sp.Symbol | str, expr, *, desc: str, source: str) -> None:
        """Add ``expr`` to d(state)/dt."""
        name = str(state)
        if name not in self.states:
            raise ValueError(f"rate for unknown state {name!r}")
        self.terms.append(Term(name, sp.sympify(expr), desc, source))

    def flux(self, src: sp.Symbol | str | None, dst: sp.Symbol | str | None, expr, *,
             desc: str, source: str, name: str | None = None) -> None:
        """A mass-conserving transfer: ``expr`` leaves ``src`` and enters ``dst``.

        Either end may be ``None`` (a source or sink outside the model's bookkeeping).
        Cell kinetics is written only with fluxes, so cells are conserved by construction.
        """
        expr = sp.sympify(expr)
        fname = name or f"{src or 'in'}_to_{dst or 'out'}"
        if src is not None:
            self.terms.append(Term(str(src), -expr, desc, source, fname))
        if dst is not None:
            self.terms.append(Term(str(dst), expr, desc, source, fname))

    def output(self, name: str) -> None:
        if name not in self.rules and name not in self.states:
            raise ValueError(f"unknown output {name!r}")
        if name not in self.outputs:
            self.outputs.append(name)

    # -- queries -----------------------------------------------------------------------
    def symbol(self, name: str) -> sp.Symbol:
        for table in (self.states, self.params, self.rules):
            if name in table:
                return table[name].symbol
        raise MscsimError(f"unknown model quantity {name!r}")

    def derivative(self, name: str) -> sp.Expr:
        """d(state)/dt as the sum of its terms (rules left symbolic)."""
        return sp.Add(*[t.expr for t in self.terms if t.state == name])

    def ordered_rules(self) -> list[Rule]:
        """Rules in an order where every rule comes after the rules it uses."""
        done: dict[str, Rule] = {}
        visiting: set[str] = set()

        def visit(r: Rule) -> None:
            if r.name in done:
                return
            if r.name in visiting:
                raise ValueError(f"algebraic loop through rule {r.name!r}")
            visiting.add(r.name)
            for s in sorted(r.expr.free_symbols, key=lambda x: x.name):  # deterministic order
                if s.name in self.rules:
                    visit(self.rules[s.name])
            visiting.discard(r.name)
            done[r.name] = r

        for r in self.rules.values():
            visit(r)
        return list(done.values())

    def check(self) -> None:
        """Every symbol used is declared; raise otherwise."""
        known = set(self.states) | set(self.params) | set(self.rules) | {"t"}
        for r in self.rules.values():
            unknown = {s.name for s in r.expr.free_symbols} - known
            if unknown:
                raise ValueError(f"rule {r.name} uses undeclared {sorted(unknown)}")
        for t in self.terms:
            unknown = {s.name for s in t.expr.free_symbols} - known
            if unknown:
                raise ValueError(f"rate of {t.state} uses undeclared {sorted(unknown)}")
        self.ordered_rules()

    def full(self) -> "OdeModel":
        """This model (it has its equations; see `ModelSheet.full`)."""
        return self

    def sheet(self, build: Callable[[], "OdeModel"] | None = None) -> ModelSheet:
        """This model without its equations (`ModelSheet`); ``build`` makes the full model again."""
        return ModelSheet(self.name,
                          {n: State(s.name, None, s.unit, s.desc, s.group, s.init, s.atol, s.init_mode)
                           for n, s in self.states.items()},
                          {n: Param(p.name, None, p.value, p.unit, p.desc, p.source, p.kind)
                           for n, p in self.params.items()},
                          {n: RuleInfo(r.name, r.unit, r.desc, r.source) for n, r in self.rules.items()},
                          list(self.outputs), json_copy(self.meta), self.fingerprint(), build)

    def fingerprint(self) -> str:
        """A hash of the equations (not the parameter values), to key compiled code."""
        import hashlib

        h = hashlib.sha256()
        h.update(self.name.encode())
        for s in self.states.values():
            h.update(f"S {s.name}\n".encode())
        for p in self.params.values():
            h.update(f"P {p.name}\n".encode())
        for r in self.ordered_rules():
            h.update(f"R {r.name}={sp.srepr(r.expr)}\n".encode())
        for name in self.states:
            h.update(f"D {name}={sp.srepr(self.derivative(name))}\n".encode())
        for o in self.outputs:
            h.update(f"O {o}\n".encode())
        return h.hexdigest()[:16]


@dataclass(frozen=True)
class RuleInfo:
    """What a `ModelSheet` keeps of a rule: its name, unit, description and source (no expression)."""

    name: str
    unit: str
    desc: str
    source: str


@dataclass
class ModelSheet(_Names):
    """A model without its equations (issue 19): the names, units, values and descriptions of its
    states, parameters and rules, its outputs, ``meta`` and fingerprint, which is all that running
    patients needs once the model's machine code is cached (``codegen`` keys it by the
    fingerprint). Kept as JSON beside the compiled code, so a trial starts without sympy and
    without building the model (~0.8 s). ``full()`` builds the `OdeModel` (equations) through
    ``build`` when something needs them: code generation, SBML, the equation list. Reading it
    gives the same tables, in the same order, as the model it was written from."""

    name: str
    states: dict[str, State]
    params: dict[str, Param]
    rules: dict[str, RuleInfo]
    outputs: list[str]
    meta: dict
    key: str
    build: Callable[[], "OdeModel"] | None = field(default=None, repr=False, compare=False)

    def fingerprint(self) -> str:
        """The fingerprint of the model this sheet was written from (`OdeModel.fingerprint`)."""
        return self.key

    def full(self) -> "OdeModel":
        """The model with its equations."""
        if self.build is None:
            raise MscsimError(f"model {self.name!r}: its equations are not at hand (a sheet without a builder)")
        return self.build()

    def to_json(self) -> str:
        import json

        return json.dumps({
            "name": self.name, "key": self.key, "outputs": self.outputs, "meta": self.meta,
            "states": [[s.name, s.unit, s.desc, s.group, s.init, s.atol, s.init_mode] for s in self.states.values()],
            "params": [[p.name, p.value, p.unit, p.desc, p.source, p.kind] for p in self.params.values()],
            "rules": [[r.name, r.unit, r.desc, r.source] for r in self.rules.values()]})

    @classmethod
    def from_json(cls, text: str, build: Callable[[], "OdeModel"] | None = None) -> "ModelSheet":
        import json

        d = json.loads(text)
        return cls(d["name"],
                   {r[0]: State(r[0], None, r[1], r[2], r[3], float(r[4]), float(r[5]), r[6]) for r in d["states"]},
                   {r[0]: Param(r[0], None, float(r[1]), *r[2:]) for r in d["params"]},
                   {r[0]: RuleInfo(*r) for r in d["rules"]},
                   list(d["outputs"]), d["meta"], d["key"], build)


def json_copy(value):
    """``value`` after a round trip through JSON (what a `ModelSheet` read from disk holds)."""
    import json

    return json.loads(json.dumps(value))


_T: list = []


def __getattr__(name: str):
    """``t``, the symbol for time (days), usable in any expression (made on first use: sympy is
    imported lazily)."""
    if name == "t":
        if not _T:
            _T.append(sp.Symbol("t", real=True))
        return _T[0]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def hill(x, k, n=1):
    """Saturating Hill function x^n / (k^n + x^n), 0..1."""
    if n == 1:
        return x / (k + x)
    return x**n / (k**n + x**n)
