"""The market-time schedule (issue 23) end to end: `stock-alert` against a moto server through
the counting proxy: one write per thing to make, a second `up` writes nothing, `status
--exit-code` is 0, and `down` removes the schedule before its group and leaves nothing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.support.awsproxy import AwsProxy
from tests.support.cli_helpers import direct, key_of, writes
from tests.support.configs import MINIMAL, write_config

pytestmark = pytest.mark.server

MARKET = MINIMAL + 'schedule: {at: "16:30", timezone: America/New_York, days: MON-FRI}\n'
# Two roles write concurrently, so the order of IAM writes between them is not fixed: the
# writes are compared as a multiset, and the order that matters is asserted on its own.
# The notifier (issue 21): a second function and the role's policy that invokes it.
FRESH = Counter({"iam:CreateRole": 2, "iam:PutRolePolicy": 4, "logs:CreateLogGroup": 1,
                 "logs:PutRetentionPolicy": 1, "sns:CreateTopic": 1, "sns:Subscribe": 2,
                 "lambda:CreateFunction": 1, "lambda:CreateFunction@notifier": 1,
                 "lambda:PutFunctionConcurrency": 1,
                 "scheduler:CreateScheduleGroup": 1, "scheduler:CreateSchedule": 1,
                 "lambda:PutFunctionEventInvokeConfig": 1})
DOWN = Counter({"lambda:DeleteFunctionEventInvokeConfig": 1,
                "scheduler:DeleteSchedule": 1, "scheduler:DeleteScheduleGroup": 1,
                "lambda:DeleteFunction": 1,
                "lambda:DeleteFunction@notifier": 1,
                "sns:DeleteTopic": 1, "logs:DeleteLogGroup": 1, "iam:DeleteRolePolicy": 4,
                "iam:DeleteRole": 2})


def _groups(moto_server: str) -> list[str]:
    found = direct(moto_server, "scheduler").list_schedule_groups()["ScheduleGroups"]
    return [g["Name"] for g in found if g["Name"] != "default"]


def test_market_time_lifecycle_up_twice_status_down(
        cli: Any, aws_proxy: AwsProxy, moto_server: str, tmp_path: Path) -> None:
    write_config(tmp_path, MARKET)
    first = cli("up")
    assert first.returncode == 0, first.stderr
    made = writes(aws_proxy)
    assert Counter(made) == FRESH
    assert made.index("lambda:CreateFunction") < made.index("scheduler:CreateSchedule")
    assert made.index("lambda:CreateFunction@notifier") < made.index("scheduler:CreateSchedule")
    assert made.index("scheduler:CreateScheduleGroup") < made.index("scheduler:CreateSchedule")
    assert "market-schedule" in first.stdout and "scheduler-role" in first.stdout
    schedule = direct(moto_server, "scheduler").get_schedule(Name="t1-schedule", GroupName="t1")
    assert (schedule["ScheduleExpression"], schedule["ScheduleExpressionTimezone"]) == (
        "cron(30 16 ? * MON-FRI *)", "America/New_York")

    aws_proxy.reset_calls()
    second = cli("up")
    assert second.returncode == 0, second.stderr
    assert writes(aws_proxy) == []
    assert "Nothing to do" in second.stdout

    status = cli("status", "--exit-code")
    assert status.returncode == 0, status.stdout + status.stderr

    aws_proxy.reset_calls()
    down = cli("down", "--yes")
    assert down.returncode == 0, down.stderr
    removed = writes(aws_proxy)
    assert Counter(removed) == DOWN
    # the functions go only once the schedule is gone (DeleteSchedule answered); its group's
    # delete, and the wait until the group is gone, go on alongside
    keys = [key_of(c) for c in aws_proxy.calls]
    assert keys.index("scheduler:DeleteSchedule") < min(
        keys.index("lambda:DeleteFunction"), keys.index("lambda:DeleteFunction@notifier"))
    assert keys[::-1].index("scheduler:GetScheduleGroup") < keys[::-1].index(
        "scheduler:DeleteScheduleGroup")  # read (and found gone) after its delete
    assert _groups(moto_server) == []
    assert direct(moto_server, "iam").list_roles()["Roles"] == []
