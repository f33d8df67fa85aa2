"""Independent kinds are written at the same time; dependent ones wait; a failure stops what
has not started and lets what is in flight finish (issue 10: fresh `up` and `down` time)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from provision.aws.concurrency import run_graph
from provision.core import pipelines
from provision.errors import AwsError
from provision.kinds import KINDS
from tests.support.awsproxy import Error
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import FaultInjector
from tests.support.inprocess import target


def test_independent_tasks_run_together_and_dependents_after_them() -> None:
    together = threading.Barrier(2, timeout=5)  # breaks unless both wait at once
    order: list[str] = []

    def meet(name: str) -> Any:
        together.wait()
        order.append(name)
        return name

    results = run_graph({"a": lambda: meet("a"), "b": lambda: meet("b"),
                         "c": lambda: order.append("c") or "c"}, {"c": {"a", "b"}})
    assert results == {"a": "a", "b": "b", "c": "c"}
    assert order[-1] == "c" and set(order[:2]) == {"a", "b"}


def test_a_failure_starts_nothing_new_lets_running_finish_and_is_raised() -> None:
    b_started = threading.Event()
    finished: list[str] = []

    def fail() -> None:
        assert b_started.wait(5)
        raise AwsError("a failed", code="X")

    def slow() -> str:
        b_started.set()
        finished.append("b")
        return "b"

    with pytest.raises(AwsError, match="a failed"):
        run_graph({"a": fail, "b": slow, "c": lambda: finished.append("c")}, {"c": {"a"}})
    assert finished == ["b"]  # b ran to its end; c, which needs a, never started


def test_every_dependency_is_a_kind_registered_before_it() -> None:
    seen: set[str] = set()
    for kind in KINDS:
        assert set(kind.after) <= seen, (kind.name, kind.after)
        seen.add(kind.name)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def test_up_creates_role_log_group_and_topic_at_once(aws: None, tmp_path: Path) -> None:
    prepared, calls = target(write_config(tmp_path, MINIMAL))
    firsts = threading.Barrier(3, timeout=10)  # each first write waits for the other two
    seen: list[str] = []

    def hold(event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        if operation in ("CreateRole", "CreateLogGroup", "CreateTopic"):
            firsts.wait()
        seen.append(operation)

    prepared.aws.events.register("before-call", hold)
    pipelines.up(prepared)  # a barrier broken by sequential writes raises BrokenBarrierError
    # the function only after the role and the log group; the rule only after the function
    assert seen.index("CreateFunction") > max(seen.index("PutRetentionPolicy"),
                                              seen.index("CreateRole"))
    assert seen.index("PutRule") > seen.index("CreateFunction")


def test_a_failed_branch_stops_its_dependents_and_up_again_finishes(
        aws: None, tmp_path: Path) -> None:
    config = write_config(tmp_path, MINIMAL)
    prepared, calls = target(config)
    faults = FaultInjector()
    faults.attach_session(prepared.aws)
    faults.inject(Error(400, "InvalidParameterException", "boom"), "logs", "CreateLogGroup")
    with pytest.raises(AwsError):
        pipelines.up(prepared)
    writes = calls.writes()
    assert "lambda:CreateFunction" not in writes and "events:PutRule" not in writes
    assert "sns:CreateTopic" in writes and "iam:CreateRole" in writes  # independent: done
    again, calls = target(config)
    pipelines.up(again)
    assert "iam:CreateRole" not in calls.writes() and "sns:CreateTopic" not in calls.writes()
    assert boto3.client("lambda", region_name="us-east-1").list_functions()["Functions"]


def test_teardown_keeps_the_role_until_the_security_group_is_gone() -> None:
    """Lambda releases a VPC function's interfaces with the role's permissions: deleting the
    role first would strand them (and the group) -- so down deletes the group, then the role."""
    from provision.core.engine import dependencies
    from provision.core.plan import Action, Mode, Op, Plan

    actions = tuple(Action(kind=k.name, name=k.name, op=Op.DELETE, wanted=None)
                    for k in reversed(KINDS))
    graph = dependencies({a.kind: a for a in actions}, Plan("t1", "r", "a", actions, Mode.DOWN))
    needs = {kind: graph.waits(kind) for kind in graph.needs}
    assert "security-group" in needs["role"] and "function" in needs["security-group"]
    assert "schedule" in needs["function"]


def test_the_function_and_the_notifier_are_created_and_deleted_at_once(
        aws: None, tmp_path: Path) -> None:
    """Neither of the stack's two functions needs the other (issue 22): a fresh up sends both
    CreateFunction calls at once, and down both DeleteFunction calls (one round trip each off
    the longest chain). Each call waits at a barrier until the other is in flight too."""
    from provision.core.plan import Mode

    config = write_config(tmp_path, MINIMAL)

    def both_at_once(operation: str) -> tuple[Any, list[str]]:
        meet = threading.Barrier(2, timeout=5)  # breaks unless both calls wait at once
        met: list[str] = []

        def hold(event_name: str, params: dict[str, Any], **_: Any) -> None:
            if event_name.endswith("." + operation):
                meet.wait()
                met.append(params.get("url_path", ""))
        return hold, met

    prepared, _ = target(config)
    hold, met = both_at_once("CreateFunction")
    prepared.aws.events.register("before-call.lambda", hold)
    pipelines.up(prepared)  # a barrier broken by sequential creates raises BrokenBarrierError
    assert len(met) == 2
    names = {f["FunctionName"] for f in boto3.client(
        "lambda", region_name="us-east-1").list_functions()["Functions"]}
    assert names == {"t1", "t1_notify"}

    prepared, _ = target(config)
    hold, met = both_at_once("DeleteFunction")
    prepared.aws.events.register("before-call.lambda", hold)
    the_plan, _ = pipelines.plan(prepared, Mode.DOWN)
    pipelines.down(prepared, the_plan)
    assert sorted(path.rsplit("/", 1)[-1] for path in met) == ["t1", "t1_notify"]
    assert boto3.client("lambda", region_name="us-east-1").list_functions()["Functions"] == []
