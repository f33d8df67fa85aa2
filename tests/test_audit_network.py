"""`audit` right after `up` with `network:` (issue 19): the role's own intended grants (the two
EC2 Describe actions IAM authorises only on '*') are no finding; a wildcard anyone else adds
still is."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from provision.core import pipelines
from tests.support.audit import run_audit
from tests.support.configs import MINIMAL, write_config
from tests.support.inprocess import target

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.0.0/24",
                                   AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
        path = write_config(tmp_path, MINIMAL + f"network:\n  subnet_ids: [{subnet}]\n")
        pipelines.up(target(path)[0])
        yield path


def test_audit_is_clean_right_after_up_with_network(config: Path) -> None:
    code, findings = run_audit(config)
    assert [f for f in findings if f["rule"] == "wildcard-grant"] == []
    assert (code, findings) == (0, [])


def test_a_wildcard_added_to_the_tools_own_policy_is_still_found(config: Path) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    role, policy = "t1-us-east-1-role", "t1-vpc-enis"
    document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
    document["Statement"].append({"Effect": "Allow", "Action": "ec2:*", "Resource": "*"})
    iam.put_role_policy(RoleName=role, PolicyName=policy, PolicyDocument=json.dumps(document))
    code, findings = run_audit(config)
    wild = [f["detail"] for f in findings if f["rule"] == "wildcard-grant"]
    assert code == 1 and wild == [f"policy {policy} allows ec2:* on *"]
