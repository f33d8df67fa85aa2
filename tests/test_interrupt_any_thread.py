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
