"""Issue 21, item 6: a fleet 'up' (--count, --participants, --regions, --assume-role) on a
terminal asks first when the account holds nothing of the fleet's stacks, as a single-stack
'up' does; --yes does not ask, and without a terminal nothing is asked (scripts)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.support.awsproxy import AwsProxy
from tests.support.configs import MINIMAL, write_config
from tests.support.terminal import at_the_question, run_on_pty

Cli = Callable[..., subprocess.CompletedProcess[str]]


def test_a_first_fleet_up_on_a_terminal_asks_and_no_creates_nothing(
        aws_env: dict[str, str], tmp_path: Path, aws_proxy: AwsProxy) -> None:
    write_config(tmp_path, MINIMAL)
    code, output = run_on_pty(["up", "--count", "2"], aws_env, tmp_path, at_the_question("n"))
    flat = " ".join(output.split())
    assert code == 0, output
    assert (f"Nothing of these stacks exists in account 123456789012 (us-east-1) (endpoint "
            f"{aws_env['AWS_ENDPOINT_URL']}, not AWS); create 2 stack(s) there?" in flat)
    assert "Cancelled; nothing was created." in flat
    assert aws_proxy.writes() == []


def test_a_fleet_the_account_has_seen_is_not_asked_about(
        aws_env: dict[str, str], tmp_path: Path, cli: Cli, aws_proxy: AwsProxy) -> None:
    write_config(tmp_path, MINIMAL)
    assert cli("up", "--count", "1").returncode == 0  # no terminal: no question, as before
    aws_proxy.reset_calls()
    code, output = run_on_pty(["up", "--count", "2"], aws_env, tmp_path, at_the_question("n"))
    assert code == 0 and "[y/N]" not in output, output  # t1-1 exists: the account knows it
    assert aws_proxy.writes() != []


def test_yes_is_not_asked(aws_env: dict[str, str], tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL)
    code, output = run_on_pty(["up", "--count", "2", "--yes"], aws_env, tmp_path,
                              at_the_question("n"))
    assert code == 0 and "[y/N]" not in output, output
