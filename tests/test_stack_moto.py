"""moto in-process: whole up / down runs, idempotence, drift, ownership and partial states."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from provision.config.model import DEFAULT_SCHEDULE
from provision.core import package, pipelines
from provision.core.plan import Mode, Op
from provision.core.target import Target
from provision.errors import ConflictError
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import FaultInjector
from tests.support.inprocess import target
from tests.support.inventory import user_tags

ACCOUNT = "123456789012"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, MINIMAL + "tags: {team: quant}\n")


def _client(service: str):  # type: ignore[no-untyped-def]
    return boto3.client(service, region_name="us-east-1")


def _up(config: Path) -> list[str]:
    prepared, log = target(config)
    pipelines.up(prepared)
    return log.writes()


def test_fresh_up_creates_everything_tagged(aws: None, config: Path) -> None:
    writes = _up(config)
    iam, lam, sns = _client("iam"), _client("lambda"), _client("sns")
    role = iam.get_role(RoleName="t1-us-east-1-role")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "lambda.amazonaws.com"}
    assert sorted(iam.list_role_policies(RoleName="t1-us-east-1-role")["PolicyNames"]) == [
        "t1-invoke-notifier", "t1-publish-alerts", "t1-write-logs"]
    assert iam.list_attached_role_policies(RoleName="t1-us-east-1-role")["AttachedPolicies"] == []
    tags = user_tags({t["Key"]: t["Value"] for t in role["Tags"]})
    # IAM is global: the role also names the Region whose stack it serves
    assert tags == {"managed-by": "stock-alert", "stock-alert:stack": "t1", "team": "quant",
                    "stock-alert:region": "us-east-1"}

    group = _client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/t1")
    assert group["logGroups"][0]["retentionInDays"] == 14

    topic_arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:t1-alerts"
    attrs = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    assert attrs["KmsMasterKeyId"] == "alias/aws/sns"
    subs = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert sorted((s["Protocol"], s["Endpoint"]) for s in subs) == [
        ("email", "you@example.com"), ("sms", "+15555550100")]

    fn = lam.get_function(FunctionName="t1")
    conf = fn["Configuration"]
    assert conf["Role"] == role["Arn"]
    assert conf["CodeSha256"] == package.build().sha256
    assert conf["Environment"]["Variables"]["STOCK_ALERT_TOPIC_ARN"] == topic_arn
    assert json.loads(conf["Environment"]["Variables"]["STOCK_ALERT_STOCKS"])[0]["symbol"] == "TSLA"
    assert fn["Tags"]["stock-alert:stack"] == "t1"

    events = _client("events")
    rule = events.describe_rule(Name="t1-schedule")
    assert rule["ScheduleExpression"] == DEFAULT_SCHEDULE
    assert rule["State"] == "ENABLED"
    [tgt] = events.list_targets_by_rule(Rule="t1-schedule")["Targets"]
    assert tgt["Arn"] == conf["FunctionArn"]
    [statement] = json.loads(lam.get_policy(FunctionName="t1")["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == rule["Arn"]
    assert statement["Condition"]["StringEquals"]["AWS:SourceAccount"] == ACCOUNT
    # One write per thing created: role, 3 policies, log group, retention, topic (its access
    # policy included), 2 subscriptions, function, its reserved concurrency, rule, target,
    # permission (concurrency: issue 9), the notifier and the on-failure destination (issue
    # 21); no errors alarm without a customer key (it could not deliver).
    assert len(writes) == 16, writes
    assert writes.count("lambda:CreateFunction") == 2
    assert "lambda:PutFunctionEventInvokeConfig" in writes
    assert "monitoring:PutMetricAlarm" not in writes


def test_second_up_writes_nothing(aws: None, config: Path) -> None:
    _up(config)
    prepared, log = target(config)
    the_plan, done = pipelines.up(prepared)
    # 11 kinds: the security group (issue 12) and the alarm are no-ops too (no network, no
    # customer key in this config), and so are the market-time schedule and its role (issue
    # 23: a cron schedule, so absent)
    assert [a.op for a in the_plan.actions] == [Op.NOOP] * 11
    assert done == [] and log.writes() == []


def test_changed_schedule_writes_only_eventbridge(aws: None, config: Path, tmp_path: Path) -> None:
    _up(config)
    changed = write_config(tmp_path, config.read_text() + 'schedule: "rate(1 hour)"\n',
                           name="changed.yaml")
    # one write for the change, one tag call recording the new config digest
    assert _up(changed) == ["eventbridge:PutRule", "eventbridge:TagResource"]
    assert _client("events").describe_rule(Name="t1-schedule")["ScheduleExpression"] == \
        "rate(1 hour)"


def test_disabled_updates_rule_state(aws: None, config: Path, tmp_path: Path) -> None:
    _up(config)
    paused = write_config(tmp_path, config.read_text() + "enabled: false\n", name="p.yaml")
    assert _up(paused) == ["eventbridge:PutRule", "eventbridge:TagResource"]
    assert _client("events").describe_rule(Name="t1-schedule")["State"] == "DISABLED"


def test_subscription_edits_subscribe_new_and_unsubscribe_removed(
        aws: None, config: Path, tmp_path: Path) -> None:
    _up(config)
    edited = write_config(tmp_path, MINIMAL.replace('"+15555550100"', '"+15555550199"')
                          + "tags: {team: quant}\n", name="e.yaml")
    assert sorted(_up(edited)) == ["sns:Subscribe", "sns:TagResource", "sns:Unsubscribe"]
    subs = _client("sns").list_subscriptions_by_topic(
        TopicArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:t1-alerts")["Subscriptions"]
    assert sorted(s["Endpoint"] for s in subs) == ["+15555550199", "you@example.com"]


def test_drift_by_hand_is_repaired_field_by_field(aws: None, config: Path) -> None:
    _up(config)
    lam, iam = _client("lambda"), _client("iam")
    lam.update_function_configuration(FunctionName="t1", MemorySize=512)
    wide = iam.create_policy(PolicyName="wide", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    iam.attach_role_policy(RoleName="t1-us-east-1-role", PolicyArn=wide["Policy"]["Arn"])
    prepared, _ = target(config)
    the_plan, _ = pipelines.plan(prepared)
    changes = {a.kind: [c.field for c in a.changes] for a in the_plan.actions if a.changes}
    assert changes == {"role": ["managed_policies"], "function": ["memory_mb"]}
    writes = _up(config)
    assert sorted(writes) == ["iam:DetachRolePolicy", "lambda:UpdateFunctionConfiguration"]
    assert lam.get_function(FunctionName="t1")["Configuration"]["MemorySize"] == 128


def test_code_change_uploads_only_code(aws: None, config: Path,
                                       monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _up(config)
    import shutil

    code = tmp_path / "code"
    shutil.copytree(package.code_dir(), code)
    (code / "handler.py").write_text((code / "handler.py").read_text() + "\n# v2\n")
    original = package.build
    monkeypatch.setattr(package, "build", lambda folder=None: original(folder or code))
    # the function and the notifier (at once, issue 22): both run the stack's one zip
    prepared, _ = target(config)
    calls = FaultInjector()  # no fault: it records the function each call names
    calls.attach_session(prepared.aws)
    pipelines.up(prepared)
    assert [c.service for c in calls.writes()] == ["lambda"] * 4
    assert calls.by_function(writes_only=True) == {
        name: ["UpdateFunctionCode", "TagResource"] for name in ("t1", "t1_notify")}
    for name in ("t1", "t1_notify"):
        sha = _client("lambda").get_function(FunctionName=name)["Configuration"]["CodeSha256"]
        assert sha == original(code).sha256


def test_partial_state_converges(aws: None, config: Path) -> None:
    _up(config)
    lam, iam = _client("lambda"), _client("iam")
    lam.delete_function(FunctionName="t1")
    iam.delete_role_policy(RoleName="t1-us-east-1-role", PolicyName="t1-write-logs")
    writes = _up(config)
    # the on-failure destination went with the function
    assert sorted(writes) == ["iam:PutRolePolicy", "lambda:AddPermission",
                              "lambda:CreateFunction", "lambda:PutFunctionConcurrency",
                              "lambda:PutFunctionEventInvokeConfig"]
    assert _up(config) == []


def test_foreign_role_is_refused_before_any_write_and_kept(aws: None, config: Path) -> None:
    iam = _client("iam")
    iam.create_role(RoleName="t1-us-east-1-role", AssumeRolePolicyDocument="{}")
    prepared, log = target(config)
    with pytest.raises(ConflictError, match="role t1-us-east-1-role") as caught:
        pipelines.up(prepared)
    assert "not tagged" in str(caught.value) and caught.value.exit_code == 1
    assert log.writes() == []
    assert iam.get_role(RoleName="t1-us-east-1-role")["Role"]["RoleName"] == "t1-us-east-1-role"


def test_other_stacks_resource_is_a_conflict(aws: None, config: Path) -> None:
    _client("sns").create_topic(Name="t1-alerts", Tags=[
        {"Key": "managed-by", "Value": "stock-alert"}, {"Key": "stock-alert:stack", "Value": "x"}])
    prepared, _ = target(config)
    with pytest.raises(ConflictError, match="owned by stock-alert stack 'x'"):
        pipelines.up(prepared)


def test_down_removes_everything_and_twice_is_free(aws: None, config: Path) -> None:
    _up(config)
    prepared, _ = target(config)
    the_plan, observation = pipelines.plan(prepared, mode=Mode.DOWN)
    assert [a.kind for a in the_plan.actions] == [
        "market-schedule", "schedule", "on-failure", "notifier", "alarm", "function",
        "security-group", "topic", "log-group", "scheduler-role", "role"]
    pipelines.down(prepared, the_plan)
    assert _client("iam").list_roles()["Roles"] == []
    assert _client("lambda").list_functions()["Functions"] == []
    assert _client("sns").list_topics()["Topics"] == []
    assert _client("sns").list_subscriptions()["Subscriptions"] == []
    assert _client("events").list_rules()["Rules"] == []
    assert _client("logs").describe_log_groups()["logGroups"] == []
    again, log = target(config)
    plan2, obs2 = pipelines.plan(again, mode=Mode.DOWN)
    assert pipelines.down(again, plan2) == [] and log.writes() == []


def test_down_leaves_foreign_resources(aws: None, config: Path) -> None:
    _up(config)
    iam = _client("iam")
    # Replace our role's tags so it looks like someone else's.
    iam.untag_role(RoleName="t1-us-east-1-role", TagKeys=["managed-by", "stock-alert:stack"])
    prepared, _ = target(config)
    the_plan, observation = pipelines.plan(prepared, mode=Mode.DOWN)
    pipelines.down(prepared, the_plan)
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["t1-us-east-1-role"]
    assert sorted(iam.list_role_policies(RoleName="t1-us-east-1-role")["PolicyNames"]) == [
        "t1-invoke-notifier", "t1-publish-alerts", "t1-write-logs"]
    assert _client("lambda").list_functions()["Functions"] == []


def test_status_reports_states(aws: None, config: Path) -> None:
    prepared, _ = target(config)
    _, rows = pipelines.status(prepared)
    # the security group (issue 12): no network in this config, nothing to make
    # nor the alarm: no customer key, so it could not deliver (issue 21)
    assert {r.kind: r.state for r in rows}["security-group"] == "not used"
    assert {r.kind: r.state for r in rows}["alarm"] == "not used"
    # nor the market-time schedule and its role: the schedule is a cron rule (issue 23)
    unused = ("security-group", "alarm", "market-schedule", "scheduler-role")
    assert {r.kind: r.state for r in rows if r.kind in unused} == dict.fromkeys(unused,
                                                                                 "not used")
    assert {r.state for r in rows if r.kind not in unused} == {"missing"}
    assert not [r for r in rows if r.exists]
    _up(config)
    _client("lambda").update_function_configuration(FunctionName="t1", Timeout=99)
    prepared, log = target(config)
    _, rows = pipelines.status(prepared)
    states = {r.kind: r.state for r in rows}
    assert states == {"role": "in sync", "log-group": "in sync", "topic": "in sync",
                      "security-group": "not used",  # no network (see above)
                      "function": "drifted", "schedule": "in sync", "alarm": "not used",
                      "notifier": "in sync", "on-failure": "in sync",
                      "market-schedule": "not used", "scheduler-role": "not used"}
    fn = next(r for r in rows if r.kind == "function")
    assert fn.drift == ("timeout_s",)
    topic = next(r for r in rows if r.kind == "topic")
    assert {s["endpoint"] for s in topic.attributes["subscriptions"]} == {
        "you@example.com", "+15555550100"}
    assert log.writes() == []


def test_tag_edit_retags_every_resource_and_nothing_else(
        aws: None, config: Path, tmp_path: Path) -> None:
    _up(config)
    retagged = write_config(tmp_path, MINIMAL + "tags: {owner: me}\n", name="t.yaml")
    writes = _up(retagged)
    assert sorted(writes) == sorted([
        "iam:TagRole", "iam:UntagRole", "cloudwatch-logs:TagResource",
        "cloudwatch-logs:UntagResource", "sns:TagResource", "sns:UntagResource",
        "lambda:TagResource", "lambda:UntagResource", "eventbridge:TagResource",
        "eventbridge:UntagResource",
        "lambda:TagResource", "lambda:UntagResource"])  # the notifier; no alarm without a
    # customer key; the on-failure destination has no tags of its own
    want = {"managed-by": "stock-alert", "stock-alert:stack": "t1", "owner": "me"}
    role = _client("iam").get_role(RoleName="t1-us-east-1-role")["Role"]
    assert user_tags({t["Key"]: t["Value"] for t in role["Tags"]}) == {
        **want, "stock-alert:region": "us-east-1"}
    group_arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/t1"
    assert user_tags(_client("logs").list_tags_for_resource(resourceArn=group_arn)["tags"]) == want
    topic_tags = _client("sns").list_tags_for_resource(
        ResourceArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:t1-alerts")["Tags"]
    assert user_tags({t["Key"]: t["Value"] for t in topic_tags}) == want
    assert user_tags(_client("lambda").get_function(FunctionName="t1")["Tags"]) == want
    assert user_tags(_client("lambda").get_function(FunctionName="t1_notify")["Tags"]) == want
    rule_tags = _client("events").list_tags_for_resource(
        ResourceARN=f"arn:aws:events:us-east-1:{ACCOUNT}:rule/t1-schedule")["Tags"]
    assert user_tags({t["Key"]: t["Value"] for t in rule_tags}) == want
    assert _up(retagged) == []


def test_function_tags_missing_from_get_function_are_asked_for(
        aws: None, config: Path) -> None:
    """Real Lambda leaves Tags out of GetFunction unless lambda:ListTags is allowed."""
    _up(config)
    prepared, log = target(config)

    def without_tags(parsed: dict, **_: object) -> None:
        parsed.pop("Tags", None)

    prepared.aws.events.register("after-call.lambda.GetFunction", without_tags)
    the_plan, done = pipelines.up(prepared)
    assert done == [] and log.writes() == []
    assert log.calls.count("lambda:ListTags") == 2  # the function's and the notifier's


def _email_pending(prepared: Target) -> None:
    """Real SNS lists an unconfirmed e-mail subscription with SubscriptionArn
    'PendingConfirmation'; moto confirms at once, so the parsed answer is edited."""
    def edit(parsed: dict, **_: object) -> None:
        for sub in parsed.get("Subscriptions", []):
            if sub["Protocol"] == "email":
                sub["SubscriptionArn"] = "PendingConfirmation"

    prepared.aws.events.register("after-call.sns.ListSubscriptionsByTopic", edit)


def test_pending_email_is_reported_not_resubscribed(aws: None, config: Path,
                                                    tmp_path: Path) -> None:
    _up(config)
    prepared, log = target(config)
    _email_pending(prepared)
    the_plan, rows = pipelines.status(prepared)
    topic_row = next(r for r in rows if r.kind == "topic")
    assert topic_row.state == "in sync"
    assert {s["endpoint"]: s["state"] for s in topic_row.attributes["subscriptions"]} == {
        "you@example.com": "pending confirmation", "+15555550100": "confirmed"}
    assert any("waiting for confirmation" in n for n in topic_row.notes)
    # Removing the pending address from the config: it cannot be unsubscribed, only noted.
    no_email = write_config(tmp_path, MINIMAL.replace("email: [you@example.com]", "email: []")
                            + "tags: {team: quant}\n", name="n.yaml")
    prepared, log = target(no_email)
    _email_pending(prepared)
    the_plan, done = pipelines.up(prepared)
    topic_action = next(a for a in the_plan.actions if a.kind == "topic")
    assert topic_action.op is Op.NOOP
    assert any("confirmation is pending" in n for n in topic_action.notes)
    assert log.writes() == []


def test_inline_policies_are_stored_exactly_as_built(aws: None, config: Path) -> None:
    """What IAM holds is the document policies.py builds and the README shows, key for key."""
    from provision.config.model import load_config
    from provision.core import policies
    from provision.core.stack import Stack

    _up(config)
    stack = Stack(load_config(config), ACCOUNT, "us-east-1")
    iam = _client("iam")
    for name, document in policies.inline_policies(stack).items():
        stored = iam.get_role_policy(RoleName="t1-us-east-1-role",
                                     PolicyName=name)["PolicyDocument"]
        assert stored == document
