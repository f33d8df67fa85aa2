"""Progress on stderr: a spinner while waiting (on a terminal), a line per step, and each retry
as it happens, so a long IAM-propagation wait never looks like a hang."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any

from provision.plan import AnyAction, Op

_live: list[Any] = []  # the rich console of the active spinner, if any
_lines = threading.Lock()  # kinds are applied concurrently: one whole line at a time


def say(text: str) -> None:
    """One progress line on stderr, above the spinner when there is one."""
    with _lines:
        if _live:
            _live[-1].print(text, markup=False, highlight=False)
            return
        with contextlib.suppress(ValueError):  # stderr already closed
            sys.stderr.write(text + "\n")
            sys.stderr.flush()


class StderrHandler(logging.Handler):
    """Library log records (retries, waits) as plain lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        say(f"  {self.format(record)}")


class _Status:
    def __init__(self, live: Any) -> None:
        self.live = live

    def update(self, text: str) -> None:
        if self.live is not None:
            self.live.update(text)


@contextlib.contextmanager
def spinner(text: str) -> Iterator[_Status]:
    """A rich spinner when stderr is a terminal; plain lines otherwise."""
    if not sys.stderr.isatty():
        yield _Status(None)
        return
    from rich.console import Console

    console = Console(stderr=True)
    with console.status(text) as live:
        _live.append(console)
        try:
            yield _Status(live)
        finally:
            _live.pop()


_VERB = {Op.CREATE: "creating", Op.UPDATE: "updating", Op.DELETE: "deleting"}


def step_printer(status: _Status) -> Any:
    def progress(action: AnyAction, phase: str) -> None:
        if phase == "start":
            status.update(f"{_VERB.get(action.op, action.op.value)} {action.kind} "
                          f"{action.name}")
        else:
            say(f"{action.op.value}d {action.kind} {action.name}")
    return progress
