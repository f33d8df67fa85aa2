"""Issue 9, hardening of what `up` creates, in-process against moto: the topic access policy,
reserved concurrency, the target's RetryPolicy, notify.kms_key and the errors alarm. Each is set
with as few writes as AWS allows, repaired after tampering, changed by one diffed write, and
gone after `down`; a no-op `up` after each scenario writes nothing."""

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
from provision.core.policies import canonical, topic_policy
from provision.errors import ConflictError
from provision.kinds.alarm import LEFT_OVER, NOT_USED
from tests.support.configs import MINIMAL, write_config
from tests.support.inprocess import target
from tests.support.inventory import assert_empty, inventory

ACCOUNT = "123456789012"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:t1-alerts"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/t1-us-east-1-role"
ALARM_ARN = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:t1-errors"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws():
        yield write_config(tmp_path, MINIMAL)


def _up(config: Path) -> list[str]:
    prepared, calls = target(config)
    pipelines.up(prepared)
    return calls.writes()


def _no_writes_left(config: Path) -> None:
    assert _up(config) == []


def _with(tmp_path: Path, extra: str, name: str = "changed.yaml") -> Path:
    return write_config(tmp_path, MINIMAL + extra, name=name)


def _policy() -> dict[str, Any]:
    text = boto3.client("sns").get_topic_attributes(TopicArn=TOPIC)["Attributes"]["Policy"]
    return dict(json.loads(text))


def _down(config: Path) -> None:
    prepared, _ = target(config)
    the_plan, _ = pipelines.plan(prepared, mode=Mode.DOWN)
    pipelines.down(prepared, the_plan)
    assert_empty(inventory(boto3.Session(region_name="us-east-1")), "t1")


# ---- topic access policy -------------------------------------------------------------------

def test_topic_policy_is_set_by_create_topic_without_another_write(config: Path) -> None:
    writes = _up(config)
    assert writes.count("sns:CreateTopic") == 1 and "sns:SetTopicAttributes" not in writes
    policy = _policy()
    prepared, _ = target(config)
    assert canonical(policy) == canonical(topic_policy(pipelines.plan(prepared)[1].stack))
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["StackRolePublishes"]["Principal"] == {"AWS": ROLE_ARN}
    assert by_sid["OwnerAccountManages"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert "sns:Publish" not in by_sid["OwnerAccountManages"]["Action"]
    alarm = by_sid["ErrorsAlarmPublishes"]
    assert alarm["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarm["Condition"] == {"ArnLike": {"aws:SourceArn": ALARM_ARN},
                                  "StringEquals": {"aws:SourceAccount": ACCOUNT}}
    assert by_sid["OnlyStackPublishes"]["Effect"] == "Deny"
    assert by_sid["DenyInsecureTransport"]["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}}
    # No Allow to '*' (checkov CKV_AWS_169): '*' appears only in Deny statements.
    assert all(s["Effect"] == "Deny" for s in policy["Statement"] if s["Principal"] == "*")
    _no_writes_left(config)


def test_tampered_topic_policy_is_rewritten_by_one_write(config: Path) -> None:
    _up(config)
    boto3.client("sns").set_topic_attributes(
        TopicArn=TOPIC, AttributeName="Policy", AttributeValue=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Sid": "open", "Effect": "Allow",
                                                    "Principal": "*", "Action": "sns:Publish",
                                                    "Resource": TOPIC}]}))
    prepared, _ = target(config)
    the_plan, _ = pipelines.plan(prepared)
    [topic] = [a for a in the_plan.actions if a.kind == "topic"]
    assert topic.reason.startswith("drifted") and [c.item for c in topic.changes] == ["Policy"]
    assert _up(config) == ["sns:SetTopicAttributes"]
    assert {s["Sid"] for s in _policy()["Statement"]} >= {"OnlyStackPublishes"}
    _no_writes_left(config)


# ---- reserved concurrency ------------------------------------------------------------------

def _reserved() -> Any:
    found = boto3.client("lambda").get_function(FunctionName="t1").get("Concurrency") or {}
    return found.get("ReservedConcurrentExecutions")


def test_reserved_concurrency_is_one_by_default_and_diffed(config: Path, tmp_path: Path,
                                                           ) -> None:
    assert "lambda:PutFunctionConcurrency" in _up(config) and _reserved() == 1
    three = _with(tmp_path, "function: {reserved_concurrency: 3}\n")
    assert _up(three) == ["lambda:PutFunctionConcurrency", "lambda:TagResource"]
    assert _reserved() == 3
    _no_writes_left(three)
    unreserved = _with(tmp_path, "function: {reserved_concurrency: null}\n", "null.yaml")
    assert _up(unreserved) == ["lambda:DeleteFunctionConcurrency", "lambda:TagResource"]
    assert _reserved() is None
    _no_writes_left(unreserved)


def test_concurrency_removed_by_hand_is_reserved_again(config: Path) -> None:
    _up(config)
    boto3.client("lambda").delete_function_concurrency(FunctionName="t1")
    prepared, calls = target(config)
    pipelines.up(prepared)
    assert calls.writes() == ["lambda:PutFunctionConcurrency"] and _reserved() == 1
    # GetFunction already answers Concurrency: no extra read was added for it.
    assert "lambda:GetFunctionConcurrency" not in calls.calls
    _no_writes_left(config)


# ---- the target's RetryPolicy --------------------------------------------------------------

def _retry_policy() -> Any:
    [target_] = boto3.client("events").list_targets_by_rule(Rule="t1-schedule")["Targets"]
    return target_.get("RetryPolicy")


def test_retry_policy_defaults_and_config_change(config: Path, tmp_path: Path) -> None:
    _up(config)
    assert _retry_policy() == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
    changed = _with(tmp_path, "schedule_delivery: {max_retry_attempts: 0, "
                              "max_event_age_s: 600}\n")
    assert _up(changed) == ["eventbridge:TagResource", "eventbridge:PutTargets"]
    assert _retry_policy() == {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 600}
    _no_writes_left(changed)


def test_retry_policy_dropped_by_hand_is_put_back(config: Path) -> None:
    _up(config)
    fn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:t1"
    boto3.client("events").put_targets(Rule="t1-schedule", Targets=[
        {"Id": "stock-alert-function", "Arn": fn}])
    assert _retry_policy() is None
    assert _up(config) == ["eventbridge:PutTargets"]
    assert _retry_policy() == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
    _no_writes_left(config)


# ---- notify.kms_key ------------------------------------------------------------------------

def test_customer_key_encrypts_the_topic_and_grants_exactly_its_use(config: Path,
                                                                     tmp_path: Path) -> None:
    _up(config)
    keyed = write_config(tmp_path, MINIMAL.replace("notify:\n", f"notify:\n  kms_key: {KEY}\n"),
                         name="keyed.yaml")
    writes = _up(keyed)
    # the role and the topic, each with its applied-digest tag, and the errors alarm, which
    # can deliver now (it is made only with a customer key); nothing else
    assert sorted(writes) == ["cloudwatch:PutMetricAlarm", "iam:PutRolePolicy", "iam:TagRole",
                              "sns:SetTopicAttributes", "sns:TagResource"]
    attrs = boto3.client("sns").get_topic_attributes(TopicArn=TOPIC)["Attributes"]
    assert attrs["KmsMasterKeyId"] == KEY
    doc = boto3.client("iam").get_role_policy(RoleName="t1-us-east-1-role",
                                              PolicyName="t1-use-topic-key")["PolicyDocument"]
    [statement] = doc["Statement"]
    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert statement["Resource"] in (KEY, [KEY])
    assert statement["Condition"] == {
        "StringEquals": {"kms:ViaService": "sns.us-east-1.amazonaws.com"}}
    _no_writes_left(keyed)
    # Removing it is a diffed update back to alias/aws/sns, and the grant goes.
    assert sorted(_up(config)) == ["iam:DeleteRolePolicy", "iam:TagRole",
                                   "sns:SetTopicAttributes", "sns:TagResource"]
    assert boto3.client("sns").get_topic_attributes(
        TopicArn=TOPIC)["Attributes"]["KmsMasterKeyId"] == "alias/aws/sns"
    _no_writes_left(config)


# ---- the errors alarm ----------------------------------------------------------------------

def _alarm() -> dict[str, Any]:
    [alarm] = boto3.client("cloudwatch").describe_alarms(AlarmNames=["t1-errors"])["MetricAlarms"]
    return dict(alarm)


@pytest.fixture
def keyed(config: Path, tmp_path: Path) -> Path:
    """The alarm is made only with a customer key, the only topic it can deliver to."""
    return write_config(tmp_path, MINIMAL.replace("notify:\n", f"notify:\n  kms_key: {KEY}\n"),
                        name="keyed.yaml")


def test_errors_alarm_watches_the_function_and_notifies_the_topic(keyed: Path) -> None:
    config = keyed
    writes = _up(config)
    # made once, after the function and the topic it names (it is written alongside the rule)
    assert writes.count("cloudwatch:PutMetricAlarm") == 1
    assert writes.index("cloudwatch:PutMetricAlarm") > max(
        writes.index("lambda:CreateFunction"), writes.index("sns:CreateTopic"))
    alarm = _alarm()
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "AWS/Lambda", "Errors", "Sum")
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": "t1"}]
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["Threshold"]) == (300, 1, 1.0)
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching" and alarm["AlarmActions"] == [TOPIC]
    tags = boto3.client("cloudwatch").list_tags_for_resource(ResourceARN=ALARM_ARN)["Tags"]
    assert {"Key": "stock-alert:stack", "Value": "t1"} in tags
    _no_writes_left(config)


def test_alarm_changed_by_hand_is_overwritten(keyed: Path) -> None:
    config = keyed
    _up(config)
    params = {k: v for k, v in _alarm().items() if k in (
        "AlarmName", "Namespace", "MetricName", "Dimensions", "Statistic", "Period",
        "EvaluationPeriods", "ComparisonOperator")}
    boto3.client("cloudwatch").put_metric_alarm(**params, Threshold=50.0, AlarmActions=[])
    assert _up(config) == ["cloudwatch:PutMetricAlarm"]
    assert _alarm()["Threshold"] == 1.0 and _alarm()["AlarmActions"] == [TOPIC]
    _no_writes_left(config)


def test_alarm_of_the_same_name_without_our_tags_is_never_touched(keyed: Path) -> None:
    config = keyed
    boto3.client("cloudwatch").put_metric_alarm(
        AlarmName="t1-errors", Namespace="Mine", MetricName="Other", Statistic="Sum",
        Period=60, EvaluationPeriods=1, Threshold=9.0, ComparisonOperator="GreaterThanThreshold")
    with pytest.raises(ConflictError, match="alarm t1-errors"):
        _up(config)
    assert _alarm()["Namespace"] == "Mine"
    prepared, calls = target(config)
    the_plan, _ = pipelines.plan(prepared, mode=Mode.DOWN)
    pipelines.down(prepared, the_plan)
    assert "cloudwatch:DeleteAlarms" not in calls.writes() and _alarm()["Threshold"] == 9.0


def test_no_alarm_without_a_customer_key_and_a_left_over_one_is_reported(
        config: Path, keyed: Path) -> None:
    """alias/aws/sns: CloudWatch cannot use that key, so the default config makes no alarm
    (the on-failure destination notifies instead) and says nothing on every plan; an alarm
    made earlier (by an older version, or before notify.kms_key was removed) is named as one
    that cannot deliver and left for 'down'."""
    prepared, _ = target(config)
    [alarm] = [a for a in pipelines.plan(prepared)[0].actions if a.kind == "alarm"]
    assert (alarm.reason, alarm.notes) == (NOT_USED, ())
    assert "cloudwatch:PutMetricAlarm" not in _up(config)
    _up(keyed)  # the alarm exists; then the key is removed from the config
    [alarm] = [a for a in pipelines.plan(target(config)[0])[0].actions if a.kind == "alarm"]
    assert alarm.notes == (LEFT_OVER,) and alarm.op is Op.NOOP
    prepared, calls = target(config)
    the_plan, _ = pipelines.plan(prepared, mode=Mode.DOWN)
    pipelines.down(prepared, the_plan)
    assert "cloudwatch:DeleteAlarms" in calls.writes()


def test_down_leaves_nothing_after_every_hardening_change(config: Path, tmp_path: Path) -> None:
    everything = write_config(tmp_path, MINIMAL.replace(
        "notify:\n", f"notify:\n  kms_key: {KEY}\n") + "function: {reserved_concurrency: 2}\n"
        "schedule_delivery: {max_retry_attempts: 5}\n", name="all.yaml")
    _up(everything)
    _no_writes_left(everything)
    prepared, calls = target(everything)
    the_plan, _ = pipelines.plan(prepared, mode=Mode.DOWN)
    pipelines.down(prepared, the_plan)
    # first the alarm and the rule (no run starts while the failure path goes, issue 21)
    assert set(calls.writes()[:3]) == {"cloudwatch:DeleteAlarms", "eventbridge:RemoveTargets",
                                       "eventbridge:DeleteRule"}
    assert boto3.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    _down(everything)
