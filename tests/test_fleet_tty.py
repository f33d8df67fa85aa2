"""A fleet's `down` on a real terminal (a pty): it reads every stack, shows what would be
deleted, asks once for all of them, and obeys; progress is a live table there."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.awsproxy import AwsProxy
from tests.support.configs import MINIMAL, write_config
from tests.support.fixtures import run_cli
from tests.support.inventory import is_empty
from tests.test_cli_tty import _on_terminal

pytestmark = pytest.mark.server


def test_fleet_down_asks_once_and_obeys(aws_env: dict[str, str], tmp_path: Path,
                                        aws_proxy: AwsProxy, inventory_now) -> None:
    write_config(tmp_path, MINIMAL)
    # --yes: on a terminal a first fleet 'up' asks (issue 21; tests/test_truth_fleet_guard.py)
    code, output = _on_terminal(["up", "--count", "2", "--yes"], aws_env, tmp_path, "")
    assert code == 0, output
    assert "up: 2 stack(s), 0 failed" in output

    aws_proxy.reset_calls()
    code, output = _on_terminal(["down", "--count", "2"], aws_env, tmp_path, "n")
    assert code == 0 and "Cancelled" in output and "error:" not in output
    assert "down would delete: 2 stack(s)" in output  # what is there, before the question
    assert "Delete 2 stack(s): t1-1, t1-2?" in output
    assert aws_proxy.writes() == []

    code, output = _on_terminal(["down", "--count", "2"], aws_env, tmp_path, "y")
    assert code == 0, output
    assert "down: 2 stack(s), 0 failed" in output and "Removed: 7 deleted." in output
    assert is_empty(inventory_now())
    again = run_cli(["down", "--count", "2", "--yes"], aws_env, tmp_path)
    assert again.returncode == 0 and "has no resources left" in again.stdout
