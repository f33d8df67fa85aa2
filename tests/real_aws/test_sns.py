"""Catalogue: SNS answers of real AWS that moto does not give.

Cancelled subscriptions. When the recipient unsubscribes, ListSubscriptionsByTopic lists the
subscription with SubscriptionArn "Deleted" for a while, and Unsubscribe("Deleted") answers 400
InvalidParameter "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6
elements, not 1" (https://github.com/ansible/ansible/pull/20086,
https://github.com/xmidt-org/webpa-common/issues/362). moto drops the subscription instead and
accepts any Unsubscribe, so an after-call hook lists the cancelled entry and a before-send answer
(tests/real_aws/wire.py) refuses a non-ARN Unsubscribe as SNS does, in SNS's XML wire format.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from provision.core import pipelines
from provision.core.pipelines import StatusRow
from provision.core.plan import Mode
from provision.core.target import Target
from tests.real_aws.wire import Wire, every_session, every_session_answers, form
from tests.support.awsproxy import Error
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import error_response
from tests.support.inprocess import ClientCalls, target
from tests.support.inventory import inventory

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:t1-alerts"
EMAIL, SMS = ("email", "you@example.com"), ("sms", "+15555550100")
KINDS = ("roles", "log_groups", "topics", "subscriptions", "functions", "rules")


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws():
        yield write_config(tmp_path, MINIMAL)


# ---- real SNS answers ----------------------------------------------------------------------
def recipient_cancels(protocol: str, endpoint: str) -> None:
    sns = boto3.client("sns")
    for sub in sns.list_subscriptions_by_topic(TopicArn=TOPIC_ARN)["Subscriptions"]:
        if (sub["Protocol"], sub["Endpoint"]) == (protocol, endpoint):
            sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])


def listed_as_cancelled(*subscribers: tuple[str, str]) -> Callable[..., None]:
    """after-call: SNS keeps listing each cancelled subscription as "Deleted"."""
    def edit(parsed: dict[str, Any], **_: Any) -> None:
        if not parsed.get("NextToken"):
            parsed.setdefault("Subscriptions", []).extend(
                {"SubscriptionArn": "Deleted", "Owner": "123456789012", "Protocol": p,
                 "Endpoint": e, "TopicArn": TOPIC_ARN} for p, e in subscribers)
    return edit


class Unsubscribes:
    """Answers Unsubscribe: records every one and refuses a non-ARN exactly as SNS does."""

    def __init__(self) -> None:
        self.arns: list[str] = []

    def __call__(self, request: Any) -> AWSResponse | None:
        arn = parse_qs(form(request))["SubscriptionArn"][0]
        self.arns.append(arn)
        if arn.startswith("arn:"):
            return None  # on to moto
        return error_response(request.url, "sns", Error(
            400, "InvalidParameter", "Invalid parameter: SubscriptionArn Reason: An ARN must "
            f"have at least 6 elements, not {len(arn.split(':'))}"))


# ---- helpers -------------------------------------------------------------------------------
def _hooked(config: Path, *cancelled: tuple[str, str]) -> tuple[Target, ClientCalls, Unsubscribes]:
    prepared, log = target(config)
    unsubscribes = Unsubscribes()
    prepared.aws.events.register("after-call.sns.ListSubscriptionsByTopic",
                                 listed_as_cancelled(*cancelled))
    Wire().attach(prepared.aws.events).answers["Unsubscribe"] = unsubscribes
    return prepared, log, unsubscribes


def _topic_row(prepared: Target) -> StatusRow:
    return next(r for r in pipelines.status(prepared)[1] if r.kind == "topic")


def _down_leaves_nothing(config: Path, *cancelled: tuple[str, str]) -> None:
    prepared = _hooked(config, *cancelled)[0]
    the_plan, _ = pipelines.plan(prepared, mode=Mode.DOWN)
    pipelines.down(prepared, the_plan)
    inv = inventory(boto3.Session(region_name="us-east-1"))
    assert [inv[k] for k in KINDS] == [[]] * len(KINDS)


# ---- cancelled subscriptions ---------------------------------------------------------------
@pytest.mark.parametrize("cancelled", [EMAIL, SMS])
def test_cancelled_configured_subscriber_is_subscribed_again(
        config: Path, cancelled: tuple[str, str]) -> None:
    pipelines.up(target(config)[0])
    recipient_cancels(*cancelled)
    row = _topic_row(_hooked(config, cancelled)[0])
    # before the fix: "in sync", the entry shown as "confirmed", and never subscribed again
    assert row.state == "drifted" and row.drift == (" ".join(cancelled),)
    assert any(f"{cancelled[1]} unsubscribed itself" in n for n in row.notes)
    assert {"protocol": cancelled[0], "endpoint": cancelled[1],
            "state": "unsubscribed by the recipient"} in row.attributes["subscriptions"]

    prepared, log, unsubscribes = _hooked(config, cancelled)
    pipelines.up(prepared)
    assert log.writes() == ["sns:Subscribe"] and unsubscribes.arns == []
    live = boto3.client("sns").list_subscriptions_by_topic(TopicArn=TOPIC_ARN)["Subscriptions"]
    assert sorted((s["Protocol"], s["Endpoint"]) for s in live) == sorted([EMAIL, SMS])

    again, log, _ = _hooked(config, cancelled)  # SNS still lists the old cancelled entry
    assert pipelines.up(again)[1] == [] and log.writes() == []
    _down_leaves_nothing(config, cancelled)


def test_cancelled_subscriber_removed_from_the_config_is_never_unsubscribed(
        config: Path, tmp_path: Path) -> None:
    pipelines.up(target(config)[0])
    recipient_cancels(*EMAIL)
    changed = write_config(tmp_path, MINIMAL.replace("[you@example.com]", "[]")
                           .replace("+15555550100", "+15555550123"), name="changed.yaml")
    prepared, log, unsubscribes = _hooked(changed, EMAIL)
    pipelines.up(prepared)  # before the fix: Unsubscribe("Deleted") -> InvalidParameter, exit 1
    assert len(unsubscribes.arns) == 1 and unsubscribes.arns[0].startswith("arn:")  # old sms
    # (and the config's new digest goes on the topic with one TagResource)
    assert sorted(log.writes()) == ["sns:Subscribe", "sns:TagResource", "sns:Unsubscribe"]
    again, log, unsubscribes = _hooked(changed, EMAIL)
    pipelines.up(again)
    assert log.writes() == [] and unsubscribes.arns == []
    _down_leaves_nothing(changed, EMAIL)


def test_cli_up_exits_0_with_a_cancelled_subscription_left_behind(
        config: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from provision.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["up", "-c", str(config)]).exit_code == 0
    recipient_cancels(*EMAIL)
    changed = write_config(tmp_path, MINIMAL.replace("[you@example.com]", "[]"), name="c.yaml")
    unsubscribes = Unsubscribes()
    wire = Wire()
    wire.answers["Unsubscribe"] = unsubscribes
    with every_session_answers("after-call.sns.ListSubscriptionsByTopic",
                               listed_as_cancelled(EMAIL)), every_session(wire):
        result = runner.invoke(app, ["up", "-c", str(changed), "--output", "json"])
        status = runner.invoke(app, ["status", "-c", str(changed), "--output", "json"])
    assert (result.exit_code, status.exit_code) == (0, 0), result.output
    assert json.loads(result.stdout)["applied"] == [] and unsubscribes.arns == []
    topic = next(r for r in json.loads(status.stdout)["resources"] if r["kind"] == "topic")
    assert topic["state"] == "in sync"
    assert {"protocol": "email", "endpoint": EMAIL[1],
            "state": "unsubscribed by the recipient"} in topic["attributes"]["subscriptions"]

