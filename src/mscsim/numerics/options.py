"""Small immutable option objects and the error type shared by the integration engines.

Kept apart from ``engine`` and ``solve`` so that neither imports the other for them (no import
cycle). ``Infusion`` is the only thing the numerics need to know about a dose: a constant rate
into a model input between two times (``mscsim.dosing.Administration`` is one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


class Infusion(Protocol):
    """A piecewise-constant input: ``rate`` (amount per day) into model input ``input`` from
    ``start`` to ``end`` (days)."""

    start: float
    input: str

    @property
    def end(self) -> float: ...

    @property
    def rate(self) -> float: ...


class IntegrationError(RuntimeError):
    """The solver failed for one patient (reported, not fatal, in a trial)."""


ENGINES = ("compiled", "scipy")


@dataclass(frozen=True)
class SolverOptions:
    """Small immutable solver settings (defaults chosen for clinical-time-scale accuracy).

    ``engine``: "compiled" (numba BDF, default) or "scipy" (``solve_ivp`` with ``method``).
    """

    method: str = "LSODA"
    rtol: float = 1e-6
    atol_scale: float = 1.0   # multiplies every state's own atol
    max_step: float = np.inf
    engine: str = "compiled"

    def __post_init__(self):
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}; accepted: {', '.join(ENGINES)}")

    def stricter(self) -> SolverOptions:
        """The retry after a failure: scipy Radau, 10x tighter tolerances, steps of at most 1 day."""
        return SolverOptions("Radau", self.rtol / 10, self.atol_scale / 10, min(self.max_step, 1.0), "scipy")
