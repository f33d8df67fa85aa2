"""moto in-process: `network:` end to end (issue 12): the function in a VPC behind a group
that allows outbound 443 only, ownership of that group, drift and crash repair, and `down`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from provision.core import pipelines
from provision.core.plan import Mode, Op
from provision.errors import ConflictError
from tests.support.configs import MINIMAL, write_config
from tests.support.inprocess import target

ALLOW_ALL = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def ec2() -> Any:
    return boto3.client("ec2", region_name="us-east-1")


def make_vpc(cidr: str = "10.1.0.0/16", subnets: int = 2) -> tuple[str, list[str]]:
    vpc = ec2().create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    base = cidr.rsplit(".", 2)[0]
    ids = [ec2().create_subnet(VpcId=vpc, CidrBlock=f"{base}.{i}.0/24",
                               AvailabilityZone=f"us-east-1{'ab'[i % 2]}")["Subnet"]["SubnetId"]
           for i in range(subnets)]
    return vpc, ids


def network_config(tmp: Path, subnets: list[str], groups: list[str] | None = None,
                   egress: list[str] | None = None, name: str = "config.yaml") -> Path:
    lines = [f"network:\n  subnet_ids: [{', '.join(subnets)}]"]
    if groups:
        lines.append(f"  security_group_ids: [{', '.join(groups)}]")
    if egress:
        lines.append(f"  egress_cidrs: [{', '.join(egress)}]")
    return write_config(tmp, MINIMAL + "\n".join(lines) + "\n", name)


def group(vpc: str, name: str = "t1-fn-sg") -> dict[str, Any] | None:
    found = ec2().describe_security_groups(Filters=[
        {"Name": "group-name", "Values": [name]}, {"Name": "vpc-id", "Values": [vpc]}])
    return (found["SecurityGroups"] or [None])[0]


def vpc_config() -> dict[str, Any]:
    conf = boto3.client("lambda", region_name="us-east-1").get_function(
        FunctionName="t1")["Configuration"]
    return conf.get("VpcConfig") or {}


def test_up_attaches_the_function_behind_a_443_only_group(aws: None, tmp_path: Path) -> None:
    vpc, subnets = make_vpc()
    config = network_config(tmp_path, subnets, egress=["0.0.0.0/0", "2001:db8::/32"])
    prepared, calls = target(config)
    pipelines.up(prepared)

    made = group(vpc)
    assert made is not None
    assert made["IpPermissions"] == []  # no inbound rule at all
    [egress] = made["IpPermissionsEgress"]  # the default allow-all rule is gone
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("tcp", 443, 443)
    assert egress["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    assert egress["Ipv6Ranges"] == [{"CidrIpv6": "2001:db8::/32"}]
    tags = {t["Key"]: t["Value"] for t in made["Tags"]}
    assert tags["managed-by"] == "stock-alert" and tags["stock-alert:stack"] == "t1"
    attached = vpc_config()
    assert sorted(attached["SubnetIds"]) == sorted(subnets)
    assert attached["SecurityGroupIds"] == [made["GroupId"]]
    # The group: one create (tagged in the same call), the 443 rule, and revoking EC2's
    # default allow-all rule (a real extra write).
    ec2_writes = [c for c in calls.writes() if c.startswith("ec2:")]
    assert ec2_writes == ["ec2:CreateSecurityGroup", "ec2:AuthorizeSecurityGroupEgress",
                          "ec2:RevokeSecurityGroupEgress"]

    again, calls = target(config)
    the_plan, done = pipelines.up(again)
    assert done == [] and calls.writes() == []  # a no-op second up writes nothing
    assert {a.kind: a.op for a in the_plan.actions}["security-group"] is Op.NOOP


def test_down_removes_the_group_and_a_second_down_finds_nothing(aws: None,
                                                                tmp_path: Path) -> None:
    vpc, subnets = make_vpc()
    config = network_config(tmp_path, subnets)
    pipelines.up(target(config)[0])
    prepared, _ = target(config)
    the_plan, _ = pipelines.plan(prepared, mode=Mode.DOWN)
    done = pipelines.down(prepared, the_plan)
    assert "security-group" in [a.kind for a in done]
    assert group(vpc) is None
    the_plan, _ = pipelines.plan(target(config)[0], mode=Mode.DOWN)
    assert [a.kind for a in the_plan.actions if a.writes] == []


def test_a_foreign_group_of_the_same_name_is_refused(aws: None, tmp_path: Path) -> None:
    vpc, subnets = make_vpc()
    foreign = ec2().create_security_group(GroupName="t1-fn-sg", Description="theirs",
                                          VpcId=vpc)["GroupId"]
    prepared, calls = target(network_config(tmp_path, subnets))
    with pytest.raises(ConflictError) as err:
        pipelines.up(prepared)
    assert "security-group t1-fn-sg" in str(err.value)
    assert calls.writes() == []
    # down leaves it alone
    the_plan, _ = pipelines.plan(prepared, mode=Mode.DOWN)
    pipelines.down(prepared, the_plan)
    assert group(vpc)["GroupId"] == foreign  # type: ignore[index]


def test_drifted_rules_are_repaired(aws: None, tmp_path: Path) -> None:
    vpc, subnets = make_vpc()
    config = network_config(tmp_path, subnets)
    pipelines.up(target(config)[0])
    gid = group(vpc)["GroupId"]  # type: ignore[index]
    ec2().authorize_security_group_ingress(GroupId=gid, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2().authorize_security_group_egress(GroupId=gid, IpPermissions=[ALLOW_ALL])
    ec2().revoke_security_group_egress(GroupId=gid, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
        "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])

    status = {r.kind: r for r in pipelines.status(target(config)[0])[1]}["security-group"]
    assert set(status.drift) == {"egress tcp/443 to 0.0.0.0/0", "egress all to 0.0.0.0/0",
                                 "ingress tcp/22 to 0.0.0.0/0"}
    pipelines.up(target(config)[0])
    repaired = group(vpc)
    assert repaired["IpPermissions"] == []  # type: ignore[index]
    [egress] = repaired["IpPermissionsEgress"]  # type: ignore[index]
    assert egress["FromPort"] == 443
    _, calls = target(config)
    pipelines.up(_)
    assert calls.writes() == []


def test_a_group_made_but_not_yet_narrowed_converges(aws: None, tmp_path: Path) -> None:
    """A crash after CreateSecurityGroup: the group exists, tagged, with EC2's allow-all
    egress and no 443 rule. The next 'up' narrows it and attaches the function."""
    vpc, subnets = make_vpc()
    config = network_config(tmp_path, subnets)
    prepared, _ = target(config)
    stack = pipelines.connect(prepared, with_code=True)
    ec2().create_security_group(
        GroupName="t1-fn-sg", Description="stock-alert", VpcId=vpc, TagSpecifications=[{
            "ResourceType": "security-group",
            "Tags": [{"Key": k, "Value": v} for k, v in stack.tags.items()]}])
    the_plan, _ = pipelines.up(target(config)[0])
    action = {a.kind: a for a in the_plan.actions}["security-group"]
    assert action.op is Op.UPDATE
    [egress] = group(vpc)["IpPermissionsEgress"]  # type: ignore[index]
    assert egress["FromPort"] == 443
    assert vpc_config()["SecurityGroupIds"] == [group(vpc)["GroupId"]]  # type: ignore[index]


def test_given_groups_are_used_and_no_group_is_made(aws: None, tmp_path: Path) -> None:
    vpc, subnets = make_vpc()
    mine = ec2().create_security_group(GroupName="db-clients", Description="x",
                                       VpcId=vpc)["GroupId"]
    config = network_config(tmp_path, subnets, groups=[mine])
    prepared, calls = target(config)
    pipelines.up(prepared)
    assert group(vpc) is None
    assert not [c for c in calls.writes() if c.startswith("ec2:")]
    assert vpc_config()["SecurityGroupIds"] == [mine]
    _, calls = target(config)
    pipelines.up(_)
    assert calls.writes() == []


def test_removing_network_detaches_the_function(aws: None, tmp_path: Path) -> None:
    vpc, subnets = make_vpc()
    pipelines.up(target(network_config(tmp_path, subnets))[0])
    plain = write_config(tmp_path, MINIMAL, "plain.yaml")
    prepared, calls = target(plain)
    the_plan, _ = pipelines.up(prepared)
    function = {a.kind: a for a in the_plan.actions}["function"]
    assert [c.field for c in function.changes if c.field != "applied"] == ["vpc"]
    assert vpc_config().get("SubnetIds", []) == []
    assert vpc_config().get("SecurityGroupIds", []) == []
    # One EC2 read: the role still had its ENI grant, which stays while Lambda holds ENIs of
    # the function (tests/real_aws/test_network.py); the group it leaves is said, and 'down'
    # finds it; then no network: no EC2 call at all.
    assert [c for c in calls.calls if c.startswith("ec2:")] == ["ec2:DescribeNetworkInterfaces"]
    group_row = {a.kind: a for a in the_plan.actions}["security-group"]
    assert "'down' deletes any group an earlier network: left" in group_row.reason
    _, calls = target(plain)
    pipelines.up(_)
    assert calls.writes() == []
    assert not [c for c in calls.calls if c.startswith("ec2:")]
    # issue 19: down with the config that no longer has network: still deletes the group
    prepared, _ = target(plain)
    teardown, _ = pipelines.plan(prepared, mode=Mode.DOWN)
    pipelines.down(prepared, teardown)
    assert group(vpc) is None
