"""The installed command tells a changed config from a change made outside it (moto server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.awsproxy import AwsProxy
from tests.support.cli_helpers import Cli, direct, writes
from tests.support.configs import MINIMAL, write_config

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]


def _function_row(cli: Cli) -> dict:
    result = cli("status", "--output", "json")
    assert result.returncode == 0, result.stderr
    return next(r for r in json.loads(result.stdout)["resources"] if r["kind"] == "function")


def test_status_and_plan_say_changed_in_config_or_drifted(
        cli: Cli, aws_proxy: AwsProxy, moto_server: str, tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL)
    assert cli("up").returncode == 0

    write_config(tmp_path, MINIMAL + "function: {memory_mb: 256}\n")
    row = _function_row(cli)
    assert (row["state"], row["drift"]) == ("changed in config", ["memory_mb"])
    human = cli("status")
    assert "changed in config" in human.stdout and "to update: memory_mb" in human.stdout
    plan = json.loads(cli("plan", "--output", "json").stdout)
    fn = next(a for a in plan["actions"] if a["kind"] == "function")
    assert fn["reason"] == "changed in config"
    assert [c["field"] for c in fn["changes"]] == ["memory_mb"]  # the record is not shown

    aws_proxy.reset_calls()
    assert cli("up").returncode == 0
    assert writes(aws_proxy) == ["lambda:UpdateFunctionConfiguration", "lambda:TagResource"]
    assert _function_row(cli)["state"] == "in sync"

    direct(moto_server, "lambda").update_function_configuration(FunctionName="t1",
                                                                MemorySize=1024)
    row = _function_row(cli)
    assert (row["state"], row["drift"]) == ("drifted", ["memory_mb"])
    assert "drifted (changed outside stock-alert)" in cli("plan").stdout
    aws_proxy.reset_calls()
    assert cli("up").returncode == 0
    assert writes(aws_proxy) == ["lambda:UpdateFunctionConfiguration"]
    assert _function_row(cli)["state"] == "in sync"
