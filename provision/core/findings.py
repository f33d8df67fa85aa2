"""What an `audit` finding is, and the rules that word a finding from one changed field.

Each kind names its own rules (Kind.audit_rules: field -> rule); audit.py asks the kind, so
no table here is keyed by kind names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from provision.core.plan import AnyAction, Change

UP = "run 'stock-alert up'"


@dataclass(frozen=True)
class Finding:
    rule: str
    resource: str  # "kind name"
    detail: str
    fix: str
    up_repairs: bool

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "resource": self.resource, "detail": self.detail,
                "fix": self.fix, "up_repairs": self.up_repairs}


def ours(rule: str, action: AnyAction, detail: str) -> Finding:
    return Finding(rule, f"{action.kind} {action.name}", detail, UP, True)


def policy(action: AnyAction, change: Change) -> list[Finding]:
    if change.new is None:
        return [ours("extra-inline-policy", action,
                     f"inline policy {change.item} was added outside stock-alert")]
    if change.old is None:
        return [ours("missing-inline-policy", action, f"inline policy {change.item} is gone")]
    return [ours("changed-inline-policy", action,
                 f"inline policy {change.item} differs from the one stock-alert writes")]


def managed(action: AnyAction, change: Change) -> list[Finding]:
    return [ours("attached-managed-policy", action,
                 f"managed policies attached: {', '.join(change.old)}")]


def boundary(action: AnyAction, change: Change) -> list[Finding]:
    if change.new is None:
        return [ours("boundary-not-in-config", action, f"permissions boundary {change.old} is "
                     "set but iam.permissions_boundary names none")]
    rule = "boundary-removed" if change.old is None else "boundary-changed"
    return [ours(rule, action, f"permissions boundary is {change.old or 'none'}, the config "
                 f"says {change.new}")]


def tags(action: AnyAction, change: Change) -> list[Finding]:
    old, new = change.old or {}, change.new or {}
    removed = sorted(k for k in new if k not in old)
    changed = sorted(k for k in new if k in old and old[k] != new[k])
    added = sorted(k for k in old if k not in new)
    parts = [f"{label}: {', '.join(keys)}" for label, keys in
             (("removed", removed), ("changed", changed), ("not in the config", added)) if keys]
    return [ours("tags-changed", action, "tags " + "; ".join(parts))]


def attribute(action: AnyAction, change: Change) -> list[Finding]:
    if change.item == "Policy":
        return []  # reported by Topic.inspect, which says what opened it
    if change.item == "KmsMasterKeyId":
        return [ours("encryption-removed" if not change.old else "encryption-changed", action,
                     f"KmsMasterKeyId is {change.old!r}, wanted {change.new!r}")]
    return [ours("drifted", action, f"{change.item} is {change.old!r}, wanted {change.new!r}")]


def retention(action: AnyAction, change: Change) -> list[Finding]:
    return [ours("retention-changed", action,
                 f"retention is {change.old} days, the config says {change.new}")]


def subscription(action: AnyAction, change: Change) -> list[Finding]:
    if change.new:
        return [ours("missing-subscription", action, f"{change.field} {change.item} is not "
                     "subscribed")]
    detail = f"{change.field} {change.item} is subscribed but not in the config"
    return [ours("extra-subscription", action, detail)]  # any protocol: 'up' unsubscribes it


def permission(action: AnyAction, change: Change) -> list[Finding]:
    seen = change.old
    if seen is None:
        return [ours("invoke-permission-missing", action, "the function's invoke permission "
                     "for this rule is gone")]
    lacks = [k for k in ("source_arn", "source_account") if not seen.get(k)]
    detail = ("the invoke permission has no " + " and no ".join(
        {"source_arn": "SourceArn", "source_account": "SourceAccount"}[k] for k in lacks)
        if lacks else "the invoke permission differs from the one stock-alert adds")
    return [ours("invoke-permission-open" if lacks else "invoke-permission-changed", action,
                 detail)]


def trust(action: AnyAction, change: Change) -> list[Finding]:
    return []  # reported by Role.inspect, which says what opened it


Rule = Callable[[AnyAction, Change], list[Finding]]
