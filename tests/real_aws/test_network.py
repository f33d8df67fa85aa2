"""Catalogue of real-AWS behaviours: the function's network (`network:`).

Shared by the network items of issue 20: a VPC in moto, a config with `network:`, and what EC2
and Lambda answer on real AWS where moto answers otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from provision import pipelines
from provision.plan import Op
from provision.security import deployer, network_deployer
from provision.security.deployer import operator_stack
from tests.real_aws.test_events import run_cli
from tests.support.awsproxy import Error
from tests.support.cli_helpers import one_paragraph
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import FaultInjector, no_retry_backoff
from tests.support.inprocess import FakeClock, target


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
    rows = {row[0]: row for row in network_deployer.rows(stack)}
    assert "Lambda itself checks" in rows["ec2:DescribeVpcs"][3]


@pytest.mark.parametrize("action", ["DescribeVpcs", "DescribeSecurityGroups"])
def test_lambdas_ec2_refusal_names_the_ec2_action(aws: None, tmp_path: Path,
                                                  action: str) -> None:
    _, subnet = dual_stack_subnet()
    config = network_config(tmp_path, subnet)
    with FaultInjector().patch_globally() as faults:
        faults.inject(lambda_denied(action, "vpc-0a1b2c3d"), "lambda", "CreateFunction",
                      times=None)
        result = run_cli(config, FakeClock(), "up")
        sent = faults.count("lambda", "CreateFunction")
    assert result.exit_code == 1 and sent == 1  # a refusal: not retried
    message = one_paragraph(result.stderr)
    assert f"Grant ec2:{action} to the AWS identity running stock-alert" in message
    assert "deployer-policy" in message


@pytest.mark.parametrize(("error", "says"), [
    (EC2_DENIED, "Grant ec2:DescribeSubnets to the AWS identity"),
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
        assert "Grant " not in message
