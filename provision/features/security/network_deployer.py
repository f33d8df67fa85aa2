"""The operator's EC2 permissions with `network:` (issue 12), scope and reason for each.

Added to `stock-alert deployer-policy` in full when the config has `network:`. Without it,
`down` still looks for, and deletes, a group the stack made under an earlier `network:`
(teardown is found by tags, not through the config): TEARDOWN's two actions are always
granted. The group
stock-alert makes is unknown by id before it exists, so its statements name
`security-group/*` and narrow by this stack's tag: at creation by the request's tag
(aws:RequestTag), afterwards by the group's own tag (aws:ResourceTag). CreateSecurityGroup also
authorises the VPC the group goes into; the config names subnets, not the VPC ('up' reads it
from them), so that statement names `vpc/*` in this account and Region, under the same
request-tag condition.
"""

from __future__ import annotations

from provision.core.policies import Document
from provision.core.stack import STACK_TAG, Stack

READ = ("up", "down", "status")
UP = ("up",)

# action -> (scope, commands, why)
NEEDS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "ec2:DescribeSubnets": ("any", READ, "check that network.subnet_ids exist in this Region "
                            "and are in one VPC, before anything is written"),
    "ec2:DescribeSecurityGroups": ("any", READ, "find <name>-fn-sg in that VPC (ours or "
                                   "foreign) and check network.security_group_ids"),
    "ec2:DescribeNetworkInterfaces": ("any", READ, "list the function's Lambda-managed "
                                      "network interfaces: Lambda deletes them with the "
                                      "role, so the role and its ENI grant stay until none "
                                      "is listed"),
    "ec2:DescribeVpcs": ("any", UP, "Lambda itself checks that the caller may read the VPC "
                         "(as it does ec2:DescribeSubnets and ec2:DescribeSecurityGroups) when "
                         "'up' sets the function's VpcConfig; it refuses with "
                         "AccessDeniedException otherwise"),
    "ec2:CreateSecurityGroup": ("new-group", UP, "make <name>-fn-sg, tagged in the same call"),
    "ec2:AuthorizeSecurityGroupEgress": ("own-group", UP, "allow outbound TCP 443 to "
                                         "network.egress_cidrs"),
    "ec2:RevokeSecurityGroupEgress": ("own-group", UP, "remove EC2's default allow-all egress "
                                      "and any outbound rule added by hand"),
    "ec2:RevokeSecurityGroupIngress": ("own-group", UP, "remove any inbound rule added by "
                                       "hand (the group has none)"),
    "ec2:CreateTags": ("own-group", UP, "tag the group at creation (CreateSecurityGroup with "
                       "TagSpecifications needs it) and add tags from the config"),
    "ec2:DeleteTags": ("own-group", UP, "remove tags dropped from the config"),
    "ec2:DeleteSecurityGroup": ("own-group", ("down",), "delete the group once Lambda has "
                                "released its network interfaces"),
}
# What 'down' needs whatever the config says: find the stack's groups by tag, delete them.
TEARDOWN = ("ec2:DescribeSecurityGroups", "ec2:DeleteSecurityGroup")
WILDCARD = {
    "ec2:DescribeSubnets": "EC2 Describe calls have no resource type (Service Authorization "
    "Reference).",
    "ec2:DescribeSecurityGroups": "EC2 Describe calls have no resource type (Service "
    "Authorization Reference).",
    "ec2:DescribeVpcs": "EC2 Describe calls have no resource type (Service Authorization "
    "Reference).",
    "ec2:DescribeNetworkInterfaces": "EC2 Describe calls have no resource type (Service "
    "Authorization Reference).",
}
# Needed by Lambda's own check of the caller (Lambda developer guide, "Giving Lambda functions
# access to resources in an Amazon VPC", "User permissions"), not by a call stock-alert makes:
# an emulator cannot show it; tests/real_aws/test_network.py injects Lambda's refusal.
LAMBDA_CHECKS = frozenset({"ec2:DescribeVpcs"})


def _resources(stack: Stack, scope: str) -> list[str]:
    if scope == "any":
        return ["*"]
    if scope == "new-group":
        return [stack.ec2_arn("security-group/*"), stack.ec2_arn("vpc/*")]
    return [stack.ec2_arn("security-group/*")]


def _needed(stack: Stack) -> dict[str, tuple[str, tuple[str, ...], str]]:
    """NEEDS as this config needs them: without network:, only what 'down' uses."""
    if stack.config.network is not None:
        return NEEDS
    why = {"ec2:DescribeSecurityGroups": "find this stack's tagged groups in any VPC, left "
           "by an earlier network: ('down' deletes them whatever the config says now)"}
    return {a: (scope, ("down",), why.get(a, text)) for a, (scope, _, text) in NEEDS.items()
            if a in TEARDOWN}


def statements(stack: Stack) -> list[Document]:
    """The EC2 statements of the operator policy; only TEARDOWN's without network:."""
    group = stack.ec2_arn("security-group/*")
    needs = _needed(stack)
    own = [a for a, (scope, _, _) in needs.items() if scope == "own-group"]
    describe = {"Sid": "Ec2DescribeNoResourceLevel", "Effect": "Allow",
                "Action": [a for a, (scope, _, _) in needs.items() if scope == "any"],
                "Resource": "*"}
    owned = {"Sid": "OwnSecurityGroup", "Effect": "Allow", "Action": own, "Resource": [group],
             "Condition": {"StringEquals": {f"aws:ResourceTag/{STACK_TAG}": stack.name}}}
    if stack.config.network is None:
        return [describe, owned]
    return [
        describe,
        # aws:RequestTag is a key of the request, so it holds for both resources of the call
        {"Sid": "CreateSecurityGroupTaggedForThisStack", "Effect": "Allow",
         "Action": ["ec2:CreateSecurityGroup"], "Resource": [group, stack.ec2_arn("vpc/*")],
         "Condition": {"StringEquals": {f"aws:RequestTag/{STACK_TAG}": stack.name}}},
        {"Sid": "TagOnlyWhileCreatingIt", "Effect": "Allow", "Action": ["ec2:CreateTags"],
         "Resource": [group], "Condition": {"StringEquals": {
             "ec2:CreateAction": "CreateSecurityGroup",
             f"aws:RequestTag/{STACK_TAG}": stack.name}}},
        owned,
    ]


def rows(stack: Stack) -> list[tuple[str, str, str, str]]:
    """(action, resource, commands, why) for the explain table; TEARDOWN's only without
    network:."""
    out = []
    for action, (scope, commands, why) in _needed(stack).items():
        resource = ", ".join(_resources(stack, scope))
        if scope == "any":
            why = f"{why}. Resource '*': {WILDCARD[action]}"
        elif scope == "new-group":
            resource += f" (request tagged {STACK_TAG}={stack.name})"
        else:
            resource += f" (tagged {STACK_TAG}={stack.name})"
        out.append((action, resource, ", ".join(commands), why))
    return out
