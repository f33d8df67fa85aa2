"""Real SNS behaviours around the topic access policy that moto does not reproduce, injected as
SNS answers them (query protocol XML through botocore's before-send), with their sources."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from provision.core import pipelines
from provision.core.target import Target
from provision.errors import AwsError
from tests.support.awsproxy import Error
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import FaultInjector, no_retry_backoff
from tests.support.inprocess import FakeClock, target

TOPIC = "arn:aws:sns:us-east-1:123456789012:t1-alerts"
ROLE_ARN = "arn:aws:iam::123456789012:role/t1-us-east-1-role"
# SNS validates each principal of a topic policy against IAM. A role created moments earlier is
# not visible to SNS yet, and CreateTopic/SetTopicAttributes answer 400 InvalidParameter
# "Invalid parameter: Policy Error: PrincipalNotFound"
# (github.com/hashicorp/terraform-provider-aws/issues/26041, also hashicorp/terraform#31538;
# botocore's sns model lists InvalidParameterException, code "InvalidParameter", for both).
PRINCIPAL_NOT_FOUND = Error(400, "InvalidParameter",
                            "Invalid parameter: Policy Error: PrincipalNotFound")


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws(), no_retry_backoff():
        yield write_config(tmp_path, MINIMAL)


def _faulty(config: Path, clock: FakeClock, deadline_s: float = 300.0,
            ) -> tuple[Target, FaultInjector]:
    prepared, _ = target(config, clock, deadline_s)
    injector = FaultInjector()
    injector.attach_session(prepared.aws)
    return prepared, injector


def _writes(config: Path) -> list[str]:
    prepared, calls = target(config)
    pipelines.up(prepared)
    return calls.writes()


def test_create_topic_waits_for_the_new_role_to_reach_sns(config: Path) -> None:
    clock = FakeClock()
    prepared, faults = _faulty(config, clock)
    faults.inject(PRINCIPAL_NOT_FOUND, "sns", "CreateTopic", times=5)
    pipelines.up(prepared)
    assert faults.count("sns", "CreateTopic") == 6  # 5 refusals, then created
    assert prepared.aws.retry.attempts["sns:create_topic"] == 6
    assert len(clock.sleeps) == 5 and max(clock.sleeps) <= 2.0  # capped backoff, no fixed sleep
    print(f"PrincipalNotFound x5: waited {clock.now:.2f}s (fake clock) over 6 attempts")
    assert "Policy" in boto3.client("sns").get_topic_attributes(TopicArn=TOPIC)["Attributes"]
    assert _writes(config) == []


def test_set_topic_attributes_also_waits(config: Path) -> None:
    assert _writes(config)  # the stack exists
    boto3.client("sns").set_topic_attributes(TopicArn=TOPIC, AttributeName="Policy",
                                             AttributeValue=json.dumps({"Statement": []}))
    clock = FakeClock()
    prepared, faults = _faulty(config, clock)
    faults.inject(PRINCIPAL_NOT_FOUND, "sns", "SetTopicAttributes", times=3)
    pipelines.up(prepared)
    assert faults.count("sns", "SetTopicAttributes") == 4 and len(clock.sleeps) == 3
    assert _writes(config) == []


def test_a_principal_that_never_appears_stops_at_the_deadline(config: Path) -> None:
    clock = FakeClock()
    prepared, faults = _faulty(config, clock, deadline_s=60)
    faults.inject(PRINCIPAL_NOT_FOUND, "sns", "CreateTopic", times=None)
    with pytest.raises(AwsError, match="PrincipalNotFound"):
        pipelines.up(prepared)
    assert 60 <= clock.now <= 62
    assert 30 <= faults.count("sns", "CreateTopic") <= 300  # bounded, not a tight loop
    # What was made before the topic stays; the next 'up' continues from there.
    assert _writes(config)[0] == "sns:CreateTopic"


def test_policy_naming_a_recreated_role_by_its_old_unique_id_is_rewritten(config: Path,
                                                                         ) -> None:
    """When a role named in a resource policy is deleted, AWS shows the principal as the old
    role's unique ID (AROA...), and re-creating the role does not restore it
    (github.com/hashicorp/terraform-provider-aws/issues/38178; IAM User Guide, "Principals":
    "If you delete the role and re-create it, the new role has a new unique ID"). moto keeps
    the ARN, so the answer is edited to what AWS shows."""
    _writes(config)
    prepared, calls = target(config)

    def as_aws_shows_it(parsed: dict[str, Any], **_: Any) -> None:
        attrs = parsed.get("Attributes", {})
        if "Policy" in attrs:
            attrs["Policy"] = attrs["Policy"].replace(ROLE_ARN, "AROAEXAMPLEOLDROLEID1")

    prepared.aws.events.register("after-call.sns.GetTopicAttributes", as_aws_shows_it)
    pipelines.up(prepared)
    assert calls.writes() == ["sns:SetTopicAttributes"]
    assert _writes(config) == []


def test_equivalent_spellings_of_principals_are_not_drift(config: Path) -> None:
    """AWS may answer a resource policy with equivalent principals spelt differently from what
    was written: "*" as {"AWS": "*"} (the same principal, IAM User Guide, "AWS JSON policy
    elements: Principal", anonymous/all principals) and an account as its ID instead of its
    root ARN (same page, "AWS account principals"). Terraform compares SNS policies for
    equivalence for this reason (aws_sns_topic's policy diff suppression). The answer is
    edited to that spelling: a no-op 'up' must stay a no-op."""
    _writes(config)
    prepared, calls = target(config)

    def respelt(parsed: dict[str, Any], **_: Any) -> None:
        attrs = parsed.get("Attributes", {})
        if "Policy" in attrs:
            policy = json.loads(attrs["Policy"])
            for statement in policy["Statement"]:
                if statement["Principal"] == "*":
                    statement["Principal"] = {"AWS": "*"}
                elif statement["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}:
                    statement["Principal"] = {"AWS": "123456789012"}
            attrs["Policy"] = json.dumps(policy, indent=2)

    prepared.aws.events.register("after-call.sns.GetTopicAttributes", respelt)
    pipelines.up(prepared)
    assert calls.writes() == []
