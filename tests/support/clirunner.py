"""Run ``stock-alert`` in this process, as a subprocess would see it, in milliseconds.

A subprocess costs about 1.4 s of interpreter start-up and imports per command; most CLI tests
run a few commands each, so the suite spent minutes starting Python. ``run_cli_inprocess`` gives
the same ``CompletedProcess`` as ``fixtures.run_cli``: the command's whole environment (not
added to ours: replaced, as ``env=`` does for a subprocess), its working directory, its stdin,
its separate stdout and stderr, and its exit code. The command's calls still go over HTTP to
the moto server (through the counting proxy when the test uses one), so "zero AWS calls" and
"what exists afterwards" are measured exactly as before.

What an in-process run cannot show stays with the real subprocess tests (``run_cli``): the
console script itself, signals, terminals (pty), and memory limits.

Waiting is on a fake clock: the tool's own retries, backoffs and bounded waits (its
``RetryPolicy``, injected where the CLI builds its ``Options``) sleep on a ``FakeClock`` that
only moves when the tool sleeps, and botocore's standard-mode backoff sleeps 0 s. A fault test
therefore sees every retry line and every attempt at the wire, at no cost in real time; the
real-time tests (tests/test_cli_timeouts.py, one per kind of wait) keep the subprocess.

An exception that escapes the CLI's error boundary is written to stderr as the traceback an
interpreter would print, with exit code 1, so a test that asserts "no traceback" still fails
when the boundary is broken.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import traceback
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from unittest import mock

import typer.testing
from typer.testing import CliRunner

PROG = "stock-alert"
_BUILD = typer.testing._get_command  # noqa: SLF001


def remember_commands() -> None:
    """Every CliRunner of this process builds the click command tree of an app once, not on
    every invoke (Typer's ``get_command`` costs ~55 ms for the 19 commands; a click command
    keeps no state between invocations, each of which makes its own context)."""
    built: dict[int, tuple[Any, Any]] = {}

    def get_command(app: Any) -> Any:
        found = built.get(id(app))
        if found is None or found[0] is not app:
            found = built[id(app)] = (app, _BUILD(app))
        return found[1]

    typer.testing._get_command = get_command  # noqa: SLF001


@contextlib.contextmanager
def environment(env: Mapping[str, str], cwd: str | os.PathLike[str]) -> Iterator[None]:
    """os.environ replaced by ``env`` and the working directory ``cwd``, both restored after."""
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def run_cli_inprocess(
    args: Sequence[str],
    env: Mapping[str, str],
    cwd: str | os.PathLike[str],
    input: str | None = None,
    timeout: float = 120,  # noqa: ARG001 - the same signature as run_cli; pytest-timeout rules
    clock: Any = None,
) -> subprocess.CompletedProcess[str]:
    """``stock-alert *args`` in-process; never raises on a non-zero exit status. ``clock``: the
    FakeClock the tool's retries sleep on (a new one per command when None)."""
    from provision.cli import app

    with environment(env, cwd), fake_time(clock):
        result = CliRunner().invoke(app, list(args), input=input, prog_name=PROG,
                                    catch_exceptions=True)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += _traceback(result.exc_info)
    return subprocess.CompletedProcess([PROG, *args], result.exit_code, result.stdout, stderr)


@contextlib.contextmanager
def fake_time(clock: Any = None) -> Iterator[Any]:
    """Every RetryPolicy the command makes sleeps on ``clock``; botocore's backoff is 0 s."""
    from provision.aws import retry
    from tests.support.faults import no_retry_backoff
    from tests.support.inprocess import FakeClock

    clock = clock or FakeClock()
    made = retry.RetryPolicy.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("sleep", clock.sleep)
        kwargs.setdefault("clock", clock.clock)
        made(self, *args, **kwargs)

    with no_retry_backoff(), mock.patch.object(retry.RetryPolicy, "__init__", init):
        yield clock


def _traceback(exc_info: Any) -> str:
    return "Traceback (most recent call last):\n" + "".join(
        traceback.format_exception(*exc_info)[1:])
