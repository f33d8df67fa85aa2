"""Catalogue of real-AWS behaviours: the function's network (`network:`).

Shared by the network items of issue 20: a VPC in moto, a config with `network:`, and what EC2
and Lambda answer on real AWS where moto answers otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from provision.core import pipelines
from provision.core.plan import Op
from provision.features.security import deployer
from provision.features.security.deployer import operator_stack
from tests.real_aws.test_events import run_cli
from tests.real_aws.wire import Wire, every_session, form
from tests.real_aws.wire import _Raw as Raw
from tests.support.awsproxy import Error
from tests.support.cli_helpers import one_paragraph
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import FaultInjector, no_retry_backoff
from tests.support.inprocess import FakeClock, target

ROLE = "t1-us-east-1-role"  # the stack's role: IAM is global, so its name holds the Region


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws(), no_retry_backoff():
        yield


def ec2() -> Any:
    return boto3.client("ec2", region_name="us-east-1")


def dual_stack_subnet() -> tuple[str, str]:
    """(vpc, subnet) of a VPC with an Amazon-provided IPv6 block."""
    vpc = ec2().create_vpc(CidrBlock="10.1.0.0/16",
                           AmazonProvidedIpv6CidrBlock=True)["Vpc"]["VpcId"]
    subnet = ec2().create_subnet(VpcId=vpc, CidrBlock="10.1.0.0/24")["Subnet"]["SubnetId"]
    return vpc, subnet


def network_config(tmp: Path, subnet: str, extra: str = "", name: str = "config.yaml") -> Path:
    return write_config(tmp, MINIMAL + f"network:\n  subnet_ids: [{subnet}]\n{extra}", name)


def group_egress(vpc: str) -> list[dict[str, Any]]:
    [group] = ec2().describe_security_groups(Filters=[
        {"Name": "group-name", "Values": ["t1-fn-sg"]},
        {"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]
    return list(group["IpPermissionsEgress"])


# ---- 2. A new group in a VPC with IPv6 gets two allow-all egress rules ----------------------

# EC2 adds an allow-all egress rule to every new group, and in a VPC with an IPv6 CIDR block a
# second one to ::/0 (EC2 user guide, "Security group rules": "If your VPC has an associated
# IPv6 CIDR block, the default outbound rule also allows all IPv6 traffic";
# github.com/getmoto/moto/issues/2647, github.com/hashicorp/terraform-provider-aws/issues/
# 43279). moto reproduces it with AmazonProvidedIpv6CidrBlock=True. Revoking only the IPv4 rule
# left the 443-only group open to all IPv6 egress, and the next `up` wrote again.

def test_dual_stack_group_allows_only_443_and_the_next_up_writes_nothing(
        aws: None, tmp_path: Path) -> None:
    vpc, subnet = dual_stack_subnet()
    config = network_config(tmp_path, subnet)
    prepared, calls = target(config)
    pipelines.up(prepared)
    [egress] = group_egress(vpc)
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("tcp", 443, 443)
    assert egress["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}] and egress["Ipv6Ranges"] == []
    # Both default rules go in one revoke, after reading the new group back.
    assert [c for c in calls.writes() if c.startswith("ec2:")] == [
        "ec2:CreateSecurityGroup", "ec2:AuthorizeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupEgress"]

    again, calls = target(config)
    the_plan, done = pipelines.up(again)
    assert done == [] and calls.writes() == []
    assert {a.kind: a.op for a in the_plan.actions}["security-group"] is Op.NOOP


# ---- 4. Lambda checks the caller's own EC2 reads when VpcConfig is set -----------------------

# Lambda developer guide, "Giving Lambda functions access to resources in an Amazon VPC", "User
# permissions": ec2:DescribeSecurityGroups, ec2:DescribeSubnets and ec2:DescribeVpcs (the last
# added in github.com/awsdocs/aws-lambda-developer-guide/pull/3). Without one, CreateFunction /
# UpdateFunctionConfiguration answer 403 AccessDeniedException "Your access has been denied by
# EC2, please make sure your request credentials have permission to DescribeSecurityGroups for
# sg-... EC2 Error Code: UnauthorizedOperation. ..." (github.com/Miserlou/Zappa/issues/2151,
# github.com/serverless/serverless/issues/8209). moto checks nothing of the kind.
def lambda_denied(action: str, what: str) -> Error:
    return Error(403, "AccessDeniedException",
                 "Your access has been denied by EC2, please make sure your request "
                 f"credentials have permission to {action} for {what}. EC2 Error Code: "
                 "UnauthorizedOperation. EC2 Error Message: You are not authorized to perform "
                 "this operation.")


# EC2's own refusal names the action: "You are not authorized to perform this operation. User:
# arn:... is not authorized to perform: ec2:DescribeSubnets because no identity-based policy
# allows the ec2:DescribeSubnets action" (EC2 API reference, "Error codes",
# UnauthorizedOperation; the IAM user guide, "Troubleshoot access denied error messages").
EC2_DENIED = Error(403, "UnauthorizedOperation",
                   "You are not authorized to perform this operation. User: arn:aws:iam::"
                   "123456789012:user/op is not authorized to perform: ec2:DescribeSubnets "
                   "because no identity-based policy allows the ec2:DescribeSubnets action")
EC2_SCP = Error(403, "UnauthorizedOperation",
                "You are not authorized to perform this operation. User: arn:aws:iam::"
                "123456789012:user/op is not authorized to perform: ec2:DescribeSubnets with an "
                "explicit deny in a service control policy")


def test_deployer_policy_grants_and_explains_describe_vpcs(aws: None, tmp_path: Path) -> None:
    _, subnet = dual_stack_subnet()
    stack, _ = operator_stack(target(network_config(tmp_path, subnet))[0], "123456789012")
    [reads] = [s for s in deployer.policy(stack)["Statement"]
               if s.get("Sid") == "Ec2DescribeNoResourceLevel"]
    assert "ec2:DescribeVpcs" in reads["Action"] and reads["Resource"] == "*"
    rows = {row[0]: row for row in deployer.rows(stack)}
    assert "Lambda itself checks" in rows["ec2:DescribeVpcs"][3]


@pytest.mark.parametrize("action", ["DescribeVpcs", "DescribeSecurityGroups"])
def test_lambdas_ec2_refusal_names_the_ec2_action(aws: None, tmp_path: Path,
                                                  action: str) -> None:
    _, subnet = dual_stack_subnet()
    config = network_config(tmp_path, subnet)
    with FaultInjector().patch_globally() as faults:
        # the function's (in the VPC); the notifier, in none, is not checked (issue 21)
        faults.inject(lambda_denied(action, "vpc-0a1b2c3d"), "lambda", "CreateFunction",
                      times=None, function="t1")
        result = run_cli(config, FakeClock(), "up")
        sent = faults.count("lambda", "CreateFunction", "t1")
    assert result.exit_code == 1 and sent == 1  # a refusal: not retried
    message = one_paragraph(result.stderr)
    assert f"Grant ec2:{action} to the AWS identity running stock-alert" in message
    assert "deployer-policy" in message


@pytest.mark.parametrize(("error", "says"), [
    (EC2_DENIED, "grant ec2:DescribeSubnets to the AWS identity"),
    (EC2_SCP, "No Allow can override it, so granting the permission will not help"),
])
def test_ec2_refusal_names_the_action_or_the_deny(aws: None, tmp_path: Path, error: Error,
                                                  says: str) -> None:
    _, subnet = dual_stack_subnet()
    with FaultInjector().patch_globally() as faults:
        faults.inject(error, "ec2", "DescribeSubnets", times=None)
        result = run_cli(network_config(tmp_path, subnet), FakeClock(), "plan")
    assert result.exit_code == 1
    message = one_paragraph(result.stderr)
    assert says in message and "ec2:DescribeSubnets" in message
    if error is EC2_SCP:
        assert "grant ec2" not in message.lower()


# ---- 6. Lambda deletes the function's ENIs with the role, long after the function is gone ----

# Lambda deletes a VPC function's network interfaces itself, with the execution role, up to
# tens of minutes after the function is deleted or leaves the subnets (AWS Knowledge Center,
# "lambda-eni-find-delete"; github.com/terraform-aws-modules/terraform-aws-lambda/issues/310,
# github.com/hashicorp/terraform-provider-aws/issues/10044). Remove the role or narrow its ENI
# grant first, and the ENIs are stranded. moto makes no ENI for a function: EC2's
# DescribeNetworkInterfaces answer is injected (query protocol), the rest is moto's state.
EC2_XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/"


def enis_answer(request: Any, subnet: str, count: int) -> AWSResponse:
    items = "".join(
        f"<item><networkInterfaceId>eni-0{i}{'a' * 15}</networkInterfaceId>"
        f"<subnetId>{subnet}</subnetId><interfaceType>lambda</interfaceType>"
        f"<description>AWS Lambda VPC ENI-t1-{i}</description><status>in-use</status></item>"
        for i in range(count))
    body = (f'<DescribeNetworkInterfacesResponse xmlns="{EC2_XMLNS}"><requestId>r</requestId>'
            f"<networkInterfaceSet>{items}</networkInterfaceSet>"
            "</DescribeNetworkInterfacesResponse>").encode()
    return AWSResponse(request.url, 200, {"Content-Type": "text/xml"}, Raw(body))


class Held:
    """EC2 lists `count` ENIs of the function in `subnet` for the next `polls` reads (None:
    until told otherwise), then none; every DescribeNetworkInterfaces is recorded."""

    def __init__(self, subnet: str, polls: int | None, count: int = 2) -> None:
        self.subnet, self.polls, self.count, self.filters = subnet, polls, count, []
        self.wire = Wire()
        self.wire.answers["DescribeNetworkInterfaces"] = self.answer

    def answer(self, request: Any) -> AWSResponse:
        self.filters.append(form(request))
        listed = self.polls is None or self.polls > 0
        if self.polls:
            self.polls -= 1
        return enis_answer(request, self.subnet, self.count if listed else 0)


def role_policies() -> dict[str, str]:
    iam = boto3.client("iam")
    names = iam.list_role_policies(RoleName=ROLE)["PolicyNames"]
    return {n: json.dumps(iam.get_role_policy(RoleName=ROLE, PolicyName=n)
                          ["PolicyDocument"]) for n in names}


def given_group(vpc: str) -> str:
    return str(ec2().create_security_group(GroupName="mine", Description="mine",
                                           VpcId=vpc)["GroupId"])


def test_down_with_given_groups_keeps_the_role_until_the_enis_are_gone(
        aws: None, tmp_path: Path) -> None:
    vpc, subnet = dual_stack_subnet()
    config = network_config(tmp_path, subnet, f"  security_group_ids: [{given_group(vpc)}]\n")
    pipelines.up(target(config)[0])
    held = Held(subnet, polls=3)
    clock = FakeClock()
    with every_session(held.wire):
        result = run_cli(config, clock, "down", "--yes")
    assert result.exit_code == 0, result.output
    # Three reads listed ENIs (the observe phase's, then two polls), the fourth none; only
    # then were the role's grants removed.
    assert len(held.filters) == 4 and clock.sleeps == [10.0, 20.0]
    assert "interface-type" in held.filters[0] and "AWS+Lambda+VPC+ENI-t1%2A" in held.filters[0]
    assert "Lambda still holds 2 network interface(s) of function t1" in result.stderr
    assert boto3.client("iam").list_roles()["Roles"] == []


def test_the_role_wait_is_bounded_and_says_what_is_left(aws: None, tmp_path: Path) -> None:
    vpc, subnet = dual_stack_subnet()
    config = network_config(tmp_path, subnet, f"  security_group_ids: [{given_group(vpc)}]\n")
    pipelines.up(target(config)[0])
    clock = FakeClock()
    with every_session(Held(subnet, polls=None).wire):
        result = run_cli(config, clock, "down", "--yes")
    assert result.exit_code == 1
    assert 40 * 60 <= clock.now <= 45 * 60
    message = one_paragraph(result.stderr)
    assert f"role {ROLE} was kept" in message and "describe-network-interfaces" in message
    assert "t1-vpc-enis" in role_policies()  # the grant Lambda needs is still there


def test_removing_network_keeps_the_eni_grant_until_the_enis_are_gone(
        aws: None, tmp_path: Path) -> None:
    _, subnet = dual_stack_subnet()
    config = network_config(tmp_path, subnet)
    pipelines.up(target(config)[0])
    plain = write_config(tmp_path, MINIMAL, "plain.yaml")
    held = Held(subnet, polls=None)
    with every_session(held.wire):
        prepared, _ = target(plain)
        the_plan, _ = pipelines.up(prepared)
        role = {a.kind: a for a in the_plan.actions}["role"]
        assert "t1-vpc-enis" in role_policies()  # Lambda still needs it
        assert any("t1-vpc-enis keeps subnets" in n for n in role.notes)
    assert (boto3.client("lambda", region_name="us-east-1").get_function(
        FunctionName="t1")["Configuration"].get("VpcConfig") or {}).get("SubnetIds", []) == []
    # Once EC2 lists none, the next up removes the grant, and the one after writes nothing.
    pipelines.up(target(plain)[0])
    assert "t1-vpc-enis" not in role_policies()
    again, calls = target(plain)
    pipelines.up(again)
    assert calls.writes() == []


def test_changing_subnets_keeps_the_old_subnets_in_the_grant_until_their_enis_go(
        aws: None, tmp_path: Path) -> None:
    vpc, old = dual_stack_subnet()
    new = ec2().create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    pipelines.up(target(network_config(tmp_path, old))[0])
    moved = network_config(tmp_path, new, name="moved.yaml")
    with every_session(Held(old, polls=None).wire):
        pipelines.up(target(moved)[0])
    grant = role_policies()["t1-vpc-enis"]
    assert f"subnet/{old}" in grant and f"subnet/{new}" in grant  # widened, not narrowed
    pipelines.up(target(moved)[0])  # EC2 lists none now
    grant = role_policies()["t1-vpc-enis"]
    assert f"subnet/{old}" not in grant and f"subnet/{new}" in grant
    again, calls = target(moved)
    pipelines.up(again)
    assert calls.writes() == []
