"""Catalogue of real-AWS behaviours: EventBridge Scheduler (the market-time schedule, issue 23).

moto 5.2 implements the scheduler API but none of what follows (checked here too, so a moto that
starts doing them shows up): CreateScheduleGroup on an existing name silently replaces the group
and drops its schedules, a group is never DELETING (DeleteScheduleGroup removes it and its
schedules at once), any role is accepted at once, the Resource Groups Tagging API lists no
schedule group, and a deleted group's tags stay for a group made again under its name. Each
test injects what real EventBridge Scheduler answers, on the wire, and checks what the user sees.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from moto import mock_aws
from typer.testing import CliRunner

from provision.cli import app
from provision.config.model import NAME_MAX, Config
from provision.core import pipelines
from provision.core.plan import Mode, Op
from provision.core.stack import Stack
from provision.errors import InTransition
from tests.real_aws.test_events import run_cli
from tests.support.awsproxy import Call, Error, LoseResponse
from tests.support.cli_helpers import one_paragraph
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import FaultInjector, Forward, _RawBody, identify, no_retry_backoff
from tests.support.inprocess import FakeClock, target

REGION = "us-east-1"
TZ = MINIMAL + 'schedule: {at: "16:30", timezone: America/New_York, days: MON-FRI}\n'
GROUP_ARN = f"arn:aws:scheduler:{REGION}:123456789012:schedule-group/t1"


class Scheduler(FaultInjector):
    """A FaultInjector that can also answer GetScheduleGroup with the group DELETING, as
    EventBridge Scheduler does after DeleteScheduleGroup "until all of its associated
    schedules are deleted" (DeleteScheduleGroup, EventBridge Scheduler API Reference).

    With `deferred`, DeleteScheduleGroup is accepted (200) but reaches moto only once the
    `deleting_left` DELETING reads are spent: until then the group and its schedules are still
    there (GetSchedule finds the schedule), as on AWS, where they "might continue to invoke
    their targets"; moto would delete both at once."""

    def __init__(self, deferred: bool = False) -> None:
        super().__init__()
        self.deleting_left = 0
        self.deferred = deferred
        self.pending: list[Forward] = []  # DeleteScheduleGroup calls not yet carried out

    def dispatch(self, request: AWSPreparedRequest, event_name: str, forward: Forward) -> Any:
        service, operation = identify(request, event_name)
        if operation == "DeleteScheduleGroup" and self.deferred:
            self.pending.append(forward)
            self.record(Call(service, operation, 200, True, fault="deferred",
                             method=request.method or "", path=request.url or ""))
            return _json_answer(request, {})
        if operation != "GetScheduleGroup" or self.deleting_left <= 0:
            while self.pending and operation == "GetScheduleGroup":
                self.pending.pop(0)()  # its schedules are deleted: now the group goes
            return super().dispatch(request, event_name, forward)
        self.deleting_left -= 1
        self.record(Call(service, operation, 200, False, fault="DELETING",
                         method=request.method or "", path=request.url or ""))
        return _json_answer(request, {"Arn": GROUP_ARN, "Name": "t1", "State": "DELETING",
                                      "CreationDate": 1.7e9, "LastModificationDate": 1.7e9})


def _json_answer(request: AWSPreparedRequest, answer: dict[str, Any]) -> AWSResponse:
    body = json.dumps(answer).encode()
    headers = {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4()),
               "Content-Length": str(len(body))}
    return AWSResponse(request.url, 200, headers, _RawBody(body))


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws(), no_retry_backoff():
        yield write_config(tmp_path, TZ)


def faulty(config: Path, clock: FakeClock, deadline_s: float = 300.0, deferred: bool = False,
           ) -> tuple[Any, Scheduler]:
    prepared, _ = target(config, clock, deadline_s)
    injector = Scheduler(deferred)
    injector.attach_session(prepared.aws)
    return prepared, injector


def _scheduler() -> Any:
    return boto3.client("scheduler", region_name=REGION)


def _groups() -> list[str]:
    pages = _scheduler().get_paginator("list_schedule_groups").paginate()
    return [g["Name"] for page in pages for g in page["ScheduleGroups"]
            if g["Name"] != "default"]


def _schedules() -> list[str]:
    return [s["Name"] for s in _scheduler().list_schedules(GroupName="t1")["Schedules"]]


def no_writes_left(config: Path) -> None:
    prepared, log = target(config)
    pipelines.up(prepared)
    assert log.writes() == []


def down(config: Path) -> None:
    prepared, _ = target(config)
    the_plan, _ = pipelines.plan(prepared, Mode.DOWN)
    pipelines.down(prepared, the_plan)


# ---- 1. the scheduler's role, just created, is not yet accepted ------------------------------

# Real Scheduler checks at CreateSchedule that it may assume the RoleArn; right after CreateRole
# IAM may not show the role yet (github.com/aws/aws-sdk-js-v3/issues/6494 quotes the answer);
# terraform-provider-aws retries exactly this message for 2 minutes
# (internal/service/scheduler/retry.go, iamPropagationTimeout). moto accepts any role at once.
NOT_ASSUMABLE = Error(400, "ValidationException", "The execution role you provide must allow "
                      "AWS EventBridge Scheduler to assume the role.")


def test_a_role_not_yet_propagated_is_waited_for(config: Path) -> None:
    clock = FakeClock()
    prepared, faults = faulty(config, clock)
    faults.inject(NOT_ASSUMABLE, "scheduler", "CreateSchedule", times=4)
    pipelines.up(prepared)
    assert faults.count("scheduler", "CreateSchedule") == 5 and len(clock.sleeps) == 4
    assert _schedules() == ["t1-schedule"]
    no_writes_left(config)


def test_a_role_never_accepted_stops_after_two_minutes_naming_it(config: Path) -> None:
    clock = FakeClock()
    with Scheduler().patch_globally() as faults:
        faults.inject(NOT_ASSUMABLE, "scheduler", "CreateSchedule", times=None)
        result = run_cli(config, clock, "up", deadline_s=600)
    assert result.exit_code == 1
    message = one_paragraph(result.stderr)
    assert "ValidationException" in message and "assume the role" in message
    assert "run the same command again" in message
    assert 120 <= clock.now <= 122  # its own cap, not the 600 s deadline
    # the group is there without its schedule: the next up makes just the schedule
    prepared, log = target(config)
    pipelines.up(prepared)
    assert log.writes() == ["scheduler:CreateSchedule"]


# ---- 2. a name that exists: ConflictException -------------------------------------------------

# CreateScheduleGroup and CreateSchedule answer ConflictException (HTTP 409) for a name that
# exists (EventBridge Scheduler API Reference, both operations' Errors); moto replaces the group
# instead, and its message for a schedule is "Schedule NAME already exists.".
GROUP_EXISTS = Error(409, "ConflictException", "Schedule group t1 already exists.")
SCHEDULE_EXISTS = Error(409, "ConflictException", "Schedule t1-schedule already exists.")


def _group_with_a_schedule() -> Any:
    """Group g holding schedule s, on moto in-process."""
    scheduler = _scheduler()
    scheduler.create_schedule_group(Name="g")
    scheduler.create_schedule(Name="s", GroupName="g", ScheduleExpression="rate(1 hour)",
                              FlexibleTimeWindow={"Mode": "OFF"}, Target={
                                  "Arn": "arn:aws:lambda:us-east-1:123456789012:function:f",
                                  "RoleArn": "arn:aws:iam::123456789012:role/r"})
    return scheduler


def test_moto_replaces_a_group_created_twice_where_aws_refuses(config: Path) -> None:
    scheduler = _group_with_a_schedule()
    scheduler.create_schedule_group(Name="g")  # real AWS: ConflictException
    assert scheduler.list_schedules(GroupName="g")["Schedules"] == []


@pytest.mark.parametrize(("operation", "error"), [("CreateScheduleGroup", GROUP_EXISTS),
                                                  ("CreateSchedule", SCHEDULE_EXISTS)])
def test_a_lost_answer_then_conflict_is_adopted_in_the_same_run(
        config: Path, operation: str, error: Error) -> None:
    """The call took effect, its answer was lost; botocore sends it again and AWS says the
    name exists: the group (this stack's by its tags) is adopted, the schedule overwritten."""
    clock = FakeClock()
    prepared, faults = faulty(config, clock)
    faults.inject(LoseResponse(), "scheduler", operation)
    faults.inject(error, "scheduler", operation, skip=1)
    pipelines.up(prepared)
    assert faults.count("scheduler", operation) == 2
    assert _groups() == ["t1"] and _schedules() == ["t1-schedule"]
    if operation == "CreateSchedule":
        assert faults.count("scheduler", "UpdateSchedule") == 1
    no_writes_left(config)


def test_a_conflict_on_a_group_another_stack_made_meanwhile_is_refused(config: Path) -> None:
    clock = FakeClock()
    prepared, faults = faulty(config, clock)
    the_plan, _ = pipelines.plan(prepared)  # read while the name was free
    _scheduler().create_schedule_group(Name="t1", Tags=[
        {"Key": "managed-by", "Value": "stock-alert"}, {"Key": "stock-alert:stack",
                                                         "Value": "other"}])
    faults.inject(GROUP_EXISTS, "scheduler", "CreateScheduleGroup")
    from provision.errors import ConflictError

    with pytest.raises(ConflictError, match="owned by stock-alert stack 'other'"):
        pipelines.apply(prepared, the_plan)
    assert faults.count("scheduler", "CreateSchedule") == 0


# ---- 3. deleting a group deletes its schedules, asynchronously -------------------------------

# DeleteScheduleGroup: "Deleting a schedule group results in EventBridge Scheduler deleting all
# schedules associated with the group. When you delete a group, it remains in a DELETING state
# until all of its associated schedules are deleted. Schedules associated with the group that
# are set to run while the schedule group is in the process of being deleted might continue to
# invoke their targets until the schedule group and its associated schedules are deleted."
# (EventBridge Scheduler API Reference, DeleteScheduleGroup; botocore's scheduler model says the
# same.) The User Guide ("Deleting a schedule group in EventBridge Scheduler"): "After
# EventBridge Scheduler deletes the schedules in the group, the group is no longer available in
# your account." AWS's own examples delete the group alone (awsdocs/aws-doc-sdk-examples#6973:
# "Deleting the group deletes the schedules in the group"). terraform-provider-aws waits until
# the group is gone (internal/service/scheduler/wait.go, waitScheduleGroupDeleted). moto deletes
# the group and its schedules at once; `Scheduler(deferred=True)` keeps both until the DELETING
# reads are spent.


def _function_deleted_after_the_group_was_gone(faults: Scheduler) -> bool:
    """Whether the function's DeleteFunction came after the last read of the group."""
    ops = [(c.operation, c.function) for c in faults.calls]
    last_read = len(ops) - 1 - [o for o, _ in ops][::-1].index("GetScheduleGroup")
    return ops.index(("DeleteFunction", "t1")) > last_read


def test_moto_deletes_a_group_and_its_schedules_at_once(config: Path) -> None:
    """Real AWS: the group is DELETING for a while, its schedules still there (above)."""
    scheduler = _group_with_a_schedule()
    scheduler.delete_schedule_group(Name="g")
    with pytest.raises(scheduler.exceptions.ResourceNotFoundException):
        scheduler.get_schedule_group(Name="g")
    assert [s["Name"] for s in scheduler.list_schedules()["Schedules"]] == []


def test_down_deletes_the_schedule_then_its_group_and_waits_until_the_group_is_gone(
        config: Path) -> None:
    """DeleteSchedule first: once it is answered the schedule runs nothing, and the function
    goes at once (one round trip on down's longest chain, where waiting for the DELETING
    group took two); the group's delete and the wait for it run alongside."""
    pipelines.up(target(config)[0])
    clock = FakeClock()
    prepared, faults = faulty(config, clock, deferred=True)
    deleted, waiting = threading.Event(), threading.Event()
    held: list[bool] = []  # per read of the wait: whether the function's delete went first

    def hold(**_: Any) -> None:  # the wait's reads wait (a while) for the function's delete
        if waiting.is_set():
            held.append(deleted.wait(2))

    prepared.aws.events.register("before-call.lambda.DeleteFunction",
                                 lambda **_: deleted.set())
    prepared.aws.events.register("before-call.scheduler.GetScheduleGroup", hold)
    the_plan, _ = pipelines.plan(prepared, Mode.DOWN)
    faults.deleting_left = 3  # the reads after DeleteScheduleGroup still see it
    waiting.set()
    done = pipelines.down(prepared, the_plan)
    order = [c.operation for c in faults.calls if c.service == "scheduler"]
    assert order[order.index("DeleteSchedule"):] == (
        ["DeleteSchedule", "DeleteScheduleGroup"] + ["GetScheduleGroup"] * 4)
    assert len(clock.sleeps) == 3 and "market-schedule" in {a.kind for a in done}
    assert _groups() == [] and _schedules() == [] and faults.pending == []
    ops = [(c.operation, c.function) for c in faults.calls]
    assert ops.index(("DeleteSchedule", None)) < ops.index(("DeleteFunction", "t1"))
    assert held == [True] * 4  # the group was not gone yet when the function's delete went


def test_a_group_found_deleting_with_its_schedule_is_gone_before_the_function_goes(
        config: Path) -> None:
    """An earlier run asked for the group's delete and stopped: its schedule may still run
    until the group is gone, so down waits for that before it deletes the function."""
    pipelines.up(target(config)[0])
    clock = FakeClock()
    prepared, faults = faulty(config, clock, deferred=True)
    # each wait's read is held a little for a DeleteFunction sent too soon to arrive first
    deleted, waiting = threading.Event(), threading.Event()

    def hold(**_: Any) -> None:  # a before-call handler's answer would replace AWS's
        if waiting.is_set():
            deleted.wait(0.3)

    prepared.aws.events.register("before-call.lambda.DeleteFunction",
                                 lambda **_: deleted.set())
    prepared.aws.events.register("before-call.scheduler.GetScheduleGroup", hold)
    faults.deleting_left = 3  # the plan's read, then two while waiting
    prepared.aws.call("scheduler", "delete_schedule_group", Name="t1")  # the earlier run
    assert _schedules() == ["t1-schedule"]
    the_plan, _ = pipelines.plan(prepared, Mode.DOWN)
    waiting.set()
    pipelines.down(prepared, the_plan)
    assert faults.count("scheduler", "DeleteSchedule") == 0 and _groups() == []
    assert _function_deleted_after_the_group_was_gone(faults)


def test_a_down_cut_while_the_group_is_deleting_is_finished_by_waiting(config: Path) -> None:
    """The first down stops while the group is still DELETING (its schedule deleted first);
    the next finds the group DELETING, sends nothing more for it, and waits until it is
    gone."""
    pipelines.up(target(config)[0])
    clock = FakeClock()
    prepared, faults = faulty(config, clock, deadline_s=30, deferred=True)
    the_plan, _ = pipelines.plan(prepared, Mode.DOWN)
    faults.deleting_left = 10_000
    with pytest.raises(InTransition, match="still DELETING"):
        pipelines.down(prepared, the_plan)
    assert faults.count("scheduler", "DeleteScheduleGroup") == 1 and _schedules() == []
    # the function went, or not, depending on whether the wait's failure came first (the
    # clock is fake): if it did, only after the schedule was gone
    ops = [(c.operation, c.function) for c in faults.calls]
    assert ("DeleteFunction", "t1") not in ops or ops.index(("DeleteFunction", "t1")) > (
        ops.index(("DeleteSchedule", None)))
    faults.deleting_left = 2
    faults.reset_calls()
    again = target(config, clock)[0]
    faults.attach_session(again.aws)
    plan2, _ = pipelines.plan(again, Mode.DOWN)
    pipelines.down(again, plan2)
    order = [c.operation for c in faults.calls if c.service == "scheduler"]
    assert "DeleteScheduleGroup" not in order and "DeleteSchedule" not in order
    assert order[-2:] == ["GetScheduleGroup", "GetScheduleGroup"] and _groups() == []


def test_a_group_that_stays_deleting_ends_down_with_one_clear_paragraph(config: Path) -> None:
    pipelines.up(target(config)[0])
    clock = FakeClock()
    with Scheduler().patch_globally() as faults:
        faults.deleting_left = 10_000
        result = run_cli(config, clock, "down", "--yes", deadline_s=60)
    assert result.exit_code == 1
    message = one_paragraph(result.stderr)
    assert "schedule group t1 is still DELETING" in message
    assert "Run the same command again in a few minutes" in message
    assert 60 <= clock.now <= 62


def test_up_right_after_down_waits_for_the_deleting_group_then_makes_it(config: Path) -> None:
    pipelines.up(target(config)[0])
    down(config)
    clock = FakeClock()
    prepared, faults = faulty(config, clock)
    faults.deleting_left = 3  # the plan's read, then two reads while waiting
    faults.inject(GROUP_EXISTS, "scheduler", "CreateScheduleGroup")  # while it is DELETING
    the_plan, done = pipelines.up(prepared)
    action = next(a for a in the_plan.actions if a.kind == "market-schedule")
    assert action.op is Op.CREATE
    assert action.notes == ("schedule group t1 is still being deleted; 'up' waits until it is "
                            "gone, then makes it again",)
    assert faults.count("scheduler", "CreateScheduleGroup") == 2
    assert _groups() == ["t1"] and _schedules() == ["t1-schedule"]
    no_writes_left(config)


def test_status_shows_a_deleting_group_as_missing_with_why(config: Path) -> None:
    pipelines.up(target(config)[0])
    prepared, faults = faulty(config, FakeClock())
    faults.deleting_left = 1
    _, rows = pipelines.status(prepared)
    row = next(r for r in rows if r.kind == "market-schedule")
    assert row.state == "missing" and row.attributes["group_state"] == "DELETING"
    assert "still being deleted" in row.notes[0]


def test_the_waiting_error_is_retried_and_never_a_traceback() -> None:
    from provision.aws.retry import retry_reason

    assert retry_reason(InTransition("schedule group t1 is still DELETING")) == (
        "waiting: schedule group t1 is still DELETING")


# ---- 4. names, listing and tags ---------------------------------------------------------------

def _pattern(shape: str) -> tuple[str, int, int]:
    model = botocore.session.get_session().get_service_model("scheduler")
    meta = model.shape_for(shape).metadata
    return meta["pattern"], meta["min"], meta["max"]


def test_the_longest_stack_name_gives_names_scheduler_accepts() -> None:
    """Group and schedule names: 1-64 of [0-9a-zA-Z-_.] (botocore's scheduler model, shapes
    ScheduleGroupName and Name); moto checks neither."""
    import re

    stack = Stack(Config.model_validate({"name": "a" * NAME_MAX + "", "stocks": ["SPY"]}),
                  "123456789012", "ap-southeast-4")
    for shape, name in (("ScheduleGroupName", stack.schedule_group_name),
                        ("Name", stack.market_schedule_name)):
        pattern, low, high = _pattern(shape)
        assert low <= len(name) <= high and re.fullmatch(pattern, name), (shape, name)
    assert len(stack.scheduler_role_name) <= 64


def test_sweep_finds_a_stack_of_which_only_the_group_is_left(config: Path) -> None:
    """moto's tagging API lists no schedule group (and real AWS's need not): sweep lists them
    with ListScheduleGroups, every page (moto pages by 50), and deletes the stack's."""
    pipelines.up(target(config)[0])
    tagging = boto3.client("resourcegroupstaggingapi", region_name=REGION)
    assert not [m for m in tagging.get_resources()["ResourceTagMappingList"]
                if ":scheduler:" in m["ResourceARN"]]
    for index in range(60):  # other people's groups, listed before ours (newest first)
        _scheduler().create_schedule_group(Name=f"zz-other-{index}")
    prepared, _ = target(write_config(config.parent, MINIMAL, "minimal.yaml"))
    the_plan, _ = pipelines.plan(prepared, Mode.DOWN)
    keep = tuple(a for a in the_plan.actions if a.kind != "market-schedule")
    from provision.core.engine import execute
    from provision.core.plan import Plan

    execute(prepared.aws, Plan("t1", REGION, "123456789012", keep, Mode.DOWN))
    assert "t1" in _groups()
    result = CliRunner().invoke(app, ["sweep", "--output", "json", "--regions", REGION,
                                      "--yes"])
    doc = json.loads(result.stdout)
    [stack] = doc["regions"][0]["stacks"]
    assert stack["stack"] == "t1" and stack["result"] == "deleted"
    assert [a["kind"] for a in stack["applied"]] == ["market-schedule"]
    assert "t1" not in _groups() and len(_groups()) == 60


def test_moto_keeps_a_deleted_groups_tags_for_the_next_group_of_that_name(
        config: Path) -> None:
    """Real AWS does not; here it would look like tags added outside stock-alert."""
    scheduler = _scheduler()
    arn = scheduler.create_schedule_group(Name="g", Tags=[{"Key": "a", "Value": "1"}])[
        "ScheduleGroupArn"]
    scheduler.delete_schedule_group(Name="g")
    scheduler.create_schedule_group(Name="g")
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "a", "Value": "1"}]
