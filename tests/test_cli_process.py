"""The installed console script as a real process: what an in-process run cannot show.

Most CLI tests run ``stock-alert`` in-process (tests/support/clirunner.py) for speed. These run
the script the README installs, as a user's shell does, and check what belongs to the process:
the entry point and its exit codes, stdout and stderr as separate pipes, no stdin, and a
lifecycle whose every command starts a fresh interpreter (so nothing carries over in memory
between commands). Signals, terminals and memory limits have their own real-process tests
(test_cli_outcomes, test_cli_tty, test_fleet_tty, test_secret_tty, test_input_limits,
test_cli_e2e's emulator test, test_completion).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.support.awsproxy import AwsProxy, role_not_assumable
from tests.support.cli_helpers import (
    DOWN_WRITES,
    FRESH_UP_WRITES,
    attempts,
    writes,
    writes_match,
)
from tests.support.configs import MINIMAL, write_config
from tests.support.inventory import is_empty

pytestmark = [pytest.mark.server, pytest.mark.process]


def test_version_and_help_from_the_console_script(cli_subprocess) -> None:
    from provision import __version__

    version = cli_subprocess("--version")
    assert (version.returncode, version.stdout.strip()) == (0, f"stock-alert {__version__}")
    bare = cli_subprocess()
    assert bare.returncode == 2 and bare.stdout == ""
    assert bare.stderr.startswith("Usage: stock-alert [OPTIONS] COMMAND [ARGS]...")


def test_lifecycle_as_separate_processes(
    cli_subprocess, aws_proxy: AwsProxy, inventory_now, tmp_path: Path
) -> None:
    write_config(tmp_path, MINIMAL)
    up = cli_subprocess("up")
    assert up.returncode == 0, up.stderr
    assert "Traceback" not in up.stderr
    writes_match(writes(aws_proxy), FRESH_UP_WRITES)

    aws_proxy.reset_calls()
    status = cli_subprocess("status", "--output", "json")
    assert status.returncode == 0, status.stderr
    document = json.loads(status.stdout)  # stdout holds the one JSON document, nothing else
    assert document["command"] == "status"
    assert writes(aws_proxy) == []

    aws_proxy.reset_calls()
    down = cli_subprocess("down", "--yes")
    assert down.returncode == 0, down.stderr
    writes_match(writes(aws_proxy), DOWN_WRITES, teardown=True)
    assert is_empty(inventory_now())


def test_bad_config_exits_2_from_the_process_with_no_call(
    cli_subprocess, aws_proxy: AwsProxy, tmp_path: Path
) -> None:
    write_config(tmp_path, MINIMAL + "colour: blue\n")
    result = cli_subprocess("up", "--output", "json")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and "colour" in line
    assert json.loads(result.stdout)["exit_code"] == 2
    assert aws_proxy.calls == []


def test_the_tools_own_backoff_really_sleeps_in_a_real_process(
    cli_subprocess, aws_proxy: AwsProxy, tmp_path: Path
) -> None:
    """The one real-time retry test (the others run on the fake clock): IAM propagation met
    twice, waited out with real, short, growing sleeps (0.25 s then up to 0.5 s, jittered)."""
    write_config(tmp_path, MINIMAL)
    aws_proxy.inject(role_not_assumable(), "lambda", "CreateFunction", times=2, function="t1")
    started = time.monotonic()
    up = cli_subprocess("up")
    elapsed = time.monotonic() - started
    assert up.returncode == 0, up.stderr
    # the function's: two refused, then made; the notifier's (issue 21) made at once
    assert attempts(aws_proxy, "lambda:CreateFunction") == 3
    assert attempts(aws_proxy, "lambda:CreateFunction@notifier") == 1
    waits = [float(line.rsplit(" in ", 1)[1].rstrip("s")) for line in up.stderr.splitlines()
             if line.strip().startswith("lambda:create_function:")]
    assert len(waits) == 2 and 0 < sum(waits) <= 1.0, up.stderr
    assert elapsed >= sum(waits)  # the waits were slept, not skipped
