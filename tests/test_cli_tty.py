"""`down` on a real terminal (a pty): it shows the plan, asks, and obeys the answer."""

from __future__ import annotations

import os
import select
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.awsproxy import AwsProxy
from tests.support.configs import MINIMAL, write_config
from tests.support.fixtures import cli_path, run_cli


def _on_terminal(args: list[str], env: dict[str, str], cwd: Path, answer: str,
                 timeout: float = 60) -> tuple[int, str]:
    """Run the command with a pty as stdin/stdout/stderr; type `answer` at the prompt."""
    leader, follower = os.openpty()
    proc = subprocess.Popen([str(cli_path()), *args], env={**env, "TERM": "dumb"}, cwd=cwd,
                            stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    output, answered, deadline = b"", False, time.monotonic() + timeout
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
        if not answered and b"[y/N]" in output:
            os.write(leader, answer.encode() + b"\n")
            answered = True
        if proc.poll() is not None and not ready:
            break
    code = proc.wait(timeout=10)
    os.close(leader)
    return code, output.decode("utf-8", "replace")


@pytest.fixture
def deployed(aws_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    write_config(tmp_path, MINIMAL)
    assert run_cli(["up"], aws_env, tmp_path).returncode == 0
    return aws_env


def test_down_answered_no_deletes_nothing(deployed: dict[str, str], tmp_path: Path,
                                          aws_proxy: AwsProxy) -> None:
    aws_proxy.reset_calls()
    code, output = _on_terminal(["down"], deployed, tmp_path, "n")
    assert code == 0  # answering no is a choice, not an error
    assert "Delete stack t1 in us-east-1?" in output and "Cancelled" in output
    assert "error:" not in output
    assert "t1-role" in output  # the plan was shown before the question
    assert aws_proxy.writes() == []


def test_down_answered_yes_deletes(deployed: dict[str, str], tmp_path: Path,
                                   aws_proxy: AwsProxy) -> None:
    code, output = _on_terminal(["down"], deployed, tmp_path, "y")
    assert code == 0, output
    assert "Removed: 6 deleted." in output  # with the errors alarm (issue 9)
    assert run_cli(["status", "-o", "json"], deployed, tmp_path).stdout.count('"missing"') == 6
