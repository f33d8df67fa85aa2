"""A kind's ready point and an early create (issue 22: the longest chain of round trips).

run_graph lets a task wait for another only until that one's ready point (concurrency.ready()),
and start an early task at once, to wait at its gate (concurrency.gate()). The engine uses them
where AWS allows: the on-failure destination is sent as soon as the function is Active, while
its reserved concurrency is set; the market schedule's group is made at once, while what its
schedule needs is made; 'down' deletes the functions once DeleteSchedule is answered
(tests/real_aws/test_scheduler.py checks that one against the group's DELETING state).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from provision.aws.concurrency import Stopped, gate, ready, run_graph
from provision.core import pipelines
from provision.core.plan import Mode
from provision.errors import AwsError
from tests.real_aws.test_network import dual_stack_subnet, network_config
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import no_retry_backoff
from tests.support.inprocess import target

MARKET = MINIMAL + 'schedule: {at: "16:30", timezone: America/New_York, days: MON-FRI}\n'


def test_a_task_that_needs_another_soon_starts_at_its_ready_point() -> None:
    second_started = threading.Event()
    order: list[str] = []

    def first() -> str:
        order.append("first: made")
        ready()
        assert second_started.wait(5), "the second did not start at the first's ready point"
        order.append("first: finished")
        return "first"

    def second() -> str:
        second_started.set()
        order.append("second")
        return "second"

    def third() -> str:
        order.append("third")
        return "third"

    results = run_graph({"first": first, "second": second, "third": third},
                        {"third": {"first"}}, soon={"second": {"first"}})
    assert results == {"first": "first", "second": "second", "third": "third"}
    assert order.index("first: made") < order.index("second") < order.index("first: finished")
    assert order[-1] == "third"  # a full edge still waits for the end


def test_a_task_without_a_ready_point_is_ready_at_its_end() -> None:
    order: list[str] = []
    run_graph({"a": lambda: order.append("a"), "b": lambda: order.append("b")},
              {}, soon={"b": {"a"}})
    assert order == ["a", "b"]


def test_an_early_task_starts_at_once_and_waits_at_its_gate() -> None:
    early_started = threading.Event()
    order: list[str] = []

    def needed() -> None:
        assert early_started.wait(5), "the early task waited for what it needs to start"
        order.append("needed")

    def early() -> None:
        early_started.set()
        order.append("early: first part")
        gate()
        order.append("early: the rest")

    run_graph({"needed": needed, "early": early}, {"early": {"needed"}},
              early={"early": set()})
    assert order == ["early: first part", "needed", "early: the rest"]


def test_an_early_task_without_a_gate_is_held_at_its_end() -> None:
    """Nothing that needs it starts before what it needs is done."""
    release = threading.Event()
    order: list[str] = []

    def needed() -> None:
        assert release.wait(5)
        order.append("needed")

    def early() -> None:
        order.append("early")
        release.set()

    run_graph({"needed": needed, "early": early, "after": lambda: order.append("after")},
              {"early": {"needed"}, "after": {"early"}}, early={"early": set()})
    assert order == ["early", "needed", "after"]


def test_a_failure_stops_an_early_task_at_its_gate_and_is_what_is_raised() -> None:
    reached: list[str] = []

    def failing() -> None:
        raise AwsError("the role could not be made", code="X")

    def early() -> None:
        reached.append("first part")
        gate()
        reached.append("the rest")

    with pytest.raises(AwsError, match="the role could not be made"):
        run_graph({"early": early, "failing": failing}, {"early": {"failing"}},
                  early={"early": set()})
    assert reached == ["first part"]
    assert issubclass(Stopped, Exception)


def test_ready_and_gate_outside_a_graph_do_nothing() -> None:
    ready()
    gate()


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws():
        yield write_config(tmp_path, MARKET)


def _at_once(prepared: Any, service: str, operations: set[str]) -> list[str]:
    """Hold each of `operations` until all are in flight at once (a barrier, which breaks,
    and so fails the call, when one is sent only after another was answered)."""
    meet = threading.Barrier(len(operations), timeout=5)
    met: list[str] = []

    def hold(event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        if operation in operations:
            meet.wait()
            met.append(operation)

    prepared.aws.events.register(f"before-call.{service}", hold)
    return met


def test_the_destination_is_sent_while_the_concurrency_is_reserved(config: Path) -> None:
    prepared, _ = target(config)
    met = _at_once(prepared, "lambda",
                   {"PutFunctionConcurrency", "PutFunctionEventInvokeConfig"})
    pipelines.up(prepared)
    assert sorted(met) == ["PutFunctionConcurrency", "PutFunctionEventInvokeConfig"]
    configs = boto3.client("lambda", region_name="us-east-1").list_function_event_invoke_configs(
        FunctionName="t1")["FunctionEventInvokeConfigs"]
    assert configs[0]["DestinationConfig"]["OnFailure"]["Destination"].endswith(
        ":function:t1_notify")


def test_the_schedule_group_is_made_while_the_roles_are(config: Path) -> None:
    """The group needs nothing of the stack: CreateScheduleGroup is in flight together with
    the first CreateRole; the schedule in it still comes after the function."""
    prepared, calls = target(config)
    meet, lock = threading.Barrier(2, timeout=5), threading.Lock()
    met: list[str] = []

    def hold(event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        with lock:
            held = operation == "CreateScheduleGroup" or (
                operation == "CreateRole" and "CreateRole" not in met)
            if held:
                met.append(operation)
        if held:
            meet.wait()

    prepared.aws.events.register("before-call.iam", hold)
    prepared.aws.events.register("before-call.scheduler", hold)
    pipelines.up(prepared)
    assert sorted(met) == ["CreateRole", "CreateScheduleGroup"]
    writes = calls.writes()
    assert writes.index("lambda:PutFunctionEventInvokeConfig") < writes.index(
        "scheduler:CreateSchedule")
    schedules = boto3.client("scheduler", region_name="us-east-1").list_schedules(
        GroupName="t1")["Schedules"]
    assert [s["Name"] for s in schedules] == ["t1-schedule"]


def test_down_drops_the_roles_grants_while_the_functions_go(config: Path) -> None:
    """Once DeleteSchedule is answered nothing starts a run: the role's DeleteRolePolicy
    calls go with the functions' DeleteFunction (a barrier, broken unless both are in flight
    at once); DeleteRole still waits until the functions are gone."""
    pipelines.up(target(config)[0])
    prepared, calls = target(config)
    meet, lock, met = threading.Barrier(2, timeout=5), threading.Lock(), []

    order: list[str] = []

    def hold(event_name: str, params: dict[str, Any], **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        function_role = params.get("RoleName") == "t1-us-east-1-role"  # not the scheduler's
        if operation == "DeleteRole" and function_role:
            order.append("DeleteRole of the function's role")
        with lock:
            held = (operation == "DeleteFunction" or (
                operation == "DeleteRolePolicy" and function_role)) and operation not in met
            if held:
                met.append(operation)
        if held:
            meet.wait()

    prepared.aws.events.register("before-parameter-build.lambda", hold)  # API parameters
    prepared.aws.events.register("before-parameter-build.iam", hold)
    prepared.aws.events.register("after-call.lambda.DeleteFunction",
                                 lambda **_: order.append("a function deleted"))
    the_plan, _ = pipelines.plan(prepared, Mode.DOWN)
    pipelines.down(prepared, the_plan)
    assert sorted(met) == ["DeleteFunction", "DeleteRolePolicy"]
    writes = calls.writes()
    assert writes.index("scheduler:DeleteSchedule") < writes.index("iam:DeleteRolePolicy")
    assert order == ["a function deleted"] * 2 + ["DeleteRole of the function's role"]
    assert boto3.client("iam").list_roles()["Roles"] == []


def test_in_a_vpc_the_roles_grants_stay_until_the_function_is_gone(tmp_path: Path) -> None:
    """Lambda releases a VPC function's interfaces with the role's permissions, after the
    function is gone (kinds/enis.py): the role with its ENI grant waits for all of it."""
    with mock_aws(), no_retry_backoff():
        _, subnet = dual_stack_subnet()
        config = network_config(tmp_path, subnet)
        pipelines.up(target(config)[0])
        prepared, _ = target(config)
        order: list[str] = []

        def sent(event_name: str, params: dict[str, Any], **_: Any) -> None:
            if event_name.endswith(".DeleteFunction") and params["url_path"].endswith("/t1"):
                time.sleep(0.3)  # a grant sent too soon would go meanwhile
            order.append("sent " + event_name.rsplit(".", 1)[-1])

        def answered(event_name: str, **_: Any) -> None:
            order.append("answered " + event_name.rsplit(".", 1)[-1])

        for service in ("lambda", "iam"):
            prepared.aws.events.register(f"before-call.{service}", sent)
            prepared.aws.events.register(f"after-call.{service}", answered)
        the_plan, _ = pipelines.plan(prepared, Mode.DOWN)
        pipelines.down(prepared, the_plan)
        last_function = max(i for i, o in enumerate(order) if o == "answered DeleteFunction")
        assert last_function < order.index("sent DeleteRolePolicy")
        assert boto3.client("iam").list_roles()["Roles"] == []
