"""Pure: the IAM documents are the textbook least-privilege set, checked three ways."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provision.config.model import Config
from provision.core import policies
from provision.core.stack import Stack

ACCOUNT = "123456789012"


def _stack(**quotes: Any) -> Stack:
    data: dict[str, Any] = {"name": "t1", "stocks": ["TSLA"]}
    if quotes:
        data["quotes"] = quotes
    return Stack(Config.model_validate(data), ACCOUNT, "eu-west-1")


def _statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["Statement"]


def test_trust_policy_allows_only_lambda_to_assume() -> None:
    doc = policies.trust_policy()
    [statement] = _statements(doc)
    assert statement == {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                         "Action": "sts:AssumeRole"}
    assert doc["Version"] == "2012-10-17"


def test_inline_policies_are_exact() -> None:
    docs = policies.inline_policies(_stack())
    assert set(docs) == {"t1-write-logs", "t1-publish-alerts", "t1-invoke-notifier"}
    [logs] = _statements(docs["t1-write-logs"])
    assert logs["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert logs["Resource"] == [
        f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/t1:*"]
    [publish] = _statements(docs["t1-publish-alerts"])
    assert publish["Action"] == ["sns:Publish"]
    assert publish["Resource"] == [f"arn:aws:sns:eu-west-1:{ACCOUNT}:t1-alerts"]
    # Lambda invokes the on-failure notifier with the role (issue 21): that one function
    [invoke] = _statements(docs["t1-invoke-notifier"])
    assert invoke["Action"] == ["lambda:InvokeFunction"]
    assert invoke["Resource"] == [f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:t1_notify"]


def test_api_key_parameter_adds_exactly_one_read() -> None:
    docs = policies.inline_policies(_stack(provider="alphavantage", api_key_parameter="/sa/key"))
    [read] = _statements(docs["t1-read-api-key"])
    assert read["Action"] == ["ssm:GetParameter"]
    assert read["Resource"] == [f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/sa/key"]


def _all_statements(stack: Stack) -> list[dict[str, Any]]:
    return [s for d in policies.inline_policies(stack).values() for s in _statements(d)]


@pytest.mark.parametrize("stack", [_stack(), _stack(provider="alphavantage",
                                                    api_key_parameter="key")])
def test_no_wildcards_no_create_log_group(stack: Stack) -> None:
    for statement in _all_statements(stack):
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            assert "*" not in action
            assert action != "logs:CreateLogGroup"
        for resource in statement["Resource"]:
            assert resource != "*"
            assert "*" not in resource.removesuffix(":*")
            assert ACCOUNT in resource


def test_parliament_finds_nothing_in_our_policies() -> None:
    from parliament import analyze_policy_string, enhance_finding

    stack = _stack(provider="alphavantage", api_key_parameter="/sa/key")
    for name, doc in policies.inline_policies(stack).items():
        result = analyze_policy_string(json.dumps(doc), include_community_auditors=True)
        assert [enhance_finding(f).issue for f in result.findings] == [], name


def test_parliament_would_catch_a_typo_and_a_missing_stream_suffix() -> None:
    """The linter check above can fail: the same call flags what we guard against."""
    from parliament import analyze_policy_string

    typo = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": ["logs:PutLogEvent"], "Resource": ["arn:aws:logs:us-east-1:1:log-group:x"]}]}
    issues = {f.issue for f in analyze_policy_string(json.dumps(typo)).findings}
    assert "UNKNOWN_ACTION" in issues


def test_cloudsplaining_sees_no_unrestricted_actions() -> None:
    from cloudsplaining.scan.policy_document import PolicyDocument

    stack = _stack(provider="alphavantage", api_key_parameter="/sa/key")
    for doc in policies.inline_policies(stack).values():
        scanned = PolicyDocument(doc)
        assert scanned.all_allowed_unrestricted_actions == []
        assert scanned.permissions_management_without_constraints == []
    wide = PolicyDocument({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sns:*"], "Resource": "*"}]})
    assert wide.all_allowed_unrestricted_actions  # the check is able to fail


def test_canonical_ignores_layout_but_not_content() -> None:
    doc = policies.inline_policies(_stack())["t1-publish-alerts"]
    scalar = json.loads(json.dumps(doc))
    scalar["Statement"][0]["Action"] = "sns:Publish"
    assert policies.canonical(scalar) == policies.canonical(json.dumps(doc, indent=4))
    scalar["Statement"][0]["Action"] = "sns:DeleteTopic"
    assert policies.canonical(scalar) != policies.canonical(doc)
