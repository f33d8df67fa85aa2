"""The market-time schedule (issue 23) against moto in-process: what `up` makes, a no-op second
`up`, updates, drift, ownership, both moves between the schedule's forms with no gap and
nothing left behind, and convergence after an outage at every write of `up` and of a move.

moto 5.2 implements EventBridge Scheduler's API but checks none of its real-AWS behaviours
(ConflictException on an existing group, a group's DELETING state, the role's propagation):
tests/real_aws/test_scheduler.py injects those.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from provision.core import pipelines
from provision.core.plan import Mode, Op
from provision.errors import AwsError, ConflictError
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import FaultInjector, no_retry_backoff
from tests.support.inprocess import target
from tests.support.inventory import inventory

REGION = "us-east-1"
ACCOUNT = "123456789012"
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:t1"
ROLE = "t1-us-east-1-scheduler"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
MARKET = 'schedule: {at: "16:30", timezone: America/New_York, days: MON-FRI}\n'
TZ = MINIMAL + MARKET
TAGS = {"managed-by": "stock-alert", "stock-alert:stack": "t1"}


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws(), no_retry_backoff():
        yield


def _client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def _config(folder: Path, text: str = TZ, name: str = "tz.yaml") -> Path:
    return write_config(folder, text, name)


def _up(config: Path) -> list[str]:
    prepared, log = target(config)
    pipelines.up(prepared)
    return log.writes()


def _schedule() -> dict[str, Any] | None:
    try:
        found = _client("scheduler").get_schedule(Name="t1-schedule", GroupName="t1")
    except _client("scheduler").exceptions.ResourceNotFoundException:
        return None
    return {k: found[k] for k in ("ScheduleExpression", "ScheduleExpressionTimezone", "State",
                                  "FlexibleTimeWindow", "Target")}


def _groups() -> list[str]:
    return [g["Name"] for g in _client("scheduler").list_schedule_groups()["ScheduleGroups"]
            if g["Name"] != "default"]


def _roles() -> list[str]:
    return sorted(r["RoleName"] for r in _client("iam").list_roles()["Roles"])


def _rule_runs_it() -> bool:
    """The rule exists, targets the function, and may invoke it."""
    events = _client("events")
    try:
        targets = events.list_targets_by_rule(Rule="t1-schedule")["Targets"]
    except events.exceptions.ResourceNotFoundException:
        return False
    try:
        policy = json.loads(_client("lambda").get_policy(FunctionName="t1")["Policy"])
    except _client("lambda").exceptions.ResourceNotFoundException:
        return False
    sids = {s["Sid"] for s in policy["Statement"]}
    return [t["Arn"] for t in targets] == [FUNCTION] and "t1-schedule-invoke" in sids


def _schedule_runs_it() -> bool:
    """The market-time schedule exists, targets the function as the scheduler's role, and that
    role may invoke it."""
    found = _schedule()
    if found is None or found["Target"]["Arn"] != FUNCTION:
        return False
    iam = _client("iam")
    try:
        names = iam.list_role_policies(RoleName=ROLE)["PolicyNames"]
    except iam.exceptions.NoSuchEntityException:
        return False
    return found["Target"]["RoleArn"] == ROLE_ARN and names == ["t1-invoke-function"]


def _permission() -> bool:
    try:
        policy = json.loads(_client("lambda").get_policy(FunctionName="t1")["Policy"])
    except _client("lambda").exceptions.ResourceNotFoundException:
        return False
    return any(s["Sid"] == "t1-schedule-invoke" for s in policy["Statement"])


# ---- what up makes --------------------------------------------------------------------------


def test_up_makes_the_group_tagged_the_schedule_in_the_zone_and_the_role(
        aws: None, tmp_path: Path) -> None:
    writes = _up(_config(tmp_path))
    assert writes.count("scheduler:CreateScheduleGroup") == 1
    assert writes.count("scheduler:CreateSchedule") == 1
    assert not [w for w in writes if w.startswith("eventbridge:")]  # no rule at all
    scheduler = _client("scheduler")
    [group] = [g for g in scheduler.list_schedule_groups()["ScheduleGroups"]
               if g["Name"] == "t1"]
    tags = {t["Key"]: t["Value"] for t in scheduler.list_tags_for_resource(
        ResourceArn=group["Arn"])["Tags"]}
    assert TAGS.items() <= tags.items()
    assert _schedule() == {
        "ScheduleExpression": "cron(30 16 ? * MON-FRI *)",
        "ScheduleExpressionTimezone": "America/New_York", "State": "ENABLED",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {"Arn": FUNCTION, "RoleArn": ROLE_ARN, "RetryPolicy": {
            "MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}}}
    role = _client("iam").get_role(RoleName=ROLE)["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"] == [{
        "Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}]
    policy = _client("iam").get_role_policy(RoleName=ROLE, PolicyName="t1-invoke-function")
    document = policy["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    assert document["Statement"] == [{"Sid": "InvokeOwnFunction", "Effect": "Allow",
                                      "Action": ["lambda:InvokeFunction"],
                                      "Resource": [FUNCTION]}]
    role_tags = {t["Key"]: t["Value"] for t in role["Tags"]}
    assert role_tags["stock-alert:region"] == REGION  # IAM is global (issue 19)
    assert not _permission()  # Scheduler needs no resource policy on the function


def test_second_up_writes_nothing_and_status_is_in_sync(aws: None, tmp_path: Path) -> None:
    config = _config(tmp_path)
    _up(config)
    assert _up(config) == []
    prepared, log = target(config)
    _, rows = pipelines.status(prepared)
    states = {r.kind: r.state for r in rows}
    assert states["market-schedule"] == "in sync" and states["scheduler-role"] == "in sync"
    assert states["schedule"] == "not used"  # the rule: absent, and fine
    row = next(r for r in rows if r.kind == "market-schedule")
    assert row.attributes["timezone"] == "America/New_York"
    assert row.attributes["role"] == ROLE_ARN
    assert log.writes() == []


@pytest.mark.parametrize(("edit", "field"), [
    (lambda t: t.replace('"16:30"', '"17:05"'), "expression"),
    (lambda t: t.replace("America/New_York", "Europe/London"), "timezone"),
    (lambda t: t + "enabled: false\n", "state"),
    (lambda t: t + "schedule_delivery: {max_retry_attempts: 5}\n", "target"),
])
def test_a_changed_config_updates_the_schedule_whole(
        aws: None, tmp_path: Path, edit: Any, field: str) -> None:
    _up(_config(tmp_path))
    changed = _config(tmp_path, edit(TZ), "changed.yaml")
    prepared, _ = target(changed)
    the_plan, _ = pipelines.plan(prepared)
    action = next(a for a in the_plan.actions if a.kind == "market-schedule")
    assert action.op is Op.UPDATE and action.reason == "changed in config"
    assert [c.field for c in action.changes if c.field != "applied"] == [field]
    # UpdateSchedule overwrites the whole schedule; the tag call records the new digest
    assert _up(changed) == ["scheduler:UpdateSchedule", "scheduler:TagResource"]
    assert _up(changed) == []


def test_a_schedule_changed_by_hand_is_drift_that_up_repairs(aws: None, tmp_path: Path) -> None:
    config = _config(tmp_path)
    _up(config)
    current = _client("scheduler").get_schedule(Name="t1-schedule", GroupName="t1")
    _client("scheduler").update_schedule(
        Name="t1-schedule", GroupName="t1", ScheduleExpression="cron(0 9 ? * MON-FRI *)",
        ScheduleExpressionTimezone="UTC", FlexibleTimeWindow={"Mode": "OFF"},
        Target=current["Target"])
    prepared, _ = target(config)
    _, rows = pipelines.status(prepared)
    row = next(r for r in rows if r.kind == "market-schedule")
    assert row.state == "drifted" and set(row.drift) >= {"expression", "timezone"}
    assert "scheduler:UpdateSchedule" in _up(config)
    assert _schedule()["ScheduleExpression"] == "cron(30 16 ? * MON-FRI *)"  # type: ignore[index]


def test_a_schedule_deleted_by_hand_is_made_again_in_its_group(
        aws: None, tmp_path: Path) -> None:
    config = _config(tmp_path)
    _up(config)
    _client("scheduler").delete_schedule(Name="t1-schedule", GroupName="t1")
    assert _up(config) == ["scheduler:CreateSchedule"]
    assert _schedule_runs_it()


# ---- ownership ------------------------------------------------------------------------------


def test_a_foreign_group_of_the_same_name_is_a_conflict_and_never_touched(
        aws: None, tmp_path: Path) -> None:
    _client("scheduler").create_schedule_group(Name="t1", Tags=[{"Key": "team", "Value": "x"}])
    prepared, log = target(_config(tmp_path))
    with pytest.raises(ConflictError, match="market-schedule t1"):
        pipelines.up(prepared)
    assert log.writes() == []
    # down (by tags, no config) leaves it alone too
    the_plan, _ = pipelines.plan(prepared, Mode.DOWN)
    pipelines.down(prepared, the_plan)
    assert _groups() == ["t1"]


def test_a_foreign_group_is_left_alone_when_the_config_does_not_use_one(
        aws: None, tmp_path: Path) -> None:
    _client("scheduler").create_schedule_group(Name="t1")
    config = _config(tmp_path, MINIMAL, "cron.yaml")
    prepared, _ = target(config)
    the_plan, _ = pipelines.up(prepared)
    action = next(a for a in the_plan.actions if a.kind == "market-schedule")
    assert action.op is Op.NOOP and "left alone" in action.reason
    assert _groups() == ["t1"] and _rule_runs_it()


def test_a_foreign_role_of_the_scheduler_name_is_a_conflict(aws: None, tmp_path: Path) -> None:
    _client("iam").create_role(RoleName=ROLE, AssumeRolePolicyDocument="{}")
    with pytest.raises(ConflictError, match=f"scheduler-role {ROLE}"):
        pipelines.up(target(_config(tmp_path))[0])
    assert _groups() == []


# ---- moving between the forms ---------------------------------------------------------------


def test_moving_from_the_rule_to_market_time_makes_the_schedule_before_deleting_the_rule(
        aws: None, tmp_path: Path) -> None:
    _up(_config(tmp_path, MINIMAL, "cron.yaml"))
    assert _rule_runs_it()
    writes = _up(_config(tmp_path))
    assert writes.index("scheduler:CreateSchedule") < writes.index("eventbridge:RemoveTargets")
    assert sorted(writes) == sorted([
        "iam:CreateRole", "iam:PutRolePolicy", "scheduler:CreateScheduleGroup",
        "scheduler:CreateSchedule", "eventbridge:RemoveTargets", "eventbridge:DeleteRule",
        "lambda:RemovePermission"])
    assert _schedule_runs_it()
    assert _client("events").list_rules()["Rules"] == [] and not _permission()
    assert _up(_config(tmp_path)) == []


def test_moving_from_market_time_to_the_rule_makes_the_rule_before_deleting_the_schedule(
        aws: None, tmp_path: Path) -> None:
    _up(_config(tmp_path))
    cron = _config(tmp_path, MINIMAL.replace("stocks:", 'schedule: "rate(1 hour)"\nstocks:'),
                   "cron.yaml")
    prepared, log = target(cron)
    the_plan, _ = pipelines.up(prepared)
    writes = log.writes()
    assert writes.index("lambda:AddPermission") < writes.index("scheduler:DeleteSchedule")
    # the scheduler's role goes once the schedule that it runs is gone
    assert writes.index("scheduler:DeleteSchedule") < writes.index("iam:DeleteRole")
    assert "scheduler:DeleteScheduleGroup" in writes
    reasons = {a.kind: a.reason for a in the_plan.actions if a.op is Op.DELETE}
    assert set(reasons) == {"market-schedule", "scheduler-role"}
    assert all(r.startswith("not used by the config") for r in reasons.values())
    assert _rule_runs_it()
    assert _groups() == [] and _roles() == ["t1-us-east-1-role"]
    assert _up(cron) == []


def test_a_failed_create_of_the_new_form_deletes_nothing_of_the_old(
        aws: None, tmp_path: Path) -> None:
    """No gap: when the new schedule cannot be made, the rule keeps running the function."""
    _up(_config(tmp_path, MINIMAL, "cron.yaml"))
    prepared, _ = target(_config(tmp_path))
    faults = FaultInjector()
    faults.attach_session(prepared.aws)
    faults.inject(_access_denied("scheduler:CreateSchedule"), "scheduler", "CreateSchedule")
    with pytest.raises(AwsError, match="CreateSchedule|create schedule"):
        pipelines.up(prepared)
    assert _rule_runs_it()
    assert faults.count("events", "DeleteRule") == 0
    assert faults.count("lambda", "RemovePermission") == 0


def _access_denied(action: str) -> Any:
    from tests.support.awsproxy import Error

    return Error(403, "AccessDeniedException", f"User is not authorized to perform: {action}")


MOVE_TO_MARKET = 7  # CreateRole, PutRolePolicy, CreateScheduleGroup, CreateSchedule,
# RemoveTargets, DeleteRule, RemovePermission
MOVE_TO_RULE = 6  # PutRule, PutTargets, AddPermission, DeleteScheduleGroup (it deletes the
# schedule in it), DeleteRolePolicy, DeleteRole


@pytest.mark.parametrize(("first", "then", "writes"), [
    (MINIMAL, TZ, MOVE_TO_MARKET), (TZ, MINIMAL, MOVE_TO_RULE)], ids=["to-market", "to-rule"])
def test_a_move_cut_short_at_every_write_never_leaves_a_gap_and_the_next_up_finishes(
        aws: None, tmp_path: Path, first: str, then: str, writes: int) -> None:
    _up(_config(tmp_path, first, "first.yaml"))
    final = _config(tmp_path, then, "then.yaml")
    ends: list[tuple[bool, bool]] = []
    for after in range(writes):
        prepared, _ = target(final)
        faults = FaultInjector()
        faults.attach_session(prepared.aws)
        faults.fail_all_after_writes(after)
        with pytest.raises(AwsError):
            pipelines.up(prepared)
        assert _rule_runs_it() or _schedule_runs_it(), f"a gap after {after} write(s)"
        _up(final)  # converges
        ends.append((_rule_runs_it(), _schedule_runs_it()))
        assert _up(final) == []
        _up(_config(tmp_path, first, "first.yaml"))  # back, for the next cut
    market = then == TZ
    assert ends == [(not market, market)] * writes


# ---- an outage halfway through the first up --------------------------------------------------

FRESH_WRITES = 17  # two roles (4 policies), log group, topic and 2 subscriptions, function and
# concurrency, the notifier (issue 21), the group and the schedule, the on-failure destination


def _scheduler_state() -> dict[str, Any]:
    inv = inventory(boto3.Session(region_name=REGION))
    for sub in inv["subscriptions"]:
        sub.pop("arn", None)
    return {**inv, "schedule_groups": _groups(), "schedule": _schedule()}


def test_fresh_up_makes_seventeen_writes(aws: None, tmp_path: Path) -> None:
    assert len(_up(_config(tmp_path))) == FRESH_WRITES


@pytest.mark.parametrize("after_writes", [0, 1, 3, 11, 12, 13, 14, 15, 16])
def test_outage_halfway_through_up_is_repaired_by_the_next_up(
        aws: None, tmp_path: Path, after_writes: int) -> None:
    config = _config(tmp_path)
    _up(config)
    clean = _scheduler_state()
    the_plan, _ = pipelines.plan(target(config)[0], Mode.DOWN)
    pipelines.down(target(config)[0], the_plan)
    prepared, _ = target(config)
    faults = FaultInjector()
    faults.attach_session(prepared.aws)
    faults.fail_all_after_writes(after_writes)
    with pytest.raises(AwsError):
        pipelines.up(prepared)
    _up(config)
    assert _scheduler_state() == clean
    assert _up(config) == []


def test_down_with_a_minimal_config_removes_the_schedule_group_and_role(
        aws: None, tmp_path: Path) -> None:
    _up(_config(tmp_path))
    prepared, log = target(_config(tmp_path, MINIMAL, "minimal.yaml"))
    the_plan, _ = pipelines.plan(prepared, Mode.DOWN)
    pipelines.down(prepared, the_plan)
    assert _groups() == [] and _roles() == []
    # the schedule, then its group (tests/real_aws/test_scheduler.py: on AWS the group's
    # delete is asynchronous; once DeleteSchedule is answered the function may go)
    assert [w for w in log.writes() if w.startswith("scheduler:")] == [
        "scheduler:DeleteSchedule", "scheduler:DeleteScheduleGroup"]
    again, log = target(_config(tmp_path))
    plan2, _ = pipelines.plan(again, Mode.DOWN)
    assert pipelines.down(again, plan2) == [] and log.writes() == []


def test_status_and_plan_say_what_is_left_of_the_other_form_and_that_up_deletes_it(
        aws: None, tmp_path: Path) -> None:
    from provision.output import render

    _up(_config(tmp_path))
    cron = _config(tmp_path, MINIMAL, "cron.yaml")
    prepared, log = target(cron)
    the_plan, rows = pipelines.status(prepared)
    left = {r.kind: r for r in rows if r.state == "left over"}
    assert set(left) == {"market-schedule", "scheduler-role"}
    assert all(r.exists and r.notes[0].startswith("not used by the config (")
               and r.notes[0].endswith("'up' deletes it") for r in left.values())
    assert render.status_counts(rows).endswith(", 2 left over ('up' deletes it).")
    detail = render.describe_changes(next(a for a in the_plan.actions
                                          if a.kind == "market-schedule"))
    assert detail.endswith("deleted once what replaces it exists")
    assert log.writes() == []


def test_the_scheduler_role_lives_at_the_iam_path_under_the_boundary(
        aws: None, tmp_path: Path) -> None:
    """iam: applies to both of the stack's roles (the operator policy's boundary guard names
    both): an organisation that requires a boundary on every role gets it on this one too."""
    boundary = "arn:aws:iam::aws:policy/PowerUserAccess"
    _up(_config(tmp_path, TZ + f"iam: {{path: /stock-alert/, permissions_boundary: {boundary}}}\n"))
    role = _client("iam").get_role(RoleName=ROLE)["Role"]
    assert role["Path"] == "/stock-alert/"
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
    found = _schedule()
    assert found is not None
    assert found["Target"]["RoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/stock-alert/{ROLE}"
