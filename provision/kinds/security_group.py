"""The function's security group `<name>-fn-sg` (issue 12), and the checks of `network:`.

Made only when `network:` names no security groups: in the subnets' VPC, tagged, no inbound
rule, outbound TCP 443 only to `egress_cidrs` (EC2's default allow-all egress is revoked).

The observe phase checks the network before anything is written (so `plan` shows it too): the
subnets and groups exist in the stack's region and belong to one VPC; each problem is exit 2
naming it. With no `network:`, `plan`/`up`/`status` make no EC2 call; `down` and `sweep` always
look (`locate`): every group tagged with the stack's tags, in any VPC and whatever the config
says now, is deleted, so removing `network:` or moving it to another VPC never leaks a group.

Lambda releases the function's ENIs up to ~45 minutes after it is deleted or detached; until
then EC2 refuses to delete the group (DependencyViolation); 'down' waits, bounded.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from provision.aws.client import Aws
from provision.core.needs import DOWN, READ, UP, Need, Scope
from provision.core.plan import Action, Change, Changes, Mode, Op
from provision.core.pricing import Line
from provision.core.stack import MANAGED_BY, MANAGED_BY_VALUE, STACK_TAG, Stack
from provision.errors import AwsError, ConflictError
from provision.kinds.contract import Fragment, Kind, ownership
from provision.kinds.enis import delete_waiting_for_enis
from provision.kinds.ip_permissions import rule, rules, settled, write_rules
from provision.kinds.tags import apply_tags, as_list, from_list, tag_changes
from provision.kinds.vpc_config import check_network

log = logging.getLogger("provision.kinds.security_group")

# EC2 accepts only a-zA-Z0-9. _-:/()#,@[]+=&;{}!$* here, under 256 characters (CreateSecurityGroup
# reference; terraform-provider-aws#18874): no apostrophe.
DESCRIPTION = "stock-alert: outbound HTTPS only, for the function"

# The operator's EC2 actions (`deployer-policy`). With network:, all of them. Without it, 'down'
# still looks for, and deletes, a group the stack made under an earlier network: (teardown is
# found by tags, not through the config): those two needs are always granted. The group is
# unknown by id before it exists, so its statements name `security-group/*` and narrow by this
# stack's tag: at creation by the request's tag (aws:RequestTag), afterwards by the group's own
# tag (aws:ResourceTag). CreateSecurityGroup also authorises the VPC the group goes into; the
# config names subnets, not the VPC ('up' reads it from them), so that statement names `vpc/*`
# in this account and Region, under the same request-tag condition (a key of the request, so it
# holds for both resources of the call).
EC2_READS = Scope("Ec2DescribeNoResourceLevel", lambda s: "*")
NEW_GROUP = Scope("CreateSecurityGroupTaggedForThisStack",
                  lambda s: [s.ec2_arn("security-group/*"), s.ec2_arn("vpc/*")],
                  condition=lambda s: {"StringEquals": {f"aws:RequestTag/{STACK_TAG}": s.name}},
                  qualifier=lambda s: f"request tagged {STACK_TAG}={s.name}")
TAG_NEW_GROUP = Scope("TagOnlyWhileCreatingIt", lambda s: [s.ec2_arn("security-group/*")],
                      condition=lambda s: {"StringEquals": {
                          "ec2:CreateAction": "CreateSecurityGroup",
                          f"aws:RequestTag/{STACK_TAG}": s.name}})
OWN_GROUP = Scope("OwnSecurityGroup", lambda s: [s.ec2_arn("security-group/*")],
                  condition=lambda s: {"StringEquals": {f"aws:ResourceTag/{STACK_TAG}": s.name}},
                  qualifier=lambda s: f"tagged {STACK_TAG}={s.name}")
NO_RESOURCE_TYPE = "EC2 Describe calls have no resource type (Service Authorization Reference)."
# Needed by Lambda's own check of the caller (Lambda developer guide, "Giving Lambda functions
# access to resources in an Amazon VPC", "User permissions"), not by a call stock-alert makes:
# an emulator cannot show it; tests/real_aws/test_network.py injects Lambda's refusal.
LAMBDA_CHECKS = frozenset({"ec2:DescribeVpcs"})


def _networked(stack: Stack) -> bool:
    return stack.config.network is not None


def _not_networked(stack: Stack) -> bool:
    return stack.config.network is None


OPERATOR = (
    Need("ec2:DescribeSubnets", EC2_READS, READ, "check that network.subnet_ids exist in this "
         "Region and are in one VPC, before anything is written", _networked, NO_RESOURCE_TYPE),
    Need("ec2:DescribeSecurityGroups", EC2_READS, READ, "find <name>-fn-sg in that VPC (ours or "
         "foreign) and check network.security_group_ids", _networked, NO_RESOURCE_TYPE),
    Need("ec2:DescribeSecurityGroups", EC2_READS, DOWN, "find this stack's tagged groups in any "
         "VPC, left by an earlier network: ('down' deletes them whatever the config says now)",
         _not_networked, NO_RESOURCE_TYPE),
    Need("ec2:DescribeNetworkInterfaces", EC2_READS, READ, "list the function's Lambda-managed "
         "network interfaces: Lambda deletes them with the role, so the role and its ENI grant "
         "stay until none is listed", _networked, NO_RESOURCE_TYPE),
    Need("ec2:DescribeVpcs", EC2_READS, UP, "Lambda itself checks that the caller may read the "
         "VPC (as it does ec2:DescribeSubnets and ec2:DescribeSecurityGroups) when 'up' sets the "
         "function's VpcConfig; it refuses with AccessDeniedException otherwise", _networked,
         NO_RESOURCE_TYPE),
    Need("ec2:CreateSecurityGroup", NEW_GROUP, UP, "make <name>-fn-sg, tagged in the same call",
         _networked),
    Need("ec2:CreateTags", TAG_NEW_GROUP, UP, "tag the group at creation (CreateSecurityGroup "
         "with TagSpecifications needs it)", _networked, listed=False),
    Need("ec2:AuthorizeSecurityGroupEgress", OWN_GROUP, UP, "allow outbound TCP 443 to "
         "network.egress_cidrs", _networked),
    Need("ec2:RevokeSecurityGroupEgress", OWN_GROUP, UP, "remove EC2's default allow-all egress "
         "and any outbound rule added by hand", _networked),
    Need("ec2:RevokeSecurityGroupIngress", OWN_GROUP, UP, "remove any inbound rule added by "
         "hand (the group has none)", _networked),
    Need("ec2:CreateTags", OWN_GROUP, UP, "tag the group at creation (CreateSecurityGroup with "
         "TagSpecifications needs it) and add tags from the config", _networked),
    Need("ec2:DeleteTags", OWN_GROUP, UP, "remove tags dropped from the config", _networked),
    Need("ec2:DeleteSecurityGroup", OWN_GROUP, DOWN, "delete the group once Lambda has released "
         "its network interfaces"),
)


@dataclass(frozen=True)
class WantedSecurityGroup:
    name: str
    enabled: bool  # network: is configured
    makes_group: bool  # ... and names no groups, so stock-alert makes this one
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
    # This stack's other groups (id, VPC): left by an earlier network: in another VPC. 'up'
    # says so; 'down' deletes them with this one.
    others: tuple[tuple[str, str], ...] = ()
    in_vpc: bool = True  # False: only groups in other VPCs were found ('up' makes a new one)

    @property
    def stale(self) -> tuple[tuple[str, str], ...]:
        """(id, VPC) of this stack's groups that the config's VPC no longer uses."""
        return self.others if self.in_vpc else ((self.group_id, self.vpc_id), *self.others)


class SecurityGroup(Kind[WantedSecurityGroup, ObservedSecurityGroup]):
    name = "security-group"
    after = ("role",)  # Lambda frees the function's ENIs with the role: it outlives the group
    services = ("ec2",)
    needs_account = False  # reads by name

    operator = OPERATOR
    audit_rules = {}
    grants = {
        "ec2:CreateNetworkInterface": (
            "lets Lambda create the function's network interfaces (Hyperplane ENIs) when it is "
            "attached to the VPC; only in the config's subnets, with the config's groups or the "
            "group tagged as this stack's."),
        "ec2:DeleteNetworkInterface": (
            "lets Lambda delete those interfaces when the function is detached or deleted; only "
            "interfaces in the config's subnets."),
        "ec2:AssignPrivateIpAddresses": (
            "lets Lambda give its interfaces more addresses as the function scales; only "
            "interfaces in the config's subnets."),
        "ec2:UnassignPrivateIpAddresses": (
            "lets Lambda release those addresses again; only interfaces in the config's subnets."),
        "ec2:DescribeNetworkInterfaces": (
            "lets Lambda find the interfaces it made. Resource '*': IAM has no resource type for "
            "EC2 Describe calls (Service Authorization Reference), so they cannot be narrower; "
            "they only read."),
        "ec2:DescribeSubnets": (
            "lets Lambda read the config's subnets (their VPC and zone) to place the interfaces. "
            "Resource '*': IAM has no resource type for EC2 Describe calls (Service Authorization "
            "Reference); they only read."),
    }

    def cloudformation(self, w: WantedSecurityGroup) -> Fragment:
        """The group `up` makes with network: (none when the config names its own groups). The
        subnets' VPC is not in the config ('up' reads it): a parameter. With SecurityGroupEgress
        given, CloudFormation removes EC2's default allow-all egress rule, as 'up' does."""
        if not w.makes_group:
            return Fragment()
        egress = [{"IpProtocol": p["IpProtocol"], "FromPort": p["FromPort"], "ToPort": p["ToPort"],
                   **({"CidrIpv6": p["Ipv6Ranges"][0]["CidrIpv6"]} if "Ipv6Ranges" in p
                      else {"CidrIp": p["IpRanges"][0]["CidrIp"]})} for p in w.egress.values()]
        return Fragment({"SecurityGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupName": w.name, "GroupDescription": DESCRIPTION, "VpcId": {"Ref": "VpcId"},
            "SecurityGroupEgress": egress, "Tags": as_list(w.tags)}}},
            parameters={"VpcId": {"Type": "AWS::EC2::VPC::Id", "Description": "The VPC of "
                                  "network.subnet_ids, for the function's security group."}})

    def physical_name(self, stack: Stack) -> str:
        return stack.security_group_name

    def recognise(self, arn: str) -> str | None:
        """The group's id: an EC2 ARN names the id, not the name."""
        parts = arn.split(":", 5)
        if len(parts) == 6 and parts[2] == "ec2" and parts[5].startswith("security-group/"):
            return parts[5].removeprefix("security-group/")
        return None

    def matches(self, found: str, stack: Stack) -> bool:
        """Any group carrying the stack's tags: `locate` finds them by their tags."""
        return found.startswith("sg-")

    def wanted(self, stack: Stack) -> WantedSecurityGroup:
        net = stack.config.network
        egress = dict(rule(c) for c in net.egress_cidrs) if net and net.makes_group else {}
        return WantedSecurityGroup(
            stack.security_group_name, enabled=net is not None,
            makes_group=net is not None and net.makes_group,
            subnet_ids=tuple(net.subnet_ids) if net else (),
            given_ids=tuple(net.security_group_ids) if net else (),
            egress=egress, tags=stack.tags)

    def clients(self, wanted: WantedSecurityGroup, mode: Mode) -> tuple[str, ...]:
        """EC2's client is the largest to make: its read calls none without network: (its
        locate, by tags, always does)."""
        return self.services if wanted.enabled or mode.teardown else ()

    # reads -----------------------------------------------------------------------------------
    def read(self, aws: Aws, wanted: WantedSecurityGroup) -> ObservedSecurityGroup | None:
        """The group of this name in the config's VPC; this stack's groups of the same name in
        other VPCs come along as `others`. No call at all without network:."""
        if not wanted.enabled:
            return None
        vpc = check_network(aws, wanted.subnet_ids, wanted.given_ids)
        named = _groups(aws, [{"Name": "group-name", "Values": [wanted.name]}])
        here = [g for g in named if g.get("VpcId") == vpc]
        elsewhere = [g for g in named if g.get("VpcId") != vpc
                     and ownership(wanted.tags, from_list(g.get("Tags"))).ours]
        if here:
            return self._remembered(aws, wanted, _observed(here[0], elsewhere))
        aws.learnt.remember(self.name, wanted.name, None)
        return (dataclasses.replace(_observed(elsewhere[0], elsewhere[1:]), in_vpc=False)
                if elsewhere else None)

    def locate(self, aws: Aws, wanted: WantedSecurityGroup) -> ObservedSecurityGroup | None:
        """Every group carrying the stack's tags, in any VPC, whatever its name or the config:
        the first named <name>-fn-sg (or else any) is the observed group, the rest `others`."""
        tagged = _groups(aws, [
            {"Name": f"tag:{MANAGED_BY}", "Values": [MANAGED_BY_VALUE]},
            {"Name": f"tag:{STACK_TAG}", "Values": [wanted.tags[STACK_TAG]]}])
        tagged.sort(key=lambda g: (g.get("GroupName") != wanted.name, g["GroupId"]))
        return self._remembered(aws, wanted, _observed(tagged[0], tagged[1:]) if tagged
                                else None)

    def _remembered(self, aws: Aws, wanted: WantedSecurityGroup,
                    group: ObservedSecurityGroup | None) -> ObservedSecurityGroup | None:
        """The group as read, its id kept on this account and Region's Aws for the function
        that a later step of this run attaches to it (never process-wide)."""
        aws.learnt.remember(self.name, wanted.name, group.group_id if group else None)
        return group

    # pure ------------------------------------------------------------------------------------
    def diff(self, wanted: WantedSecurityGroup, observed: ObservedSecurityGroup | None,
             mode: Mode, adopt: bool = False,
             ) -> Action[WantedSecurityGroup, ObservedSecurityGroup]:
        if mode.teardown:
            return super().diff(wanted, observed, mode, adopt)  # everything tagged goes
        if wanted.makes_group:
            here = observed if observed is None or observed.in_vpc else None
            action = super().diff(wanted, here, mode, adopt)
            return dataclasses.replace(action, notes=action.notes + _stale(observed))
        mine = (observed is not None and observed.in_vpc
                and ownership(wanted.tags, observed.tags, adopt).ours)
        why = ("absent from the config: no network (not looked up; 'down' deletes any group "
               "an earlier network: left)" if not wanted.enabled
               else "kept until 'down': network names its own security groups" if mine
               else "absent: network names its own security groups")
        # network: names its own groups now, and ours is still there: Lambda may hold it for
        # up to 45 minutes after the function switches groups, so 'up' leaves it to 'down'.
        note = (f"{observed.group_id} is no longer used by the config; 'down' deletes it",
                ) if mine and observed else ()
        return Action(kind=self.name, name=wanted.name, op=Op.NOOP, wanted=wanted,
                      observed=observed, reason=why, notes=note + _stale(observed))

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

    def cost(self, stack: Stack, runs: int) -> tuple[Line, ...]:
        """Security groups cost nothing."""
        return ()

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
        aws.learnt.remember(self.name, wanted.name, group_id)
        settled(aws, lambda: write_rules(aws, "authorize_security_group_egress", group_id,
                                     list(wanted.egress.values())))
        settled(aws, lambda: _revoke_defaults(aws, group_id, wanted))

    def _adopt(self, aws: Aws, wanted: WantedSecurityGroup, vpc: str) -> None:
        found = _groups(aws, [{"Name": "group-name", "Values": [wanted.name]},
                              {"Name": "vpc-id", "Values": [vpc]}])
        observed = _observed(found[0]) if found else None
        if observed is None or not ownership(wanted.tags, observed.tags).ours:
            owner = ownership(wanted.tags, observed.tags if observed else None)
            raise ConflictError(f"security-group {wanted.name} appeared in {vpc} while "
                                f"creating it and is {owner}.",
                                hint="Delete or rename it, then run 'up' again.")
        aws.learnt.remember(self.name, wanted.name, observed.group_id)
        self.update(aws, wanted, observed, self.changes(wanted, observed))

    def update(self, aws: Aws, wanted: WantedSecurityGroup, observed: ObservedSecurityGroup,
               changes: Changes) -> None:
        gid = observed.group_id
        add = [wanted.egress[c.item] for c in changes if c.field == "egress" and c.new]
        drop = [observed.egress[c.item] for c in changes if c.field == "egress" and c.old]
        inbound = [observed.ingress[c.item] for c in changes if c.field == "ingress"]
        if add:  # first, so the function never loses its HTTPS route meanwhile
            write_rules(aws, "authorize_security_group_egress", gid, add)
        if drop:
            write_rules(aws, "revoke_security_group_egress", gid, drop)
        if inbound:
            write_rules(aws, "revoke_security_group_ingress", gid, inbound)
        apply_tags(changes,
                   lambda tags: aws.call("ec2", "create_tags", Resources=[gid],
                                         Tags=as_list(tags)),
                   lambda keys: aws.call("ec2", "delete_tags", Resources=[gid],
                                         Tags=[{"Key": k} for k in keys]))

    def delete(self, aws: Aws, wanted: WantedSecurityGroup,
               observed: ObservedSecurityGroup) -> None:
        for group_id, _ in ((observed.group_id, observed.vpc_id), *observed.others):
            delete_waiting_for_enis(aws, group_id, wanted.name)
        aws.learnt.remember(self.name, wanted.name, None)


def _groups(aws: Aws, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [g for page in aws.pages("ec2", "describe_security_groups", Filters=filters)
            for g in page.get("SecurityGroups", [])]


def _stale(observed: ObservedSecurityGroup | None) -> tuple[str, ...]:
    """What 'up' says of this stack's groups left in another VPC: they are not silent."""
    return tuple(f"{gid} in {vpc} is this stack's group from an earlier network: in another "
                 "VPC; it is no longer used, and 'down' deletes it"
                 for gid, vpc in (observed.stale if observed else ()))


def _revoke_defaults(aws: Aws, group_id: str, wanted: WantedSecurityGroup) -> None:
    """Revoke every egress rule of the new group that is not wanted, as read back: EC2 adds
    allow-all to 0.0.0.0/0, and in a VPC with an IPv6 block allow-all to ::/0 too (EC2 user
    guide, "Default security group rules"; github.com/getmoto/moto/issues/2647,
    github.com/hashicorp/terraform-provider-aws/issues/43279). One write for all of them."""
    [group] = aws.call("ec2", "describe_security_groups", GroupIds=[group_id])["SecurityGroups"]
    extra = [perm for label, perm in rules(group.get("IpPermissionsEgress", [])).items()
             if label not in wanted.egress]
    if extra:
        write_rules(aws, "revoke_security_group_egress", group_id, extra)


def _observed(group: dict[str, Any], others: list[dict[str, Any]] | None = None,
              ) -> ObservedSecurityGroup:
    return ObservedSecurityGroup(group["GroupId"], group.get("VpcId", ""),
                                 rules(group.get("IpPermissionsEgress", [])),
                                 rules(group.get("IpPermissions", [])),
                                 from_list(group.get("Tags")),
                                 tuple((g["GroupId"], g.get("VpcId", "")) for g in others or ()))
