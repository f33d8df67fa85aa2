"""`down` on a real terminal (a pty): it shows the plan, asks, and obeys the answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.awsproxy import AwsProxy
from tests.support.configs import MINIMAL, write_config
from tests.support.fixtures import run_cli
from tests.support.terminal import run_on_pty


def _on_terminal(args: list[str], env: dict[str, str], cwd: Path, answer: str,
                 timeout: float = 60) -> tuple[int, str]:
    """Run the command with a pty as stdin/stdout/stderr; type `answer` at the prompt."""
    answered: list[bool] = []

    def respond(output: bytes) -> str | None:
        if not answered and b"[y/N]" in output:
            answered.append(True)
            return answer
        return None

    return run_on_pty(args, env, cwd, respond, timeout)


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
    assert "t1-us-east-1-role" in output  # the plan was shown before the question
    assert aws_proxy.writes() == []


def test_down_answered_yes_deletes(deployed: dict[str, str], tmp_path: Path,
                                   aws_proxy: AwsProxy) -> None:
    code, output = _on_terminal(["down"], deployed, tmp_path, "y")
    assert code == 0, output
    # with the on-failure destination and its notifier (issue 21)
    assert "Removed: 7 deleted." in output
    assert run_cli(["status", "-o", "json"], deployed, tmp_path).stdout.count('"missing"') == 7
