"""The on-failure notifier (kinds/notifier.py, issue 21) against moto, in process: what 'up'
makes, a second 'up' that writes nothing, drift repaired by the machinery it shares with the
function, a crash halfway that the next 'up' finishes, 'down', the name that no other stack's
function can have, and the deployed notifier fed the record AWS documents, read back from the
stack's topic (moto does not deliver Lambda destinations)."""

from __future__ import annotations

import copy
import importlib
import io
import json
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from provision.core import pipelines
from provision.core.plan import Mode, Op
from provision.errors import AwsError
from provision.kinds.tagged import kind_and_name
from tests.function.conftest import FUNCTION_DIR, MODULES, Topic
from tests.function.test_notifier import AWS_EXAMPLE
from tests.support.awsproxy import Error
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import FaultInjector, inject_faults, no_retry_backoff
from tests.support.inprocess import target

ACCOUNT = "123456789012"
NOTIFIER = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:t1_notify"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:t1-alerts"
ROLE = "t1-us-east-1-role"


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws(), no_retry_backoff():
        yield write_config(tmp_path, MINIMAL)


def _up(config: Path, sent: list[dict[str, Any]] | None = None) -> list[str]:
    prepared, calls = target(config)
    if sent is not None:
        for operation in ("CreateFunction", "UpdateFunctionConfiguration"):
            prepared.aws.events.register(
                f"provide-client-params.lambda.{operation}",
                lambda params, **_: sent.append(copy.deepcopy(params)))
    pipelines.up(prepared)
    return calls.writes()


def _lambda() -> Any:
    return boto3.client("lambda", region_name="us-east-1")


def _notifier_action(config: Path) -> Any:
    the_plan, _ = pipelines.plan(target(config)[0])
    return {a.kind: a for a in the_plan.actions}["notifier"]


def test_up_makes_the_notifier_as_wanted_and_a_second_up_writes_nothing(config: Path) -> None:
    sent: list[dict[str, Any]] = []
    writes = _up(config, sent)
    assert writes.count("lambda:CreateFunction") == 2
    [made] = [p for p in sent if p["FunctionName"] == "t1_notify"]
    # moto accepts LoggingConfig and reports none back: what was sent is what AWS would keep
    assert made["LoggingConfig"] == {"LogGroup": "/aws/lambda/t1"}
    assert "VpcConfig" not in made
    found = _lambda().get_function(FunctionName="t1_notify")
    conf = found["Configuration"]
    main = _lambda().get_function(FunctionName="t1")["Configuration"]
    assert (conf["Handler"], conf["MemorySize"], conf["Timeout"]) == ("notifier.handler", 128, 30)
    assert (conf["Runtime"], conf["Role"]) == (main["Runtime"], main["Role"])
    assert conf["CodeSha256"] == main["CodeSha256"]  # the stack's one zip
    assert conf["Environment"]["Variables"] == {"STOCK_ALERT_STACK": "t1",
                                                "STOCK_ALERT_TOPIC_ARN": TOPIC}
    assert {"managed-by": "stock-alert", "stock-alert:stack": "t1"}.items() <= (
        found["Tags"].items())
    assert "Concurrency" not in found  # draws on the account's pool: nothing reserved
    document = boto3.client("iam").get_role_policy(RoleName=ROLE,
                                                   PolicyName="t1-invoke-notifier")
    assert document["PolicyDocument"]["Statement"] == [{
        "Sid": "InvokeOwnNotifier", "Effect": "Allow", "Action": ["lambda:InvokeFunction"],
        "Resource": [NOTIFIER]}]
    assert _up(config) == []
    assert _notifier_action(config).op is Op.NOOP


def test_drift_on_the_notifier_is_repaired_and_said(config: Path) -> None:
    _up(config)
    client = _lambda()
    client.update_function_configuration(FunctionName="t1_notify", MemorySize=512,
                                         Environment={"Variables": {}})
    # at 0 it would never run; moto reports a reservation of 0 as none, so 2 here
    client.put_function_concurrency(FunctionName="t1_notify", ReservedConcurrentExecutions=2)
    client.tag_resource(Resource=NOTIFIER, Tags={"extra": "by-hand"})
    action = _notifier_action(config)
    assert action.op is Op.UPDATE and action.reason.startswith("drifted")
    assert {c.field for c in action.changes} == {"memory_mb", "environment",
                                                 "reserved_concurrency", "tags"}
    sent: list[dict[str, Any]] = []
    writes = _up(config, sent)
    assert writes == ["lambda:UpdateFunctionConfiguration", "lambda:DeleteFunctionConcurrency",
                      "lambda:UntagResource"]
    # exactly the settings that drifted
    assert sent == [{"FunctionName": "t1_notify", "MemorySize": 128, "Environment": {
        "Variables": {"STOCK_ALERT_STACK": "t1", "STOCK_ALERT_TOPIC_ARN": TOPIC}}}]
    assert _up(config) == []


def test_code_changed_by_hand_is_uploaded_again(config: Path) -> None:
    _up(config)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notifier.py", "def handler(event, context):\n    return None\n")
    _lambda().update_function_code(FunctionName="t1_notify", ZipFile=buffer.getvalue())
    assert [c.field for c in _notifier_action(config).changes] == ["code"]
    assert _up(config) == ["lambda:UpdateFunctionCode"]


def test_a_crash_before_the_notifier_is_finished_by_the_next_up(config: Path) -> None:
    """'up' stops at the notifier's CreateFunction; the function, made at the same time (it
    needs no more than the notifier does, so it has started by then), is finished; the
    destination and the rule, which wait for the notifier, are not made. The next 'up' makes
    exactly those."""
    with inject_faults() as faults:
        faults.inject(Error(403, "AccessDeniedException", "User is not authorized to perform: "
                                  "lambda:CreateFunction"), "lambda", "CreateFunction",
                      function="t1_notify")
        with pytest.raises(AwsError, match="AccessDenied"):
            _up(config)
    names = [f["FunctionName"] for f in _lambda().list_functions()["Functions"]]
    assert names == ["t1"]
    assert _up(config) == ["lambda:CreateFunction", "lambda:PutFunctionEventInvokeConfig",
                           "eventbridge:PutRule", "eventbridge:PutTargets",
                           "lambda:AddPermission"]
    assert _up(config) == []


def test_deleted_by_hand_it_is_made_again_and_down_removes_it(config: Path,
                                                              tmp_path: Path) -> None:
    _up(config)
    _lambda().delete_function(FunctionName="t1_notify")
    assert _notifier_action(config).op is Op.CREATE
    assert _up(config) == ["lambda:CreateFunction"]
    prepared, calls = target(write_config(tmp_path, MINIMAL, "again.yaml"))
    the_plan, _ = pipelines.plan(prepared, Mode.DOWN)
    done = pipelines.down(prepared, the_plan)
    assert "notifier" in [a.kind for a in done]
    assert calls.writes().count("lambda:DeleteFunction") == 2
    assert _lambda().list_functions()["Functions"] == []


def test_no_other_stacks_function_can_have_the_notifiers_name(config: Path,
                                                              tmp_path: Path) -> None:
    """'<name>_notify': stack names hold no '_'. A stack named 't1-notify' (what a
    '<name>-notify' notifier of stack t1 would be called) lives beside t1, and the tagging
    API's ARNs are told apart by kind."""
    _up(config)
    other = write_config(tmp_path, MINIMAL.replace("name: t1", "name: t1-notify"), "other.yaml")
    _up(other)
    names = sorted(f["FunctionName"] for f in _lambda().list_functions()["Functions"])
    assert names == ["t1", "t1-notify", "t1-notify_notify", "t1_notify"]
    assert kind_and_name(NOTIFIER) == ("notifier", "t1_notify")
    assert kind_and_name(NOTIFIER.replace("t1_notify", "t1-notify")) == ("function", "t1-notify")
    assert _up(config) == [] and _up(other) == []


@pytest.fixture
def function_code(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """function_code/notifier.py as Lambda loads it: flat modules, imported fresh."""
    names = (*MODULES, "notifier")
    for name in names:
        sys.modules.pop(name, None)
    monkeypatch.syspath_prepend(str(FUNCTION_DIR))
    yield importlib.import_module("notifier")
    for name in names:
        sys.modules.pop(name, None)


def test_the_deployed_notifier_tells_the_stacks_topic_about_the_documented_record(
        config: Path, function_code: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run with the environment 'up' gave it, the notifier publishes the Lambda Developer
    Guide's example record as one message to the stack's own topic."""
    _up(config)
    conf = _lambda().get_function(FunctionName="t1_notify")["Configuration"]
    for key, value in conf["Environment"]["Variables"].items():
        monkeypatch.setenv(key, value)
    result = function_code.handler(json.loads(json.dumps(AWS_EXAMPLE)), None)
    sent = Topic(TOPIC).only()
    assert sent["id"] == result["message_id"]
    assert sent["message"]["sms"] == ("stock-alert t1: a run failed after 3 attempts: Process "
                                      "exited before completing request. See 'stock-alert "
                                      "logs'.")
    assert sent["subject"] == "stock-alert t1: a run failed"


def test_no_run_starts_before_its_failure_can_be_told(config: Path, tmp_path: Path) -> None:
    """The rule that starts runs is made after the notifier and the on-failure destination,
    and removed before them (schedule.py, Schedule.after)."""
    writes = _up(config)
    assert writes.index("eventbridge:PutRule") > writes.index(
        "lambda:PutFunctionEventInvokeConfig") > writes.index("lambda:CreateFunction")
    prepared, _ = target(config)
    calls = FaultInjector()  # no fault: it records the function each call names
    calls.attach_session(prepared.aws)
    the_plan, _ = pipelines.plan(prepared, Mode.DOWN)
    pipelines.down(prepared, the_plan)
    down = [(c.operation, c.function) for c in calls.writes()]
    # the rule goes first; then the destination, its function and the notifier, at once
    # (issue 22: the function's delete removes the destination, so nothing waits for it)
    rule = down.index(("DeleteRule", None))
    for after in (("DeleteFunctionEventInvokeConfig", "t1"), ("DeleteFunction", "t1"),
                  ("DeleteFunction", "t1_notify")):
        assert rule < down.index(after), (after, down)
