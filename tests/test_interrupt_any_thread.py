"""Ctrl-C ends the command at once even when the kernel hands SIGINT to a reader thread.

Python runs signal handlers in the main thread only. A SIGINT delivered to another thread (the
kernel may pick any thread that does not block it) only marks the signal as pending; a main
thread blocked in an untimed Thread.join or Event.wait does not wake, and the command went on
until its readers' retries ran out (seen: tests/test_cli_outcomes.py's throttled `status`, still
running 15 s after SIGINT on a loaded machine, its main thread in Thread.join inside gather).
Here the signal is sent to the reader thread itself with pthread_kill, so the case is certain.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable

import pytest

from provision.aws.client import Aws
from provision.aws.concurrency import TICK_S, gather

HELD_S = 10.0  # how long the reader would hold the main thread without the fix


def _interrupt_thread_named(name: str) -> None:
    def send() -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            found = [t for t in threading.enumerate() if t.name == name]
            if found and found[0].ident is not None:
                signal.pthread_kill(found[0].ident, signal.SIGINT)
                return
            time.sleep(0.01)

    threading.Thread(target=send, daemon=True).start()


def _took(blocking: Callable[[], object]) -> float:
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        blocking()
    return time.monotonic() - started


def test_gather_ends_on_a_ctrl_c_delivered_to_a_reader() -> None:
    release = threading.Event()
    def read() -> object:
        _interrupt_thread_named("read-slow")
        return gather({"slow": lambda: release.wait(HELD_S)})

    try:
        took = _took(read)
    finally:
        release.set()
    assert took < HELD_S / 2, took


def test_a_read_waiting_for_its_client_ends_on_a_ctrl_c_delivered_elsewhere() -> None:
    """A read waits for the prewarm to make its client (and open its connections); the Ctrl-C
    lands on the prewarm's thread."""
    aws = Aws("us-east-1")
    coming = threading.Event()
    aws._coming["sns"] = coming  # noqa: SLF001 - the prewarm's promise, never kept here
    holder = threading.Thread(target=lambda: coming.wait(HELD_S), name="prewarm-clients",
                              daemon=True)

    def read() -> object:  # the signal is sent from here on: its KeyboardInterrupt is ours
        holder.start()
        _interrupt_thread_named("prewarm-clients")
        return aws.client("sns")

    try:
        took = _took(read)
    finally:
        coming.set()
    assert took < HELD_S / 2, took
    assert TICK_S <= 1.0  # the longest a Ctrl-C can go unnoticed


def test_a_question_ends_on_a_ctrl_c_that_came_before_its_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A question waits for a line on the terminal. The Ctrl-C is handed to another thread,
    as when it arrives just before the read begins: a read blocked in C does not wake for it
    (typer's questions, on input(), sat there until Enter: `down` at "[y/N]" 120 s after
    Ctrl-C in a CI run). The answer comes only after HELD_S, so an answer means it was lost."""
    import os

    from provision.cli import ask

    leader, follower = os.openpty()
    terminal = os.fdopen(follower, "r", encoding="utf-8")
    monkeypatch.setattr("sys.stdin", terminal)
    answer = threading.Timer(HELD_S, lambda: os.write(leader, b"n\n"))
    answer.start()
    threading.Thread(target=lambda: (time.sleep(0.3), signal.pthread_kill(
        threading.get_ident(), signal.SIGINT)), daemon=True, name="elsewhere").start()
    try:
        took = _took(lambda: ask.confirm("Delete stack t1?"))
    finally:
        answer.cancel()
        terminal.close()
        os.close(leader)
    assert took < HELD_S / 2, took


def test_every_question_of_the_cli_is_asked_by_ask() -> None:
    """typer.confirm and typer.prompt read with input() or getpass (above): none is left."""
    from pathlib import Path

    import provision.cli

    folder = Path(provision.cli.__file__).parent
    found = [f"{path.name}: {line.strip()}" for path in sorted(folder.glob("*.py"))
             for line in path.read_text(encoding="utf-8").splitlines()
             if "typer.confirm(" in line or "typer.prompt(" in line]
    assert found == []
