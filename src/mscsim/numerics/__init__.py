"""The numerics, in a room of their own: they import nothing from the biology.

- ``language``: the model language (states, parameters, rules, rate terms) in which the biology
  layers write their equations (sympy expressions; ``sympy`` here is sympy imported on first
  use), and ``ModelSheet``, a model without its equations, which is what running patients needs;
- ``codegen``: code generation from a model to machine code (right-hand side, exact sparse
  Jacobian, read-outs; via LLVM IR), cached on disk;
- ``engine`` (kernels in ``_bdf_kernels``, compiled once for every model): the compiled
  variable-order BDF integrator and steady-state solver, one compiled call per patient;
- ``solve``: the one integration entry point (compiled engine or scipy ``solve_ivp``), with
  ``options`` holding the small immutable option objects and the error type;
- ``steady``: the untreated steady state (compiled Newton, MINPACK fallback).

The biology layers use only the names exported here.
"""

from mscsim.numerics.language import ModelSheet, OdeModel, Param, Rule, State, Term, hill
from mscsim.numerics.language import sp as sympy
from mscsim.numerics.options import ENGINES, Infusion, IntegrationError, SolverOptions
from mscsim.numerics.codegen import CompiledModel, cache_dir, compile_model, model_is_compiled
from mscsim.numerics.engine import warm_up
from mscsim.numerics.solve import integrate, integrate_scipy
from mscsim.numerics.steady import SteadyStateError, steady_state, steady_state_scipy

__all__ = ["sympy", "ModelSheet", "OdeModel", "Param", "Rule", "State", "Term", "hill", "ENGINES", "Infusion",
           "IntegrationError", "SolverOptions", "CompiledModel", "cache_dir", "compile_model", "model_is_compiled",
           "warm_up", "integrate", "integrate_scipy", "SteadyStateError", "steady_state", "steady_state_scipy"]
