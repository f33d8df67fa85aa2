"""Questions on the terminal that Ctrl-C always interrupts.

Python runs a signal's handler in the main thread, between bytecodes, and typer's questions
read their answer with input() or getpass, which block in read() in C. A Ctrl-C that arrives
just before that read (or that the kernel hands to another thread) is noted but does not wake
the read: the command sat at its question until Enter was pressed (measured: a SIGINT sent as
"[y/N]" appeared left Python's input() waiting in 10 of 40 runs; seen in CI as `down` still at
its question 120 s after Ctrl-C). Here a terminal is read only once select() says a line is
there, and select() waits at most concurrency.TICK_S at a time, so the handler runs (and
KeyboardInterrupt is raised) at the latest TICK_S after the Ctrl-C. The questions keep typer's
wording and answers; every question is written to stderr, so stdout stays the command's.
"""

from __future__ import annotations

import os
import select
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import TextIO

from provision.aws.concurrency import TICK_S


def confirm(question: str, default: bool = False) -> bool:
    """Ask a yes/no question; Enter alone answers `default`. End of input: typer.Abort."""
    hint = "Y/n" if default else "y/N"
    while True:
        answer = _line(f"{question} [{hint}]: ").strip().lower()
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no"):
            return False
        if answer == "":
            return default
        sys.stderr.write("Error: invalid input\n")


def prompt(question: str, default: str | None = None, hidden: bool = False,
           repeat: bool = False) -> str:
    """Ask for a line (Enter alone: `default`, shown in brackets; without one, asked again).
    `hidden`: not echoed; `repeat`: asked twice, until both answers match."""
    shown = f" [{default}]" if default else ""
    while True:
        value = _line(f"{question}{shown}: ", hidden)
        if not value:
            if default is None:
                continue
            return default
        if not repeat or _line("Repeat for confirmation: ", hidden) == value:
            return value
        sys.stderr.write("Error: The two entered values do not match.\n")


def _line(text: str, hidden: bool = False) -> str:
    stream = sys.stdin
    terminal = _terminal(stream)
    if hidden and terminal is None:
        import getpass  # no terminal to turn echo off on: getpass says so, as typer's did

        return getpass.getpass(text)
    # echo goes off before the question appears (as getpass does): turning it off discards
    # what was typed before, which must not be the answer
    with _no_echo(terminal) if hidden and terminal is not None else nullcontext():
        sys.stderr.write(text)
        sys.stderr.flush()
        try:
            return _read(stream, terminal)
        finally:
            if hidden:
                sys.stderr.write("\n")


def _terminal(stream: TextIO) -> int | None:
    """The file descriptor of `stream` when it is a terminal (POSIX); None otherwise."""
    if os.name != "posix":
        return None
    try:
        fd = stream.fileno()
    except (OSError, ValueError):  # a test's in-memory stdin, a closed one
        return None
    return fd if os.isatty(fd) else None


def _read(stream: TextIO, terminal: int | None = None) -> str:
    """One line without its end; end of input raises typer.Abort (as typer's questions do).
    On a terminal, wait for the line in steps of TICK_S, so a Ctrl-C is acted on."""
    if terminal is not None:
        while not select.select([terminal], [], [], TICK_S)[0]:
            pass
    text = stream.readline()
    if not text:
        import typer

        raise typer.Abort()
    return text.rstrip("\r\n")


@contextmanager
def _no_echo(fd: int) -> Iterator[None]:
    import termios

    before = termios.tcgetattr(fd)
    quiet = list(before)
    quiet[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSAFLUSH, quiet)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, before)
