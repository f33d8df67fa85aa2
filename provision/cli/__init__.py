"""The stock-alert command: the only place that prints, prompts and chooses exit codes.

Exit codes: 0 success (also when there is nothing to do), 1 AWS or runtime failure,
2 invalid input (config, flags, environment). --debug shows tracebacks.

app.py holds the Typer app and the options every command shares; each command group lives in
its own module, registered here in the order `--help` lists them.
"""
# ruff: noqa: I001 - the import order below is the order --help lists the commands in

from __future__ import annotations

import copy

import typer
from typer.main import get_command_name

from provision.cli.app import app
from provision.cli import stack_commands  # registration order is --help's order
from provision.cli import sweep_commands, fleet_commands, function_commands
from provision.cli import security_commands
from provision.cli import local_commands, setup_commands
from provision.cli import secret_commands  # noqa: F401 - registers 'secret set'

__all__ = ["app", "main", "only", "fleet_commands", "function_commands", "local_commands",
           "security_commands", "setup_commands", "stack_commands", "sweep_commands"]


INTERRUPTED = 130


def main() -> None:
    """The console script. After Ctrl-C (exit 130, its message already printed) the process
    ends at once: the reads it abandoned run in daemon threads (concurrency.py), and waiting
    for the interpreter's shutdown behind them was seen to hang, under load, after the
    message (tests/test_truth_output.py, Ctrl-C at down's question). Both streams are flushed
    first, so nothing written is lost. Only here, never in-process (CliRunner calls `app`).

    Otherwise the interpreter ends as usual (atexit handlers, logging.shutdown, the flush of
    stdout and stderr), except that its final garbage collections skip the objects alive now
    (gc.freeze): a run's ~100,000 (botocore's service models, the imported modules) live
    until the process ends, and walking them twice at exit cost more than the reads of an
    unchanged 'up' (tests/test_exit.py shows every stream and handler is still flushed)."""
    import contextlib
    import gc
    import os
    import sys

    try:
        only(sys.argv[1:])()  # app.py already turned pydantic's plugin scan off, on import
    except SystemExit as done:
        if done.code != INTERRUPTED:
            gc.freeze()
            raise
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # closed or refused: nothing to do
                stream.flush()
        os._exit(INTERRUPTED)


def only(argv: list[str]) -> typer.Typer:
    """The app with only the command `argv` runs, when it names one: Typer builds a click
    command, every parameter included, for each command it holds (~30 ms for all of them, at
    every start), and a command's run, help and errors need only its own. Anything else (no
    command, an option first, a group such as 'secret', a misspelt name) gets the whole app,
    so '--help' lists every command and a typo is answered with the names it resembles."""
    wanted = [info for info in app.registered_commands if argv and info.callback is not None
              and (info.name or get_command_name(info.callback.__name__)) == argv[0]]
    if not wanted:
        return app
    one = copy.copy(app)
    one.registered_commands, one.registered_groups = wanted, []
    return one
