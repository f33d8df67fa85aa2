"""End to end through the installed command, a counting proxy and a moto server: `network:`
checked against AWS before any write (exit 2 naming what is wrong), and the whole lifecycle."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.awsproxy import AwsProxy
from tests.support.cli_helpers import direct, one_paragraph, writes
from tests.support.configs import MINIMAL, write_config
from tests.support.inventory import leftovers

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]
Cli = Callable[..., Any]


def _vpc(moto: str, cidr: str) -> tuple[str, list[str]]:
    ec2 = direct(moto, "ec2")  # straight to moto: the proxy counts only the command's calls
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    base = cidr.rsplit(".", 2)[0]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"{base}.{i}.0/24")["Subnet"]["SubnetId"]
               for i in range(2)]
    return vpc, subnets


def _config(tmp: Path, subnets: list[str], groups: list[str] | None = None) -> None:
    text = MINIMAL + f"network:\n  subnet_ids: [{', '.join(subnets)}]\n"
    if groups:
        text += f"  security_group_ids: [{', '.join(groups)}]\n"
    write_config(tmp, text)


def _refused(cli: Cli, proxy: AwsProxy, *words: str) -> None:
    for command in (["plan"], ["up"]):
        proxy.reset_calls()
        result = cli(*command)
        assert result.returncode == 2, (command, result.stderr)
        message = one_paragraph(result.stderr)
        for word in words:
            assert word in message, (word, message)
        assert writes(proxy) == [], command  # refused before anything was written


def test_unknown_subnet_exits_2_before_any_write(cli: Cli, aws_proxy: AwsProxy,
                                                 moto_server: str, tmp_path: Path) -> None:
    _, subnets = _vpc(moto_server, "10.1.0.0/16")
    _config(tmp_path, [subnets[0], "subnet-0123456789abcdef0"])
    _refused(cli, aws_proxy, "network.subnet_ids", "subnet-0123456789abcdef0", "us-east-1")


def test_subnets_of_two_vpcs_exit_2_naming_both(cli: Cli, aws_proxy: AwsProxy,
                                                moto_server: str, tmp_path: Path) -> None:
    vpc_a, subnets_a = _vpc(moto_server, "10.1.0.0/16")
    vpc_b, subnets_b = _vpc(moto_server, "10.2.0.0/16")
    _config(tmp_path, [subnets_a[0], subnets_b[0]])
    _refused(cli, aws_proxy, "network.subnet_ids", "different VPCs", vpc_a, vpc_b)


def test_a_group_of_another_vpc_exits_2(cli: Cli, aws_proxy: AwsProxy, moto_server: str,
                                        tmp_path: Path) -> None:
    vpc_a, subnets_a = _vpc(moto_server, "10.1.0.0/16")
    vpc_b, _ = _vpc(moto_server, "10.2.0.0/16")
    other = direct(moto_server, "ec2").create_security_group(
        GroupName="elsewhere", Description="x", VpcId=vpc_b)["GroupId"]
    _config(tmp_path, subnets_a, [other])
    _refused(cli, aws_proxy, "network.security_group_ids", other, vpc_b, vpc_a)


def test_an_unknown_group_exits_2(cli: Cli, aws_proxy: AwsProxy, moto_server: str,
                                  tmp_path: Path) -> None:
    _, subnets = _vpc(moto_server, "10.1.0.0/16")
    _config(tmp_path, subnets, ["sg-0123456789abcdef0"])
    _refused(cli, aws_proxy, "network.security_group_ids", "sg-0123456789abcdef0")


def test_lifecycle_up_noop_status_down(cli: Cli, aws_proxy: AwsProxy, moto_server: str,
                                       tmp_path: Path, inventory_now: Callable[[], Any]
                                       ) -> None:
    vpc, subnets = _vpc(moto_server, "10.1.0.0/16")
    _config(tmp_path, subnets)
    ec2 = direct(moto_server, "ec2")

    def ours() -> list[dict[str, Any]]:
        return ec2.describe_security_groups(Filters=[
            {"Name": "group-name", "Values": ["t1-fn-sg"]},
            {"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]

    assert cli("up").returncode == 0
    assert [c for c in writes(aws_proxy) if c.startswith("ec2:")] == [
        "ec2:CreateSecurityGroup", "ec2:AuthorizeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupEgress"]
    [group] = ours()
    assert [(p["IpProtocol"], p["FromPort"]) for p in group["IpPermissionsEgress"]] == [
        ("tcp", 443)]

    aws_proxy.reset_calls()
    assert cli("up").returncode == 0
    assert writes(aws_proxy) == []  # no-op up: zero writes

    status = cli("status", "--output", "json")
    assert status.returncode == 0, status.stderr
    rows = {r["kind"]: r for r in json.loads(status.stdout)["resources"]}
    assert rows["security-group"]["state"] == "in sync"
    assert rows["security-group"]["attributes"]["group_id"] == group["GroupId"]

    down = cli("down", "--yes")
    assert down.returncode == 0, down.stderr
    assert ours() == []
    assert leftovers(inventory_now()) == {}  # and nothing else of the stack either
    aws_proxy.reset_calls()
    assert cli("down", "--yes").returncode == 0
    assert writes(aws_proxy) == []
