"""The ``mscsim`` command line: one verb per job (see design.md, "CLI verbs").

Each verb lives in its own module of this package and registers itself on :data:`app`.
:func:`main` turns user errors into one clear line and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import os
import sys

import typer

app = typer.Typer(
    name="mscsim",
    help="Simulate mesenchymal stem/stromal cell (MSC) therapy: where the cells go, "
    "how they calm the immune system, and what that does to eight diseases (RA, T1D, MS, lupus, IBD, cirrhosis, acute GvHD, ARDS).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # Imported for their side effect of adding commands to `app`.
    import importlib

    for name in ("simulate", "demo", "evidence", "trial", "validate", "calibrate",
                 "sensitivity", "export_sbml", "report", "endpoints", "export_petab",
                 "products"):
        try:
            importlib.import_module(f"mscsim.cli.{name}")
        except ModuleNotFoundError as exc:  # a verb not built yet
            if exc.name != f"mscsim.cli.{name}":
                raise


def _user_error_types():
    from pydantic import ValidationError

    from mscsim.errors import MscsimError

    return (MscsimError, ValidationError, FileNotFoundError, IsADirectoryError)


def format_error(exc: BaseException) -> str:
    """One line for the user."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
        msg = err.get("msg", str(exc)).removeprefix("Value error, ")
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        return f"{loc}: {msg}{more}" if loc else msg + more
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {exc.filename or exc}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _parser_exception_types() -> tuple[tuple[type, ...], tuple[type, ...], tuple[type, ...]]:
    """(usage/click exceptions, aborts, exits) of every click the CLI may run on: typer >= 0.29
    bundles its own copy (``typer._click``), older typer uses the ``click`` package; both are
    caught, so an upgrade of either cannot turn a usage error into a traceback again (issue 21)."""
    import importlib

    errs, aborts, exits = [], [], [typer.Exit]
    for name in ("typer._click.exceptions", "click.exceptions"):
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        errs += [getattr(mod, "ClickException")]
        aborts += [getattr(mod, "Abort")] if hasattr(mod, "Abort") else []
        exits += [getattr(mod, "Exit")] if hasattr(mod, "Exit") else []
    aborts += [typer.Abort] if hasattr(typer, "Abort") else []
    return tuple(errs), tuple(aborts), tuple(exits)


def _command_names() -> list[str]:
    return sorted(c.name or c.callback.__name__ for c in app.registered_commands)


def usage_line(exc: BaseException) -> str:
    """One line for a parser error: the message, a suggestion, where to find help."""
    import difflib
    import re

    msg = " ".join(exc.format_message().split()) if hasattr(exc, "format_message") else str(exc)
    m = re.match(r"No such command '(.+)'\.?$", msg)
    if m:
        close = difflib.get_close_matches(m.group(1), _command_names(), n=1, cutoff=0.5)
        msg = f"unknown command {m.group(1)!r}" + (f"; did you mean '{close[0]}'?" if close else "")
        msg += f" (commands: {', '.join(_command_names())})"
        return msg
    m = re.match(r"No such option: (\S+)(?: \(Possible options: (.+)\))?$", msg)
    if m:
        options = [o.strip() for o in (m.group(2) or "").split(",") if o.strip()]
        close = difflib.get_close_matches(m.group(1), options, n=1, cutoff=0.5)
        msg = f"unknown option {m.group(1)}" + (f"; did you mean {close[0]}?" if close else "")
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        msg += f" (see '{ctx.command_path} --help')"
    return msg


def compile_notice(model, folder) -> None:
    """Say why the first run of a model is slow (it is compiled once; issue 21)."""
    import os

    from mscsim.numerics import codegen

    name = model.name.removeprefix("mscsim-")
    # benchmarks/RESULTS.md, "Compile time": a model 1-3 s, the engine shared by all models ~15 s
    engine_ready = codegen._KERNELS_READY or codegen._kernels_marker().exists()
    span = "~1-5 s" if engine_ready else "~20 s: the engine is compiled too, once for every model"
    home = os.path.expanduser("~")
    where = str(folder).replace(home, "~", 1) if str(folder).startswith(home) else str(folder)
    typer.echo(f"compiling the {name} model once ({span}, longer on a busy machine); later runs load it "
               f"from {where}", err=True)


def command():
    """The click command of :data:`app`, with help that shows flags as flags (typer 0.29 prints a
    ``<bool>`` type after each) and arguments in capitals."""
    import typer.main

    cmd = typer.main.get_command(app)

    def plain_help(get_help_option):
        def wrapped(ctx):
            opt = get_help_option(ctx)
            if opt is not None:
                opt.metavar = ""
            return opt
        return wrapped

    for sub in [cmd, *getattr(cmd, "commands", {}).values()]:
        sub.get_help_option = plain_help(sub.get_help_option)
        for p in sub.params:
            if getattr(p, "is_flag", False):
                p.metavar = ""
            elif p.param_type_name == "argument" and p.metavar is None:
                p.metavar = p.name.upper()
    return cmd


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mscsim`` script: user and usage errors give one line and exit 2."""
    # The command line runs patients in worker processes, never one computation on several
    # threads: OpenBLAS's thread pools (numpy's and scipy's, made when numpy is imported) would
    # only spin, taking ~0.2 s of CPU from a trial's start-up and workers (issue 19) [design
    # choice]. Set here, before numpy is imported when this is the ``mscsim`` program; a value the
    # user set is kept. It holds for this process and the processes it starts.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from mscsim.numerics import codegen

    if compile_notice not in codegen.COMPILE_NOTICE_HOOKS:
        codegen.COMPILE_NOTICE_HOOKS.append(compile_notice)
    _register()
    user_errors = _user_error_types()
    click_errors, aborts, exits = _parser_exception_types()
    try:
        # without standalone mode, click (and typer) *return* the code of an Exit raised by a command
        # (typer >= 0.29 also turns Ctrl-C into Exit(130)) instead of raising it: that is the exit code
        code = command().main(args=argv, prog_name="mscsim", standalone_mode=False)
    except user_errors as exc:
        typer.echo(f"error: {format_error(exc)}", err=True)
        return 2
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except exits as exc:
        return int(getattr(exc, "exit_code", 0) or 0)
    except aborts:
        typer.echo("aborted", err=True)
        return 1
    except click_errors as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # `mscsim` or a group alone: the help
            exc.show()
            return 0
        typer.echo(f"error: {usage_line(exc)}", err=True)
        return int(getattr(exc, "exit_code", 2) or 2)
    except SystemExit as exc:
        return int(exc.code or 0)
    except OSError as exc:  # e.g. a folder that cannot be created (permission, read-only file system)
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        typer.echo(f"error: {where}{exc.strerror or exc}", err=True)
        return 2
    if isinstance(code, int) and not isinstance(code, bool) and code:
        if code == 130:
            typer.echo("interrupted", err=True)
        return code
    return 0


def run() -> None:
    """The ``mscsim`` program (and ``python -m mscsim``): `main`, then the exit handlers
    (``atexit``: multiprocessing's clean-up of child processes, ``weakref.finalize``), the output
    flushed, and the process ended without Python's module teardown, which took ~0.07 s of every
    command once numba, LLVM and pandas are loaded (issue 19) [design choice]. Only where no other
    thread is left (else the usual exit, which waits for them); every file the commands write is
    closed by then. Library use and the tests call `main`, which returns."""
    import atexit
    import threading

    code = main()
    if threading.active_count() > 1 or not hasattr(atexit, "_run_exitfuncs"):
        sys.exit(code)
    try:
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except Exception:  # noqa: BLE001 - a closed pipe or stream: nothing more to say
                pass
        os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
