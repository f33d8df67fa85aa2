"""Progress on stderr: a spinner while waiting, a line per step, retries shown as they happen."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import Any

from provision.model import Action
from provision.retry import RetryPolicy


class StderrHandler(logging.Handler):
    """Library log records (retries, waits) as plain lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(ValueError):  # stderr already closed
            sys.stderr.write(f"  {self.format(record)}\n")


def retry_policy() -> RetryPolicy:
    return RetryPolicy()


class _Status:
    def __init__(self, live: Any) -> None:
        self.live = live

    def update(self, text: str) -> None:
        if self.live is not None:
            self.live.update(text)


@contextlib.contextmanager
def spinner(text: str) -> Iterator[_Status]:
    """A rich spinner when stderr is a terminal; nothing otherwise (logs stay line-based)."""
    if not sys.stderr.isatty():
        yield _Status(None)
        return
    from rich.console import Console

    with Console(stderr=True).status(text) as live:
        yield _Status(live)


def step_printer(status: _Status) -> Any:
    def progress(action: Action, phase: str) -> None:
        if phase == "start":
            status.update(f"{action.op.value[:-1]}ing {action.kind} {action.name}")
            sys.stderr.write(f"{action.op.value} {action.kind} {action.name} ...\n")
        else:
            sys.stderr.write(f"{action.op.value} {action.kind} {action.name}: done\n")
        sys.stderr.flush()
    return progress
