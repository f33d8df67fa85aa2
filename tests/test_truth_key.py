"""Issue 21, item 1: a configured API key that is not stored is a failure everyone reports.

The function raises (tests/function), so `invoke --local` exits 1 naming the cause and the fix;
`up` warns, `status` shows the key as missing, `audit` reports it instead of "keeps every
promise". Against the moto server, through the installed command."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from provision.local.quote_server import QuoteServer
from tests.support.configs import MINIMAL, write_config
from tests.support.fixtures import endpoint_session

Cli = Callable[..., subprocess.CompletedProcess[str]]
PARAMETER = "/t1/av-key"


@pytest.fixture
def quotes() -> Iterator[QuoteServer]:
    with QuoteServer(api_key="secret-key-123") as server:
        yield server


@pytest.fixture
def keyless(cli: Cli, tmp_path: Path, quotes: QuoteServer) -> Cli:
    """Alpha Vantage configured, 'up' run, 'secret set' skipped."""
    write_config(tmp_path, MINIMAL + "quotes: {provider: alphavantage, api_key_parameter: "
                 f'{PARAMETER}, base_url: "{quotes.url}"}}\n')
    return cli


def test_up_warns_that_the_key_is_not_stored(keyless: Cli) -> None:
    result = keyless("up")
    assert result.returncode == 0, result.stderr
    assert (f"warning: the API key is not stored yet in SSM parameter {PARAMETER}: the "
            "function fails on every run until you run 'stock-alert secret set'."
            in " ".join(result.stderr.split()))
    as_json = json.loads(keyless("up", "--output", "json").stdout)
    assert as_json["api_key"] == {"store": "ssm", "name": PARAMETER, "state": "missing",
                                  "error": None}


def test_invoke_local_exits_1_naming_the_cause_and_the_fix(keyless: Cli) -> None:
    assert keyless("up").returncode == 0
    result = keyless("invoke", "--local")
    assert result.returncode == 1, result.stdout + result.stderr
    flat = " ".join(result.stderr.split())
    assert "The function failed on this machine: ConfigurationError: configuration error: " \
           f"ssm:GetParameter {PARAMETER} failed: ParameterNotFound" in flat
    assert "fix: store the API key with 'stock-alert secret set'" in flat


def test_status_shows_the_key_missing_then_stored(keyless: Cli, moto_server: str) -> None:
    assert keyless("up").returncode == 0
    before = json.loads(keyless("status", "--output", "json").stdout)
    [row] = [r for r in before["resources"] if r["kind"] == "api-key"]
    assert row["state"] == "missing" and row["exists"] is False and row["name"] == PARAMETER
    assert "secret set" in row["notes"][0]
    human = keyless("status")
    assert "api-key" in human.stdout and "missing" in human.stdout

    assert keyless("secret", "set", "--stdin", input="secret-key-123\n").returncode == 0
    after = json.loads(keyless("status", "--output", "json").stdout)
    [row] = [r for r in after["resources"] if r["kind"] == "api-key"]
    assert row["state"] == "in sync" and row["notes"] == []


def test_audit_reports_the_missing_key(keyless: Cli) -> None:
    assert keyless("up").returncode == 0
    result = keyless("audit", "--output", "json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["clean"] is False
    assert [f["rule"] for f in report["findings"]] == ["api-key-missing"]
    human = keyless("audit")
    assert "keeps every promise" not in human.stdout and "api-key-missing" in human.stdout


def test_no_key_configured_means_no_key_row(cli: Cli, tmp_path: Path, moto_server: str) -> None:
    write_config(tmp_path, MINIMAL)
    assert cli("up").returncode == 0
    rows = json.loads(cli("status", "--output", "json").stdout)["resources"]
    assert "api-key" not in [r["kind"] for r in rows]
    assert endpoint_session(moto_server).client("ssm").describe_parameters()["Parameters"] == []
