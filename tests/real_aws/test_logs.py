"""Catalogue: an account-level log retention policy (moto knows none).

Source: botocore's CloudWatch Logs service model (LogGroup.retentionPolicyName): "This field is
returned only when an account-level retention policy applies to the log group. When it is
returned, retentionInDays shows the retention period from that policy instead of the retention
period set on the log group. If the policy specifies that log events never expire,
retentionInDays is not returned." PutAccountPolicy: "An account-level retention policy
overrides the retention setting of the log group."

moto answers DescribeLogGroups without the field, so an after-call hook edits moto's parsed
answer into what real AWS answers while such a policy applies (here: to every group).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from provision.cli import app
from provision.core import pipelines
from provision.core.plan import Mode
from provision.core.target import Target
from tests.real_aws.wire import every_session_answers
from tests.support.configs import MINIMAL, write_config
from tests.support.inprocess import ClientCalls, target
from tests.support.inventory import inventory

POLICY = "org-log-baseline"
EVENT = "after-call.cloudwatch-logs.DescribeLogGroups"
KINDS = ("roles", "log_groups", "topics", "subscriptions", "functions", "rules")


def account_policy(days: int | None) -> Callable[..., None]:
    """DescribeLogGroups as real AWS answers it while POLICY (`days`, None: never expire)
    applies."""
    def edit(parsed: dict[str, Any], **_: Any) -> None:
        for group in parsed.get("logGroups", []):
            group["retentionPolicyName"] = POLICY
            if days is None:
                group.pop("retentionInDays", None)
            else:
                group["retentionInDays"] = days
    return edit


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws():
        yield write_config(tmp_path, MINIMAL)


def _under_policy(config: Path, days: int | None) -> tuple[Target, ClientCalls]:
    prepared, log = target(config)
    prepared.aws.events.register(EVENT, account_policy(days))
    return prepared, log


def _own_retention() -> Any:
    """The group's own setting, as moto stores it (no account policy in the way)."""
    group = boto3.client("logs").describe_log_groups()["logGroups"][0]
    return group.get("retentionInDays")


@pytest.mark.parametrize("days", [30, 3653, None])
def test_account_policy_is_not_drift_and_a_second_up_writes_nothing(
        config: Path, days: int | None) -> None:
    prepared, log = _under_policy(config, days)
    pipelines.up(prepared)
    # create still sets the group's own retention: it is what the config asks for
    assert "cloudwatch-logs:PutRetentionPolicy" in log.writes() and _own_retention() == 14

    again, log = _under_policy(config, days)
    the_plan, done = pipelines.up(again)
    assert log.writes() == [] and done == []  # before the fix: PutRetentionPolicy every run

    _, rows = pipelines.status(_under_policy(config, days)[0])
    group = next(r for r in rows if r.kind == "log-group")
    assert group.state == "in sync" and group.drift == ()  # before the fix: "drifted" forever
    assert group.attributes["account_retention_policy"] == POLICY
    assert group.attributes["retention_days"] == days
    (note,) = group.notes
    assert repr(POLICY) in note and "14 days" in note
    assert ("never expire" if days is None else f"({days} days)") in note

    down, _ = _under_policy(config, days)
    teardown, _ = pipelines.plan(down, mode=Mode.DOWN)
    pipelines.down(down, teardown)
    inv = inventory(boto3.Session(region_name="us-east-1"))
    assert [inv[k] for k in KINDS] == [[]] * len(KINDS)


def test_cli_up_twice_and_status_under_an_account_policy(config: Path) -> None:
    runner = CliRunner()
    with every_session_answers(EVENT, account_policy(90)):
        first = runner.invoke(app, ["up", "-c", str(config), "--output", "json"])
        second = runner.invoke(app, ["up", "-c", str(config), "--output", "json"])
        status = runner.invoke(app, ["status", "-c", str(config), "--output", "json"])
    assert [first.exit_code, second.exit_code, status.exit_code] == [0, 0, 0], status.output
    assert json.loads(second.stdout)["applied"] == []
    group = next(r for r in json.loads(status.stdout)["resources"] if r["kind"] == "log-group")
    assert group["state"] == "in sync"
    assert group["attributes"]["account_retention_policy"] == POLICY
    assert "(90 days)" in group["notes"][0]
