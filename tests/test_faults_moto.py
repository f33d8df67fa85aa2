"""moto in-process with faults injected the way AWS answers: bounded, measured retries, and
convergence after lost responses and outages at every step of up and down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from provision.core import pipelines
from provision.core.plan import Mode
from provision.core.target import Target
from provision.errors import AwsError, RetryExhausted
from tests.support.awsproxy import (
    Error,
    LoseResponse,
    role_not_assumable,
    throttling,
    update_in_progress,
)
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import FaultInjector, inject_faults, no_retry_backoff
from tests.support.inprocess import FakeClock, target
from tests.support.inventory import inventory

FUNCTION, NOTIFIER = "t1", "t1_notify"  # MINIMAL's two Lambda functions (the notifier: issue 21)


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws(), no_retry_backoff():
        yield write_config(tmp_path, MINIMAL)


def _faulty(config: Path, clock: FakeClock | None = None, deadline_s: float = 300.0,
            ) -> tuple[Target, FaultInjector]:
    prepared, _ = target(config, clock, deadline_s)
    injector = FaultInjector()
    injector.attach_session(prepared.aws)
    return prepared, injector


def _state() -> dict[str, Any]:
    """What exists, without the random parts (subscription ids)."""
    inv = inventory(boto3.Session(region_name="us-east-1"))
    for sub in inv["subscriptions"]:
        sub.pop("arn", None)
    return inv


_CLEAN: list[dict[str, Any]] = []


def _clean_state(tmp_path: Path) -> dict[str, Any]:
    """The state one fault-free up produces (then removed again); computed once."""
    if _CLEAN:
        return _CLEAN[0]
    prepared, _ = target(write_config(tmp_path, MINIMAL, name="clean.yaml"))
    pipelines.up(prepared)
    state = _state()
    the_plan, observation = pipelines.plan(prepared, mode=Mode.DOWN)
    pipelines.down(prepared, the_plan)
    _CLEAN.append(state)
    return state


def _no_writes_left(config: Path) -> None:
    prepared, log = target(config)
    pipelines.up(prepared)
    assert log.writes() == []


def test_propagation_delay_is_retried_until_the_role_works(config: Path) -> None:
    clock = FakeClock()
    prepared, faults = _faulty(config, clock)
    faults.inject(role_not_assumable(), "lambda", "CreateFunction", times=6, function=FUNCTION)
    pipelines.up(prepared)
    # the function's 7th attempt works; the notifier's (issue 21) at its first
    assert faults.count("lambda", "CreateFunction", FUNCTION) == 7
    assert faults.count("lambda", "CreateFunction", NOTIFIER) == 1
    assert len(clock.sleeps) == 6 and max(clock.sleeps) <= 2.0
    assert prepared.aws.retry.attempts["lambda:create_function"] == 7
    _no_writes_left(config)


def test_propagation_on_update_configuration(config: Path, tmp_path: Path) -> None:
    pipelines.up(target(config)[0])
    changed = write_config(tmp_path, MINIMAL + "function: {memory_mb: 256}\n", name="m.yaml")
    prepared, faults = _faulty(changed)
    faults.inject(role_not_assumable(), "lambda", "UpdateFunctionConfiguration", times=3)
    faults.inject(update_in_progress(), "lambda", "UpdateFunctionConfiguration", times=2,
                  skip=3)
    pipelines.up(prepared)
    assert faults.count("lambda", "UpdateFunctionConfiguration") == 6
    conf = boto3.client("lambda").get_function_configuration(FunctionName="t1")
    assert conf["MemorySize"] == 256


def test_deadline_stops_retrying_with_a_clear_error(config: Path) -> None:
    clock = FakeClock()
    prepared, faults = _faulty(config, clock, deadline_s=60)
    faults.inject(role_not_assumable(), "lambda", "CreateFunction", times=None,
                  function=FUNCTION)
    with pytest.raises(RetryExhausted) as caught:
        pipelines.up(prepared)
    assert "kept failing" in str(caught.value) and "run the same command again" in str(
        caught.value)
    assert 60 <= clock.now <= 62
    attempts = faults.count("lambda", "CreateFunction", FUNCTION)
    assert 30 <= attempts <= 300  # bounded: capped backoff, not a tight loop


@pytest.mark.parametrize(("service", "operation"), [
    ("iam", "CreateRole"), ("logs", "CreateLogGroup"), ("sns", "CreateTopic"),
    ("lambda", "CreateFunction"), ("events", "PutRule"), ("sts", "GetCallerIdentity"),
    ("iam", "GetRole"),
])
def test_throttling_is_retried(config: Path, service: str, operation: str) -> None:
    clock = FakeClock()
    prepared, faults = _faulty(config, clock)
    # 6 throttles: botocore's 4 attempts absorb 3, then the tool's own policy takes over.
    function = FUNCTION if service == "lambda" else None  # not the notifier's (issue 21)
    faults.inject(throttling(service), service, operation, times=6, function=function)
    pipelines.up(prepared)
    # two roles are read (the scheduler's too, issue 23): 6 throttled attempts, one answer each
    extra = 1 if (service, operation) == ("iam", "GetRole") else 0
    assert faults.count(service, operation, function) == 7 + extra
    _no_writes_left(config)


LOST = [("iam", "CreateRole"), ("iam", "PutRolePolicy"), ("logs", "CreateLogGroup"),
        ("sns", "CreateTopic"), ("sns", "Subscribe"), ("lambda", "CreateFunction"),
        ("events", "PutRule"), ("events", "PutTargets"), ("lambda", "AddPermission")]


def _named(service: str) -> str | None:
    """A Lambda fault's function: the stack's (the notifier's have their own cases)."""
    return FUNCTION if service == "lambda" else None


@pytest.mark.parametrize(("service", "operation", "function"), [
    *((s, o, _named(s)) for s, o in LOST), ("lambda", "CreateFunction", NOTIFIER)])
def test_lost_response_is_adopted_in_the_same_run(
        config: Path, tmp_path: Path, service: str, operation: str,
        function: str | None) -> None:
    clean = _clean_state(tmp_path)
    prepared, faults = _faulty(config)
    faults.inject(LoseResponse(), service, operation, function=function)
    if (service, operation) == ("lambda", "AddPermission"):
        # Real Lambda answers a repeated statement id with 409; moto would accept it.
        faults.inject(Error(409, "ResourceConflictException",
                            "The statement id (t1-schedule-invoke) provided already exists. "
                            "Please provide a new statement id, or remove the existing "
                            "statement."), service, operation, skip=1)
    pipelines.up(prepared)
    assert faults.count(service, operation, function) >= 2  # the lost call and botocore's retry
    assert _state() == clean
    _no_writes_left(config)


@pytest.mark.parametrize("after_writes", [0, 1, 2, 4, 6, 8, 10, 11])
def test_outage_halfway_through_up_is_repaired_by_the_next_up(
        config: Path, tmp_path: Path, after_writes: int) -> None:
    clean = _clean_state(tmp_path)
    prepared, faults = _faulty(config)
    faults.fail_all_after_writes(after_writes)
    with pytest.raises(AwsError):
        pipelines.up(prepared)
    faults.clear_faults()
    pipelines.up(target(config)[0])
    assert _state() == clean
    _no_writes_left(config)


@pytest.mark.parametrize("after_writes", [0, 1, 3, 5, 7])
def test_outage_halfway_through_down_is_repaired_by_the_next_down(
        config: Path, after_writes: int) -> None:
    pipelines.up(target(config)[0])
    prepared, faults = _faulty(config)
    the_plan, observation = pipelines.plan(prepared, mode=Mode.DOWN)
    faults.fail_all_after_writes(after_writes)
    with pytest.raises(AwsError):
        pipelines.down(prepared, the_plan)
    again, log = target(config)
    plan2, obs2 = pipelines.plan(again, mode=Mode.DOWN)
    pipelines.down(again, plan2)
    inv = inventory(boto3.Session(region_name="us-east-1"))
    assert [inv[k] for k in ("roles", "log_groups", "topics", "subscriptions", "functions",
                             "rules")] == [[], [], [], [], [], []]


def test_dropped_connections_are_retried_transparently(config: Path) -> None:
    from tests.support.awsproxy import Drop

    prepared, faults = _faulty(config)
    for service, operation in LOST:
        faults.inject(Drop(), service, operation, function=_named(service))
    pipelines.up(prepared)
    # three policies, two subscriptions; the notifier's CreateFunction (issue 21) not dropped
    calls = {"PutRolePolicy": 3, "Subscribe": 2}
    for service, operation in LOST:
        expected = calls.get(operation, 1) + 1  # one dropped attempt each
        assert faults.count(service, operation, _named(service)) == expected, operation
    assert faults.count("lambda", "CreateFunction", NOTIFIER) == 1
    _no_writes_left(config)


def test_global_injection_reaches_clients_the_tool_creates(config: Path) -> None:
    with inject_faults() as faults:
        faults.inject(throttling("iam"), "iam", "CreateRole", times=2)
        pipelines.up(target(config)[0])
    assert faults.count("iam", "CreateRole") == 3


@pytest.mark.parametrize(("service", "operation", "error"), [
    ("iam", "PutRolePolicy", Error(404, "NoSuchEntity",
                                   "The role with name t1-us-east-1-role cannot be found.")),
    ("sns", "Subscribe", Error(404, "NotFound", "Topic does not exist")),
    ("logs", "PutRetentionPolicy", Error(400, "ResourceNotFoundException",
                                         "The specified log group does not exist.")),
])
def test_new_resource_not_yet_visible_is_waited_for(
        config: Path, service: str, operation: str, error: Error) -> None:
    clock = FakeClock()
    prepared, faults = _faulty(config, clock)
    faults.inject(error, service, operation, times=3)
    pipelines.up(prepared)
    expected = {"PutRolePolicy": 3, "Subscribe": 2}.get(operation, 1) + 3
    assert faults.count(service, operation) == expected
    assert len(clock.sleeps) == 3
    _no_writes_left(config)


def test_not_found_on_an_existing_resource_is_not_waited_for(config: Path,
                                                             tmp_path: Path) -> None:
    pipelines.up(target(config)[0])
    boto3.client("iam").delete_role_policy(RoleName="t1-us-east-1-role", PolicyName="t1-write-logs")
    clock = FakeClock()
    prepared, faults = _faulty(config, clock)
    faults.inject(Error(404, "NoSuchEntity",
                        "The role with name t1-us-east-1-role cannot be found."),
                  "iam", "PutRolePolicy", times=None)
    with pytest.raises(AwsError, match="NoSuchEntity"):
        pipelines.up(prepared)
    assert faults.count("iam", "PutRolePolicy") == 1 and clock.sleeps == []


@pytest.mark.parametrize(("service", "operation", "function"), [
    ("events", "RemoveTargets", None), ("events", "DeleteRule", None),
    ("lambda", "DeleteFunction", FUNCTION), ("lambda", "DeleteFunction", NOTIFIER),
    ("sns", "DeleteTopic", None), ("logs", "DeleteLogGroup", None),
    ("iam", "DeleteRolePolicy", None), ("iam", "DeleteRole", None),
])
def test_lost_response_during_down_finishes_in_the_same_run(
        config: Path, service: str, operation: str, function: str | None) -> None:
    pipelines.up(target(config)[0])
    prepared, faults = _faulty(config)
    faults.inject(LoseResponse(), service, operation, function=function)
    the_plan, observation = pipelines.plan(prepared, mode=Mode.DOWN)
    pipelines.down(prepared, the_plan)
    # the lost call and the retry that met "gone"
    assert faults.count(service, operation, function) >= 2
    inv = inventory(boto3.Session(region_name="us-east-1"))
    assert [inv[k] for k in ("roles", "log_groups", "topics", "subscriptions", "functions",
                             "rules")] == [[], [], [], [], [], []]


def _answer_says(prepared: Target, operation: str, **fields: str) -> None:
    """Make Lambda's parsed answer to `operation` say what real Lambda says (moto says
    Active/Successful at once)."""
    def edit(parsed: dict[str, Any], **_: Any) -> None:
        parsed.update(fields)

    prepared.aws.events.register(f"after-call.lambda.{operation}", edit)


def test_pending_function_is_waited_for_with_the_waiter(config: Path) -> None:
    prepared, faults = _faulty(config)  # no fault: it records the function each call names
    _answer_says(prepared, "CreateFunction", State="Pending")
    pipelines.up(prepared)
    # function_active_v2 polls GetFunction until State=Active (moto: at the first poll):
    # for each function (the notifier too, issue 21), the observe read, then one poll right
    # after the create
    for name in (FUNCTION, NOTIFIER):
        lam = faults.by_function()[name]
        assert lam.count("GetFunction") == 2, (name, lam)
        assert lam[lam.index("CreateFunction") + 1] == "GetFunction", (name, lam)


def test_update_in_progress_is_waited_for_between_code_and_configuration(
        config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from provision.core import package

    pipelines.up(target(config)[0])
    code = tmp_path / "code"
    shutil.copytree(package.code_dir(), code)
    (code / "handler.py").write_text((code / "handler.py").read_text() + "\n# v2\n")
    original = package.build
    monkeypatch.setattr(package, "build", lambda folder=None: original(folder or code))
    changed = write_config(tmp_path, MINIMAL + "function: {timeout_s: 60}\n", name="t.yaml")
    prepared, faults = _faulty(changed)  # no fault: it records the function each call names
    _answer_says(prepared, "UpdateFunctionCode", LastUpdateStatus="InProgress")
    _answer_says(prepared, "UpdateFunctionConfiguration", LastUpdateStatus="InProgress")
    pipelines.up(prepared)
    # function_updated_v2 polls GetFunction after each update, before the next call that
    # names the same function (the function and the notifier are updated at once, issue 22)
    lam = faults.by_function()[FUNCTION]
    assert lam[lam.index("UpdateFunctionCode") + 1] == "GetFunction"
    after_conf = lam.index("UpdateFunctionConfiguration")
    assert lam[after_conf + 1] == "GetFunction"
    assert lam.index("UpdateFunctionCode") < after_conf
    notifier = faults.by_function()[NOTIFIER]  # its code changed too (the stack's one zip)
    assert notifier[notifier.index("UpdateFunctionCode") + 1] == "GetFunction"
