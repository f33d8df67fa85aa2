"""Issue 21, item 9: after an interrupted 'down', 'status' uses the same word as 'down' for
each resource's state: what 'down' calls absent (nothing of it left to delete) 'status' calls
missing, never drifted; what 'down' would delete 'status' does not call missing."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.awsproxy import AwsProxy
from tests.support.configs import MINIMAL, write_config

Cli = Callable[..., subprocess.CompletedProcess[str]]
GONE = ("missing", "not used")  # status's words for "nothing of it exists"


@pytest.mark.parametrize("writes", [1, 2, 3, 4, 6])
def test_status_after_an_interrupted_down_agrees_with_down(
        cli: Cli, tmp_path: Path, aws_env: dict[str, str], aws_proxy: AwsProxy,
        writes: int) -> None:
    write_config(tmp_path, MINIMAL)
    assert cli("up").returncode == 0
    aws_env["AWS_MAX_ATTEMPTS"] = "1"  # the outage fails the first dropped call at once
    aws_proxy.fail_all_after_writes(writes)
    assert cli("down", "--yes").returncode == 1  # interrupted after its first writes
    aws_proxy.clear_faults()
    status = json.loads(cli("status", "-o", "json").stdout)
    states = {row["kind"]: row["state"] for row in status["resources"]}
    down = json.loads(cli("down", "--yes", "-o", "json").stdout)
    for action in down["actions"]:
        state = states[action["kind"]]
        if action["op"] == "no change" and action["reason"].startswith("absent"):
            assert state in GONE, (action, state)  # down: "absent"
        elif action["op"] == "delete":
            assert state not in GONE, (action, state)  # down: something is left to delete
