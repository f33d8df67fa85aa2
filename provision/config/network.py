"""`network:`: attach the function to a VPC (syntax only; AWS is asked in the observe phase).

    network:
      subnet_ids: [subnet-0abc..., subnet-0def...]   # private subnets of one VPC, with a NAT route
      security_group_ids: [sg-0123...]               # optional: use these groups as they are
      egress_cidrs: [0.0.0.0/0]                      # optional: where the made group allows 443

Without security_group_ids, 'up' makes `<name>-fn-sg` in the subnets' VPC: no inbound rule,
outbound TCP 443 only, to egress_cidrs. Limits are Lambda's VpcConfig limits (botocore model:
SubnetIds at most 16, SecurityGroupIds at most 5).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from provision.config.validators import shown

SUBNETS_MAX = 16
GROUPS_MAX = 5
CIDRS_MAX = 50  # EC2's default quota of outbound rules per security group is 60
DEFAULT_EGRESS = ("0.0.0.0/0",)
_SUBNET = re.compile(r"subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?", re.ASCII)
_GROUP = re.compile(r"sg-[0-9a-f]{8}(?:[0-9a-f]{9})?", re.ASCII)


def _ids(where: str, items: tuple[str, ...], pattern: re.Pattern[str],
         example: str) -> tuple[str, ...]:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not pattern.fullmatch(item):
            raise ValueError(f"item {index}, {shown(item)}, is not a {where} id; "
                             f"copy it from the VPC console or the AWS CLI, like {example}")
        if item in seen:
            raise ValueError(f"item {index}, {shown(item)}, is listed twice; list it once")
        seen.add(item)
    return items


def check_cidr(index: int, text: str) -> str:
    """One egress CIDR, IPv4 or IPv6, written exactly as its network (no host bits)."""
    where = f"item {index}"
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"{where}: {shown(text)} is not a CIDR block; write an address and "
                         "a prefix length, like 0.0.0.0/0 or 203.0.113.0/24") from None
    if "/" not in text:
        raise ValueError(f"{where}: {shown(text)} has no prefix length; write "
                         f"{network.with_prefixlen}")
    if str(network) != text:
        raise ValueError(f"{where}: {shown(text)} has host bits set or is not written in "
                         f"canonical form; EC2 would store it as {network}, so write that")
    return text


class Network(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, defer_build=True)

    subnet_ids: tuple[str, ...] = Field(min_length=1, max_length=SUBNETS_MAX)
    security_group_ids: tuple[str, ...] = Field(default=(), max_length=GROUPS_MAX)
    egress_cidrs: Annotated[tuple[str, ...], Field(min_length=1, max_length=CIDRS_MAX)] = (
        DEFAULT_EGRESS)

    @field_validator("subnet_ids")
    @classmethod
    def _subnets(cls, items: tuple[str, ...]) -> tuple[str, ...]:
        return _ids("subnet", items, _SUBNET, "subnet-0123456789abcdef0")

    @field_validator("security_group_ids")
    @classmethod
    def _groups(cls, items: tuple[str, ...]) -> tuple[str, ...]:
        return _ids("security group", items, _GROUP, "sg-0123456789abcdef0")

    @field_validator("egress_cidrs")
    @classmethod
    def _cidrs(cls, items: tuple[str, ...]) -> tuple[str, ...]:
        for index, item in enumerate(items):
            check_cidr(index, item)
        if len(set(items)) != len(items):
            raise ValueError("egress_cidrs lists a block twice; list each once")
        return items

    @model_validator(mode="after")
    def _cidrs_need_our_group(self) -> Network:
        if self.security_group_ids and "egress_cidrs" in self.model_fields_set:
            raise ValueError("egress_cidrs shapes only the group stock-alert makes, and "
                             "security_group_ids says to use your groups instead; remove "
                             "egress_cidrs, or remove security_group_ids to let stock-alert "
                             "make a group that allows outbound 443 to those blocks only")
        return self

    @property
    def makes_group(self) -> bool:
        """True when stock-alert makes and manages `<name>-fn-sg` itself."""
        return not self.security_group_ids
