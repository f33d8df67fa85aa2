"""Catalogue of real-AWS behaviours: the notifier's LoggingConfig, and Lambda's check of the
role when the destination is set (issue 21).

GetFunction on AWS reports every function's LoggingConfig: the group it logs to, the default
/aws/lambda/<function name> when none was set (Lambda API reference, FunctionConfiguration
LoggingConfig; Lambda Developer Guide, "Configuring CloudWatch log groups"). The notifier logs
into the stack's own group /aws/lambda/NAME. moto 5.2 accepts LoggingConfig and reports none,
so the kind does not compare what it cannot see there (function.UNREPORTED); here GetFunction's
answer is edited on the wire to say what Lambda says, so the comparison runs as on AWS.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from provision.core import pipelines
from provision.core.plan import Op
from provision.errors import AwsError
from tests.real_aws.wire import every_session_answers
from tests.support.awsproxy import Error
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import inject_faults, no_retry_backoff
from tests.support.inprocess import FakeClock, target

TOPIC = "arn:aws:sns:us-east-1:123456789012:t1-alerts"


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[Path]:
    with mock_aws(), no_retry_backoff():
        config = write_config(tmp_path, MINIMAL)
        pipelines.up(target(config)[0])
        yield config


def logs_to(groups: dict[str, str]) -> Callable[..., None]:
    """An after-call edit: GetFunction reports LoggingConfig as Lambda does, the group by
    function name, else the default /aws/lambda/<name>."""
    def edit(parsed: dict[str, Any], **_: Any) -> None:
        conf = parsed.get("Configuration", {})
        name = conf.get("FunctionName", "")
        conf["LoggingConfig"] = {"LogFormat": "Text",
                                 "LogGroup": groups.get(name, f"/aws/lambda/{name}")}
    return edit


def _plan_and_up(config: Path, groups: dict[str, str]) -> tuple[Any, list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []
    with every_session_answers("after-call.lambda.GetFunction", logs_to(groups)):
        prepared, _ = target(config)
        the_plan, _ = pipelines.plan(prepared)
        prepared, _ = target(config)
        prepared.aws.events.register(
            "provide-client-params.lambda.UpdateFunctionConfiguration",
            lambda params, **_: sent.append(copy.deepcopy(params)))
        pipelines.up(prepared)
    return {a.kind: a for a in the_plan.actions}, sent


def test_the_notifier_logging_into_the_stacks_group_is_in_sync(deployed: Path) -> None:
    """As AWS reports the stack after 'up': the function in its default group, the notifier
    in the function's."""
    actions, sent = _plan_and_up(deployed, {"t1_notify": "/aws/lambda/t1"})
    assert actions["notifier"].op is Op.NOOP and actions["function"].op is Op.NOOP
    assert sent == []


def test_the_notifier_sent_back_to_its_default_group_is_drift_and_put_back(
        deployed: Path) -> None:
    """Someone reset the notifier's logging in the console: it would log to a group 'up' never
    made (Lambda creates it untagged, with no retention, if the role may; this role may not, so
    its lines would be lost)."""
    actions, sent = _plan_and_up(deployed, {})
    notifier = actions["notifier"]
    assert notifier.op is Op.UPDATE
    assert [(c.field, c.old, c.new) for c in notifier.changes] == [
        ("log_group", "/aws/lambda/t1_notify", "/aws/lambda/t1")]
    assert sent == [{"FunctionName": "t1_notify",
                     "LoggingConfig": {"LogGroup": "/aws/lambda/t1"}}]


# Lambda checks at PutFunctionEventInvokeConfig that the execution role may invoke the
# destination, and that check can fail right after the grant was written
# (github.com/aws-amplify/amplify-js/issues/9869: "it will fail with the error that it needs
# permissions"). The wording is Lambda's for the role's EC2 check (tests/real_aws/
# test_role_eni.py), naming the destination's action.
NOT_YET = Error(400, "InvalidParameterValueException", "The function's execution role does "
                "not have permissions to call InvokeFunction on "
                "arn:aws:lambda:us-east-1:123456789012:function:t1_notify")


def _topic_stack(config: Path) -> None:
    """A stack as made before the notifier: destination the topic, no invoke grant."""
    client = boto3.client("lambda", region_name="us-east-1")
    client.delete_function_event_invoke_config(FunctionName="t1")
    client.put_function_event_invoke_config(
        FunctionName="t1", DestinationConfig={"OnFailure": {"Destination": TOPIC}})
    boto3.client("iam").delete_role_policy(RoleName="t1-us-east-1-role",
                                           PolicyName="t1-invoke-notifier")


def test_moving_to_the_notifier_waits_for_the_new_grant(
        deployed: Path, caplog: pytest.LogCaptureFixture) -> None:
    _topic_stack(deployed)
    clock = FakeClock()
    with inject_faults() as faults, caplog.at_level(logging.INFO, "provision.aws.retry"):
        faults.inject(NOT_YET, "lambda", "PutFunctionEventInvokeConfig", times=2)
        pipelines.up(target(deployed, clock)[0])
    assert faults.count("lambda", "PutFunctionEventInvokeConfig") == 3
    assert len(clock.sleeps) == 2
    waits = [r.getMessage() for r in caplog.records if "put_function_event_invoke" in
             r.getMessage()]
    assert len(waits) == 2 and all("waiting for the role's new grant to propagate" in w
                                   for w in waits), waits


def test_a_refusal_with_the_grant_in_place_is_not_waited_for_and_not_called_ec2(
        deployed: Path) -> None:
    """The role was not written this run: its grant is old, so something else limits it."""
    client = boto3.client("lambda", region_name="us-east-1")
    client.delete_function_event_invoke_config(FunctionName="t1")
    clock = FakeClock()
    with inject_faults() as faults:
        faults.inject(NOT_YET, "lambda", "PutFunctionEventInvokeConfig", times=None)
        with pytest.raises(AwsError) as caught:
            pipelines.up(target(deployed, clock)[0])
    assert faults.count("lambda", "PutFunctionEventInvokeConfig") == 1 and clock.sleeps == []
    text = f"{caught.value.message} {caught.value.hint}"
    assert "Lambda checks InvokeFunction with the execution role's own permissions" in text
    assert "permissions boundary" in text and "ec2:" not in text
