"""Command-line error paths of every verb (issue 21): a parser error, a bad value or an unusable
output gives ONE line on stderr starting with 'error:' and exit status 2, never a traceback.

These run ``mscsim.cli.main`` in-process (the function the ``mscsim`` script calls) with the typer
and click versions that install today (typer 0.29 bundles its own click: an ``isinstance`` check
against the click package let every usage error escape as a traceback), plus one run of the real
script in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mscsim.cli import main


def run(capsys, *argv: str) -> tuple[int, str]:
    rc = main(list(argv))
    err = capsys.readouterr().err
    return rc, err


def one_line_error(rc: int, err: str, *needles: str) -> None:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2, err
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for n in needles:
        assert n.lower() in lines[0].lower(), (n, lines[0])


# (verb arguments, words the one line must contain): every verb, each kind of parser error
CASES = [
    (["simulate", "--dos", "1e6 cells/kg"], ["--dos", "did you mean --dose"]),
    (["simulate", "--weight", "abc"], ["--weight"]),
    (["simulate", "--times", "abc"], ["--times"]),
    (["simulate", "--times", "0", "--dose", "1e6 cells/kg"], ["--times"]),
    (["simulate", "--disease", "lupus"], ["did you mean 'sle'"]),
    (["simulate", "--dose", "1e6"], ["unit"]),
    (["simulate", "--dose", "1e6 cells/kg", "--days", "-3"], ["--days"]),
    (["simulat"], ["simulate"]),
    (["demo", "--bogus"], ["--bogus"]),
    (["evidence", "--disease", "lupus"], ["sle"]),
    (["evidence", "--nope"], ["--nope"]),
    (["trial"], ["missing argument", "SCENARIO"]),
    (["trial", "RA_Park2018", "--workers", "0"], ["--workers"]),
    (["trial", "RA_Park2018", "--power", "--replicates", "1"], ["--replicates"]),
    (["trial", "RA_Park2018", "--seed", "-1"], ["--seed"]),
    (["trial", "RA_Park2018", "--alpha", "abc"], ["--alpha"]),
    (["trial", "no_such_trial"], ["no scenario"]),
    (["validate", "--disease", "lupus"], ["sle"]),
    (["validate", "--workers", "0"], ["--workers"]),
    (["validate", "--scheduler", "not-an-address"], ["--scheduler"]),
    (["calibrate"], ["missing option", "--disease"]),
    (["calibrate", "--disease", "ra", "--maxfev", "abc"], ["--maxfev"]),
    (["sensitivity", "--disease", "ra", "--at", "12 wk"], ["missing option", "--endpoint"]),
    (["sensitivity", "--disease", "ra", "--endpoint", "das28_esr", "--at", "12 wk", "--n", "1"], ["--n"]),
    (["sensitivity", "--disease", "ra", "--endpoint", "nope", "--at", "12 wk"], ["unknown endpoint"]),
    (["sensitivity", "--disease", "lupus", "--endpoint", "sledai", "--at", "12 wk"], ["sle"]),
    (["export-sbml"], ["missing option", "--out"]),
    (["export-sbml", "--disease", "ra", "-o", "model.xml", "--weight", "abc"], ["--weight"]),
    (["report"], ["missing argument"]),
    (["report", "/no/such/folder"], []),
    (["endpoints", "--disease", "lupus"], ["sle"]),
    (["endpoints", "--disease"], ["--disease"]),
    (["products", "uc-mcs"], ["unknown product", "did you mean 'uc-msc'"]),
    (["products", "--jsn"], ["--jsn"]),
    (["export-petab"], ["missing option", "--disease"]),
    (["export-petab", "--disease", "lupus", "-o", "petab"], ["sle"]),
    (["export-petab", "--disease", "ra", "-o", "petab", "--subtype", "abc"], ["--subtype", "accepted"]),
]


@pytest.mark.parametrize("argv,needles", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_parser_and_input_errors_are_one_line(argv, needles, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, err = run(capsys, *argv)
    one_line_error(rc, err, *needles)


def test_every_verb_is_covered():
    from mscsim.cli import _register, command

    _register()
    verbs = set(command().commands)
    covered = {argv[0] for argv, _ in CASES}
    assert verbs <= covered | {"simulat"}, verbs - covered


def test_unreachable_scheduler_fails_fast(capsys, tmp_path, monkeypatch):
    import socket

    monkeypatch.chdir(tmp_path)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    rc, err = run(capsys, "trial", "RA_Park2018", "--scheduler", f"tcp://127.0.0.1:{port}")
    assert time.perf_counter() - t0 < 10.0
    one_line_error(rc, err, "scheduler", f"127.0.0.1:{port}")


def test_export_sbml_never_creates_folders(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "missing_dir" / "x.xml"
    rc, err = run(capsys, "export-sbml", "--disease", "ra", "-o", str(target))
    one_line_error(rc, err, "does not exist")
    assert not target.parent.exists()
    rc, err = run(capsys, "export-sbml", "--disease", "ra", "-o", str(tmp_path))
    one_line_error(rc, err, "is a folder")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc")
def test_unwritable_output_is_explained(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, err = run(capsys, "simulate", "--dose", "1e6 cells/kg", "-o", "/proc/mscsim_test_out")
    one_line_error(rc, err, "cannot write", "/proc/mscsim_test_out")
    assert "file not found" not in err


def test_help_shows_flags_without_types_and_every_option_has_help(capsys, monkeypatch):
    from mscsim.cli import _register, command

    _register()
    cmd = command()
    for name, sub in cmd.commands.items():
        for p in sub.params:
            if p.param_type_name == "option":
                assert (p.help or "").strip(), f"{name} {p.name} has no help text"
    monkeypatch.setenv("COLUMNS", "140")
    assert main(["trial", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--power" in out and "--no-report" in out
    assert "<bool>" not in out


def _python(cwd, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    """``python ARGS`` in a fresh process with this checkout's package first on the path."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1] / "src"), **env)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)


def test_real_script_prints_no_traceback(tmp_path):
    res = _python(tmp_path, "-m", "mscsim", "simulate", "--dos", "1")
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == ["error: unknown option --dos; did you mean --dose? "
                                               "(see 'mscsim simulate --help')"]


def _run_program(tmp_path, code: str) -> subprocess.CompletedProcess:
    return _python(tmp_path, "-c", code)


def test_the_program_ends_with_mains_code_its_output_and_exit_handlers(tmp_path):
    """`run` (the ``mscsim`` script, ``python -m mscsim``) skips only Python's module teardown: the
    exit code is main's, everything printed arrives (also buffered, to a pipe), and the exit
    handlers run (they come before the end)."""
    ok = _run_program(tmp_path, "import atexit, sys; from mscsim.cli import run; "
                                "atexit.register(lambda: print('exit handler ran')); "
                                "sys.argv = ['mscsim', 'endpoints', '--disease', 'ra', '--markdown']; run()")
    assert ok.returncode == 0, ok.stderr[-2000:]
    lines = ok.stdout.splitlines()
    assert lines[-1] == "exit handler ran" and any("das28_crp" in line for line in lines)
    bad = _run_program(tmp_path, "import sys; from mscsim.cli import run; "
                                 "sys.argv = ['mscsim', 'simulate', '--dos', '1']; run()")
    assert bad.returncode == 2 and bad.stderr.startswith("error: unknown option --dos")


def test_the_program_waits_for_threads_still_running(tmp_path):
    """With another thread still running, the program exits the usual way, which waits for it."""
    res = _run_program(tmp_path, "import sys, threading, time; from mscsim.cli import run; "
                                 "threading.Thread(target=lambda: (time.sleep(3), print('thread done'))).start(); "
                                 "sys.argv = ['mscsim', 'endpoints', '--disease', 'ra']; run()")
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.splitlines()[-1] == "thread done"


def test_no_arguments_prints_the_help(capsys):
    assert main([]) == 0
    out = capsys.readouterr()
    assert "Usage" in out.out + out.err and "Traceback" not in out.err


@pytest.mark.parametrize("raised,code,said", [("exit 3", 3, ""), ("ctrl-c", 130, "interrupted")])
def test_a_commands_exit_code_reaches_the_shell(monkeypatch, capsys, raised, code, said):
    """A command that stops with typer.Exit(n) exits n, and Ctrl-C exits 130 with one line (typer
    returns these codes instead of raising them when not in standalone mode)."""
    import typer

    import mscsim.cli

    def stops():
        if raised == "ctrl-c":
            raise KeyboardInterrupt
        raise typer.Exit(3)

    info = next(c for c in mscsim.cli.app.registered_commands if c.name == "products")
    monkeypatch.setattr(info, "callback", stops)
    assert main(["products"]) == code
    err = capsys.readouterr().err
    assert err.strip() == said and "Traceback" not in err


def test_names_are_printed_as_written_not_read_as_markup(tmp_path):
    """Scenario, arm and folder names with square brackets (rich's markup) are printed as written:
    the trial runs, its warnings and tables show them, and nothing is left of a figure process."""
    scen = {"name": "dose [bold]high[/bold]", "disease": "ra", "seed": 5,
            "arms": [{"name": "msc 5e6/kg [/high]", "n": 2, "regimen": [{"dose": "5e6 cells/kg"}]},
                     {"name": "placebo", "n": 2}],
            "endpoints": [{"name": "das28_crp", "at": "30 d"}, {"name": "acr20", "at": "30 d"}]}
    import yaml

    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(scen))
    out = tmp_path / "out[1]"
    res = _python(tmp_path, "-m", "mscsim", "trial", str(p), "-o", str(out), "--no-report", "--workers", "2",
                  timeout=300, MSCSIM_NO_WARM="1", COLUMNS="200")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "warning: arm msc 5e6/kg [/high]: dose 5e6 cells/kg" in " ".join(res.stderr.split())
    assert "msc 5e6/kg [/high]" in res.stdout and "dose [bold]high[/bold]" in res.stdout and str(out) in res.stdout
    assert sorted(f.name for f in out.iterdir() if f.suffix == ".png") == ["responders.png", "timecourse.png"]
    assert not list(out.glob(".figures-*"))
