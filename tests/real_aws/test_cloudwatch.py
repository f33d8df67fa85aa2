"""Real CloudWatch behaviours the errors alarm relies on and moto does not reproduce, made real
by editing the request or moto's parsed answer in botocore hooks, with their sources."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from provision.core import pipelines
from provision.core.plan import Op
from provision.kinds.alarm import NOT_USED
from tests.support.configs import MINIMAL, write_config
from tests.support.inprocess import target

ALARM_ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:t1-errors"
KEY = "arn:aws:kms:us-east-1:123456789012:alias/stock-alert"


def keyed(text: str) -> str:
    """The alarm is made only with a customer key (the only topic it can deliver to)."""
    return text.replace("notify:\n", f"notify:\n  kms_key: {KEY}\n")


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws():
        yield write_config(tmp_path, keyed(MINIMAL + "tags: {team: a}\n"))


def _alarm_tags() -> dict[str, str]:
    tags = boto3.client("cloudwatch").list_tags_for_resource(ResourceARN=ALARM_ARN)["Tags"]
    return {t["Key"]: t["Value"] for t in tags}


def test_tag_changes_reach_an_existing_alarm_although_put_metric_alarm_ignores_them(
        config: Path, tmp_path: Path) -> None:
    """botocore's cloudwatch model, PutMetricAlarm Tags: "If you are using this operation to
    update an existing alarm, any tags you specify in this parameter are ignored. To change the
    tags of an existing alarm, use TagResource or UntagResource." moto merges them instead, so
    the request is made to carry no tags on an update, as AWS would treat it."""
    pipelines.up(target(config)[0])
    assert _alarm_tags()["team"] == "a"
    changed = write_config(tmp_path, keyed(MINIMAL + "tags: {owner: b}\n"), name="changed.yaml")
    prepared, calls = target(changed)

    def ignored_on_update(params: dict[str, Any], **_: Any) -> None:
        existing = boto3.client("cloudwatch").describe_alarms(
            AlarmNames=[params["AlarmName"]])["MetricAlarms"]
        if existing:
            params.pop("Tags", None)

    prepared.aws.events.register("provide-client-params.cloudwatch.PutMetricAlarm",
                                 ignored_on_update)
    pipelines.up(prepared)
    tags = _alarm_tags()
    assert tags["owner"] == "b" and "team" not in tags
    assert {"cloudwatch:TagResource", "cloudwatch:UntagResource"} <= set(calls.writes())
    prepared, calls = target(changed)
    pipelines.up(prepared)
    assert calls.writes() == []


def test_describe_alarms_is_read_to_its_last_page(config: Path) -> None:
    """DescribeAlarms pages by NextToken (botocore's cloudwatch paginators: input/output token
    NextToken, result keys MetricAlarms, CompositeAlarms, LogAlarms); a page can hold none of
    ours and still have a next one. moto answers in one page, so the first answer is split:
    an empty page with a token, then the real one. Reading only the first page would see no
    alarm and create it again."""
    pipelines.up(target(config)[0])
    prepared, calls = target(config)
    held: list[dict[str, Any]] = []

    def split(parsed: dict[str, Any], **_: Any) -> None:
        if not held:
            held.append(parsed)
            parsed["MetricAlarms"], parsed["NextToken"] = [], "page-2"

    def resume(params: dict[str, Any], **_: Any) -> None:
        params.pop("NextToken", None)  # moto knows no such token: ask it for the real page

    prepared.aws.events.register("after-call.cloudwatch.DescribeAlarms", split)
    prepared.aws.events.register("provide-client-params.cloudwatch.DescribeAlarms", resume)
    pipelines.up(prepared)
    assert calls.calls.count("cloudwatch:DescribeAlarms") == 2
    assert calls.writes() == []


def test_no_alarm_where_it_cannot_deliver_the_on_failure_destination_instead(
        tmp_path: Path) -> None:
    """CloudWatch alarm actions cannot publish to a topic encrypted with alias/aws/sns: that
    key's policy does not allow cloudwatch.amazonaws.com and cannot be edited; the alarm
    history shows "CloudWatch Alarms does not have authorization to access the SNS topic
    encryption key" (repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger,
    github.com/aws/aws-cdk/issues/11121, github.com/ASFHyP3/hyp3/issues/762). moto delivers
    anyway, so what is tested is that the default config makes no such alarm (issue 21: a
    safety feature that only nags is none) and sends failures through the on-failure
    destination, which Lambda publishes with the execution role; a customer key adds the
    alarm, and no plan carries a note either way."""
    with mock_aws():
        default = write_config(tmp_path, MINIMAL)
        prepared, calls = target(default)
        first, _ = pipelines.plan(prepared)
        pipelines.up(prepared)
        [alarm] = [a for a in first.actions if a.kind == "alarm"]
        assert (alarm.op, alarm.reason, alarm.notes) == (Op.NOOP, NOT_USED, ())
        assert "cloudwatch:PutMetricAlarm" not in calls.writes()
        assert "lambda:PutFunctionEventInvokeConfig" in calls.writes()
        assert boto3.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
        withkey = write_config(tmp_path, keyed(MINIMAL), name="keyed.yaml")
        prepared, calls = target(withkey)
        pipelines.up(prepared)
        assert "cloudwatch:PutMetricAlarm" in calls.writes()
        again, _ = pipelines.plan(prepared)
        assert all(a.notes == () for a in again.actions)
