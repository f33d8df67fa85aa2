"""The function's log group, made before the function so Lambda never makes an untagged one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provision.aws import Aws
from provision.model import Action, Change, tag_changes
from provision.resources.base import apply_tags, changed, decide
from provision.stack import Stack

KIND = "log-group"


@dataclass(frozen=True)
class ObservedLogGroup:
    name: str
    arn: str
    retention_days: int | None
    tags: dict[str, str]


def observe(aws: Aws, stack: Stack) -> ObservedLogGroup | None:
    pages = aws.call("logs", "describe_log_groups", logGroupNamePrefix=stack.log_group_name)
    group = next((g for g in pages.get("logGroups", [])
                  if g["logGroupName"] == stack.log_group_name), None)
    if group is None:
        return None
    arn = group.get("logGroupArn") or group["arn"].removesuffix(":*")
    tags = aws.call("logs", "list_tags_for_resource", resourceArn=arn).get("tags", {})
    return ObservedLogGroup(stack.log_group_name, arn, group.get("retentionInDays"), tags)


def _changes(stack: Stack, seen: ObservedLogGroup | None) -> tuple[Change, ...]:
    retention = stack.config.function.log_retention_days
    out: list[Change] = []
    if seen is None or seen.retention_days != retention:
        out.append(Change("retention_days", seen.retention_days if seen else None, retention))
    if seen:
        out += tag_changes(stack.tags, seen.tags)
    return tuple(out)


def plan(stack: Stack, observed: ObservedLogGroup | None, wanted: bool) -> Action:
    return decide(KIND, stack.log_group_name, stack, observed, wanted,
                  lambda seen: _changes(stack, seen))


def apply(aws: Aws, stack: Stack, action: Action) -> None:
    name = stack.log_group_name
    if action.op.value == "delete":
        aws.call("logs", "delete_log_group", logGroupName=name, missing_ok=True)
        return
    if action.op.value == "create":
        aws.call("logs", "create_log_group", logGroupName=name, tags=stack.tags)
    for change in changed(action, "retention_days"):
        aws.call("logs", "put_retention_policy", logGroupName=name,
                 retentionInDays=change.new, settling=action.op.value == "create")
    arn = stack.log_group_arn
    apply_tags(action,
               lambda tags: aws.call("logs", "tag_resource", resourceArn=arn, tags=tags),
               lambda keys: aws.call("logs", "untag_resource", resourceArn=arn, tagKeys=keys))


def summary(observed: ObservedLogGroup | None) -> dict[str, Any]:
    if observed is None:
        return {}
    return {"arn": observed.arn, "retention_days": observed.retention_days}


def events(aws: Aws, stack: Stack, start_ms: int) -> list[dict[str, Any]]:
    """Every log event since start_ms, oldest first (all streams, all pages)."""
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        paging: dict[str, Any] = {"nextToken": token} if token else {}
        page = aws.call("logs", "filter_log_events", logGroupName=stack.log_group_name,
                        startTime=start_ms, **paging)
        found += page.get("events", [])
        token = page.get("nextToken")
        if not token:
            return sorted(found, key=lambda e: (e["timestamp"], e.get("eventId", "")))
