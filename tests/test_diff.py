"""Pure: (wanted, observed) -> the expected action, for each resource kind. No AWS, no Stack:
each kind's wanted value is written out here as data."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from provision.core import policies
from provision.core.package import CodePackage
from provision.core.plan import Change, Mode, Op
from provision.kinds.function import Function, ObservedFunction, WantedFunction
from provision.kinds.log_group import LogGroup, ObservedLogGroup, WantedLogGroup
from provision.kinds.role import ObservedRole, Role, WantedRole
from provision.kinds.schedule import (
    TARGET_ID,
    ObservedRule,
    ObservedSchedule,
    Schedule,
    WantedSchedule,
)
from provision.kinds.topic import PENDING, ObservedTopic, Subscription, Topic, WantedTopic

OURS = {"managed-by": "stock-alert", "stock-alert:stack": "t1"}
FN_ARN = "arn:aws:lambda:us-east-1:123456789012:function:t1"
RULE_ARN = "arn:aws:events:us-east-1:123456789012:rule/t1-schedule"


def _doc(action: str, resource: str) -> policies.Document:
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": [action], "Resource": [resource]}]}


ROLE = WantedRole("t1-us-east-1-role", "arn:aws:iam::123456789012:role/t1-us-east-1-role",
                  policies.trust_policy(),
                  {"t1-write-logs": _doc("logs:PutLogEvents", "arn:log:*"),
                   "t1-publish-alerts": _doc("sns:Publish", "arn:topic")}, OURS)


def _role(**overrides: Any) -> ObservedRole:
    fields: dict[str, Any] = {"arn": ROLE.arn, "trust": ROLE.canonical_trust, "tags": OURS,
                              "inline": dict(ROLE.canonical_inline), "managed": ()}
    return ObservedRole(**{**fields, **overrides})


def test_absent_and_wanted_is_create_with_every_field() -> None:
    action = Role().diff(ROLE, None, mode=Mode.UP)
    assert action.op is Op.CREATE
    assert [c.label for c in action.changes] == [
        "trust_policy", "policy t1-write-logs", "policy t1-publish-alerts"]


def test_absent_and_unwanted_is_nothing() -> None:
    assert Role().diff(ROLE, None, mode=Mode.DOWN).op is Op.NOOP


@pytest.mark.parametrize(("tags", "reason"), [
    ({}, "not tagged as made by this stack"),
    ({"managed-by": "stock-alert"}, "not tagged as made by this stack"),
    ({"managed-by": "stock-alert", "stock-alert:stack": "other"},
     "owned by stock-alert stack 'other'"),
    ({"managed-by": "terraform", "stock-alert:stack": "t1"}, "not tagged as made by this stack"),
    # prefixes are not ownership: stack "t1" never owns stack "t1-2"'s resources
    ({"managed-by": "stock-alert", "stock-alert:stack": "t1-2"},
     "owned by stock-alert stack 't1-2'"),
])
@pytest.mark.parametrize("mode", [Mode.UP, Mode.DOWN])
def test_foreign_is_a_conflict_both_ways(tags: dict[str, str], reason: str, mode: Mode) -> None:
    action = Role().diff(ROLE, _role(tags=tags), mode)
    assert action.op is Op.CONFLICT and reason in action.reason


def test_in_sync_role_is_no_change_and_ours_unwanted_is_delete() -> None:
    assert Role().diff(ROLE, _role(), mode=Mode.UP).op is Op.NOOP
    down = Role().diff(ROLE, _role(), mode=Mode.DOWN)
    assert down.op is Op.DELETE and down.observed == _role() and down.wanted is ROLE


def test_role_drift_lists_each_difference_with_its_item() -> None:
    inline = dict(_role().inline)
    inline["t1-publish-alerts"] = policies.canonical(_doc("sns:*", "*"))
    inline["hand-made"] = "{}"
    seen = _role(inline=inline, managed=("arn:aws:iam::aws:policy/AdministratorAccess",),
                 tags={**OURS, "extra": "x"})
    action = Role().diff(ROLE, seen, mode=Mode.UP)
    assert action.op is Op.UPDATE
    assert [(c.field, c.item) for c in action.changes] == [
        ("policy", "t1-publish-alerts"), ("policy", "hand-made"), ("managed_policies", ""),
        ("tags", "")]
    assert action.changed("policy")[1] == Change("policy", "{}", None, item="hand-made")


def test_role_layout_differences_are_not_drift() -> None:
    """IAM may return a policy with single-item lists collapsed: canonical forms compare."""
    def collapse(doc: policies.Document) -> policies.Document:
        statements = [{k: (v[0] if isinstance(v, list) else v) for k, v in s.items()}
                      for s in doc["Statement"]]
        return {"Statement": statements, "Version": doc["Version"]}

    collapsed = {name: policies.canonical(collapse(doc)) for name, doc in ROLE.inline.items()}
    assert collapse(ROLE.inline["t1-write-logs"]) != ROLE.inline["t1-write-logs"]
    assert Role().diff(ROLE, _role(inline=collapsed), mode=Mode.UP).op is Op.NOOP


TOPIC = WantedTopic("t1-alerts", "arn:topic", {"KmsMasterKeyId": "alias/aws/sns",
                                               "DisplayName": "StockAlert"},
                    frozenset({("email", "a@example.com"), ("sms", "+15555550100")}), OURS)


def _topic(subs: tuple[Subscription, ...], **attrs: str) -> ObservedTopic:
    return ObservedTopic(TOPIC.arn, {**TOPIC.attributes, **attrs}, OURS, subs)


def test_topic_subscription_edits_and_pending_notes() -> None:
    subs = (
        Subscription("email", "a@example.com", PENDING),
        Subscription("sms", "+15555550199", "arn:sub:1"),
        Subscription("email", "old@example.com", PENDING),
    )
    action = Topic().diff(TOPIC, _topic(subs, KmsMasterKeyId=""), mode=Mode.UP)
    assert action.op is Op.UPDATE
    assert action.changes == (
        Change("attribute", "", "alias/aws/sns", item="KmsMasterKeyId"),
        Change("sms", None, "subscribe", item="+15555550100"),
        Change("sms", "arn:sub:1", None, item="+15555550199"),
    )
    assert any("a@example.com is waiting for confirmation" in n for n in action.notes)
    assert any("old@example.com was removed" in n for n in action.notes)


def test_topic_with_only_pending_wanted_subscriptions_is_in_sync() -> None:
    subs = (Subscription("email", "a@example.com", PENDING),
            Subscription("sms", "+15555550100", "arn:sub:2"))
    action = Topic().diff(TOPIC, _topic(subs), mode=Mode.UP)
    assert action.op is Op.NOOP and len(action.notes) == 1


SETTINGS = {"runtime": "python3.12", "handler": "handler.handler", "role": ROLE.arn,
            "memory_mb": 128, "timeout_s": 30, "environment": {"STOCK_ALERT_PROVIDER": "yahoo"},
            "description": "d"}
FUNCTION = WantedFunction("t1", FN_ARN, SETTINGS, CodePackage(b"zip-bytes"), OURS)


def test_function_code_and_config_diffs_are_separate() -> None:
    code = FUNCTION.code.sha256 if FUNCTION.code else ""
    in_sync = ObservedFunction(FN_ARN, dict(SETTINGS), code, OURS, "Active")
    assert Function().diff(FUNCTION, in_sync, mode=Mode.UP).op is Op.NOOP
    env = {"STOCK_ALERT_PROVIDER": "alphavantage"}
    seen = replace(in_sync, settings={**SETTINGS, "environment": env}, code_sha256="other")
    action = Function().diff(FUNCTION, seen, mode=Mode.UP)
    assert [c.field for c in action.changes] == ["code", "environment"]
    assert FUNCTION.config_params({"environment"}) == {
        "Environment": {"Variables": SETTINGS["environment"]}}
    assert set(FUNCTION.config_params()) == {"Runtime", "Handler", "Role", "MemorySize",
                                             "Timeout", "Environment", "Description"}


PERMISSION = {"principal": "events.amazonaws.com", "action": "lambda:InvokeFunction",
              "resource": FN_ARN, "source_arn": RULE_ARN, "source_account": "123456789012"}
SCHEDULE = WantedSchedule("t1-schedule", RULE_ARN,
                          {"schedule": "cron(30 21 ? * MON-FRI *)", "description": "d",
                           "state": "ENABLED"}, {TARGET_ID: FN_ARN}, "t1",
                          "t1-schedule-invoke", PERMISSION, OURS)


def _schedule(permission: dict[str, Any] | None, **settings: Any) -> ObservedSchedule:
    rule = ObservedRule(RULE_ARN, {**SCHEDULE.settings, **settings}, OURS, {TARGET_ID: FN_ARN})
    return ObservedSchedule(rule, permission)


def test_schedule_permission_with_other_conditions_is_replaced() -> None:
    assert Schedule().diff(SCHEDULE, _schedule(PERMISSION), mode=Mode.UP).op is Op.NOOP
    loose = {**PERMISSION, "source_arn": None, "source_account": None}
    action = Schedule().diff(SCHEDULE, _schedule(loose), mode=Mode.UP)
    assert action.changes == (Change("permission", loose, PERMISSION),)


def test_schedule_only_permission_left_is_recreated_or_ignored_on_down() -> None:
    orphan = ObservedSchedule(None, PERMISSION)
    up = Schedule().diff(SCHEDULE, orphan, mode=Mode.UP)
    assert up.op is Op.UPDATE
    assert [c.field for c in up.changes] == ["schedule", "description", "state", "targets"]
    assert Schedule().diff(SCHEDULE, orphan, mode=Mode.DOWN).op is Op.NOOP


def test_disabled_and_new_cron_change_only_rule_fields() -> None:
    paused = replace(SCHEDULE, settings={**SCHEDULE.settings, "state": "DISABLED",
                                         "schedule": "rate(1 hour)"})
    action = Schedule().diff(paused, _schedule(PERMISSION), mode=Mode.UP)
    assert [c.field for c in action.changes] == ["schedule", "state"]


def test_log_group_retention_drift() -> None:
    wanted = WantedLogGroup("/aws/lambda/t1", "arn:log", 14, OURS)
    seen = ObservedLogGroup(wanted.name, wanted.arn, None, OURS)
    action = LogGroup().diff(wanted, seen, mode=Mode.UP)
    assert action.changes == (Change("retention_days", None, 14),)


# Real AWS: an account-level retention policy (logs PutAccountPolicy, RETENTION_POLICY) makes
# DescribeLogGroups report `retentionPolicyName` and the policy's `retentionInDays` (absent when
# it never expires) instead of the group's own (botocore logs service model, LogGroup shape).
@pytest.mark.parametrize("in_effect", [30, 3653, None])
def test_log_group_under_an_account_retention_policy_is_in_sync(in_effect: int | None) -> None:
    wanted = WantedLogGroup("/aws/lambda/t1", "arn:log", 14, OURS)
    seen = ObservedLogGroup(wanted.name, wanted.arn, in_effect, OURS, account_policy="org-30d")
    action = LogGroup().diff(wanted, seen, mode=Mode.UP)
    assert action.op is Op.NOOP and action.changes == ()
    assert len(action.notes) == 1 and "'org-30d'" in action.notes[0]
    assert ("never expire" if in_effect is None else f"({in_effect} days)") in action.notes[0]
    assert LogGroup().summary(seen)["account_retention_policy"] == "org-30d"


def test_log_group_under_an_account_policy_still_diffs_tags_and_creates_retention() -> None:
    wanted = WantedLogGroup("/aws/lambda/t1", "arn:log", 14, OURS)
    seen = ObservedLogGroup(wanted.name, wanted.arn, 30, {}, account_policy="org-30d")
    assert LogGroup().diff(wanted, seen, mode=Mode.UP).op is Op.CONFLICT  # ownership still wins
    tagged = replace(seen, tags={**OURS, "extra": "x"})
    assert [c.field for c in LogGroup().diff(wanted, tagged, mode=Mode.UP).changes] == ["tags"]
    # absent: the create still sets the group's own retention, as the config asks
    assert LogGroup().diff(wanted, None, mode=Mode.UP).changes == (
        Change("retention_days", None, 14),)


# Real AWS: a subscription the recipient cancelled is listed with SubscriptionArn "Deleted",
# which Unsubscribe does not accept (https://github.com/ansible/ansible/pull/20086,
# https://github.com/xmidt-org/webpa-common/issues/362).
def test_cancelled_wanted_subscription_is_subscribed_again_with_a_note() -> None:
    subs = (Subscription("email", "a@example.com", "Deleted"),
            Subscription("sms", "+15555550100", "arn:sub:2"))
    action = Topic().diff(TOPIC, _topic(subs), mode=Mode.UP)
    assert action.op is Op.UPDATE
    assert action.changes == (Change("email", "Deleted", "subscribe", item="a@example.com"),)
    assert len(action.notes) == 1 and "a@example.com unsubscribed itself" in action.notes[0]
    assert [s["state"] for s in Topic().summary(_topic(subs))["subscriptions"]] == [
        "unsubscribed by the recipient", "confirmed"]


def test_cancelled_unwanted_subscription_is_never_unsubscribed() -> None:
    subs = (Subscription("email", "a@example.com", PENDING),
            Subscription("sms", "+15555550100", "arn:sub:2"),
            Subscription("email", "gone@example.com", "Deleted"))
    action = Topic().diff(TOPIC, _topic(subs), mode=Mode.UP)
    assert action.op is Op.NOOP and action.changes == ()


def test_cancelled_entry_beside_a_new_subscription_is_in_sync() -> None:
    """After 'up' subscribed it again, SNS lists both the old cancelled entry and the new one."""
    subs = (Subscription("email", "a@example.com", "Deleted"),
            Subscription("email", "a@example.com", PENDING),
            Subscription("sms", "+15555550100", "Deleted"),
            Subscription("sms", "+15555550100", "arn:sub:3"))
    action = Topic().diff(TOPIC, _topic(subs), mode=Mode.UP)
    assert action.op is Op.NOOP and action.changes == ()
    assert not any("unsubscribed itself" in n for n in action.notes)
