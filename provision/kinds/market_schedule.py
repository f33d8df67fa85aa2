"""The market-time schedule: an EventBridge Scheduler schedule in a group named after the stack.

Config `schedule: {at, timezone, days}` becomes `cron(M H ? * DAYS *)` evaluated in that IANA
zone (ScheduleExpressionTimezone), so it follows the market's daylight-saving changes, with no
flexible window, the target the function, the scheduler's role (scheduler_role.py) and the
retry policy of `schedule_delivery`. With a cron/rate string the config does not use it: 'up'
deletes it once the rule that replaces it exists (engine.dependencies), and the rule kind does
the same the other way round (schedule.py), so a move leaves no gap and nothing behind.

One kind for the group and its one schedule: a schedule takes no tags ("You can only assign
tags to schedule groups", TagResource, EventBridge Scheduler API Reference), so the group's
tags say whose both are, as a rule's say whose its targets are.

Real-AWS facts this kind is built on (EventBridge Scheduler API Reference; moto 5.2 does none
of the first three, tests/real_aws/test_scheduler.py injects them):
- CreateScheduleGroup and CreateSchedule answer ConflictException (409) when the name exists,
  e.g. after an answer lost on the way: the group is adopted when its tags are this stack's,
  the schedule in it overwritten with UpdateSchedule.
- "Deleting a schedule group results in EventBridge Scheduler deleting all schedules
  associated with the group" (DeleteScheduleGroup; User Guide, "Deleting a schedule group":
  after it has, "the group is no longer available"), asynchronously: the group "remains in a
  DELETING state until all of its associated schedules are deleted", and those "might continue
  to invoke their targets" meanwhile. So the delete is DeleteSchedule first (the schedule is
  then gone, and the function may be deleted from then on: concurrency.ready(), one round
  trip on 'down's longest chain where waiting for the group took two), then
  DeleteScheduleGroup (only when the group is this stack's, as before), and 'down' waits
  until GetScheduleGroup no longer finds the group (as terraform-provider-aws does,
  waitScheduleGroupDeleted), alongside the rest of the teardown. A group found DELETING (an
  earlier run asked) is waited out before the function goes. 'up' waits for a group still
  DELETING before making it again. IAM authorises DeleteScheduleGroup as
  scheduler:DeleteScheduleGroup and scheduler:DeleteSchedule (Service Authorization
  Reference), so the operator keeps both.
- 'up' makes the group first, at once (Kind.early_create): it needs nothing of the stack;
  the schedule in it waits for the function and the rest (concurrency.gate()).
- UpdateSchedule "uses all values, including empty values ... and overrides the existing
  schedule": every field is sent on each update.
- Right after the scheduler's role is created, CreateSchedule can answer ValidationException
  "The execution role you provide must allow AWS EventBridge Scheduler to assume the role."
  (IAM propagation): retried (aws/retry.py).
- Names: groups and schedules are 1-64 of [0-9a-zA-Z-_.] (botocore scheduler model): the stack
  name (letters, digits, '-', at most 55) and '<name>-schedule' fit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from provision.aws.client import Aws
from provision.aws.concurrency import gate, gather, ready
from provision.core import findings
from provision.core.needs import READ, UP, Need, Scope
from provision.core.plan import Action, Change, Changes, Mode
from provision.core.pricing import Line
from provision.core.stack import Stack
from provision.errors import AwsError, ConflictError, InTransition
from provision.kinds.contract import Fragment, Kind, ownership, unused
from provision.kinds.tags import apply_tags, as_list, from_list, tag_changes

FREE_INVOCATIONS = 14_000_000  # EventBridge pricing, Scheduler: a month
USD_PER_INVOCATION = 1.00 / 1_000_000

GROUP_SCOPE = Scope("ScheduleGroup", lambda s: [s.schedule_group_arn])
SCHEDULE_SCOPE = Scope("MarketSchedule", lambda s: [s.market_schedule_arn])

DESCRIPTION = "stock-alert: runs the quote check at the market's local time"
DELETING = "DELETING"
CONFLICT = "ConflictException"
UNUSED = "the schedule is a cron/rate EventBridge rule"
# Our field -> the schedule's field in GetSchedule and Create/UpdateSchedule.
FIELDS = {"expression": "ScheduleExpression", "timezone": "ScheduleExpressionTimezone",
          "state": "State", "description": "Description", "window": "FlexibleTimeWindow",
          "target": "Target"}


@dataclass(frozen=True)
class WantedMarketSchedule:
    name: str  # the group's (the stack's name)
    arn: str  # the group's: it carries the tags
    schedule: str  # the schedule's name in the group
    settings: dict[str, Any]  # FIELDS keys -> the values sent
    tags: dict[str, str]
    used: bool = True  # False: the config's schedule is a cron/rate rule (schedule.py)

    def params(self) -> dict[str, Any]:
        return {"Name": self.schedule, "GroupName": self.name,
                **{FIELDS[k]: v for k, v in self.settings.items()}}


@dataclass(frozen=True)
class ObservedMarketSchedule:
    arn: str
    state: str  # the group's: ACTIVE, or DELETING while Scheduler removes it
    tags: dict[str, str]
    settings: dict[str, Any] | None  # the schedule's (FIELDS keys); None: the group has none


class MarketSchedule(Kind[WantedMarketSchedule, ObservedMarketSchedule]):
    name = "market-schedule"
    # invokes the function as the scheduler's role; no run starts before its failure can be told
    after = ("function", "scheduler-role", "notifier", "on-failure")
    early_create = True  # the group first, while what the schedule needs is made
    services = ("scheduler",)
    needs_account = False  # reads the group and schedule by name; their ARNs come back

    operator = (
        Need("scheduler:GetScheduleGroup", GROUP_SCOPE, READ, "read the market-time "
             "schedule's group"),
        Need("scheduler:ListTagsForResource", GROUP_SCOPE, READ, "check the group is this "
             "stack's"),
        Need("scheduler:GetSchedule", SCHEDULE_SCOPE, READ, "read the market-time schedule"),
        Need("scheduler:CreateScheduleGroup", GROUP_SCOPE, UP, "create the group, tagged"),
        Need("scheduler:TagResource", GROUP_SCOPE, UP, "add tags from the config to the group"),
        Need("scheduler:UntagResource", GROUP_SCOPE, UP, "remove tags dropped from the config"),
        Need("scheduler:CreateSchedule", SCHEDULE_SCOPE, UP, "create the schedule (with "
             "iam:PassRole on the scheduler's role)"),
        Need("scheduler:UpdateSchedule", SCHEDULE_SCOPE, UP, "apply a changed time, zone, days "
             "or retry policy"),
        Need("scheduler:DeleteSchedule", SCHEDULE_SCOPE, ("up", "down"), "delete the schedule "
             "before what it runs (also in 'up', once a cron/rate rule replaces it); "
             "DeleteScheduleGroup is authorised as this action too"),
        Need("scheduler:DeleteScheduleGroup", GROUP_SCOPE, ("up", "down"), "delete the group"),
    )
    audit_rules = {"tags": findings.tags, "target": lambda a, c: _changed("target", a, c),
                   "schedule": lambda a, c: _changed("schedule", a, c)}
    grants = {}  # the scheduler's role invokes the function; the function needs nothing

    # pure -------------------------------------------------------------------------------------
    def physical_name(self, stack: Stack) -> str:
        return stack.schedule_group_name

    def recognise(self, arn: str) -> str | None:
        parts = arn.split(":", 5)
        if len(parts) == 6 and parts[2] == "scheduler" and parts[5].startswith(
                "schedule-group/"):
            return parts[5].removeprefix("schedule-group/")
        return None

    def wanted(self, stack: Stack) -> WantedMarketSchedule:
        config, market = stack.config, stack.config.market_time
        target = {"Arn": stack.function_arn, "RoleArn": stack.scheduler_role_arn,
                  "RetryPolicy": config.schedule_delivery.retry_policy()}
        settings = {"expression": market.expression if market else "",
                    "timezone": market.timezone if market else "",
                    "state": "ENABLED" if config.enabled else "DISABLED",
                    "description": DESCRIPTION, "window": {"Mode": "OFF"}, "target": target}
        return WantedMarketSchedule(stack.schedule_group_name, stack.schedule_group_arn,
                                    stack.market_schedule_name, settings, stack.tags,
                                    market is not None)

    def diff(self, wanted: WantedMarketSchedule, observed: ObservedMarketSchedule | None,
             mode: Mode, adopt: bool = False,
             ) -> Action[WantedMarketSchedule, ObservedMarketSchedule]:
        if not wanted.used and not mode.teardown:
            return unused(self.name, wanted, observed, UNUSED, adopt)
        if observed is not None and observed.state == DELETING and not mode.teardown:
            # going away (an earlier 'down'): made again once it is gone (create waits)
            action = super().diff(wanted, None, mode, adopt)
            return replace(action, observed=observed, notes=(
                f"schedule group {wanted.name} is still being deleted; 'up' waits until it is "
                "gone, then makes it again",))
        return super().diff(wanted, observed, mode, adopt)

    def changes(self, wanted: WantedMarketSchedule,
                observed: ObservedMarketSchedule | None) -> Changes:
        if observed is None:
            return tuple(Change(k, None, v) for k, v in wanted.settings.items())
        out: list[Change] = []
        if observed.settings is None:
            out.append(Change("schedule", None, wanted.schedule))
        else:
            out += [Change(k, observed.settings.get(k), v) for k, v in wanted.settings.items()
                    if observed.settings.get(k) != v]
        return tuple(out) + tag_changes(wanted.tags, observed.tags)

    def cloudformation(self, w: WantedMarketSchedule) -> Fragment:
        """The group (tagged) and its schedule, whose role is the SchedulerRole resource."""
        if not w.used:
            return Fragment()
        target = {**w.settings["target"], "RoleArn": {"Fn::GetAtt": ["SchedulerRole", "Arn"]}}
        schedule = {"Name": w.schedule, "GroupName": {"Ref": "ScheduleGroup"},
                    **{FIELDS[k]: v for k, v in w.settings.items() if k != "target"},
                    "Target": target}
        return Fragment({
            "ScheduleGroup": {"Type": "AWS::Scheduler::ScheduleGroup",
                              "Properties": {"Name": w.name, "Tags": as_list(w.tags)}},
            "MarketSchedule": {"Type": "AWS::Scheduler::Schedule", "Properties": schedule}})

    def cost(self, stack: Stack, runs: int) -> tuple[Line, ...]:
        """Scheduler invocations (EventBridge pricing: the first 14 million a month free, then
        $1.00 per million); none with a cron/rate schedule, which the rule kind prices."""
        if stack.config.market_time is None:
            return ()
        paid = max(0, runs - FREE_INVOCATIONS)
        return (Line("EventBridge Scheduler invocations", runs, "invocations",
                     paid * USD_PER_INVOCATION,
                     f"first {FREE_INVOCATIONS:,} a month free, then $1.00 per million"),)

    def summary(self, observed: ObservedMarketSchedule | None) -> dict[str, Any]:
        if observed is None:
            return {}
        settings = observed.settings or {}
        target = settings.get("target") or {}
        return {"arn": observed.arn, "group_state": observed.state,
                "schedule": settings.get("expression"), "timezone": settings.get("timezone"),
                "state": settings.get("state"), "role": target.get("RoleArn"),
                "retry_policy": target.get("RetryPolicy")}

    # AWS --------------------------------------------------------------------------------------
    def locate(self, aws: Aws, wanted: WantedMarketSchedule) -> ObservedMarketSchedule | None:
        """By the group's name, which is the stack's."""
        return self.read(aws, wanted)

    def read(self, aws: Aws, wanted: WantedMarketSchedule) -> ObservedMarketSchedule | None:
        """The group and its schedule, asked for at once (the schedule answers not-found when
        the group is absent); then the group's tags, by the ARN the group's answer gives."""
        both = gather({
            "group": partial(aws.call, "scheduler", "get_schedule_group", Name=wanted.name,
                             missing_ok=True),
            "schedule": partial(aws.call, "scheduler", "get_schedule", Name=wanted.schedule,
                                GroupName=wanted.name, missing_ok=True)})
        group, found = both["group"], both["schedule"]
        if group is None:
            return None
        tags = aws.call("scheduler", "list_tags_for_resource", ResourceArn=group["Arn"])
        settings = None if found is None else {k: _plain(k, found.get(theirs))
                                               for k, theirs in FIELDS.items()}
        return ObservedMarketSchedule(group["Arn"], group.get("State") or "ACTIVE",
                                      from_list(tags.get("Tags")), settings)

    def create(self, aws: Aws, wanted: WantedMarketSchedule) -> None:
        try:
            aws.call("scheduler", "create_schedule_group", Name=wanted.name,
                     Tags=as_list(wanted.tags))
        except AwsError as err:
            if err.code != CONFLICT:
                raise
            self._adopt_group(aws, wanted)
        gate()  # the group needs nothing; its schedule needs the function and the rest made
        _put_schedule(aws, wanted, exists=False)

    def _adopt_group(self, aws: Aws, wanted: WantedMarketSchedule) -> None:
        """CreateScheduleGroup said the name exists: wait out a group still being deleted and
        make it again, or carry on in one that is this stack's (an answer lost earlier)."""
        seen = self.read(aws, wanted)
        if seen is None or seen.state == DELETING:
            wait_gone(aws, wanted.name)
            aws.call("scheduler", "create_schedule_group", Name=wanted.name,
                     Tags=as_list(wanted.tags))
            return
        owner = ownership(wanted.tags, seen.tags)
        if not owner.ours:
            raise ConflictError(f"market-schedule {wanted.name} appeared while creating it and "
                                f"is {owner}.", hint="Delete or rename that schedule group, "
                                "or choose another stack name, then run 'up' again.")
        apply_tags(tag_changes(wanted.tags, seen.tags),
                   lambda tags: _tag(aws, wanted, tags), lambda keys: _untag(aws, wanted, keys))

    def update(self, aws: Aws, wanted: WantedMarketSchedule, observed: ObservedMarketSchedule,
               changes: Changes) -> None:
        if any(c.field in FIELDS or c.field == "schedule" for c in changes):
            _put_schedule(aws, wanted, exists=observed.settings is not None)
        # after the write it records (the applied digest), as every kind does
        apply_tags(changes, lambda tags: _tag(aws, wanted, tags),
                   lambda keys: _untag(aws, wanted, keys))

    def delete(self, aws: Aws, wanted: WantedMarketSchedule,
               observed: ObservedMarketSchedule) -> None:
        """The schedule, then (the function may go from then on: ready()) its group, and
        wait until the group is gone. A group an earlier run asked to delete (DELETING) may
        still run its schedule until it is gone: then what it invokes waits for that."""
        if observed.state == DELETING:
            wait_gone(aws, wanted.name)
            return
        if observed.settings is not None:
            aws.call("scheduler", "delete_schedule", Name=wanted.schedule,
                     GroupName=wanted.name, missing_ok=True)
        ready()
        aws.call("scheduler", "delete_schedule_group", Name=wanted.name, missing_ok=True)
        wait_gone(aws, wanted.name)


def wait_gone(aws: Aws, group: str) -> None:
    """Read the group until GetScheduleGroup no longer finds it (bounded by the deadline)."""
    def gone() -> None:
        found = aws.call("scheduler", "get_schedule_group", Name=group, missing_ok=True)
        if found is not None:
            raise InTransition(
                f"schedule group {group} is still {found.get('State') or 'there'} (EventBridge "
                "Scheduler deletes a group's schedules first)",
                hint="Run the same command again in a few minutes; it continues from there.")
    aws.retry.call(f"scheduler:{group} deleted", gone)


def _put_schedule(aws: Aws, wanted: WantedMarketSchedule, exists: bool) -> None:
    """CreateSchedule, or UpdateSchedule with every field (it overwrites the whole schedule);
    a create that finds the schedule there already (an answer lost earlier: the group is this
    stack's, and so is what is in it) becomes an update."""
    if not exists:
        try:
            aws.call("scheduler", "create_schedule", **wanted.params())
            return
        except AwsError as err:
            if err.code != CONFLICT:
                raise
    aws.call("scheduler", "update_schedule", **wanted.params())


def _tag(aws: Aws, wanted: WantedMarketSchedule, tags: dict[str, str]) -> None:
    aws.call("scheduler", "tag_resource", ResourceArn=wanted.arn, Tags=as_list(tags))


def _untag(aws: Aws, wanted: WantedMarketSchedule, keys: list[str]) -> None:
    aws.call("scheduler", "untag_resource", ResourceArn=wanted.arn, TagKeys=keys)


def _plain(field: str, value: Any) -> Any:
    """GetSchedule's value in the form the wanted one has (the target: only what is sent)."""
    if field == "target" and isinstance(value, dict):
        return {k: dict(value[k]) if isinstance(value[k], dict) else value[k]
                for k in ("Arn", "RoleArn", "RetryPolicy") if k in value}
    if field == "window" and isinstance(value, dict):
        return {"Mode": value.get("Mode")}
    return value


def _changed(what: str, action: Any, change: Change) -> list[findings.Finding]:
    """`audit`: the schedule runs something else, or with another role, or is gone."""
    if what == "schedule":
        return [findings.ours("schedule-missing", action, "the group holds no schedule "
                              f"{change.new}: nothing runs the function")]
    return [findings.ours("schedule-target-changed", action, "the schedule's target is "
                          f"{change.old}, wanted {change.new}")]
