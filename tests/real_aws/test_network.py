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
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import no_retry_backoff
from tests.support.inprocess import target


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
