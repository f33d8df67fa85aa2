"""The API key never shows: not on stdout or stderr, not in --debug output or its tracebacks,
not in any log record of any logger, not in the function's configuration, not in the plan."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from provision.aws.retry import RetryPolicy
from provision.cli import app
from provision.core.target import Options
from tests.support.awsproxy import Error
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import inject_faults, no_retry_backoff
from tests.support.inprocess import FakeClock

KEY = "leak-Canary-3vX8q"
CONFIGS = {
    "ssm": MINIMAL + "quotes: {provider: alphavantage}\n",
    "secretsmanager": MINIMAL + "quotes: {provider: alphavantage, api_key_secret: t1/key}\n",
}
WRITES = {"ssm": "PutParameter", "secretsmanager": "CreateSecret"}


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    """Every log record any logger hands to its handlers (ours, botocore's, urllib3's...)."""
    seen: list[logging.LogRecord] = []
    handle = logging.Logger.handle

    def keep(self: logging.Logger, record: logging.LogRecord) -> None:
        seen.append(record)
        handle(self, record)

    with mock_aws(), no_retry_backoff(), mock.patch.object(logging.Logger, "handle", keep):
        yield seen


def run(config: Path, *args: str) -> Any:
    policy = RetryPolicy(deadline_s=30.0, sleep=FakeClock().sleep, clock=FakeClock().clock)
    with mock.patch("provision.core.target.Options", functools.partial(Options, retry=policy)):
        return CliRunner().invoke(app, [*args, "--config", str(config)], input=KEY)


def _text(record: logging.LogRecord) -> str:
    exc = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
    return record.getMessage() + exc


@pytest.mark.parametrize("store", list(CONFIGS))
def test_a_whole_lifecycle_in_debug_mode_shows_the_key_nowhere(
        tmp_path: Path, records: list[logging.LogRecord], store: str) -> None:
    config = write_config(tmp_path, CONFIGS[store])
    results = [run(config, "secret", "set", "--debug"),
               run(config, "secret", "set", "--overwrite", "--output", "json", "--debug"),
               run(config, "up", "--debug"), run(config, "plan", "--output", "json", "--debug"),
               run(config, "status", "--debug"), run(config, "permissions", "--debug")]
    assert [r.exit_code for r in results] == [0] * len(results), [r.output for r in results]
    assert any("AWS call" in r.getMessage() for r in records)  # --debug logged every call
    function = boto3.client("lambda", region_name="us-east-1").get_function(FunctionName="t1")
    env = function["Configuration"]["Environment"]["Variables"]
    assert env.get("STOCK_ALERT_API_KEY_PARAMETER", env.get("STOCK_ALERT_API_KEY_SECRET"))
    gone = run(config, "down", "--yes", "--delete-secret", "--debug")
    assert gone.exit_code == 0, gone.output
    seen = [r.output for r in [*results, gone]] + [_text(r) for r in records]
    seen.append(json.dumps(function, default=str))
    assert all(KEY not in text for text in seen)


@pytest.mark.parametrize("store", list(CONFIGS))
def test_a_failed_write_in_debug_mode_shows_the_key_nowhere(
        tmp_path: Path, records: list[logging.LogRecord], store: str) -> None:
    """The write that carries the key fails (AWS's own 500, on every attempt): the traceback
    --debug prints and the error message hold the call's name, never its parameters."""
    config = write_config(tmp_path, CONFIGS[store])
    with inject_faults() as faults:
        faults.inject(Error(500, "InternalServerError" if store == "ssm" else
                            "InternalServiceError", "An internal error occurred."),
                      service=store, operation=WRITES[store], times=100)
        result = run(config, "secret", "set", "--debug")
    assert result.exit_code == 1
    assert "Traceback" in result.output  # --debug shows it
    assert WRITES[store] in result.output.replace(" ", "") or "internal" in result.output.lower()
    assert KEY not in result.output
    assert all(KEY not in _text(r) for r in records)
