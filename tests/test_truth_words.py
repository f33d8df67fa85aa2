"""Issue 21, item 9: the smaller contradictions (the ones not in test_truth_output.py)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from provision.errors import InputError, StockAlertError, sentence
from tests.support.configs import MINIMAL, write_config

Cli = Callable[..., subprocess.CompletedProcess[str]]


def test_a_quoted_false_is_named_as_text(cli: Cli, tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL + 'enabled: "false"\n')
    result = cli("config", "check")
    assert result.returncode == 2
    assert ("enabled: expected true or false without quotes (got the text 'false'); write "
            "false." in result.stderr)


def test_the_nearest_region_is_suggested_first(cli: Cli, tmp_path: Path) -> None:
    for typo, nearest in (("us-east1", "us-east-1"), ("eu-wst-1", "eu-west-1"),
                          ("ap-southeast2", "ap-southeast-2")):
        write_config(tmp_path, MINIMAL.replace("region: us-east-1", f"region: {typo}"))
        result = cli("config", "check")
        assert f"use one such as {nearest}," in result.stderr, result.stderr


@pytest.mark.parametrize("message,hint,expected", [
    ("unknown key; did you mean `notify`?", "", "unknown key; did you mean `notify`?"),
    ("did you mean x?.", "", "did you mean x?"),
    ("no stop", "Fix it", "no stop. Fix it."),
    ("two stops..", "", "two stops."),
    ("an excerpt ...", "", "an excerpt ..."),
])
def test_every_error_ends_in_exactly_one_stop(message: str, hint: str, expected: str) -> None:
    assert str(StockAlertError(message, hint=hint)) == expected
    assert str(InputError(message, hint=hint)) == expected
    assert sentence(expected) == expected


def test_logs_says_when_there_are_no_events_and_over_what_period(cli: Cli,
                                                                 tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL)
    assert cli("up").returncode == 0
    result = cli("logs", "--since", "2h")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "No log events in the function's log group over the last 2h (since " in result.stderr
    assert result.stderr.rstrip().endswith("UTC).")


def test_the_email_auto_confirm_note_is_only_for_the_built_in_emulator(
        cli: Cli, tmp_path: Path, aws_env: dict[str, str]) -> None:
    from provision.local.emulator import MARK, export_line
    from tests.support.fixtures import run_cli

    write_config(tmp_path, MINIMAL)
    assert cli("up").returncode == 0
    other = " ".join(cli("status").stdout.replace("│", " ").split())
    assert "the emulator confirms e-mail subscriptions at once" not in other  # any endpoint
    url = aws_env["AWS_ENDPOINT_URL"]
    assert f"{MARK}={url}" in export_line(url)  # what 'stock-alert emulator' tells to export
    marked = run_cli(["status"], {**aws_env, MARK: url}, tmp_path)
    flat = " ".join(marked.stdout.replace("│", " ").split())
    assert "the emulator confirms e-mail subscriptions at once" in flat
