"""The Lambda execution role: trust policy for lambda.amazonaws.com and inline policies only."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from provision import policies
from provision.aws import Aws
from provision.model import Action, Change, tag_changes
from provision.resources.base import apply_tags, as_list, changed, decide
from provision.stack import Stack

KIND = "role"
DESCRIPTION = "stock-alert execution role: writes its log group, publishes to its topic"


@dataclass(frozen=True)
class ObservedRole:
    arn: str
    trust: str
    tags: dict[str, str]
    inline: dict[str, str] = field(default_factory=dict)
    managed: tuple[str, ...] = ()


def observe(aws: Aws, stack: Stack) -> ObservedRole | None:
    found = aws.call("iam", "get_role", RoleName=stack.role_name, missing_ok=True)
    if found is None:
        return None
    role = found["Role"]
    tags = role.get("Tags")
    if tags is None:
        tags = aws.call("iam", "list_role_tags", RoleName=stack.role_name)["Tags"]
    inline = {
        name: policies.canonical(_document(aws.call(
            "iam", "get_role_policy", RoleName=stack.role_name, PolicyName=name
        )["PolicyDocument"]))
        for name in _paged(aws, "list_role_policies", "PolicyNames", RoleName=stack.role_name)
    }
    managed = tuple(p["PolicyArn"] for p in _paged(
        aws, "list_attached_role_policies", "AttachedPolicies", RoleName=stack.role_name))
    return ObservedRole(
        arn=role["Arn"],
        trust=policies.canonical(_document(role["AssumeRolePolicyDocument"])),
        tags={t["Key"]: t["Value"] for t in tags},
        inline=inline,
        managed=managed,
    )


def _document(doc: Any) -> Any:
    if isinstance(doc, str):
        from urllib.parse import unquote

        return json.loads(unquote(doc))
    return doc


def _paged(aws: Aws, operation: str, key: str, **params: Any) -> list[Any]:
    items: list[Any] = []
    marker: str | None = None
    while True:
        paging: dict[str, Any] = {"Marker": marker} if marker else {}
        page = aws.call("iam", operation, **params, **paging)
        items.extend(page[key])
        marker = page.get("Marker") if page.get("IsTruncated") else None
        if not marker:
            return items


def _changes(stack: Stack, seen: ObservedRole | None) -> tuple[Change, ...]:
    trust = policies.canonical(policies.trust_policy())
    out: list[Change] = []
    if seen is None or seen.trust != trust:
        out.append(Change("trust_policy", seen.trust if seen else None, trust))
    inline = seen.inline if seen else {}
    for name, doc in policies.inline_policies(stack).items():
        text = policies.canonical(doc)
        if inline.get(name) != text:
            out.append(Change(f"policy:{name}", inline.get(name), text))
    out += [Change(f"policy:{name}", text, None) for name, text in inline.items()
            if name not in policies.inline_policies(stack)]
    if seen and seen.managed:
        out.append(Change("managed_policies", list(seen.managed), []))
    if seen:
        out += tag_changes(stack.tags, seen.tags)
    return tuple(out)


def plan(stack: Stack, observed: ObservedRole | None, wanted: bool) -> Action:
    return decide(KIND, stack.role_name, stack, observed, wanted,
                  lambda seen: _changes(stack, seen))


def apply(aws: Aws, stack: Stack, action: Action) -> None:
    name = stack.role_name
    if action.op.value == "delete":
        _delete(aws, action.observed)
        return
    if action.op.value == "create":
        aws.call("iam", "create_role", RoleName=name, Description=DESCRIPTION,
                 AssumeRolePolicyDocument=json.dumps(policies.trust_policy()),
                 Tags=as_list(stack.tags))
    elif changed(action, "trust_policy"):
        aws.call("iam", "update_assume_role_policy", RoleName=name,
                 PolicyDocument=json.dumps(policies.trust_policy()))
    _apply_policies(aws, stack, action, settling=action.op.value == "create")
    for change in changed(action, "managed_policies"):
        for arn in change.old:
            aws.call("iam", "detach_role_policy", RoleName=name, PolicyArn=arn, missing_ok=True)
    apply_tags(action,
               lambda tags: aws.call("iam", "tag_role", RoleName=name, Tags=as_list(tags)),
               lambda keys: aws.call("iam", "untag_role", RoleName=name, TagKeys=keys))


def _apply_policies(aws: Aws, stack: Stack, action: Action, settling: bool) -> None:
    """Put or delete inline policies; the document sent is the one policies.py builds (and the
    README shows), while the diff compared canonical forms."""
    name, documents = stack.role_name, policies.inline_policies(stack)
    for change in changed(action, "policy"):
        policy = change.field.split(":", 1)[1]
        if change.new is None:
            aws.call("iam", "delete_role_policy", RoleName=name, PolicyName=policy,
                     missing_ok=True)
        else:
            aws.call("iam", "put_role_policy", RoleName=name, PolicyName=policy,
                     PolicyDocument=json.dumps(documents[policy]), settling=settling)


def _delete(aws: Aws, seen: ObservedRole) -> None:
    name = seen.arn.rsplit("/", 1)[1]
    for arn in seen.managed:
        aws.call("iam", "detach_role_policy", RoleName=name, PolicyArn=arn, missing_ok=True)
    for policy in seen.inline:
        aws.call("iam", "delete_role_policy", RoleName=name, PolicyName=policy, missing_ok=True)
    aws.call("iam", "delete_role", RoleName=name, missing_ok=True)


def summary(observed: ObservedRole | None) -> dict[str, Any]:
    if observed is None:
        return {}
    return {"arn": observed.arn, "inline_policies": sorted(observed.inline),
            "managed_policies": list(observed.managed)}
