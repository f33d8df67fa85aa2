"""The stock-alert command: the only place that prints, prompts and chooses exit codes.

Exit codes: 0 success (also when there is nothing to do), 1 AWS or runtime failure,
2 invalid input (config, flags, environment). --debug shows tracebacks.

app.py holds the Typer app and the options every command shares; each command group lives in
its own module, registered here in the order `--help` lists them.
"""
# ruff: noqa: I001 - the import order below is the order --help lists the commands in

from __future__ import annotations

from provision.cli.app import app
from provision.cli import stack_commands  # registration order is --help's order
from provision.cli import sweep_commands, fleet_commands, function_commands
from provision.cli import security_commands
from provision.cli import local_commands, setup_commands
from provision.cli import secret_commands  # noqa: F401 - registers 'secret set'

__all__ = ["app", "main", "fleet_commands", "function_commands", "local_commands",
           "security_commands", "setup_commands", "stack_commands", "sweep_commands"]


INTERRUPTED = 130


def main() -> None:
    """The console script. After Ctrl-C (exit 130, its message already printed) the process
    ends at once: the reads it abandoned run in daemon threads (concurrency.py), and waiting
    for the interpreter's shutdown behind them was seen to hang, under load, after the
    message (tests/test_truth_output.py, Ctrl-C at down's question). Both streams are flushed
    first, so nothing written is lost. Only here, never in-process (CliRunner calls `app`)."""
    import contextlib
    import os
    import sys

    try:
        app()  # app.py already turned pydantic's plugin scan off, on import
    except SystemExit as done:
        if done.code != INTERRUPTED:
            raise
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):  # closed or refused: nothing to do
                stream.flush()
        os._exit(INTERRUPTED)
