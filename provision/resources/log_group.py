"""The function's log group, made before the function so Lambda never makes an untagged one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provision.aws import Aws
from provision.plan import Change, Changes, tag_changes
from provision.resources.contract import Kind
from provision.resources.tags import apply_tags
from provision.stack import Stack


@dataclass(frozen=True)
class WantedLogGroup:
    name: str
    arn: str
    retention_days: int
    tags: dict[str, str]


@dataclass(frozen=True)
class ObservedLogGroup:
    name: str
    arn: str
    retention_days: int | None
    tags: dict[str, str]


class LogGroup(Kind[WantedLogGroup, ObservedLogGroup]):
    name = "log-group"

    def wanted(self, stack: Stack) -> WantedLogGroup:
        return WantedLogGroup(stack.log_group_name, stack.log_group_arn,
                              stack.config.function.log_retention_days, stack.tags)

    def read(self, aws: Aws, wanted: WantedLogGroup) -> ObservedLogGroup | None:
        group = next((g for page in aws.pages("logs", "describe_log_groups",
                                              logGroupNamePrefix=wanted.name)
                      for g in page.get("logGroups", []) if g["logGroupName"] == wanted.name),
                     None)
        if group is None:
            return None
        arn = group.get("logGroupArn") or group["arn"].removesuffix(":*")
        tags = aws.call("logs", "list_tags_for_resource", resourceArn=arn).get("tags", {})
        return ObservedLogGroup(wanted.name, arn, group.get("retentionInDays"), tags)

    def changes(self, wanted: WantedLogGroup, observed: ObservedLogGroup | None) -> Changes:
        out: list[Change] = []
        have = observed.retention_days if observed else None
        if have != wanted.retention_days:
            out.append(Change("retention_days", have, wanted.retention_days))
        if observed:
            out += tag_changes(wanted.tags, observed.tags)
        return tuple(out)

    def create(self, aws: Aws, wanted: WantedLogGroup) -> None:
        aws.call("logs", "create_log_group", logGroupName=wanted.name, tags=wanted.tags)
        aws.call("logs", "put_retention_policy", logGroupName=wanted.name,
                 retentionInDays=wanted.retention_days, settling=True)

    def update(self, aws: Aws, wanted: WantedLogGroup, observed: ObservedLogGroup,
               changes: Changes) -> None:
        if any(c.field == "retention_days" for c in changes):
            aws.call("logs", "put_retention_policy", logGroupName=wanted.name,
                     retentionInDays=wanted.retention_days)
        apply_tags(changes,
                   lambda tags: aws.call("logs", "tag_resource", resourceArn=wanted.arn,
                                         tags=tags),
                   lambda keys: aws.call("logs", "untag_resource", resourceArn=wanted.arn,
                                         tagKeys=keys))

    def delete(self, aws: Aws, wanted: WantedLogGroup, observed: ObservedLogGroup) -> None:
        aws.call("logs", "delete_log_group", logGroupName=wanted.name, missing_ok=True)

    def summary(self, observed: ObservedLogGroup | None) -> dict[str, Any]:
        if observed is None:
            return {}
        return {"arn": observed.arn, "retention_days": observed.retention_days}


def events(aws: Aws, log_group_name: str, start_ms: int) -> list[dict[str, Any]]:
    """Every log event since start_ms, oldest first (all streams, all pages)."""
    found = [event for page in aws.pages("logs", "filter_log_events",
                                         logGroupName=log_group_name, startTime=start_ms)
             for event in page.get("events", [])]
    return sorted(found, key=lambda e: (e["timestamp"], e.get("eventId", "")))
