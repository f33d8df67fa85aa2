"""`network:` against AWS, and the function's VpcConfig (issue 12).

`check_network` runs in the observe phase, before any write, so `plan` reports the same
problems as `up`: every subnet and given group exists in the stack's region and all are in one
VPC (DescribeSubnets / DescribeSecurityGroups; their documented not-found codes are
InvalidSubnetID.NotFound and InvalidGroup.NotFound, EC2 API "Error codes").

The function's wanted VpcConfig names the group stock-alert makes (its id is unknown until it
exists); `seen_vpc` and `vpc_params` translate between that name and the id.
"""

from __future__ import annotations

import re
from typing import Any

from provision.aws.client import Aws
from provision.core.stack import STACK_TAG, Stack
from provision.errors import AwsError, InputError
from provision.kinds.tags import from_list

GROUP_ID = re.compile(r"sg-[0-9a-f]{8,17}\Z")


# the network checks (observe phase) --------------------------------------------------------
def check_network(aws: Aws, subnet_ids: tuple[str, ...], given_ids: tuple[str, ...]) -> str:
    """The subnets' one VPC, after checking that the subnets and the given groups exist in
    this region and all belong to it; InputError (exit 2) naming what is wrong otherwise."""
    subnets = _described(aws, "describe_subnets", "Subnets", "subnet-id", "SubnetId",
                         "subnet_ids", subnet_ids)
    vpcs = {s["SubnetId"]: s["VpcId"] for s in subnets}
    if len(set(vpcs.values())) > 1:
        where = ", ".join(f"{s} in {v}" for s, v in sorted(vpcs.items()))
        raise InputError(f"network.subnet_ids: the subnets belong to different VPCs ({where}).",
                         hint="A Lambda function attaches to one VPC: list subnets of one VPC.")
    vpc = next(iter(vpcs.values()))
    if given_ids:
        groups = _described(aws, "describe_security_groups", "SecurityGroups", "group-id",
                            "GroupId", "security_group_ids", given_ids)
        elsewhere = sorted(f"{g['GroupId']} is in {g.get('VpcId')}" for g in groups
                           if g.get("VpcId") != vpc)
        if elsewhere:
            raise InputError(f"network.security_group_ids: {'; '.join(elsewhere)}, but the "
                             f"subnets are in {vpc}.",
                             hint="Lambda needs the groups in the subnets' VPC: list groups of "
                             f"{vpc}, or leave security_group_ids out to let stock-alert make "
                             "one.")
    return vpc


def _described(aws: Aws, operation: str, key: str, name: str, id_key: str, where: str,
               ids: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every one of `ids`, read with an id filter: unlike the ids parameter (one
    InvalidSubnetID.NotFound / InvalidGroup.NotFound for the whole call), a filter answers with
    what exists, so the message can name exactly the ids that do not."""
    found = [item for page in aws.pages("ec2", operation,
                                        Filters=[{"Name": name, "Values": list(ids)}])
             for item in page.get(key, [])]
    missing = [i for i in ids if i not in {item[id_key] for item in found}]
    if missing:
        raise InputError(
            f"network.{where}: {', '.join(missing)} not found in region {aws.region}.",
            hint=f"Check the id; it must exist in the stack's region {aws.region} (an id from "
            "another region or account is not found here).")
    return found


# the function's VpcConfig ------------------------------------------------------------------
def vpc_setting(stack: Stack) -> dict[str, list[str]] | None:
    """The function's wanted VpcConfig, None outside a VPC. The group stock-alert makes is
    named, not its id (unknown until it exists): `seen_vpc` and `vpc_params` translate."""
    net = stack.config.network
    if net is None:
        return None
    groups = list(net.security_group_ids) or [stack.security_group_name]
    return {"SubnetIds": sorted(net.subnet_ids), "SecurityGroupIds": sorted(groups)}


def plain_vpc(config: dict[str, Any] | None) -> dict[str, list[str]] | None:
    """Lambda's VpcConfig as ids only; None when the function is in no VPC (GetFunction leaves
    VpcConfig out, or, after a detach, answers it with empty lists)."""
    config = config or {}
    subnets, groups = config.get("SubnetIds") or [], config.get("SecurityGroupIds") or []
    if not subnets and not groups:
        return None
    return {"SubnetIds": sorted(subnets), "SecurityGroupIds": sorted(groups)}


def seen_vpc(aws: Aws, wanted: dict[str, list[str]] | None, seen: dict[str, list[str]],
             stack_name: str) -> dict[str, list[str]]:
    """The function's observed VpcConfig with our group's id replaced by its name, read by id
    (one call, only when the function uses groups the config does not name by id)."""
    want = wanted["SecurityGroupIds"] if wanted else []
    names = [g for g in want if not GROUP_ID.match(g)]
    unknown = [g for g in seen["SecurityGroupIds"] if g not in want]
    if not names or not unknown:
        return seen
    try:
        groups = aws.call("ec2", "describe_security_groups", GroupIds=unknown)["SecurityGroups"]
    except AwsError as err:
        if err.code != "InvalidGroup.NotFound":
            raise
        return seen
    rename = {g["GroupId"]: g["GroupName"] for g in groups if g["GroupName"] in names
              and from_list(g.get("Tags")).get(STACK_TAG) == stack_name}
    return {**seen, "SecurityGroupIds": sorted(rename.get(g, g)
                                               for g in seen["SecurityGroupIds"])}


def vpc_params(aws: Aws, params: dict[str, Any]) -> dict[str, Any]:
    """Lambda's parameters with our group's name in VpcConfig replaced by its id."""
    vpc = params.get("VpcConfig")
    if not vpc:
        return params
    ids = [g if GROUP_ID.match(g) else _group_id(aws, g) for g in vpc["SecurityGroupIds"]]
    return {**params, "VpcConfig": {**vpc, "SecurityGroupIds": ids}}


def _group_id(aws: Aws, name: str) -> str:
    """The id of the group this run read or made, as that account and Region's Aws learnt it
    (kinds/security_group.py remembers it)."""
    known = aws.learnt.recall("security-group", name)
    if known:
        return known
    raise AwsError(f"security group {name} was not found while configuring the function.",
                   hint="Run 'up' again: it makes the group before the function.")
