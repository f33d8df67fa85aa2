"""`stock-alert audit` of a stack with a market-time schedule (issue 23): clean when fresh, and
each change made outside stock-alert to the schedule, its group or the scheduler's role is
named with its fix; a rule left from the other form is reported as not used."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from provision.core import pipelines
from tests.support.audit import run_audit
from tests.support.configs import MINIMAL, write_config
from tests.support.inprocess import target

ACCOUNT = "123456789012"
ROLE = "t1-us-east-1-scheduler"
GROUP_ARN = f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule-group/t1"
CONFIG = (MINIMAL + 'schedule: {at: "16:30", timezone: America/New_York}\n'
          + "tags: {team: x}\n")
runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws():
        path = write_config(tmp_path, CONFIG)
        pipelines.up(target(path)[0])
        yield path


def test_a_fresh_market_time_stack_is_clean(config: Path) -> None:
    assert run_audit(config) == (0, [])


def _other_target() -> None:
    scheduler = boto3.client("scheduler", region_name="us-east-1")
    found = scheduler.get_schedule(Name="t1-schedule", GroupName="t1")
    scheduler.update_schedule(
        Name="t1-schedule", GroupName="t1", ScheduleExpression=found["ScheduleExpression"],
        ScheduleExpressionTimezone=found["ScheduleExpressionTimezone"],
        FlexibleTimeWindow={"Mode": "OFF"}, State=found["State"],
        Description=found["Description"],  # UpdateSchedule resets what it is not sent
        Target={**found["Target"], "Arn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:evil"})


def _trust_opened() -> None:
    boto3.client("iam").update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}))


def _untagged() -> None:
    boto3.client("scheduler", region_name="us-east-1").untag_resource(
        ResourceArn=GROUP_ARN, TagKeys=["team"])


def _schedule_gone() -> None:
    boto3.client("scheduler", region_name="us-east-1").delete_schedule(
        Name="t1-schedule", GroupName="t1")


@pytest.mark.parametrize(("tamper", "rule", "resource"), [
    (_other_target, "schedule-target-changed", "market-schedule t1"),
    (_trust_opened, "trust-changed", f"scheduler-role {ROLE}"),
    (_untagged, "tags-changed", "market-schedule t1"),
    (_schedule_gone, "schedule-missing", "market-schedule t1"),
])
def test_each_change_outside_stock_alert_is_a_finding_up_repairs(
        config: Path, tamper: Callable[[], None], rule: str, resource: str) -> None:
    tamper()
    code, findings = run_audit(config)
    assert code == 1
    assert [(f["rule"], f["resource"], f["up_repairs"]) for f in findings] == [
        (rule, resource, True)]
    pipelines.up(target(config)[0])
    assert run_audit(config) == (0, [])


def test_a_rule_left_from_the_other_form_is_reported_as_not_used(
        config: Path, tmp_path: Path) -> None:
    rule = write_config(tmp_path, MINIMAL + "tags: {team: x}\n", "rule.yaml")
    pipelines.up(target(rule)[0])  # the move back: a rule now, the schedule deleted
    events = boto3.client("events", region_name="us-east-1")
    assert [r["Name"] for r in events.list_rules()["Rules"]] == ["t1-schedule"]
    # and the config moves to market time again, but 'up' has not run yet
    code, findings = run_audit(config)
    assert code == 1
    rules = {(f["rule"], f["resource"]) for f in findings}
    assert ("not-used", "schedule t1-schedule") in rules
    assert ("missing", "market-schedule t1") in rules
