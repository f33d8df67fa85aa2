"""Pure: the role's ENI permissions with `network:` (issue 12): exactly Lambda's VPC actions,
scoped to the config's subnets and groups, and '*' only for the two Describe calls, alone.

Sources: Lambda Developer Guide, "Giving Lambda functions access to resources in an Amazon VPC"
(the execution role needs ec2:CreateNetworkInterface, DescribeNetworkInterfaces,
DescribeSubnets, DeleteNetworkInterface, AssignPrivateIpAddresses, UnassignPrivateIpAddresses;
AWSLambdaVPCAccessExecutionRole is the managed equivalent); resource types and condition keys
from the Service Authorization Reference (parliament's bundled copy, checked below).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from provision.config.model import Config
from provision.core import policies
from provision.core.stack import Stack
from provision.features.security import grants

ACCOUNT = "123456789012"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
GIVEN = "sg-0123456789abcdef0"
LAMBDA_VPC_ACTIONS = {"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
                      "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
                      "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}


def _stack(**network: Any) -> Stack:
    data: dict[str, Any] = {"name": "t1", "stocks": ["TSLA"]}
    if network:
        data["network"] = network
    return Stack(Config.model_validate(data), ACCOUNT, "eu-west-1")


def _arn(resource: str) -> str:
    return f"arn:aws:ec2:eu-west-1:{ACCOUNT}:{resource}"


MADE = _stack(subnet_ids=SUBNETS)
GIVEN_GROUP = _stack(subnet_ids=SUBNETS, security_group_ids=[GIVEN])


def _statements(stack: Stack) -> dict[str, dict[str, Any]]:
    doc = policies.inline_policies(stack)["t1-vpc-enis"]
    return {s["Sid"]: s for s in doc["Statement"]}


def test_no_network_no_ec2_grant() -> None:
    assert "t1-vpc-enis" not in policies.inline_policies(_stack())
    assert not [a for a, _ in grants.planned_pairs(_stack()) if a.startswith("ec2:")]


def test_exactly_lambdas_vpc_actions_scoped_to_the_subnets_and_our_group() -> None:
    found = _statements(MADE)
    assert {a for s in found.values() for a in s["Action"]} == LAMBDA_VPC_ACTIONS
    subnets = [_arn(f"subnet/{s}") for s in SUBNETS]
    assert found["CreateEnisInOwnSubnets"]["Resource"] == [_arn("network-interface/*"),
                                                            *subnets]
    assert "Condition" not in found["CreateEnisInOwnSubnets"]
    # the group stock-alert makes has no id yet when the role is written: by its stack tag
    assert found["CreateEnisWithOwnGroup"]["Resource"] == [
        _arn("network-interface/*"), *subnets, _arn("security-group/*")]
    assert found["CreateEnisWithOwnGroup"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/stock-alert:stack": "t1"}}
    manage = found["ManageEnisInOwnSubnets"]
    assert manage["Resource"] == [_arn("network-interface/*")]
    assert manage["Condition"] == {"ArnEquals": {"ec2:Subnet": subnets}}


def test_given_groups_are_named_by_arn_and_no_tag_grant() -> None:
    found = _statements(GIVEN_GROUP)
    assert "CreateEnisWithOwnGroup" not in found
    assert _arn(f"security-group/{GIVEN}") in found["CreateEnisInOwnSubnets"]["Resource"]


@pytest.mark.parametrize("stack", [MADE, GIVEN_GROUP], ids=["made-group", "given-group"])
def test_star_only_for_the_two_describe_calls_alone(stack: Stack) -> None:
    """The Describe* exception, precisely: one statement, exactly these two actions, '*' alone;
    no other statement of any policy names '*' or a wildcard action."""
    star = [(name, s) for name, doc in policies.inline_policies(stack).items()
            for s in doc["Statement"] if "*" in s["Resource"]]
    assert [(n, s["Sid"], s["Action"], s["Resource"]) for n, s in star] == [
        ("t1-vpc-enis", "DescribeHasNoResourceLevel",
         ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], ["*"])]
    assert "Condition" not in star[0][1]
    for doc in policies.inline_policies(stack).values():
        for statement in doc["Statement"]:
            assert all("*" not in a for a in statement["Action"])
            assert all(ACCOUNT in r for r in statement["Resource"] if r != "*")


def test_the_sar_gives_describe_no_resource_type_and_scoped_ones_theirs() -> None:
    """Why '*' is unavoidable for exactly those two, and the scoped ones name real types."""
    from parliament import iam_definition

    ec2 = next(s for s in iam_definition if s["prefix"] == "ec2")
    types = {p["privilege"]: {r["resource_type"].rstrip("*") for r in p["resource_types"]} - {""}
             for p in ec2["privileges"]}
    assert types["DescribeNetworkInterfaces"] == set() and types["DescribeSubnets"] == set()
    assert types["CreateNetworkInterface"] >= {"network-interface", "subnet", "security-group"}
    for action in ("DeleteNetworkInterface", "AssignPrivateIpAddresses",
                   "UnassignPrivateIpAddresses"):
        assert types[action] == {"network-interface"}


@pytest.mark.parametrize("stack", [MADE, GIVEN_GROUP], ids=["made-group", "given-group"])
def test_parliament_and_cloudsplaining_find_nothing_but_the_describe_exception(
        stack: Stack) -> None:
    from cloudsplaining.scan.policy_document import PolicyDocument
    from parliament import analyze_policy_string, enhance_finding

    for name, doc in policies.inline_policies(stack).items():
        result = analyze_policy_string(json.dumps(doc), include_community_auditors=True)
        assert [enhance_finding(f).issue for f in result.findings] == [], name
        scanned = PolicyDocument(doc)
        assert scanned.permissions_management_without_constraints == []
        # cloudsplaining leaves out actions that have no resource type (the two Describe
        # calls): zero findings; the '*' exception is asserted by our own test above.
        assert scanned.all_allowed_unrestricted_actions == [], name
    wide = PolicyDocument({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["ec2:CreateNetworkInterface"], "Resource": "*"}]})
    assert wide.all_allowed_unrestricted_actions == ["ec2:CreateNetworkInterface"]  # can fail


def test_permissions_table_explains_every_ec2_grant_and_the_star() -> None:
    assert grants.unexplained(MADE) == []
    docs = policies.inline_policies(MADE)
    rows = {(g.action, g.resource): g for g in grants.rows(docs, MADE)}
    for action in policies.VPC_DESCRIBE:
        row = rows[(action, "*")]
        assert row.planned and row.why and "Resource '*'" in row.why
    assert not [r for (a, res), r in rows.items() if res == "*" and a not in
                policies.VPC_DESCRIBE]
