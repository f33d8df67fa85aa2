"""`stock-alert audit`: each out-of-band change is named with its fix (exit 1), and 'up' repairs
what it manages; what it does not manage yet is said in the finding's fix."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from provision.cli import app
from provision.core import pipelines
from tests.support.audit import run_audit
from tests.support.configs import MINIMAL, write_config
from tests.support.inprocess import target

ACCOUNT = "123456789012"
ROLE, FN, TOPIC = "t1-us-east-1-role", "t1", f"arn:aws:sns:us-east-1:{ACCOUNT}:t1-alerts"
LOG_GROUP = "/aws/lambda/t1"
CONFIG = MINIMAL + "tags: {team: x}\n"
runner = CliRunner()
WIDE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws():
        path = write_config(tmp_path, CONFIG)
        pipelines.up(target(path)[0])
        yield path


def _rules(findings: list[dict[str, Any]]) -> set[str]:
    return {f["rule"] for f in findings}


def test_a_fresh_stack_is_clean(config: Path) -> None:
    assert run_audit(config) == (0, [])
    result = runner.invoke(app, ["audit", "-c", str(config)])
    assert result.exit_code == 0 and "no findings" in result.stdout


def _extra_inline() -> None:
    boto3.client("iam").put_role_policy(RoleName=ROLE, PolicyName="extra", PolicyDocument=WIDE)


def _attached() -> None:
    iam = boto3.client("iam")
    arn = iam.create_policy(PolicyName="wide", PolicyDocument=WIDE)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=ROLE, PolicyArn=arn)


def _widened() -> None:
    boto3.client("iam").put_role_policy(
        RoleName=ROLE, PolicyName="t1-publish-alerts", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}]}))


def _trust() -> None:
    boto3.client("iam").update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}))


def _open_invoke_permission() -> None:
    client = boto3.client("lambda")
    client.remove_permission(FunctionName=FN, StatementId="t1-schedule-invoke")
    client.add_permission(FunctionName=FN, StatementId="t1-schedule-invoke",
                          Action="lambda:InvokeFunction", Principal="events.amazonaws.com")


def _sms() -> None:
    boto3.client("sns").subscribe(TopicArn=TOPIC, Protocol="sms", Endpoint="+15555550199")


def _encryption() -> None:
    boto3.client("sns").set_topic_attributes(TopicArn=TOPIC, AttributeName="KmsMasterKeyId",
                                             AttributeValue="")


def _retention() -> None:
    boto3.client("logs").put_retention_policy(logGroupName=LOG_GROUP, retentionInDays=1)


def _tags() -> None:
    arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{LOG_GROUP}"
    boto3.client("logs").untag_resource(resourceArn=arn, tagKeys=["team"])
    boto3.client("lambda").untag_resource(
        Resource=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{FN}", TagKeys=["team"])


def _queue_subscription() -> None:
    boto3.client("sns").subscribe(TopicArn=TOPIC, Protocol="sqs",
                                  Endpoint=f"arn:aws:sqs:us-east-1:{ACCOUNT}:spy")


def _open_topic_policy() -> None:
    boto3.client("sns").set_topic_attributes(
        TopicArn=TOPIC, AttributeName="Policy", AttributeValue=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Sid": "open", "Effect": "Allow", "Principal": "*", "Action": "sns:Publish",
                "Resource": TOPIC}]}))


def _tls_allowed() -> None:
    """Our policy without its DenyInsecureTransport statement: nothing opened, but changed."""
    sns = boto3.client("sns")
    policy = json.loads(sns.get_topic_attributes(TopicArn=TOPIC)["Attributes"]["Policy"])
    policy["Statement"] = [s for s in policy["Statement"]
                           if s["Sid"] != "DenyInsecureTransport"]
    sns.set_topic_attributes(TopicArn=TOPIC, AttributeName="Policy",
                             AttributeValue=json.dumps(policy))


REPAIRED: list[tuple[Callable[[], None], set[str], str]] = [
    (_extra_inline, {"extra-inline-policy", "wildcard-grant"}, "policy extra allows s3:* on *"),
    (_attached, {"attached-managed-policy"}, f"arn:aws:iam::{ACCOUNT}:policy/wide"),
    (_widened, {"changed-inline-policy", "wildcard-grant"}, "allows sns:Publish on *"),
    (_trust, {"trust-opened"}, f'{{"AWS": "arn:aws:iam::{ACCOUNT}:root"}}'),
    (_open_invoke_permission, {"invoke-permission-open"}, "no SourceArn and no SourceAccount"),
    (_sms, {"extra-subscription"}, "sms +15555550199"),
    (_queue_subscription, {"extra-subscription"}, "sqs arn:aws:sqs"),
    (_encryption, {"encryption-removed"}, "KmsMasterKeyId is None"),
    (_retention, {"retention-changed"}, "retention is 1 days"),
    (_tags, {"tags-changed"}, "tags removed: team"),
    # The topic policy is managed now (issue 9, hardening): 'up' rewrites it whole.
    (_open_topic_policy, {"topic-policy-open"}, "'open' lets anyone sns:Publish"),
    (_tls_allowed, {"topic-policy-changed"}, "differs from the one stock-alert"),
]


@pytest.mark.parametrize(("tamper", "rules", "words"), REPAIRED,
                         ids=[t.__name__.strip("_") for t, _, _ in REPAIRED])
def test_audit_names_it_and_up_repairs_it(config: Path, tamper: Callable[[], None],
                                          rules: set[str], words: str) -> None:
    tamper()
    code, findings = run_audit(config)
    assert code == 1 and _rules(findings) == rules
    assert any(words in f["detail"] for f in findings), findings
    assert all(f["up_repairs"] and f["fix"] == "run 'stock-alert up'" for f in findings)
    pipelines.up(target(config)[0])
    assert run_audit(config) == (0, [])


def test_human_output_names_rule_and_fix(config: Path) -> None:
    _retention()
    result = runner.invoke(app, ["audit", "-c", str(config)])
    text = " ".join(result.stdout.split())
    assert result.exit_code == 1
    assert "retention-changed" in text and "run 'stock-alert up'" in text


def _extra_permission() -> None:
    boto3.client("lambda").add_permission(FunctionName=FN, StatementId="anyone",
                                          Action="lambda:InvokeFunction", Principal="*")


NOT_REPAIRED: list[tuple[Callable[[], None], str, str]] = [
    (_extra_permission, "extra-invoke-permission", "remove-permission"),
]


@pytest.mark.parametrize(("tamper", "rule", "words"), NOT_REPAIRED,
                         ids=[t.__name__.strip("_") for t, _, _ in NOT_REPAIRED])
def test_what_up_does_not_repair_yet_says_so(config: Path, tamper: Callable[[], None],
                                             rule: str, words: str) -> None:
    tamper()
    for _ in range(2):  # before and after 'up': still there, and the fix says how
        code, findings = run_audit(config)
        [finding] = [f for f in findings if f["rule"] == rule]
        assert code == 1 and not finding["up_repairs"] and words in finding["fix"]
        assert "does not" in finding["fix"]
        pipelines.up(target(config)[0])


def test_managed_topic_policy_is_not_open(config: Path) -> None:
    """'up' replaces SNS's default policy (Principal AWS '*' with AWS:SourceOwner) with its own,
    which allows no one by '*' (Deny statements only) and audits clean."""
    policy = json.loads(boto3.client("sns").get_topic_attributes(
        TopicArn=TOPIC)["Attributes"]["Policy"])
    anyone = [s["Sid"] for s in policy["Statement"] if s["Principal"] in ("*", {"AWS": "*"})]
    assert anyone and all(s["Effect"] == "Deny" for s in policy["Statement"]
                          if s["Sid"] in anyone)
    assert run_audit(config) == (0, [])


def test_removed_ownership_tag_is_not_owned_and_up_refuses(config: Path) -> None:
    boto3.client("logs").untag_resource(
        resourceArn=f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{LOG_GROUP}",
        tagKeys=["stock-alert:stack"])
    code, findings = run_audit(config)
    [finding] = findings
    assert code == 1 and finding["rule"] == "not-owned" and not finding["up_repairs"]
    assert "stock-alert:stack=t1" in finding["fix"]


def test_nothing_deployed_is_seven_missing(tmp_path: Path) -> None:
    # role, log group, topic, function, schedule, (issue 9) the alarm and (issue 21) the
    # notifier
    with mock_aws():
        code, findings = run_audit(write_config(tmp_path, CONFIG))
    assert code == 1 and [f["rule"] for f in findings] == ["missing"] * 7


def test_audit_reads_exactly_what_plan_reads(config: Path) -> None:
    """audit judges the engine's one observation: no AWS read of its own, none repeated."""
    from provision.features.security import audit

    _open_topic_policy()
    _extra_permission()
    prepared, audit_calls = target(config)
    _, findings = audit.run(prepared)
    assert {"topic-policy-open", "extra-invoke-permission"} <= _rules(
        [{"rule": f.rule} for f in findings])
    prepared, plan_calls = target(config)
    pipelines.plan(prepared)
    assert sorted(audit_calls.calls) == sorted(plan_calls.calls)
    assert audit_calls.calls.count("sns:GetTopicAttributes") == 1
    assert audit_calls.calls.count("lambda:GetPolicy") == 1
