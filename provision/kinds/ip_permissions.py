"""EC2 security-group rules (IpPermissions) in stock-alert's terms: one labelled rule per
(protocol, ports, target), and the authorize/revoke calls that treat "already so" as done."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from provision.aws.client import Aws
from provision.errors import AwsError

log = logging.getLogger("provision.kinds.security_group")

HTTPS = 443
NEW_GROUP_WAIT_S = 60.0  # how long a new group may stay invisible to EC2's own calls


def rule(cidr: str) -> tuple[str, dict[str, Any]]:
    """(label, IpPermission) of 'outbound TCP 443 to cidr'."""
    ranges = ({"Ipv6Ranges": [{"CidrIpv6": cidr}]} if ":" in cidr
              else {"IpRanges": [{"CidrIp": cidr}]})
    return f"tcp/{HTTPS} to {cidr}", {"IpProtocol": "tcp", "FromPort": HTTPS,
                                      "ToPort": HTTPS, **ranges}


def rules(permissions: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """EC2's IpPermissions split into one labelled IpPermission per (ports, target)."""
    out: dict[str, dict[str, Any]] = {}
    for perm in permissions:
        base: dict[str, Any] = {k: perm[k] for k in ("IpProtocol", "FromPort", "ToPort")
                                if k in perm}
        proto = "all" if perm["IpProtocol"] == "-1" else perm["IpProtocol"]
        low, high = perm.get("FromPort"), perm.get("ToPort")
        ports = "" if low is None or low == -1 else (
            f"/{low}" if low == high else f"/{low}-{high}")
        targets = ([("IpRanges", "CidrIp", r) for r in perm.get("IpRanges", [])]
                   + [("Ipv6Ranges", "CidrIpv6", r) for r in perm.get("Ipv6Ranges", [])]
                   + [("PrefixListIds", "PrefixListId", r)
                      for r in perm.get("PrefixListIds", [])]
                   + [("UserIdGroupPairs", "GroupId", r)
                      for r in perm.get("UserIdGroupPairs", [])])
        for key, field, item in targets:
            out[f"{proto}{ports} to {item[field]}"] = {**base, key: [{field: item[field]}]}
    return out


def write_rules(aws: Aws, operation: str, group_id: str, permissions: list[dict[str, Any]]) -> None:
    """Authorize or revoke rules. A rule already there (InvalidPermission.Duplicate) or already
    gone (InvalidPermission.NotFound) is done: botocore sends a call again when its answer was
    lost, and the first attempt may have taken effect (EC2 API "Error codes")."""
    done = ("InvalidPermission.Duplicate" if operation.startswith("authorize")
            else "InvalidPermission.NotFound")
    try:
        aws.call("ec2", operation, GroupId=group_id, IpPermissions=permissions)
    except AwsError as err:
        if err.code != done:
            raise
        if len(permissions) > 1:  # EC2 refused the whole batch for one rule: one at a time
            for permission in permissions:
                write_rules(aws, operation, group_id, [permission])
            return
        log.info("%s %s: %s, nothing to do", operation, group_id, done)


def settled(aws: Aws, write: Callable[[], None]) -> None:
    """A write to a group made moments ago: EC2 can answer InvalidGroup.NotFound until the new
    group is visible ("Eventual consistency" in the EC2 API reference; hit by packer,
    github.com/hashicorp/packer/issues/1322, and boto3, github.com/boto/boto3/issues/620).
    Retried with capped doubling on the injected clock, for at most NEW_GROUP_WAIT_S."""
    policy = aws.retry
    start, delay = policy.clock(), 0.5
    while True:
        try:
            return write()
        except AwsError as err:
            if err.code != "InvalidGroup.NotFound" or (
                    policy.clock() - start + delay > NEW_GROUP_WAIT_S):
                raise
        log.info("the new security group is not visible to EC2 yet (InvalidGroup.NotFound); "
                 "next try in %.1fs", delay)
        policy.sleep(delay)
        delay = min(delay * 2, 5.0)
