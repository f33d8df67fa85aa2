"""The function's log group, made before the function so Lambda never makes an untagged one.

An account-level retention policy (logs PutAccountPolicy, type RETENTION_POLICY) overrides the
group's own retention. While one applies, DescribeLogGroups names it in `retentionPolicyName`
and reports the policy's `retentionInDays` instead of the group's (none when it never expires),
so the group's own setting cannot be read back: retention is then never counted as drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provision.aws.client import Aws
from provision.core import findings
from provision.core.needs import ANY, DOWN, READ, UP, Need, Scope
from provision.core.plan import Change, Changes
from provision.core.pricing import Line
from provision.core.stack import Stack
from provision.kinds.contract import Fragment, Kind
from provision.kinds.tags import apply_tags, as_list, tag_changes

# CloudWatch Logs prices (https://aws.amazon.com/cloudwatch/pricing/), and what a run logs.
LOGS_FREE_GB = 5.0
LOGS_USD_PER_GB = 0.50
LOG_BYTES_PER_RUN = 2_048  # assumption: a run logs a few lines (about 2 KB)
# CloudWatch Logs: the tagging APIs take the log-group ARN without ':*', every other API the
# ARN with ':*' (CloudWatch Logs User Guide, "CloudWatch Logs resources and operations").
TAGS_SCOPE = Scope("LogGroupTags", lambda s: [s.log_group_arn])
GROUP_SCOPE = Scope("LogGroup", lambda s: [f"{s.log_group_arn}:*"])


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
    retention_days: int | None  # in effect: the account policy's when one applies
    tags: dict[str, str]
    account_policy: str | None = None  # retentionPolicyName: an account policy governs


class LogGroup(Kind[WantedLogGroup, ObservedLogGroup]):
    name = "log-group"
    services = ("logs",)
    needs_account = False  # reads by name

    operator = (
        Need("logs:DescribeLogGroups", ANY, ("up", "down", "status", "logs"),
             "find the log group by name prefix", unscoped="CloudWatch Logs authorises it per "
             "account, not per log group."),
        Need("logs:ListTagsForResource", TAGS_SCOPE, READ, "check the group is this stack's"),
        Need("logs:TagResource", TAGS_SCOPE, UP, "tag the group (also needed by "
             "CreateLogGroup with tags)"),
        Need("logs:UntagResource", TAGS_SCOPE, UP, "remove tags dropped from the config"),
        Need("logs:CreateLogGroup", GROUP_SCOPE, UP, "create the group before the function, so "
             "Lambda never makes an untagged one with no retention"),
        Need("logs:PutRetentionPolicy", GROUP_SCOPE, UP, "set log_retention_days"),
        Need("logs:DeleteLogGroup", GROUP_SCOPE, DOWN, "delete the group"),
        Need("logs:FilterLogEvents", GROUP_SCOPE, ("logs",), "print the function's log events"),
    )
    audit_rules = {"retention_days": findings.retention, "tags": findings.tags}
    grants = {
        "logs:CreateLogStream": (
            "Lambda opens a new stream in the function's own log group for each execution "
            "environment; without it the function's output is lost."),
        "logs:PutLogEvents": (
            "writes the function's log lines (quotes fetched, alerts sent, errors) into that "
            "stream, so 'stock-alert logs' can show them."),
    }

    def cloudformation(self, w: WantedLogGroup) -> Fragment:
        return Fragment({"LogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {
            "LogGroupName": w.name, "RetentionInDays": w.retention_days,
            "Tags": as_list(w.tags)}}})

    def physical_name(self, stack: Stack) -> str:
        return stack.log_group_name

    def recognise(self, arn: str) -> str | None:
        parts = arn.split(":", 5)
        if len(parts) == 6 and parts[2] == "logs" and parts[5].startswith("log-group:"):
            return parts[5].removeprefix("log-group:").removesuffix(":*")
        return None

    def locate(self, aws: Aws, wanted: WantedLogGroup) -> ObservedLogGroup | None:
        """By its name, which derives from the stack's name alone."""
        return self.read(aws, wanted)

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
        return ObservedLogGroup(wanted.name, arn, group.get("retentionInDays"), tags,
                                group.get("retentionPolicyName"))

    def changes(self, wanted: WantedLogGroup, observed: ObservedLogGroup | None) -> Changes:
        out: list[Change] = []
        have = observed.retention_days if observed else None
        governed = observed is not None and observed.account_policy is not None
        if have != wanted.retention_days and not governed:
            out.append(Change("retention_days", have, wanted.retention_days))
        if observed:
            out += tag_changes(wanted.tags, observed.tags)
        return tuple(out)

    def notes(self, wanted: WantedLogGroup, observed: ObservedLogGroup | None,
              ) -> tuple[str, ...]:
        if observed is None or observed.account_policy is None:
            return ()
        days = observed.retention_days
        effect = f"{days} days" if days is not None else "never expire"
        return (f"account retention policy {observed.account_policy!r} governs this group's "
                f"retention ({effect}); AWS hides the group's own setting (the config asks for "
                f"{wanted.retention_days} days) while that policy applies",)

    def create(self, aws: Aws, wanted: WantedLogGroup) -> None:
        aws.call("logs", "create_log_group", logGroupName=wanted.name, tags=wanted.tags)
        # Set even under an account retention policy: the group's own setting is what the config
        # asks for, and it takes effect again once that policy is removed.
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

    def cost(self, stack: Stack, runs: int) -> tuple[Line, ...]:
        mb = runs * LOG_BYTES_PER_RUN / 1024**2
        return (Line("CloudWatch Logs ingestion", round(mb, 3), "MB",
                     max(0.0, mb / 1024 - LOGS_FREE_GB) * LOGS_USD_PER_GB,
                     f"about {LOG_BYTES_PER_RUN} bytes a run; {LOGS_FREE_GB:g} GB free"),)

    def summary(self, observed: ObservedLogGroup | None) -> dict[str, Any]:
        if observed is None:
            return {}
        out: dict[str, Any] = {"arn": observed.arn, "retention_days": observed.retention_days}
        if observed.account_policy is not None:
            out["account_retention_policy"] = observed.account_policy
        return out


def events(aws: Aws, log_group_name: str, start_ms: int) -> list[dict[str, Any]]:
    """Every log event since start_ms, oldest first (all streams, all pages)."""
    found = [event for page in aws.pages("logs", "filter_log_events",
                                         logGroupName=log_group_name, startTime=start_ms)
             for event in page.get("events", [])]
    return sorted(found, key=lambda e: (e["timestamp"], e.get("eventId", "")))
