"""Read-only listing of everything tagged managed-by=stock-alert in one account and Region.

Sources, because no single API sees it all:
- the Resource Groups Tagging API `GetResources` (Lambda functions, the notifier included, SNS
  topics, log groups),
  paged by `PaginationToken` until AWS returns none. Its model says a page "can return fewer
  than this maximum, even if there are more results", so an empty page with a token is not the
  end. `GetResources` has no `FailedResourcesMap` (only TagResources/UntagResources do); its
  partial answers are *stale* ones: it returns "tagged or previously tagged resources", and
  deleted resources can linger for minutes to hours (github.com/boto/boto3/issues/3341,
  github.com/aws/aws-cli/issues/4173). A listed ARN is therefore a lead, never proof: the
  sweep re-reads each stack through the engine before deleting anything.
- IAM roles (`ListRoles`, which omits tags, then `ListRoleTags` per role), EventBridge rules
  (`ListRules`, then `ListTagsForResource` per rule) and EventBridge Scheduler schedule groups
  (`ListScheduleGroups`, then `ListTagsForResource` per group), which the tagging API does not
  return (moto's does not list schedule groups; listed here either way, one entry per ARN).
  IAM is global: `tagged_roles` reads an account's roles once, and each Region's listing keeps
  the roles whose stock-alert:region tag names it (and legacy roles with no such tag).

Which kind an ARN is, each kind says itself (`Kind.recognise`); 'other' for kinds we never make.

Creation times come from what each API reports: IAM `CreateDate`, Lambda `LastModified` (the
last change, so never older than the truth), log group `creationTime`, schedule group
`CreationDate`. SNS topics and
EventBridge rules report none: their age is unknown (None).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from provision.aws.client import Aws
from provision.config.model import REGION_TAG
from provision.core.stack import MANAGED_BY, MANAGED_BY_VALUE
from provision.kinds.tags import from_list

TAG_FILTER = [{"Key": MANAGED_BY, "Values": [MANAGED_BY_VALUE]}]
OTHER = "other"


@dataclass(frozen=True)
class Found:
    """One tagged resource: its kind (our kind names; 'other' for kinds we never make)."""

    arn: str
    kind: str
    name: str
    tags: dict[str, str]
    created: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"arn": self.arn, "kind": self.kind, "name": self.name, "tags": self.tags,
                "created": self.created.isoformat() if self.created else None}


@dataclass(frozen=True)
class Listing:
    region: str
    account: str
    partition: str = "aws"
    resources: tuple[Found, ...] = ()


def kind_and_name(arn: str) -> tuple[str, str]:
    """(the kind's name, the resource's name or id) of an ARN, as the kind recognises it;
    ('other', the ARN's resource part) for an ARN no kind claims."""
    from provision.kinds import KINDS

    for kind in KINDS:
        name = kind.recognise(arn)
        if name is not None:
            return kind.name, name
    parts = arn.split(":", 5)
    return OTHER, parts[5] if len(parts) == 6 else arn


def list_tagged(aws: Aws, prefix: str = "", roles: list[Found] | None = None) -> Listing:
    """Everything tagged managed-by=stock-alert; `prefix` narrows the IAM/EventBridge scans by
    name (a stack's role and rule names start with the stack name). `roles`: the account's
    tagged roles when the caller has read them already (`tagged_roles`, once per account).
    Reads only."""
    account, partition = aws.account()
    by_arn: dict[str, Found] = {}
    for page in aws.pages("resourcegroupstaggingapi", "get_resources", TagFilters=TAG_FILTER):
        for item in page.get("ResourceTagMappingList", []):
            kind, name = kind_and_name(item["ResourceARN"])
            by_arn[item["ResourceARN"]] = Found(item["ResourceARN"], kind, name,
                                                from_list(item.get("Tags")))
    account_roles = tagged_roles(aws, prefix) if roles is None else roles
    here = [r for r in account_roles if r.tags.get(REGION_TAG, aws.region) == aws.region]
    for found in [*here, *_rules(aws, prefix), *_schedule_groups(aws, prefix)]:
        by_arn[found.arn] = found  # the tagging API may list them too: one entry per ARN
    dated = _with_ages(aws, list(by_arn.values()), prefix)
    return Listing(aws.region, account, partition,
                   tuple(sorted(dated, key=lambda f: (f.kind, f.name))))


def ours(tags: dict[str, str]) -> bool:
    return tags.get(MANAGED_BY) == MANAGED_BY_VALUE


def tagged_roles(aws: Aws, prefix: str = "") -> list[Found]:
    """The account's roles tagged managed-by=stock-alert (IAM is global: read once per
    account, whichever Region's Aws asks)."""
    out = []
    for page in aws.pages("iam", "list_roles"):
        for role in page.get("Roles", []):
            name = role["RoleName"]
            if not name.startswith(prefix):
                continue
            tags = from_list([t for tag_page in aws.pages("iam", "list_role_tags",
                                                          RoleName=name)
                              for t in tag_page.get("Tags", [])])
            if ours(tags):
                kind, _ = kind_and_name(role["Arn"])
                out.append(Found(role["Arn"], kind, name, tags, _utc(role.get("CreateDate"))))
    return out


def _rules(aws: Aws, prefix: str) -> list[Found]:
    out = []
    params = {"NamePrefix": prefix} if prefix else {}
    for page in aws.pages("events", "list_rules", **params):
        for rule in page.get("Rules", []):
            tags = from_list(aws.call("events", "list_tags_for_resource",
                                      ResourceARN=rule["Arn"]).get("Tags"))
            if ours(tags):
                kind, _ = kind_and_name(rule["Arn"])
                out.append(Found(rule["Arn"], kind, rule["Name"], tags))
    return out


def _schedule_groups(aws: Aws, prefix: str) -> list[Found]:
    """EventBridge Scheduler groups tagged as ours (never the account's 'default' group, which
    takes no tags)."""
    out = []
    params = {"NamePrefix": prefix} if prefix else {}
    for page in aws.pages("scheduler", "list_schedule_groups", **params):
        for group in page.get("ScheduleGroups", []):
            if group.get("Name") == "default":
                continue
            tags = from_list(aws.call("scheduler", "list_tags_for_resource",
                                      ResourceArn=group["Arn"]).get("Tags"))
            if ours(tags):
                kind, name = kind_and_name(group["Arn"])
                out.append(Found(group["Arn"], kind, name, tags,
                                 _utc(group.get("CreationDate"))))
    return out


def _with_ages(aws: Aws, found: list[Found], prefix: str) -> list[Found]:
    """Fill in creation times for functions and log groups (roles came with theirs)."""
    from provision.kinds.function import Function
    from provision.kinds.log_group import LogGroup
    from provision.kinds.notifier import Notifier

    kinds = {f.kind for f in found}
    functions: dict[str, datetime | None] = {}
    groups: dict[str, datetime | None] = {}
    if kinds & {Function.name, Notifier.name}:
        functions = {fn["FunctionName"]: _lambda_time(fn.get("LastModified"))
                     for page in aws.pages("lambda", "list_functions")
                     for fn in page.get("Functions", [])}
    if LogGroup.name in kinds:
        groups = {g["logGroupName"]: _millis(g.get("creationTime"))
                  for page in aws.pages("logs", "describe_log_groups",
                                        logGroupNamePrefix=f"/aws/lambda/{prefix}")
                  for g in page.get("logGroups", [])}
    ages = {Function.name: functions, Notifier.name: functions, LogGroup.name: groups}
    return [Found(f.arn, f.kind, f.name, f.tags, ages[f.kind].get(f.name))
            if f.kind in ages else f for f in found]


def _utc(value: Any) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _lambda_time(text: str | None) -> datetime | None:
    """Lambda's LastModified, e.g. '2024-05-01T12:00:00.000+0000' (the Lambda API reference's
    form; moto writes nanoseconds). Anything unreadable is an unknown age, not a guess."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else None


def _millis(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, UTC) if isinstance(value, int | float) else None
