"""A setting of another kind's resource (Kind.host: the on-failure destination sits on the
function) is deleted alongside its host, not before it (issue 22: `down`'s longest chain of
round trips). DeleteFunction removes the function's configuration with it, so the function's
delete need not wait for DeleteFunctionEventInvokeConfig, which then counts Lambda's
"function not found" as done. Every other order of a teardown stays."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from provision.core import pipelines
from provision.core.engine import dependencies
from provision.core.plan import Action, Mode, Op, Plan
from provision.errors import AwsError
from provision.kinds import BY_NAME, KINDS
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import FaultInjector, no_retry_backoff
from tests.support.inprocess import target
from tests.support.inventory import inventory, leftovers

FUNCTION_PATH = "/functions/t1"  # the end of DeleteFunction's URL path for the function t1
MARKET = MINIMAL + 'schedule: {at: "16:30", timezone: America/New_York, days: MON-FRI}\n'


def _all(op: Op, mode: Mode) -> dict[str, set[str]]:
    kinds = tuple(reversed(KINDS)) if mode.teardown else KINDS
    actions = tuple(Action(kind=k.name, name=k.name, op=op, wanted=None) for k in kinds)
    graph = dependencies({a.kind: a for a in actions}, Plan("t1", "r", "a", actions, mode))
    return {kind: graph.waits(kind) for kind in graph.needs}


def test_nothing_waits_for_a_setting_deleted_with_its_host_and_every_other_edge_stays() -> None:
    needs = _all(Op.DELETE, Mode.DOWN)
    hosted = {k.name for k in KINDS if k.host is not None}
    assert hosted, "no kind has a host: this test checks nothing"
    for kind in KINDS:
        for first in kind.after:
            if kind.name in hosted:  # deleted with its host (the function): nothing waits
                assert kind.name not in needs[first], (first, kind.name)
            else:
                assert kind.name in needs[first], (first, kind.name)  # deleted before it
    # the destination still waits for the schedules that start runs; the notifier it sends
    # to and the role no longer wait for it; the schedule still goes before the function
    assert {"schedule", "market-schedule"} <= needs["on-failure"]
    assert "on-failure" not in needs["notifier"] and "on-failure" not in needs["role"]
    assert "market-schedule" in needs["function"] and "schedule" in needs["function"]


def test_a_setting_deleted_without_its_host_keeps_its_edges() -> None:
    """'up' removing a destination the config no longer has (the function stays): the
    notifier it sends to is not deleted before it."""
    actions = tuple(Action(kind=k, name=k, op=Op.DELETE, wanted=None)
                    for k in ("on-failure", "notifier"))
    graph = dependencies({a.kind: a for a in actions}, Plan("t1", "r", "a", actions, Mode.UP))
    assert graph.waits("notifier") == {"on-failure"}


def test_creates_still_wait_for_the_host() -> None:
    needs = _all(Op.CREATE, Mode.UP)
    for kind in KINDS:
        assert set(kind.after) <= needs[kind.name], kind.name
    assert "function" in needs[BY_NAME["on-failure"].name]


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws():
        yield write_config(tmp_path, MINIMAL)


def test_down_deletes_the_destination_and_its_function_at_once(config: Path) -> None:
    """DeleteFunctionEventInvokeConfig is held until the function's DeleteFunction has been
    answered: the function's delete does not wait for it, and the destination's delete then
    meets moto's real answer for a gone function (404 ResourceNotFoundException), which
    counts as done."""
    pipelines.up(target(config)[0])
    prepared, calls = target(config)
    function_gone = threading.Event()
    waited: list[bool] = []
    answers: list[tuple[str, int]] = []

    def before(event_name: str, params: dict[str, Any], context: dict[str, Any],
               **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        context["path"] = params.get("url_path", "")
        if operation == "DeleteFunctionEventInvokeConfig":
            waited.append(function_gone.wait(timeout=5))

    def after(event_name: str, http_response: Any, context: dict[str, Any], **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        answers.append((operation, http_response.status_code))
        if operation == "DeleteFunction" and context.get("path", "").endswith(FUNCTION_PATH):
            function_gone.set()

    prepared.aws.events.register("before-call.lambda", before)
    prepared.aws.events.register("after-call.lambda", after)
    the_plan, _ = pipelines.plan(prepared, Mode.DOWN)
    done = pipelines.down(prepared, the_plan)

    assert waited == [True]  # the function was gone before its destination's delete went out
    assert ("DeleteFunctionEventInvokeConfig", 404) in answers
    assert {a.kind for a in done} >= {"on-failure", "function", "notifier"}
    assert boto3.client("lambda", region_name="us-east-1").list_functions()["Functions"] == []
    assert calls.writes().count("lambda:DeleteFunctionEventInvokeConfig") == 1


def _nothing_left() -> None:
    assert leftovers(inventory(boto3.Session(region_name="us-east-1"))) == {}
    groups = boto3.client("scheduler", region_name="us-east-1").list_schedule_groups()
    assert [g["Name"] for g in groups["ScheduleGroups"] if g["Name"] != "default"] == []


def _down(config: Path, faults: FaultInjector | None = None) -> None:
    prepared, _ = target(config)
    if faults is not None:
        faults.attach_session(prepared.aws)
    the_plan, _ = pipelines.plan(prepared, Mode.DOWN)
    pipelines.down(prepared, the_plan)


def test_a_down_cut_short_at_every_write_is_finished_by_the_next_down(tmp_path: Path) -> None:
    """The example config's stack (a market-time schedule, the function, its destination and
    notifier): a crash after any number of writes, whatever ran at once, leaves a stack that
    the next 'down' removes completely."""
    with mock_aws(), no_retry_backoff():
        config = write_config(tmp_path, MARKET)
        pipelines.up(target(config)[0])
        counted = FaultInjector()  # no fault: counts the writes of a whole down
        _down(config, counted)
        total = len(counted.writes())
        assert total >= 10, counted.operations()
        for after in range(total):
            pipelines.up(target(config)[0])
            faults = FaultInjector()
            faults.fail_all_after_writes(after)
            with pytest.raises(AwsError):
                _down(config, faults)
            _down(config)
            _nothing_left()
