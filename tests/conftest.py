"""Test session set-up: on a cold compile cache (a fresh machine, CI), compile every shipped model
in two processes before the tests run, instead of one after another inside the tests. On a warm
cache this only loads each model once (a few seconds). Skipped when a few tests are selected."""

import os


def pytest_collection_finish(session):
    if len(session.items) < 100 or os.environ.get("MSCSIM_NO_WARM"):
        return
    import time

    from mscsim.execution import warm_all

    from mscsim.numerics.codegen import model_is_compiled
    from mscsim.execution import model_specs
    from mscsim.model import build_model

    specs = model_specs()
    cold = sum(not model_is_compiled(build_model(d, t, sp, s).ode) for d, s, t, sp in specs)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:  # say why the first minutes are silent (issue 21)
        what = (f"compiling {cold} of {len(specs)} models once (1-3 s each, plus ~15 s for the shared engine "
                "kernels on a fresh machine; 2 processes; later sessions load them from the cache)" if cold else f"loading {len(specs)} compiled models")
        reporter.write_line(f"mscsim: {what} before the tests; MSCSIM_NO_WARM=1 skips this")
    t0 = time.perf_counter()
    names = warm_all(workers=min(2, os.cpu_count() or 1))
    session.config._mscsim_warm = (len(names), time.perf_counter() - t0)


def pytest_terminal_summary(terminalreporter, config):
    warm = getattr(config, "_mscsim_warm", None)
    if warm:
        terminalreporter.write_line(f"compiled/loaded {warm[0]} models in parallel before the tests: {warm[1]:.0f} s")
