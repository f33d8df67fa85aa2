"""Read-only listing of everything tagged managed-by=stock-alert in one account and Region.

Sources, because no single API sees it all:
- the Resource Groups Tagging API `GetResources` (Lambda functions, SNS topics, log groups),
  paged by `PaginationToken` until AWS returns none. Its model says a page "can return fewer
  than this maximum, even if there are more results", so an empty page with a token is not the
  end. `GetResources` has no `FailedResourcesMap` (only TagResources/UntagResources do); its
  partial answers are *stale* ones: it returns "tagged or previously tagged resources", and
  deleted resources can linger for minutes to hours (github.com/boto/boto3/issues/3341,
  github.com/aws/aws-cli/issues/4173). A listed ARN is therefore a lead, never proof: the
  sweep re-reads each stack through the engine before deleting anything.
- IAM roles (`ListRoles`, which omits tags, then `ListRoleTags` per role) and EventBridge rules
  (`ListRules`, then `ListTagsForResource` per rule), which the tagging API does not return.

Creation times come from what each API reports: IAM `CreateDate`, Lambda `LastModified` (the
last change, so never older than the truth), log group `creationTime`. SNS topics and
EventBridge rules report none: their age is unknown (None).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from provision.aws import Aws
from provision.resources.tags import from_list
from provision.stack import MANAGED_BY, MANAGED_BY_VALUE

TAG_FILTER = [{"Key": MANAGED_BY, "Values": [MANAGED_BY_VALUE]}]
ROLE_SUFFIX = "-role"


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
    """('role' | 'function' | 'log-group' | 'topic' | 'rule' | 'alarm' | 'other', name) of an
    ARN."""
    parts = arn.split(":", 5)
    service, rest = (parts[2], parts[5]) if len(parts) == 6 else ("", arn)
    if service == "iam" and rest.startswith("role/"):
        return "role", rest.rsplit("/", 1)[-1]
    if service == "lambda" and rest.startswith("function:"):
        return "function", rest.split(":")[1]
    if service == "logs" and rest.startswith("log-group:"):
        return "log-group", rest.removeprefix("log-group:").removesuffix(":*")
    if service == "sns" and ":" not in rest:
        return "topic", rest
    if service == "events" and rest.startswith("rule/"):
        return "rule", rest.removeprefix("rule/")
    if service == "cloudwatch" and rest.startswith("alarm:"):
        return "alarm", rest.removeprefix("alarm:")  # the errors alarm (issue 9)
    return "other", rest


def list_tagged(aws: Aws, prefix: str = "") -> Listing:
    """Everything tagged managed-by=stock-alert; `prefix` narrows the IAM/EventBridge scans by
    name (a stack's role and rule names start with the stack name). Reads only."""
    account, partition = aws.account()
    by_arn: dict[str, Found] = {}
    for page in aws.pages("resourcegroupstaggingapi", "get_resources", TagFilters=TAG_FILTER):
        for item in page.get("ResourceTagMappingList", []):
            kind, name = kind_and_name(item["ResourceARN"])
            by_arn[item["ResourceARN"]] = Found(item["ResourceARN"], kind, name,
                                                from_list(item.get("Tags")))
    for found in [*_roles(aws, prefix), *_rules(aws, prefix)]:
        by_arn[found.arn] = found  # the tagging API may list them too: one entry per ARN
    dated = _with_ages(aws, list(by_arn.values()), prefix)
    return Listing(aws.region, account, partition,
                   tuple(sorted(dated, key=lambda f: (f.kind, f.name))))


def ours(tags: dict[str, str]) -> bool:
    return tags.get(MANAGED_BY) == MANAGED_BY_VALUE


def _roles(aws: Aws, prefix: str) -> list[Found]:
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
                out.append(Found(role["Arn"], "role", name, tags, _utc(role.get("CreateDate"))))
    return out


def _rules(aws: Aws, prefix: str) -> list[Found]:
    out = []
    params = {"NamePrefix": prefix} if prefix else {}
    for page in aws.pages("events", "list_rules", **params):
        for rule in page.get("Rules", []):
            tags = from_list(aws.call("events", "list_tags_for_resource",
                                      ResourceARN=rule["Arn"]).get("Tags"))
            if ours(tags):
                out.append(Found(rule["Arn"], "rule", rule["Name"], tags))
    return out


def _with_ages(aws: Aws, found: list[Found], prefix: str) -> list[Found]:
    """Fill in creation times for functions and log groups (roles came with theirs)."""
    kinds = {f.kind for f in found}
    functions: dict[str, datetime | None] = {}
    groups: dict[str, datetime | None] = {}
    if "function" in kinds:
        functions = {fn["FunctionName"]: _lambda_time(fn.get("LastModified"))
                     for page in aws.pages("lambda", "list_functions")
                     for fn in page.get("Functions", [])}
    if "log-group" in kinds:
        groups = {g["logGroupName"]: _millis(g.get("creationTime"))
                  for page in aws.pages("logs", "describe_log_groups",
                                        logGroupNamePrefix=f"/aws/lambda/{prefix}")
                  for g in page.get("logGroups", [])}
    ages = {"function": functions, "log-group": groups}
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
