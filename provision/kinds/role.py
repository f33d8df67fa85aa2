"""The Lambda execution role: trust policy for lambda.amazonaws.com and inline policies only.

IAM is eventually consistent: for a few seconds after CreateRole, GetRole can still answer
NoSuchEntity, and after PutRolePolicy a policy that ListRolePolicies names can still be
NoSuchEntity on GetRolePolicy. Such a policy is observed as *unreadable*: the diff writes it again
(harmless, same document) and `down` still deletes it. A role that CreateRole says exists while
GetRole said it did not is waited for, so the engine can read and adopt it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any, ClassVar

from provision.aws.client import Aws, absent_ok
from provision.aws.concurrency import gate, gather
from provision.core import findings, policies
from provision.core.needs import READ, UP, Need, Scope
from provision.core.plan import Action, Change, Changes, Mode, Op
from provision.core.pricing import Line
from provision.core.stack import Stack
from provision.errors import AwsError
from provision.kinds import enis
from provision.kinds import role_boundary as boundary
from provision.kinds.contract import Fragment, Kind
from provision.kinds.tags import apply_tags, as_list, from_list, tag_changes

# One statement for both of the stack's roles (the function's, and EventBridge Scheduler's with
# a market-time schedule, scheduler_role.py): the same IAM actions on each, listed once.
ROLE_SCOPE = Scope("ExecutionRoles", lambda s: s.role_arns)
# Only this role, only to Lambda (the scheduler's role has its own, scheduler_role.py).
PASS_SCOPE = Scope("PassExecutionRoleToLambdaOnly", lambda s: s.role_arn, one_action=True,
                   condition=lambda s: {"StringEquals": {
                       "iam:PassedToService": "lambda.amazonaws.com"}})
# With iam.permissions_boundary set, the operator may create either role, or set its boundary,
# only with that boundary, and may not remove it: the standard permissions-boundary guard (IAM
# User Guide, "Permissions boundaries for IAM entities": delegating role creation).
BOUNDARY_SCOPE = Scope("CreateRoleOnlyWithTheBoundary", lambda s: s.role_arns,
                       condition=lambda s: {"StringEquals": {
                           "iam:PermissionsBoundary": s.config.iam.permissions_boundary}})


LAMBDA = "lambda.amazonaws.com"
DESCRIPTION = "stock-alert execution role: writes its log group, publishes to its topic"


@dataclass(frozen=True)
class WantedRole:
    name: str
    arn: str
    trust: policies.Document
    inline: dict[str, policies.Document]  # policy name -> document, exactly as built
    tags: dict[str, str]
    path: str = "/"
    boundary: str | None = None  # permissions boundary: a managed policy's ARN
    # The config names a boundary or explicitly none (iam.permissions_boundary: null). When it
    # says nothing, a boundary someone attached by hand is kept and reported, not removed.
    boundary_set: bool = False
    function: str = ""  # the function whose ENIs Lambda deletes with this role
    eni_grant: str = ""  # the name of the inline ENI grant (with network:)
    description: str = DESCRIPTION
    used: bool = True  # False: the config does not use this role (scheduler_role.py)

    @cached_property
    def canonical_trust(self) -> str:
        return policies.canonical(self.trust)

    @cached_property
    def canonical_inline(self) -> dict[str, str]:
        return {name: policies.canonical(doc) for name, doc in self.inline.items()}


@dataclass(frozen=True)
class ObservedRole:
    arn: str
    trust: str
    tags: dict[str, str]
    inline: dict[str, str] = field(default_factory=dict)  # name -> canonical document
    managed: tuple[str, ...] = ()
    # listed, not read: GetRolePolicy said NoSuchEntity (stale read), or a teardown's locate
    unreadable: tuple[str, ...] = ()
    path: str = "/"
    boundary: str | None = None
    eni_subnets: tuple[str, ...] = ()  # where EC2 lists ENIs of the function (with a grant)

    @property
    def policy_names(self) -> tuple[str, ...]:
        """Every inline policy the role has, readable or not."""
        return (*self.inline, *self.unreadable)


class Role(Kind[WantedRole, ObservedRole]):
    name = "role"
    services = ("iam",)
    needs_account = False  # reads by name
    is_global = True  # one per account: its name and tags carry the Region (Stack.role_name)
    # down drops its grants once what starts the functions is gone (delete)
    strips_after = ("schedule", "market-schedule")

    operator: ClassVar[tuple[Need, ...]] = (
        Need("iam:GetRole", ROLE_SCOPE, READ, "read the role, its trust policy and tags"),
        Need("iam:ListRoleTags", ROLE_SCOPE, READ, "read the tags of a "
             "role GetRole shows without any "
             "(one made outside stock-alert), to report it as foreign"),
        Need("iam:ListRolePolicies", ROLE_SCOPE, READ, "list the inline policies"),
        Need("iam:GetRolePolicy", ROLE_SCOPE, READ, "compare each inline policy with the plan"),
        Need("iam:ListAttachedRolePolicies", ROLE_SCOPE, READ, "find managed "
             "policies someone attached"),
        Need("iam:CreateRole", ROLE_SCOPE, UP, "create the role with its trust policy and tags",
             applies=lambda s: s.config.iam.permissions_boundary is None),
        Need("iam:CreateRole", BOUNDARY_SCOPE, UP, "create the role with its trust policy and "
             "tags", applies=lambda s: s.config.iam.permissions_boundary is not None),
        Need("iam:PutRolePolicy", ROLE_SCOPE, UP, "write the inline policies"),
        Need("iam:UpdateAssumeRolePolicy", ROLE_SCOPE, UP, "restore a trust "
             "policy changed by hand"),
        Need("iam:TagRole", ROLE_SCOPE, UP, "add tags from the config"),
        Need("iam:UntagRole", ROLE_SCOPE, UP, "remove tags dropped from the config"),
        Need("iam:DetachRolePolicy", ROLE_SCOPE, ("up", "down"), "detach managed policies someone "
             "attached (a role with one attached cannot be deleted)"),
        Need("iam:DeleteRolePolicy", ROLE_SCOPE, ("up", "down"), "remove extra inline policies; "
             "empty the role before deleting it"),
        Need("iam:PutRolePermissionsBoundary", BOUNDARY_SCOPE, UP, "set "
             "iam.permissions_boundary on a role made without it, or put it back if removed by "
             "hand", applies=lambda s: s.config.iam.permissions_boundary is not None),
        Need("iam:DeleteRolePermissionsBoundary", ROLE_SCOPE, UP, "remove a boundary the config "
             "no longer names (granted only while the config names none)",
             applies=lambda s: s.config.iam.permissions_boundary is None),
        Need("iam:DeleteRole", ROLE_SCOPE, ("up", "down"), "delete the role (the scheduler's "
             "also in 'up', once a cron/rate rule replaces the market-time schedule)"),
        Need("iam:PassRole", PASS_SCOPE, UP, "give the role to the function (CreateFunction, "
             "UpdateFunctionConfiguration); only to lambda.amazonaws.com"),
    )
    audit_rules = {"policy": findings.policy, "managed_policies": findings.managed,
                   "trust_policy": findings.trust, "permissions_boundary": findings.boundary,
                   "tags": findings.tags}
    grants = {}

    def inspect(self, stack: Stack, action: Action[WantedRole, ObservedRole]
                ) -> list[findings.Finding]:
        """`audit`: wildcards in the inline policies beyond the grants this kind writes on
        purpose (intended_grants), and a trust policy that lets others assume the role."""
        role, where = action.observed, f"role {action.name}"
        if role is None or role.trust == action.wanted.canonical_trust:
            return self.wildcards(where, action)
        count, others = policies.other_principals(role.trust, LAMBDA)
        detail = (f"the trust policy lets {', '.join(others)} assume the role" if others else
                  f"the trust policy has {count} statement(s) instead of the one for {LAMBDA}")
        return [*self.wildcards(where, action),
                findings.Finding("trust-opened", where, detail, findings.UP, True)]

    def wildcards(self, where: str, action: Action[WantedRole, ObservedRole]
                  ) -> list[findings.Finding]:
        intended = self.intended_grants(action.wanted)
        return [findings.Finding("wildcard-grant", where, f"policy {name} allows {grant} on "
                                 f"{resource}", findings.UP, True)
                for name, text in sorted((action.observed.inline if action.observed else {})
                                         .items())
                for effect, grant, resource in policies.pairs(text)
                if (name, effect, grant, resource) not in intended and effect == "Allow"
                and policies.is_wildcard(grant, resource)]

    def cloudformation(self, w: WantedRole) -> Fragment:
        """IAM is global: a fixed `<StackName>-role` collides when a StackSet deploys the stack to
        a second Region of an account (github.com/aws-samples/amazon-cloudfront-secure-static-site/
        issues/39), and `<StackName>-<Region>-role` can pass IAM's 64 characters, which only the
        deploy would know (up shortens it with a hash; a template cannot). So CloudFormation names
        the role (unique per stack instance) and the template refers to it by Fn::GetAtt
        (role_refs)."""
        return Fragment({"Role": {"Type": "AWS::IAM::Role", "Properties": {
            "Description": w.description, "Path": w.path,
            **({"PermissionsBoundary": w.boundary} if w.boundary else {}),
            "AssumeRolePolicyDocument": w.trust,
            "Policies": [{"PolicyName": n, "PolicyDocument": d} for n, d in w.inline.items()],
            "Tags": as_list(w.tags)}}})

    def physical_name(self, stack: Stack) -> str:
        return stack.role_name

    def recognise(self, arn: str) -> str | None:
        """Its names end in '-role' (Stack.role_name, legacy_role_name)."""
        name = role_name(arn)
        return name if name is not None and name.endswith("-role") else None

    def wanted(self, stack: Stack) -> WantedRole:
        iam = stack.config.iam
        return WantedRole(stack.role_name, stack.role_arn, policies.trust_policy(),
                          policies.inline_policies(stack), stack.global_tags, stack.role_path,
                          iam.permissions_boundary,
                          "permissions_boundary" in iam.model_fields_set, stack.function_name,
                          stack.policy_name("vpc-enis"))

    def locate(self, aws: Aws, wanted: WantedRole) -> ObservedRole | None:
        """By name (GetRole takes no path); the Region tag decides whether it is this
        Region's stack's role. A teardown needs the names of its inline policies, not their
        documents: they are not read (`unreadable`; one round trip off 'down's reads)."""
        return self.read(aws, wanted, documents=False)

    def read(self, aws: Aws, wanted: WantedRole, documents: bool = True) -> ObservedRole | None:
        """The role, its inline and its attached policies, asked for at once (each answers
        not-found when the role is absent)."""
        name = wanted.name
        found = gather({"role": partial(aws.call, "iam", "get_role", RoleName=name,
                                        missing_ok=True),
                        "inline": absent_ok(partial(_inline, aws, name, documents)),
                        "managed": absent_ok(partial(_managed, aws, name))})
        if found["role"] is None:
            return None
        role = found["role"]["Role"]
        tags = role.get("Tags")
        if tags is None:
            tags = aws.call("iam", "list_role_tags", RoleName=name)["Tags"]
        # Not found by a list while GetRole found the role: IAM's eventual consistency just
        # after CreateRole. Asked again, alone, the answer (or its error) is the one to use.
        inline, unreadable = found["inline"] or _inline(aws, name, documents)
        managed = found["managed"] if found["managed"] is not None else _managed(aws, name)
        boundary = role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn")
        granted = wanted.eni_grant in (*inline, *unreadable)
        held = sorted(set(enis.lambda_enis(aws, wanted.function).values())) if granted else []
        return ObservedRole(role["Arn"], policies.canonical(policies.decoded(
            role["AssumeRolePolicyDocument"])), from_list(tags), inline, managed, unreadable,
            role.get("Path", "/"), boundary, tuple(held))

    def diff(self, wanted: WantedRole, observed: ObservedRole | None, mode: Mode,
             adopt: bool = False) -> Action[WantedRole, ObservedRole]:
        action = super().diff(wanted, observed, mode, adopt)
        if action.op is not Op.UPDATE or observed is None or observed.path == wanted.path:
            return action
        # IAM has no call that moves a role to another path (UpdateRole takes none); replacing
        # it would leave the function without a role meanwhile. Refuse before any write.
        return dataclasses.replace(action, op=Op.CONFLICT, changes=(), reason=(
            f"exists at IAM path {observed.path} but iam.path says {wanted.path}; IAM cannot "
            "move a role, so run 'stock-alert down' then 'up' to recreate it there, or set "
            f"iam.path back to {observed.path}"))

    def changes(self, wanted: WantedRole, observed: ObservedRole | None) -> Changes:
        out: list[Change] = []
        trust = observed.trust if observed else None
        if trust != wanted.canonical_trust:
            out.append(Change("trust_policy", trust, wanted.canonical_trust))
        have = observed.inline if observed else {}
        documents = _documents(wanted, observed)
        out += [Change("policy", have.get(name), text, item=name)
                for name, text in ((n, policies.canonical(d)) for n, d in documents.items())
                if have.get(name) != text]
        listed = observed.policy_names if observed else ()
        out += [Change("policy", have.get(name), None, item=name) for name in listed
                if name not in documents]
        if observed and observed.path != wanted.path:
            out.append(Change("path", observed.path, wanted.path))  # refused in diff()
        seen_boundary = observed.boundary if observed else None
        if seen_boundary != wanted.boundary and (wanted.boundary_set or wanted.boundary):
            out.append(Change("permissions_boundary", seen_boundary, wanted.boundary))
        if observed and observed.managed:
            out.append(Change("managed_policies", list(observed.managed), []))
        if observed:
            out += tag_changes(wanted.tags, observed.tags)
        return tuple(out)

    def notes(self, wanted: WantedRole, observed: ObservedRole | None) -> tuple[str, ...]:
        out = tuple(f"IAM lists policy {name} but could not return it yet (eventual "
                    "consistency after a recent write); 'up' writes it again, harmlessly"
                    for name in (observed.unreadable if observed else ()))
        if observed and observed.boundary and not wanted.boundary_set:
            out += (f"permissions boundary {observed.boundary} was attached outside "
                    "stock-alert and is kept; set iam.permissions_boundary to it to make that "
                    "explicit, or to null to have 'up' remove it",)
        return out + _eni_note(wanted, observed)

    def create(self, aws: Aws, wanted: WantedRole) -> None:
        try:
            aws.call("iam", "create_role", RoleName=wanted.name, Description=wanted.description,
                     Path=wanted.path, AssumeRolePolicyDocument=json.dumps(wanted.trust),
                     Tags=as_list(wanted.tags), **boundary.params(wanted.boundary))
        except AwsError as err:
            boundary.explain_refusal(err, wanted.name, wanted.boundary)
            if err.code == "EntityAlreadyExists":
                # GetRole said NoSuchEntity, CreateRole says it exists: a stale read just after
                # an earlier CreateRole. Wait (bounded) until GetRole sees it, so the engine's
                # read-and-adopt that follows this error reads the role, not the stale answer.
                aws.call("iam", "get_role", RoleName=wanted.name, settling=True)
            raise
        # All at once. IAM is eventually consistent: the new role can briefly be "not found".
        gather({name: partial(aws.call, "iam", "put_role_policy", RoleName=wanted.name,
                              PolicyName=name, PolicyDocument=json.dumps(document),
                              settling=True) for name, document in wanted.inline.items()})

    def update(self, aws: Aws, wanted: WantedRole, observed: ObservedRole,
               changes: Changes) -> None:
        role = wanted.name
        for change in changes:
            if change.field == "trust_policy":
                aws.call("iam", "update_assume_role_policy", RoleName=role,
                         PolicyDocument=json.dumps(wanted.trust))
            elif change.field == "policy" and change.new is None:
                aws.call("iam", "delete_role_policy", RoleName=role, PolicyName=change.item,
                         missing_ok=True)
            elif change.field == "policy":
                # The document sent is the one policies.py builds (and the docs show);
                # the diff compared canonical forms.
                aws.call("iam", "put_role_policy", RoleName=role, PolicyName=change.item,
                         PolicyDocument=json.dumps(_documents(wanted, observed)[change.item]))
            elif change.field == "managed_policies":
                _detach(aws, role, observed.managed)
            elif change.field == "permissions_boundary":
                boundary.put(aws, wanted.name, wanted.boundary)
        apply_tags(changes,
                   lambda tags: aws.call("iam", "tag_role", RoleName=role, Tags=as_list(tags)),
                   lambda keys: aws.call("iam", "untag_role", RoleName=role, TagKeys=keys))

    def delete(self, aws: Aws, wanted: WantedRole, observed: ObservedRole) -> None:
        """A teardown starts it once nothing starts the functions any more (strips_after:
        the schedule is gone): its grants go alongside the functions' deletes, the role once
        they are gone (gate(); one round trip off 'down's longest chain). With the ENI
        grant all of it waits: Lambda releases a VPC function's interfaces with the role's
        permissions, after the function is gone."""
        if wanted.eni_grant in observed.policy_names:
            gate()
            enis.wait_released(aws, wanted.function, wanted.name)  # Lambda needs the role
        # What hangs on the role goes all at once; the role only once all of it is gone.
        gather({**{f"detach {arn}": partial(_detach, aws, wanted.name, (arn,))
                   for arn in observed.managed},
                **{policy: partial(aws.call, "iam", "delete_role_policy", RoleName=wanted.name,
                                   PolicyName=policy, missing_ok=True)
                   for policy in observed.policy_names}})
        gate()
        # Just after its policies go, IAM can still refuse the role (DeleteConflict): wait
        # that out only when this run removed some.
        aws.call("iam", "delete_role", RoleName=wanted.name, missing_ok=True,
                 dependents_removed=bool(observed.policy_names or observed.managed))

    def intended_grants(self, wanted: WantedRole) -> frozenset[tuple[str, str, str, str]]:
        """(policy, effect, action, resource) of every grant this kind itself writes, such as
        the two EC2 Describe actions IAM authorises only on '*' (with network:): `audit`
        judges the grants the role has beyond these, never the tool's own intended ones."""
        return frozenset((name, *grant) for name, document in wanted.inline.items()
                         for grant in policies.pairs(document))

    def cost(self, stack: Stack, runs: int) -> tuple[Line, ...]:
        """IAM roles cost nothing."""
        return ()

    def summary(self, observed: ObservedRole | None) -> dict[str, Any]:
        if observed is None:
            return {}
        return {"arn": observed.arn, "inline_policies": sorted(observed.policy_names),
                "managed_policies": list(observed.managed),
                "permissions_boundary": observed.boundary}


def role_name(arn: str) -> str | None:
    """The role's name when `arn` is an IAM role's ARN (any path); None otherwise."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "iam" and parts[5].startswith("role/"):
        return parts[5].rsplit("/", 1)[-1]
    return None


def _documents(wanted: WantedRole, observed: ObservedRole | None) -> dict[str, Any]:
    """The inline policies to have now (enis.grant_kept: the ENI grant outlives its ENIs)."""
    return enis.grant_kept(wanted.inline, wanted.eni_grant,
                           observed.eni_subnets if observed else (),
                           observed.inline if observed else {})


def _eni_note(wanted: WantedRole, observed: ObservedRole | None) -> tuple[str, ...]:
    if observed is None or _documents(wanted, observed) == wanted.inline:
        return ()
    return (enis.grant_note(wanted.eni_grant, observed.eni_subnets, wanted.function),)


def _inline(aws: Aws, role: str, documents: bool = True,
            ) -> tuple[dict[str, str], tuple[str, ...]]:
    """(name -> canonical document, names listed but not readable yet), each policy read at
    once; without `documents`, only listed."""
    names = [n for page in aws.pages("iam", "list_role_policies", RoleName=role)
             for n in page["PolicyNames"]]
    if not documents:
        return {}, tuple(names)
    found = gather({name: partial(aws.call, "iam", "get_role_policy", RoleName=role,
                                  PolicyName=name, missing_ok=True) for name in names})
    inline = {name: policies.canonical(policies.decoded(answer["PolicyDocument"]))
              for name, answer in found.items() if answer is not None}
    return inline, tuple(name for name, answer in found.items() if answer is None)


def _managed(aws: Aws, role: str) -> tuple[str, ...]:
    """The ARNs of the managed policies attached to the role."""
    return tuple(p["PolicyArn"] for page in aws.pages(
        "iam", "list_attached_role_policies", RoleName=role) for p in page["AttachedPolicies"])


def _detach(aws: Aws, role: str, arns: tuple[str, ...]) -> None:
    for arn in arns:
        aws.call("iam", "detach_role_policy", RoleName=role, PolicyArn=arn, missing_ok=True)
