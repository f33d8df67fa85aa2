"""Progress on stderr: a spinner while waiting (on a terminal), a line per step, and each retry
as it happens, so a long IAM-propagation wait never looks like a hang."""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import Iterator
from typing import Any

from provision.core.plan import AnyAction, Op

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


class FleetDisplay:
    """One row per stack, kept current: a rich Live table on a terminal, else one plain line
    per event ("stack (place): text"), so a log file reads in order."""

    def __init__(self, keys: list[str], title: str) -> None:
        self.rows = dict.fromkeys(keys, "waiting")
        self.title = title
        self._live: Any = None

    def __enter__(self) -> FleetDisplay:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.live import Live

            console = Console(stderr=True)
            self._live = Live(self._table(), console=console, refresh_per_second=4,
                              transient=True)
            self._live.__enter__()
            _live.append(console)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            _live.pop()
            self._live.__exit__(*exc)

    def update(self, key: str, text: str) -> None:
        self.rows[key] = text
        if self._live is None:
            say(f"{key}: {text}")
        else:
            self._live.update(self._table())

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(title=self.title, title_justify="left")
        table.add_column("stack")
        table.add_column("now", overflow="fold")
        for key, text in self.rows.items():
            table.add_row(key, text, style="red" if text.startswith("failed") else None)
        return table
