"""The EventBridge rule, its one target (the function) and the function's invoke permission.

The permission lets only this rule, in this account, invoke the function (SourceArn and
SourceAccount). On `down` the permission goes with the function, so the rule's deletion never
touches a function this stack does not own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from provision.aws import Aws
from provision.model import Action, Change, Op, tag_changes
from provision.resources.base import apply_tags, as_list, changed, decide
from provision.stack import Stack

KIND = "schedule"
TARGET_ID = "stock-alert-function"
DESCRIPTION = "stock-alert: runs the quote check on schedule"


@dataclass(frozen=True)
class ObservedSchedule:
    arn: str
    settings: dict[str, Any]
    tags: dict[str, str]
    targets: dict[str, str]
    permission: dict[str, Any] | None


def _settings(stack: Stack) -> dict[str, Any]:
    return {"schedule": stack.config.schedule, "description": DESCRIPTION,
            "state": "ENABLED" if stack.config.enabled else "DISABLED"}


def _permission(stack: Stack) -> dict[str, Any]:
    """The statement as Lambda's GetPolicy shows it, reduced to what we compare."""
    return {
        "principal": "events.amazonaws.com",
        "action": "lambda:InvokeFunction",
        "resource": stack.function_arn,
        "source_arn": stack.rule_arn,
        "source_account": stack.account,
    }


def _parse_statement(statement: dict[str, Any]) -> dict[str, Any]:
    condition = statement.get("Condition", {})
    principal = statement.get("Principal", {})
    return {
        "principal": principal.get("Service") if isinstance(principal, dict) else principal,
        "action": statement.get("Action"),
        "resource": statement.get("Resource"),
        "source_arn": condition.get("ArnLike", {}).get("AWS:SourceArn"),
        "source_account": condition.get("StringEquals", {}).get("AWS:SourceAccount"),
    }


def observe(aws: Aws, stack: Stack) -> ObservedSchedule | None:
    rule = aws.call("events", "describe_rule", Name=stack.rule_name, missing_ok=True)
    policy = aws.call("lambda", "get_policy", FunctionName=stack.function_name, missing_ok=True)
    statements = json.loads(policy["Policy"])["Statement"] if policy else []
    permission = next((_parse_statement(s) for s in statements
                       if s.get("Sid") == stack.statement_id), None)
    if rule is None:
        if permission is None:
            return None
        return ObservedSchedule("", {}, {}, {}, permission)
    tags = aws.call("events", "list_tags_for_resource", ResourceARN=rule["Arn"])["Tags"]
    targets = aws.call("events", "list_targets_by_rule", Rule=stack.rule_name)["Targets"]
    settings = {"schedule": rule.get("ScheduleExpression"),
                "description": rule.get("Description"), "state": rule.get("State")}
    return ObservedSchedule(rule["Arn"], settings, {t["Key"]: t["Value"] for t in tags},
                            {t["Id"]: t["Arn"] for t in targets}, permission)


def _changes(stack: Stack, seen: ObservedSchedule | None) -> tuple[Change, ...]:
    have = seen.settings if seen else {}
    out = [Change(k, have.get(k), v) for k, v in _settings(stack).items() if have.get(k) != v]
    targets = seen.targets if seen else {}
    if targets != {TARGET_ID: stack.function_arn}:
        out.append(Change("targets", targets, {TARGET_ID: stack.function_arn}))
    permission = seen.permission if seen else None
    if permission != _permission(stack):
        out.append(Change("permission", permission, _permission(stack)))
    if seen and seen.arn:
        out += tag_changes(stack.tags, seen.tags)
    return tuple(out)


def plan(stack: Stack, observed: ObservedSchedule | None, wanted: bool) -> Action:
    if observed is not None and not observed.arn and not wanted:
        return Action(KIND, stack.rule_name, Op.NOOP,
                      reason="absent (the permission goes with the function)")
    if observed is not None and not observed.arn:
        # Only the permission is left (a crash between rule and permission, or a rule deleted
        # by hand): the permission sits on this stack's function, so it counts as ours.
        observed = ObservedSchedule("", {}, dict(stack.tags), {}, observed.permission)
    return decide(KIND, stack.rule_name, stack, observed, wanted,
                  lambda seen: _changes(stack, seen))


def apply(aws: Aws, stack: Stack, action: Action) -> None:
    if action.op.value == "delete":
        _delete(aws, stack, action.observed)
        return
    seen: ObservedSchedule | None = action.observed
    if action.op.value == "create" or not (seen and seen.arn) or any(
        changed(action, k) for k in _settings(stack)
    ):
        wanted = _settings(stack)
        extra: dict[str, Any] = {"Tags": as_list(stack.tags)} if not (seen and seen.arn) else {}
        aws.call("events", "put_rule", Name=stack.rule_name, ScheduleExpression=wanted["schedule"],
                 State=wanted["state"], Description=wanted["description"], **extra)
    rule = stack.rule_arn
    apply_tags(action,
               lambda tags: aws.call("events", "tag_resource", ResourceARN=rule,
                                     Tags=as_list(tags)),
               lambda keys: aws.call("events", "untag_resource", ResourceARN=rule, TagKeys=keys))
    for change in changed(action, "targets"):
        _set_targets(aws, stack, change.old or {})
    for change in changed(action, "permission"):
        _set_permission(aws, stack, replace=change.old is not None)


def _set_targets(aws: Aws, stack: Stack, old: dict[str, str]) -> None:
    extra = sorted(i for i in old if i != TARGET_ID)
    if extra:
        aws.call("events", "remove_targets", Rule=stack.rule_name, Ids=extra)
    if old.get(TARGET_ID) != stack.function_arn:
        aws.call("events", "put_targets", Rule=stack.rule_name,
                 Targets=[{"Id": TARGET_ID, "Arn": stack.function_arn}])


def _set_permission(aws: Aws, stack: Stack, replace: bool) -> None:
    from provision.errors import AwsError

    if replace:
        aws.call("lambda", "remove_permission", FunctionName=stack.function_name,
                 StatementId=stack.statement_id, missing_ok=True)
    params: dict[str, Any] = {
        "FunctionName": stack.function_name, "StatementId": stack.statement_id,
        "Action": "lambda:InvokeFunction", "Principal": "events.amazonaws.com",
        "SourceArn": stack.rule_arn, "SourceAccount": stack.account,
    }
    try:
        aws.call("lambda", "add_permission", **params)
    except AwsError as err:
        if err.code != "ResourceConflictException":
            raise
        # The statement appeared meanwhile (a lost response to our own earlier add): replace it.
        aws.call("lambda", "remove_permission", FunctionName=stack.function_name,
                 StatementId=stack.statement_id, missing_ok=True)
        aws.call("lambda", "add_permission", **params)


def _delete(aws: Aws, stack: Stack, seen: ObservedSchedule) -> None:
    if not seen.arn:
        return  # only a permission remains; it goes with the function
    if seen.targets:
        aws.call("events", "remove_targets", Rule=stack.rule_name, Ids=sorted(seen.targets))
    aws.call("events", "delete_rule", Name=stack.rule_name, missing_ok=True)


def summary(observed: ObservedSchedule | None) -> dict[str, Any]:
    if observed is None:
        return {}
    return {"arn": observed.arn or None, **observed.settings,
            "targets": sorted(observed.targets.values()),
            "permission": "present" if observed.permission else "missing"}
