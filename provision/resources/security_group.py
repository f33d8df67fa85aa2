"""The function's security group `<name>-fn-sg` (issue 12), and the checks of `network:`.

Made only when `network:` names no security groups: in the subnets' VPC, tagged, no inbound
rule, outbound TCP 443 only to `egress_cidrs` (EC2's default allow-all egress is revoked).

The observe phase checks the network before anything is written (so `plan` shows it too): the
subnets and groups exist in the stack's region and belong to one VPC; each problem is exit 2
naming it. With no `network:` the kind makes no call at all.

Lambda releases the function's ENIs up to ~45 minutes after it is deleted or detached; until
then EC2 refuses to delete the group (DependencyViolation); 'down' waits, bounded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from provision.aws import Aws
from provision.errors import AwsError, ConflictError
from provision.plan import Action, Change, Changes, Op
from provision.resources.contract import Kind, ownership
from provision.resources.enis import delete_waiting_for_enis
from provision.resources.tags import apply_tags, as_list, from_list, tag_changes
from provision.resources.vpc_config import KNOWN, check_network
from provision.stack import Stack

log = logging.getLogger("provision.resources.security_group")

HTTPS = 443
# EC2 accepts only a-zA-Z0-9. _-:/()#,@[]+=&;{}!$* here, under 256 characters (CreateSecurityGroup
# reference; terraform-provider-aws#18874): no apostrophe.
DESCRIPTION = "stock-alert: outbound HTTPS only, for the function"
NEW_GROUP_WAIT_S = 60.0  # how long a new group may stay invisible to EC2's own calls


@dataclass(frozen=True)
class WantedSecurityGroup:
    name: str
    enabled: bool  # network: is configured
    makes_group: bool  # ... and names no groups, so stock-alert makes this one
    teardown: bool  # planning 'down': find the group by name, check nothing
    subnet_ids: tuple[str, ...]
    given_ids: tuple[str, ...]
    egress: dict[str, dict[str, Any]]  # rule label -> EC2 IpPermission of that one rule
    tags: dict[str, str]


@dataclass(frozen=True)
class ObservedSecurityGroup:
    group_id: str
    vpc_id: str
    egress: dict[str, dict[str, Any]]
    ingress: dict[str, dict[str, Any]]
    tags: dict[str, str]


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


class SecurityGroup(Kind[WantedSecurityGroup, ObservedSecurityGroup]):
    name = "security-group"
    after = ("role",)  # Lambda frees the function's ENIs with the role: it outlives the group

    def wanted(self, stack: Stack) -> WantedSecurityGroup:
        net = stack.config.network
        egress = dict(rule(c) for c in net.egress_cidrs) if net and net.makes_group else {}
        return WantedSecurityGroup(
            stack.security_group_name, enabled=net is not None,
            makes_group=net is not None and net.makes_group,
            teardown=stack.code is None,  # the pipelines build no code for a teardown plan
            subnet_ids=tuple(net.subnet_ids) if net else (),
            given_ids=tuple(net.security_group_ids) if net else (),
            egress=egress, tags=stack.tags)

    # reads -----------------------------------------------------------------------------------
    def read(self, aws: Aws, wanted: WantedSecurityGroup) -> ObservedSecurityGroup | None:
        if not wanted.enabled:
            return None  # no network: no call
        if wanted.teardown:
            found = [g for g in self._named(aws, wanted.name, None)
                     if ownership(wanted.tags, from_list(g.get("Tags"))) == "ours"]
        else:
            vpc = check_network(aws, wanted.subnet_ids, wanted.given_ids)
            found = self._named(aws, wanted.name, vpc)
        group = _observed(found[0]) if found else None
        if group is not None:
            KNOWN[(aws.region, wanted.name)] = group.group_id
        else:
            KNOWN.pop((aws.region, wanted.name), None)
        return group

    @staticmethod
    def _named(aws: Aws, name: str, vpc: str | None) -> list[dict[str, Any]]:
        filters = [{"Name": "group-name", "Values": [name]}]
        if vpc:
            filters.append({"Name": "vpc-id", "Values": [vpc]})
        return [g for page in aws.pages("ec2", "describe_security_groups", Filters=filters)
                for g in page.get("SecurityGroups", [])]

    # pure ------------------------------------------------------------------------------------
    def diff(self, wanted: WantedSecurityGroup, observed: ObservedSecurityGroup | None,
             keep: bool) -> Action[WantedSecurityGroup, ObservedSecurityGroup]:
        if wanted.makes_group:
            return super().diff(wanted, observed, keep)
        mine = observed is not None and ownership(wanted.tags, observed.tags) == "ours"
        if mine and not keep:
            return super().diff(wanted, observed, keep)  # down deletes what we made earlier
        why = ("absent: no network in the config" if not wanted.enabled
               else "kept until 'down': network names its own security groups" if mine
               else "absent: network names its own security groups")
        # network: names its own groups now, and ours is still there: Lambda may hold it for
        # up to 45 minutes after the function switches groups, so 'up' leaves it to 'down'.
        note = (f"{observed.group_id} is no longer used by the config; 'down' deletes it",
                ) if mine and observed else ()
        return Action(kind=self.name, name=wanted.name, op=Op.NOOP, wanted=wanted,
                      observed=observed, reason=why, notes=note)

    def changes(self, wanted: WantedSecurityGroup,
                observed: ObservedSecurityGroup | None) -> Changes:
        have = observed.egress if observed else {}
        out = [Change("egress", None, "allow", item=k) for k in sorted(wanted.egress)
               if k not in have]
        if observed is None:
            defaults = "all to 0.0.0.0/0, and to ::/0 in a VPC with IPv6 (EC2's default rules)"
            return tuple(out) + (Change("egress", "allow", None, item=defaults),)
        out += [Change("egress", "allow", None, item=k) for k in sorted(have)
                if k not in wanted.egress]
        out += [Change("ingress", "allow", None, item=k) for k in sorted(observed.ingress)]
        return tuple(out) + tag_changes(wanted.tags, observed.tags)

    def summary(self, observed: ObservedSecurityGroup | None) -> dict[str, Any]:
        if observed is None:
            return {}
        return {"group_id": observed.group_id, "vpc_id": observed.vpc_id,
                "egress": sorted(observed.egress), "ingress": sorted(observed.ingress)}

    # writes ----------------------------------------------------------------------------------
    def create(self, aws: Aws, wanted: WantedSecurityGroup) -> None:
        vpc = check_network(aws, wanted.subnet_ids, wanted.given_ids)
        try:
            made = aws.call("ec2", "create_security_group", GroupName=wanted.name,
                            Description=DESCRIPTION, VpcId=vpc, TagSpecifications=[{
                                "ResourceType": "security-group",
                                "Tags": as_list(wanted.tags)}])
        except AwsError as err:
            if err.code != "InvalidGroup.Duplicate":
                raise
            self._adopt(aws, wanted, vpc)  # an earlier answer was lost, or someone made it
            return
        group_id = made["GroupId"]
        KNOWN[(aws.region, wanted.name)] = group_id
        _settled(aws, lambda: _rules(aws, "authorize_security_group_egress", group_id,
                                     list(wanted.egress.values())))
        _settled(aws, lambda: _revoke_defaults(aws, group_id, wanted))

    def _adopt(self, aws: Aws, wanted: WantedSecurityGroup, vpc: str) -> None:
        found = self._named(aws, wanted.name, vpc)
        observed = _observed(found[0]) if found else None
        if observed is None or ownership(wanted.tags, observed.tags) != "ours":
            owner = ownership(wanted.tags, observed.tags if observed else None)
            raise ConflictError(f"security-group {wanted.name} appeared in {vpc} while "
                                f"creating it and is {owner}.",
                                hint="Delete or rename it, then run 'up' again.")
        KNOWN[(aws.region, wanted.name)] = observed.group_id
        self.update(aws, wanted, observed, self.changes(wanted, observed))

    def update(self, aws: Aws, wanted: WantedSecurityGroup, observed: ObservedSecurityGroup,
               changes: Changes) -> None:
        gid = observed.group_id
        add = [wanted.egress[c.item] for c in changes if c.field == "egress" and c.new]
        drop = [observed.egress[c.item] for c in changes if c.field == "egress" and c.old]
        inbound = [observed.ingress[c.item] for c in changes if c.field == "ingress"]
        if add:  # first, so the function never loses its HTTPS route meanwhile
            _rules(aws, "authorize_security_group_egress", gid, add)
        if drop:
            _rules(aws, "revoke_security_group_egress", gid, drop)
        if inbound:
            _rules(aws, "revoke_security_group_ingress", gid, inbound)
        apply_tags(changes,
                   lambda tags: aws.call("ec2", "create_tags", Resources=[gid],
                                         Tags=as_list(tags)),
                   lambda keys: aws.call("ec2", "delete_tags", Resources=[gid],
                                         Tags=[{"Key": k} for k in keys]))

    def delete(self, aws: Aws, wanted: WantedSecurityGroup,
               observed: ObservedSecurityGroup) -> None:
        delete_waiting_for_enis(aws, observed.group_id, wanted.name)
        KNOWN.pop((aws.region, wanted.name), None)


def _settled(aws: Aws, write: Callable[[], None]) -> None:
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


def _revoke_defaults(aws: Aws, group_id: str, wanted: WantedSecurityGroup) -> None:
    """Revoke every egress rule of the new group that is not wanted, as read back: EC2 adds
    allow-all to 0.0.0.0/0, and in a VPC with an IPv6 block allow-all to ::/0 too (EC2 user
    guide, "Default security group rules"; github.com/getmoto/moto/issues/2647,
    github.com/hashicorp/terraform-provider-aws/issues/43279). One write for all of them."""
    [group] = aws.call("ec2", "describe_security_groups", GroupIds=[group_id])["SecurityGroups"]
    extra = [perm for label, perm in rules(group.get("IpPermissionsEgress", [])).items()
             if label not in wanted.egress]
    if extra:
        _rules(aws, "revoke_security_group_egress", group_id, extra)


def _rules(aws: Aws, operation: str, group_id: str, permissions: list[dict[str, Any]]) -> None:
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
                _rules(aws, operation, group_id, [permission])
            return
        log.info("%s %s: %s, nothing to do", operation, group_id, done)


def _observed(group: dict[str, Any]) -> ObservedSecurityGroup:
    return ObservedSecurityGroup(group["GroupId"], group.get("VpcId", ""),
                                 rules(group.get("IpPermissionsEgress", [])),
                                 rules(group.get("IpPermissions", [])),
                                 from_list(group.get("Tags")))
