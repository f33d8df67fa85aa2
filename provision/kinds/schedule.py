"""The EventBridge rule, its one target (the function) and the function's invoke permission.

The permission lets only this rule, in this account, invoke the function (SourceArn and
SourceAccount). On `down` the permission goes with the function, so the rule's deletion never
touches a function this stack does not own. The rule and the permission are optional parts of
what is observed: a crash between them, or a rule deleted by hand, leaves only one.

With a schedule in a market's local time (config `schedule: {at, timezone, days}`) the rule is
not used: 'up' deletes it and the permission (the function stays, so the permission must go
explicitly), after the EventBridge Scheduler schedule that replaces it exists (engine.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from provision.aws.client import Aws, absent_ok
from provision.aws.concurrency import gather
from provision.config.model import DEFAULT_SCHEDULE
from provision.core import findings
from provision.core.needs import READ, UP, Need, Scope
from provision.core.plan import Action, Change, Changes, Mode, Op
from provision.core.pricing import Line
from provision.core.stack import Stack
from provision.errors import AwsError, PartialFailure
from provision.kinds.contract import Fragment, Kind, Reason, unused
from provision.kinds.tags import apply_tags, as_list, from_list, tag_changes

RULE_SCOPE = Scope("ScheduleRule", lambda s: [s.rule_arn])

TARGET_ID = "stock-alert-function"
DESCRIPTION = "stock-alert: runs the quote check on schedule"
RULE_FIELDS = ("schedule", "description", "state")
RETRY_POLICY = "retry_policy"  # the target's RetryPolicy: attempts and maximum event age
UNUSED = "the schedule is in a market's local time: an EventBridge Scheduler schedule runs it"


@dataclass(frozen=True)
class WantedSchedule:
    name: str  # the rule's name
    arn: str
    settings: dict[str, str]  # RULE_FIELDS
    targets: dict[str, str]  # target id -> ARN
    function_name: str
    statement_id: str
    permission: dict[str, Any]  # the statement reduced to what we compare
    tags: dict[str, str]
    # EventBridge's RetryPolicy on the target (schedule_delivery in the config)
    retry_policy: dict[str, int] = field(default_factory=dict)
    # False when the config gives the schedule in a market's local time: an EventBridge
    # Scheduler schedule runs the function (market_schedule.py) and 'up' deletes the rule and
    # its permission once that exists. Teardown's wanted value (Stack.teardown) always uses
    # the rule, so there the permission still goes with the function.
    used: bool = True

    def permission_params(self) -> dict[str, Any]:
        return {
            "FunctionName": self.function_name, "StatementId": self.statement_id,
            "Action": self.permission["action"], "Principal": self.permission["principal"],
            "SourceArn": self.permission["source_arn"],
            "SourceAccount": self.permission["source_account"],
        }


@dataclass(frozen=True)
class ObservedRule:
    arn: str
    settings: dict[str, Any]
    tags: dict[str, str]
    targets: dict[str, str]
    retry_policies: dict[str, dict[str, int]] = field(default_factory=dict)  # by target id


@dataclass(frozen=True)
class ObservedSchedule:
    rule: ObservedRule | None
    permission: dict[str, Any] | None
    # the function policy's other statements, as GetPolicy gave them (for audit; never diffed)
    others: tuple[dict[str, Any], ...] = ()

    @property
    def tags(self) -> dict[str, str] | None:
        """The rule's tags; a lone permission has none and sits on this stack's function."""
        return self.rule.tags if self.rule else None


class Schedule(Kind[WantedSchedule, ObservedSchedule]):
    name = "schedule"
    # A run starts only once its failure can be told: the rule is made after the function's
    # on-failure path (the notifier and the destination, issue 21) and removed before it.
    after = ("function", "topic", "notifier", "on-failure")

    services = ("events", "lambda")  # the rule and its target; the function's permission
    needs_account = False  # reads by name

    operator = (
        Need("events:DescribeRule", RULE_SCOPE, READ, "read the schedule"),
        Need("events:ListTagsForResource", RULE_SCOPE, READ, "check the rule is this stack's"),
        Need("events:ListTargetsByRule", RULE_SCOPE, READ, "check the rule targets the function"),
        Need("events:PutRule", RULE_SCOPE, UP, "create or update the schedule"),
        Need("events:TagResource", RULE_SCOPE, UP, "add tags from the config"),
        Need("events:UntagResource", RULE_SCOPE, UP, "remove tags dropped from the config"),
        Need("events:PutTargets", RULE_SCOPE, UP, "point the rule at the function"),
        Need("events:RemoveTargets", RULE_SCOPE, ("up", "down"), "remove stray targets; empty the "
             "rule before deleting it"),
        Need("events:DeleteRule", RULE_SCOPE, ("up", "down"), "delete the rule (also in 'up', "
             "once a market-time schedule replaces it)"),
    )
    audit_rules = {"permission": findings.permission, "tags": findings.tags}
    grants = {}

    def inspect(self, stack: Stack, action: Action[WantedSchedule, ObservedSchedule]
                ) -> list[findings.Finding]:
        """`audit`: the function policy's statements other than this rule's invoke permission
        (read with it), which 'up' leaves alone."""
        others = action.observed.others if action.observed is not None else ()
        name = stack.function_name
        return [findings.Finding(
            "extra-invoke-permission", f"function {name}", f"statement {s.get('Sid')!r} lets "
            f"{json.dumps(s.get('Principal'))} {s.get('Action')}", "'stock-alert up' does not "
            f"remove it yet: aws lambda remove-permission --function-name {name} "
            f"--statement-id {s.get('Sid')}", False) for s in others]

    def cloudformation(self, w: WantedSchedule) -> Fragment:
        if not w.used:  # a market-time schedule runs the function instead
            return Fragment()
        rule = {"Name": w.name, "ScheduleExpression": w.settings["schedule"],
                "State": w.settings["state"], "Description": w.settings["description"],
                "Targets": [{"Id": i, "Arn": arn, "RetryPolicy": w.retry_policy}
                            for i, arn in w.targets.items()],
                "Tags": as_list(w.tags)}
        params = w.permission_params()
        permission = {k: params[k] for k in ("FunctionName", "Action", "Principal", "SourceArn",
                                             "SourceAccount")}
        return Fragment({"Schedule": {"Type": "AWS::Events::Rule", "Properties": rule},
                         "InvokePermission": {"Type": "AWS::Lambda::Permission",
                                              "DependsOn": ["Schedule"],
                                              "Properties": permission}})

    def physical_name(self, stack: Stack) -> str:
        return stack.rule_name

    def recognise(self, arn: str) -> str | None:
        parts = arn.split(":", 5)
        if len(parts) == 6 and parts[2] == "events" and parts[5].startswith("rule/"):
            return parts[5].removeprefix("rule/")
        return None

    def locate(self, aws: Aws, wanted: WantedSchedule) -> ObservedSchedule | None:
        """The rule and the permission, by the names the stack's name gives them."""
        return self.read(aws, wanted)

    def wanted(self, stack: Stack) -> WantedSchedule:
        config = stack.config
        expression = config.rule_expression
        settings = {"schedule": expression or DEFAULT_SCHEDULE, "description": DESCRIPTION,
                    "state": "ENABLED" if config.enabled else "DISABLED"}
        permission = {
            "principal": "events.amazonaws.com", "action": "lambda:InvokeFunction",
            "resource": stack.function_arn, "source_arn": stack.rule_arn,
            "source_account": stack.account,
        }
        return WantedSchedule(stack.rule_name, stack.rule_arn, settings,
                              {TARGET_ID: stack.function_arn}, stack.function_name,
                              stack.statement_id, permission, stack.tags,
                              config.schedule_delivery.retry_policy(), expression is not None)

    def read(self, aws: Aws, wanted: WantedSchedule) -> ObservedSchedule | None:
        """The rule and the function's permission, read at once."""
        found = gather({"rule": partial(_read_rule, aws, wanted.name),
                        "permission": partial(_read_permission, aws, wanted)})
        rule, (permission, others) = found["rule"], found["permission"]
        if rule is None and permission is None:
            return None
        return ObservedSchedule(rule, permission, others)

    def diff(self, wanted: WantedSchedule, observed: ObservedSchedule | None, mode: Mode,
             adopt: bool = False) -> Action[WantedSchedule, ObservedSchedule]:
        if not wanted.used and not mode.teardown:
            return unused(self.name, wanted, observed, UNUSED, adopt)
        if observed is not None and observed.rule is None and mode.teardown:
            return Action(kind=self.name, name=wanted.name, op=Op.NOOP, wanted=wanted,
                          observed=observed,
                          reason="absent (the permission goes with the function)")
        action = super().diff(wanted, observed, mode, adopt)
        if observed is not None and observed.rule is None and mode is Mode.STATUS:
            # what 'down' calls absent, 'status' calls missing, never drifted (issue 21)
            return replace(action, op=Op.CREATE, reason=Reason.MISSING, notes=(
                "the rule is absent; only the function's invoke permission is left",))
        return action

    def changes(self, wanted: WantedSchedule, observed: ObservedSchedule | None) -> Changes:
        rule = observed.rule if observed else None
        have = rule.settings if rule else {}
        out = [Change(k, have.get(k), v) for k, v in wanted.settings.items()
               if have.get(k) != v]
        targets = rule.targets if rule else {}
        if targets != wanted.targets:
            out.append(Change("targets", targets, wanted.targets))
        elif rule and (rule.retry_policies.get(TARGET_ID) or {}) != wanted.retry_policy:
            out.append(Change(RETRY_POLICY, rule.retry_policies.get(TARGET_ID),
                              wanted.retry_policy))
        permission = observed.permission if observed else None
        if permission != wanted.permission:
            out.append(Change("permission", permission, wanted.permission))
        if rule:
            out += tag_changes(wanted.tags, rule.tags)
        return tuple(out)

    def create(self, aws: Aws, wanted: WantedSchedule) -> None:
        _put_rule(aws, wanted, with_tags=True)
        _set_targets(aws, wanted, {})
        _set_permission(aws, wanted, replace=False)

    def update(self, aws: Aws, wanted: WantedSchedule, observed: ObservedSchedule,
               changes: Changes) -> None:
        fields = {c.field for c in changes}
        if observed.rule is None or fields & set(RULE_FIELDS):
            _put_rule(aws, wanted, with_tags=observed.rule is None)
        apply_tags(changes,
                   lambda tags: aws.call("events", "tag_resource", ResourceARN=wanted.arn,
                                         Tags=as_list(tags)),
                   lambda keys: aws.call("events", "untag_resource", ResourceARN=wanted.arn,
                                         TagKeys=keys))
        if fields & {"targets", RETRY_POLICY}:
            _set_targets(aws, wanted, observed.rule.targets if observed.rule else {},
                         resend=RETRY_POLICY in fields)
        if "permission" in fields:
            _set_permission(aws, wanted, replace=observed.permission is not None)

    def delete(self, aws: Aws, wanted: WantedSchedule, observed: ObservedSchedule) -> None:
        if observed.rule is not None:
            _delete_rule(aws, wanted, observed.rule)
        if not wanted.used and observed.permission is not None:
            # replaced by a market-time schedule: the function stays, so its permission for
            # the rule goes now (on 'down' it goes with the function)
            _remove_permission(aws, wanted)

    def cost(self, stack: Stack, runs: int) -> tuple[Line, ...]:
        """Nothing with a market-time schedule: the rule is not made (market_schedule.py)."""
        if stack.config.market_time is not None:
            return ()
        return (Line("EventBridge schedule", runs, "events", 0.0,
                     "scheduled rules on the default event bus are not charged"),)

    def summary(self, observed: ObservedSchedule | None) -> dict[str, Any]:
        if observed is None:
            return {}
        rule = observed.rule
        return {"arn": rule.arn if rule else None, **(rule.settings if rule else {}),
                "targets": sorted(rule.targets.values()) if rule else [],
                "retry_policy": rule.retry_policies.get(TARGET_ID) if rule else None,
                "permission": "present" if observed.permission else "missing"}


def _delete_rule(aws: Aws, wanted: WantedSchedule, rule: ObservedRule) -> None:
    if rule.targets:
        _each_entry(aws, "remove_targets", wanted.name, sorted(rule.targets))
    # Right after RemoveTargets, DeleteRule can still answer "Rule can't be deleted since it
    # has targets." for a moment: waited out, but only when this run removed them.
    aws.call("events", "delete_rule", Name=wanted.name, missing_ok=True,
             dependents_removed=bool(rule.targets))


def _read_rule(aws: Aws, name: str) -> ObservedRule | None:
    """The rule and its targets, asked for at once (both answer not-found when the rule is
    absent); then its tags, by the ARN the rule gave."""
    found = gather({"rule": partial(aws.call, "events", "describe_rule", Name=name,
                                    missing_ok=True),
                    "targets": absent_ok(partial(_targets, aws, name))})
    rule = found["rule"]
    if rule is None:
        return None
    tags = aws.call("events", "list_tags_for_resource", ResourceARN=rule["Arn"])["Tags"]
    # Not found while the rule answered (deleted meanwhile): asked again, alone, its answer
    # (or its error) is the one to use.
    listed = found["targets"] if found["targets"] is not None else _targets(aws, name)
    targets = {t["Id"]: t["Arn"] for t in listed}
    retry = {t["Id"]: dict(t["RetryPolicy"]) for t in listed if t.get("RetryPolicy")}
    settings = {"schedule": rule.get("ScheduleExpression"),
                "description": rule.get("Description"), "state": rule.get("State")}
    return ObservedRule(rule["Arn"], settings, from_list(tags), targets, retry)


def _targets(aws: Aws, rule: str) -> list[dict[str, Any]]:
    return [t for page in aws.pages("events", "list_targets_by_rule", Rule=rule)
            for t in page["Targets"]]


def _read_permission(aws: Aws, wanted: WantedSchedule,
                     ) -> tuple[dict[str, Any] | None, tuple[dict[str, Any], ...]]:
    """(this stack's statement reduced to what we compare, every other statement)."""
    policy = aws.call("lambda", "get_policy", FunctionName=wanted.function_name,
                      missing_ok=True)
    statements = json.loads(policy["Policy"])["Statement"] if policy else []
    ours = next((_parse_statement(s) for s in statements
                 if s.get("Sid") == wanted.statement_id), None)
    return ours, tuple(s for s in statements if s.get("Sid") != wanted.statement_id)


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


def _put_rule(aws: Aws, wanted: WantedSchedule, with_tags: bool) -> None:
    extra: dict[str, Any] = {"Tags": as_list(wanted.tags)} if with_tags else {}
    aws.call("events", "put_rule", Name=wanted.name,
             ScheduleExpression=wanted.settings["schedule"], State=wanted.settings["state"],
             Description=wanted.settings["description"], **extra)


def _set_targets(aws: Aws, wanted: WantedSchedule, old: dict[str, str],
                 resend: bool = False) -> None:
    """Remove stray targets, then put each wanted one that is missing or differs (all of them
    when `resend`: PutTargets replaces a target whole, RetryPolicy included)."""
    extra = sorted(i for i in old if i not in wanted.targets)
    if extra:
        _each_entry(aws, "remove_targets", wanted.name, extra)
    missing = [{"Id": i, "Arn": arn, "RetryPolicy": wanted.retry_policy}
               for i, arn in wanted.targets.items() if resend or old.get(i) != arn]
    if missing:
        _each_entry(aws, "put_targets", wanted.name, missing)


def _each_entry(aws: Aws, operation: str, rule: str, entries: list[Any]) -> None:
    """PutTargets / RemoveTargets until AWS has applied every entry.

    Both can answer HTTP 200 with FailedEntryCount > 0 ("This action can partially fail if too
    many requests are made at the same time", botocore's events model): the entries listed in
    FailedEntries were not applied. They are sent again under the retry policy; if they keep
    failing, or fail for a reason that is not transient, PartialFailure names AWS's ErrorCode.
    """
    field = "Targets" if operation == "put_targets" else "Ids"
    left = list(entries)

    def send() -> None:
        nonlocal left
        params: dict[str, Any] = {"Rule": rule, field: left}
        answer = aws.call("events", operation, **params)
        failed = (answer.get("FailedEntries") or []) if answer.get("FailedEntryCount") else []
        if not failed:
            return
        ids = {f.get("TargetId") for f in failed}
        left = [e for e in left if _entry_id(e) in ids] or left
        raise _partial_failure(operation, rule, failed)

    aws.retry.call(f"events:{operation}", send)


def _entry_id(entry: Any) -> str:
    return str(entry["Id"] if isinstance(entry, dict) else entry)


def _partial_failure(operation: str, rule: str, failed: list[dict[str, Any]]) -> PartialFailure:
    first = failed[0]
    code = str(first.get("ErrorCode", ""))
    targets = ", ".join(sorted(str(f.get("TargetId")) for f in failed))
    if operation == "put_targets":
        effect = ("The rule exists without this target, so it runs nothing and no alert is "
                  "sent. Run 'stock-alert up' again to add it.")
    else:
        effect = ("The rule still has this target, so it cannot be deleted yet. Run "
                  "'stock-alert down' again to finish.")
    return PartialFailure(
        f"EventBridge did not apply {operation.replace('_', ' ')} for target {targets} of rule "
        f"{rule}: {code}: {first.get('ErrorMessage', '')}", code=code, hint=effect,
        entries=tuple(failed))


def _set_permission(aws: Aws, wanted: WantedSchedule, replace: bool) -> None:
    if replace:
        _remove_permission(aws, wanted)
    try:
        aws.call("lambda", "add_permission", **wanted.permission_params())
    except AwsError as err:
        if err.code != "ResourceConflictException":
            raise
        # The statement appeared meanwhile (a lost response to our own earlier add): replace it.
        _remove_permission(aws, wanted)
        aws.call("lambda", "add_permission", **wanted.permission_params())


def _remove_permission(aws: Aws, wanted: WantedSchedule) -> None:
    aws.call("lambda", "remove_permission", FunctionName=wanted.function_name,
             StatementId=wanted.statement_id, missing_ok=True)
