"""The ``mscsim`` command line: one verb per job (see design.md, "CLI verbs").

Each verb lives in its own module of this package and registers itself on :data:`app`.
:func:`main` turns user errors into one clear line and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import sys

import typer

app = typer.Typer(
    name="mscsim",
    help="Simulate mesenchymal stem/stromal cell (MSC) therapy: where the cells go, "
    "how they calm the immune system, and what that does to six diseases.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # Imported for their side effect of adding commands to `app`.
    import importlib

    for name in ("simulate", "demo", "evidence", "trial", "validate", "calibrate",
                 "sensitivity", "export_sbml", "report", "export_petab"):
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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mscsim`` script."""
    _register()
    user_errors = _user_error_types()
    try:
        app(args=argv, standalone_mode=False)
    except user_errors as exc:
        typer.echo(f"error: {format_error(exc)}", err=True)
        return 2
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except typer.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:  # click usage errors already printed
        return int(exc.code or 0)
    except Exception as exc:  # noqa: BLE001 - click usage errors and the like
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Abort):
            typer.echo("aborted", err=True)
            return 1
        raise
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
