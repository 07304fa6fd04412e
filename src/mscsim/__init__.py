"""mscsim: simulate mesenchymal stem/stromal cell (MSC) therapy.

After MSCs are infused, where do they go, how do they calm the immune system, and what does
that do to the course of a disease? See ``design.md`` in the docs for the layers:
physiology -> kinetics -> immune -> diseases -> population -> trial -> evidence.
"""

__version__ = "0.1.0"

#: the public API, one entry point per job (imported lazily so that `mscsim --help` stays fast)
_API = {
    "simulate": "mscsim.simulate", "Simulation": "mscsim.simulate",
    "Dose": "mscsim.dosing", "Regimen": "mscsim.dosing",
    "load_scenario": "mscsim.scenario", "resolve_scenario": "mscsim.scenario",
    "shipped_scenarios": "mscsim.scenario",
    "run_trial": "mscsim.trial", "power": "mscsim.trial",
    "run_validation": "mscsim.evidence.validate", "load_records": "mscsim.evidence.records",
    "meta_analysis": "mscsim.evidence.meta",
    "export_sbml": "mscsim.sbml", "read_event_table": "mscsim.eventtable",
    "write_event_table": "mscsim.eventtable",
    "MscsimError": "mscsim.errors",
}
__all__ = sorted(_API)


def __getattr__(name: str):
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'mscsim' has no attribute {name!r}")


def _install_simulate_property() -> None:
    """``mscsim.simulate`` is both a submodule and the function of the same name. Importing the
    submodule (which any other module may do first) binds the module as the package attribute;
    a data descriptor on the package's class wins over that binding, so ``from mscsim import
    simulate`` always gives the function, and the import system's assignment is harmless."""
    import sys
    import types

    class _Package(types.ModuleType):
        @property
        def simulate(self):
            from mscsim.simulate import simulate as fn

            return fn

        @simulate.setter
        def simulate(self, value):  # the import system binds the submodule here; keep the function
            pass

    sys.modules[__name__].__class__ = _Package


_install_simulate_property()
