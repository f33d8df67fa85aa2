"""Pure: (desired, observed) -> the expected action, for each resource kind. No AWS."""

from __future__ import annotations

from typing import Any

import pytest

from provision import policies
from provision.config import Config
from provision.model import Change, Op
from provision.package import CodePackage
from provision.resources import function, log_group, role, schedule, topic
from provision.stack import Stack

ACCOUNT = "123456789012"


def _stack(**extra: Any) -> Stack:
    data = {"name": "t1", "stocks": ["TSLA"], "notify": {"email": ["a@example.com"],
                                                          "sms": ["+15555550100"]}, **extra}
    return Stack(Config.model_validate(data), ACCOUNT, "us-east-1",
                 code=CodePackage(b"zip-bytes"))


STACK = _stack()
OURS = dict(STACK.tags)


def _role(**overrides: Any) -> role.ObservedRole:
    fields: dict[str, Any] = {
        "arn": STACK.role_arn, "trust": policies.canonical(policies.trust_policy()),
        "tags": OURS,
        "inline": {n: policies.canonical(d) for n, d in policies.inline_policies(STACK).items()},
        "managed": (),
    }
    return role.ObservedRole(**{**fields, **overrides})


def test_absent_and_wanted_is_create_with_every_field() -> None:
    action = role.plan(STACK, None, wanted=True)
    assert action.op is Op.CREATE
    assert [c.field for c in action.changes] == [
        "trust_policy", "policy:t1-write-logs", "policy:t1-publish-alerts"]


def test_absent_and_unwanted_is_nothing() -> None:
    assert role.plan(STACK, None, wanted=False).op is Op.NOOP


@pytest.mark.parametrize(("tags", "reason"), [
    ({}, "not tagged as made by this stack"),
    ({"managed-by": "stock-alert"}, "not tagged as made by this stack"),
    ({"managed-by": "stock-alert", "stock-alert:stack": "other"},
     "owned by stock-alert stack 'other'"),
    ({"managed-by": "terraform", "stock-alert:stack": "t1"}, "not tagged as made by this stack"),
])
@pytest.mark.parametrize("wanted", [True, False])
def test_foreign_is_a_conflict_both_ways(tags: dict[str, str], reason: str, wanted: bool) -> None:
    action = role.plan(STACK, _role(tags=tags), wanted=wanted)
    assert action.op is Op.CONFLICT and reason in action.reason


def test_in_sync_role_is_no_change_and_ours_unwanted_is_delete() -> None:
    assert role.plan(STACK, _role(), wanted=True).op is Op.NOOP
    assert role.plan(STACK, _role(), wanted=False).op is Op.DELETE


def test_role_drift_lists_each_difference() -> None:
    inline = dict(_role().inline)
    inline["t1-publish-alerts"] = policies.canonical({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sns:*", "Resource": "*"}]})
    inline["hand-made"] = "{}"
    seen = _role(inline=inline, managed=("arn:aws:iam::aws:policy/AdministratorAccess",),
                 tags={**OURS, "extra": "x"})
    action = role.plan(STACK, seen, wanted=True)
    assert action.op is Op.UPDATE
    assert [c.field for c in action.changes] == [
        "policy:t1-publish-alerts", "policy:hand-made", "managed_policies", "tags"]
    removed = next(c for c in action.changes if c.field == "policy:hand-made")
    assert removed.new is None


def _topic(subs: tuple[topic.Subscription, ...], **attrs: str) -> topic.ObservedTopic:
    attributes = {"KmsMasterKeyId": "alias/aws/sns", "DisplayName": "StockAlert", **attrs}
    return topic.ObservedTopic(STACK.topic_arn, attributes, OURS, subs)


def test_topic_subscription_edits_and_pending_notes() -> None:
    subs = (
        topic.Subscription("email", "a@example.com", topic.PENDING),
        topic.Subscription("sms", "+15555550199", "arn:sub:1"),
        topic.Subscription("email", "old@example.com", topic.PENDING),
    )
    action = topic.plan(STACK, _topic(subs, KmsMasterKeyId=""), wanted=True)
    assert action.op is Op.UPDATE
    assert action.changes == (
        Change("attribute:KmsMasterKeyId", "", "alias/aws/sns"),
        Change("subscription:sms:+15555550100", None, "subscribe"),
        Change("subscription:sms:+15555550199", "arn:sub:1", None),
    )
    assert any("a@example.com is waiting for confirmation" in n for n in action.notes)
    assert any("old@example.com was removed" in n for n in action.notes)


def test_topic_with_only_pending_wanted_subscriptions_is_in_sync() -> None:
    subs = (topic.Subscription("email", "a@example.com", topic.PENDING),
            topic.Subscription("sms", "+15555550100", "arn:sub:2"))
    action = topic.plan(STACK, _topic(subs), wanted=True)
    assert action.op is Op.NOOP and len(action.notes) == 1


def _function(**settings: Any) -> function.ObservedFunction:
    wanted = function._settings(STACK)
    return function.ObservedFunction(STACK.function_arn, {**wanted, **settings},
                                      STACK.code.sha256 if STACK.code else "", OURS, "Active")


def test_function_code_and_config_diffs_are_separate() -> None:
    assert function.plan(STACK, _function(), wanted=True).op is Op.NOOP
    env = dict(function._settings(STACK)["environment"], STOCK_ALERT_PROVIDER="alphavantage")
    seen = function.ObservedFunction(STACK.function_arn,
                                     {**function._settings(STACK), "environment": env},
                                     "other-sha", OURS, "Active")
    action = function.plan(STACK, seen, wanted=True)
    assert [c.field for c in action.changes] == ["code", "environment"]
    assert function._config_params(STACK, {"environment"}) == {
        "Environment": {"Variables": function._settings(STACK)["environment"]}}


def _schedule(permission: dict[str, Any] | None, **settings: Any) -> schedule.ObservedSchedule:
    return schedule.ObservedSchedule(STACK.rule_arn, {**schedule._settings(STACK), **settings},
                                     OURS, {schedule.TARGET_ID: STACK.function_arn}, permission)


def test_schedule_permission_with_other_conditions_is_replaced() -> None:
    good = schedule._permission(STACK)
    assert schedule.plan(STACK, _schedule(good), wanted=True).op is Op.NOOP
    loose = {**good, "source_arn": None, "source_account": None}
    action = schedule.plan(STACK, _schedule(loose), wanted=True)
    assert action.changes == (Change("permission", loose, good),)


def test_schedule_only_permission_left_is_recreated_or_ignored_on_down() -> None:
    orphan = schedule.ObservedSchedule("", {}, {}, {}, schedule._permission(STACK))
    up = schedule.plan(STACK, orphan, wanted=True)
    assert up.op is Op.UPDATE
    assert [c.field for c in up.changes] == ["schedule", "description", "state", "targets"]
    assert schedule.plan(STACK, orphan, wanted=False).op is Op.NOOP


def test_disabled_and_new_cron_change_only_rule_fields() -> None:
    paused = _stack(enabled=False, schedule="rate(1 hour)")
    seen = _schedule(schedule._permission(paused))
    action = schedule.plan(paused, seen, wanted=True)
    assert [c.field for c in action.changes] == ["schedule", "state"]


def test_log_group_retention_drift() -> None:
    seen = log_group.ObservedLogGroup(STACK.log_group_name, STACK.log_group_arn, None, OURS)
    action = log_group.plan(STACK, seen, wanted=True)
    assert action.changes == (Change("retention_days", None, 14),)
