"""Pure: the key-source grants (role and operator) stay exact and lint-clean; the linters can
fail on the mistakes these grants avoid."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provision.config.model import Config
from provision.core import policies
from provision.core.stack import Stack
from provision.features.security import deployer, grants

ACCOUNT = "123456789012"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
QUOTES = {
    "parameter+kms": {"provider": "alphavantage", "api_key_kms_key": KEY},
    "secret": {"provider": "alphavantage", "api_key_secret": "t1/api-key"},
    "secret-arn+kms": {"provider": "alphavantage", "api_key_kms_key": KEY, "api_key_secret":
                       f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:t1/api-key-AbC123"},
}


def _stack(quotes: dict[str, Any]) -> Stack:
    return Stack(Config.model_validate({"name": "t1", "region": "eu-west-1", "stocks": ["TSLA"],
                                        "quotes": quotes}), ACCOUNT, "eu-west-1")


@pytest.mark.parametrize("case", list(QUOTES))
def test_parliament_and_cloudsplaining_find_nothing(case: str) -> None:
    from cloudsplaining.scan.policy_document import PolicyDocument
    from parliament import analyze_policy_string, enhance_finding

    for name, doc in policies.inline_policies(_stack(QUOTES[case])).items():
        result = analyze_policy_string(json.dumps(doc), include_community_auditors=True)
        assert [enhance_finding(f).issue for f in result.findings] == [], (case, name)
        scanned = PolicyDocument(doc)
        assert scanned.all_allowed_unrestricted_actions == []
        assert scanned.permissions_management_without_constraints == []


def test_the_linter_would_catch_a_decrypt_on_every_key() -> None:
    """The check above can fail: kms:Decrypt on '*' is what the ViaService-scoped grant avoids."""
    from cloudsplaining.scan.policy_document import PolicyDocument

    wide = PolicyDocument({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "*"}]})
    assert "kms:Decrypt" in wide.all_allowed_unrestricted_actions


@pytest.mark.parametrize("case", list(QUOTES))
def test_every_grant_is_explained_and_scoped(case: str) -> None:
    stack = _stack(QUOTES[case])
    assert grants.unexplained(stack) == []
    for doc in policies.inline_policies(stack).values():
        for statement in doc["Statement"]:
            for resource in statement["Resource"]:
                assert "*" not in resource.removesuffix(":*"), resource
                if "secretsmanager" in resource and not resource.endswith("-AbC123"):
                    assert resource.endswith(":secret:t1/api-key-??????")  # 6 chars, no more


def test_the_operator_policy_for_a_customer_key_is_scoped_and_lint_clean() -> None:
    from parliament import analyze_policy_string

    stack = _stack(QUOTES["secret-arn+kms"])
    doc = deployer.policy(stack)
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert "ApiKeyParameter" not in by_sid and "ApiKeyParameterKmsKey" not in by_sid
    assert by_sid["ApiKeySecret"]["Resource"] == [QUOTES["secret-arn+kms"]["api_key_secret"]]
    assert by_sid["ApiKeySecretKmsKey"] == {
        "Sid": "ApiKeySecretKmsKey", "Effect": "Allow",
        "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": [KEY],
        "Condition": {"StringEquals": {
            "kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}}}
    issues = {f.issue for f in analyze_policy_string(json.dumps(doc)).findings}
    assert issues == set()
