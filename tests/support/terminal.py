"""Run the installed stock-alert on a pseudo-terminal and answer its prompts, as a person at a
terminal would: the one pty loop the terminal tests share."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from tests.support.fixtures import cli_path

# Given all output so far, the text to type now (a line is ended for it), a signal to send
# (what Ctrl-C at the question sends: signal.SIGINT), or None.
Responder = Callable[[bytes], str | signal.Signals | None]


def run_on_pty(args: list[str], env: Mapping[str, str], cwd: Path, respond: Responder,
               timeout: float = 60) -> tuple[int, str]:
    """Run `stock-alert ARGS` with a pty as stdin, stdout and stderr until it exits."""
    leader, follower = os.openpty()
    proc = subprocess.Popen([str(cli_path()), *args], env={**env, "TERM": "dumb"}, cwd=cwd,
                            stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    output, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        answer = respond(output)
        if isinstance(answer, signal.Signals):
            proc.send_signal(answer)
        elif answer is not None:
            os.write(leader, answer.encode() + b"\n")
            output += b"\n"  # so the next prompt is told apart from this one
        if proc.poll() is not None and not ready:
            break
    code = proc.wait(timeout=10)
    os.close(leader)
    return code, output.decode("utf-8", "replace")


def at_the_question(answer: str | signal.Signals) -> Responder:
    """A Responder that answers the first y/N question with `answer` (text, or a signal such
    as SIGINT for Ctrl-C), and nothing else."""
    asked: list[bool] = []

    def respond(output: bytes) -> str | signal.Signals | None:
        if asked or b"[y/N]" not in output:
            return None
        asked.append(True)
        return answer
    return respond
