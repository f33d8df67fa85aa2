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
from pathlib import Path

import pytest

from tests.support.awsproxy import AwsProxy
from tests.support.cli_helpers import DOWN_WRITES, FRESH_UP_WRITES, writes, writes_match
from tests.support.configs import MINIMAL, write_config
from tests.support.inventory import is_empty

pytestmark = pytest.mark.server


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
