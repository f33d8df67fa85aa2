"""`deployer-policy` with `network:` (issue 12): the operator's EC2 actions are enough for the
network lifecycle and each one is needed (moto's IAM enforcement, as in
tests/test_deployer_policy.py, whose helpers this reuses), and each is scoped as documented.

"Each one is needed" comes from one recorded lifecycle (issue 18, as in
tests/test_deployer_actions.py): the first call that asks for each EC2 action belongs to a
command the table names, and that call alone, replayed without the action, is refused."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.core import set_initial_no_auth_action_count

from provision.config.model import Config
from provision.core import pipelines
from provision.core.plan import Mode
from provision.core.stack import Stack
from provision.errors import AwsError
from provision.features.security import deployer
from provision.kinds.security_group import LAMBDA_CHECKS, SecurityGroup
from tests.support.action_recorder import Recorder, is_denied, recorded_lifecycle, replay
from tests.support.configs import MINIMAL, write_config
from tests.test_deployer_policy import (
    MOTO_NAMES,
    SETUP_CALLS,
    _as_operator,
    _prepared,
    _user,
    world,
)

__all__ = ["world"]  # the fixture, imported for the tests below
ACCOUNT = "123456789012"


def _stack(network: bool = True) -> Stack:
    data: dict[str, Any] = {"name": "t1", "stocks": ["TSLA"]}
    if network:
        data["network"] = {"subnet_ids": ["subnet-0123456789abcdef0"]}
    return Stack(Config.model_validate(data), ACCOUNT, "us-east-1")


# The security group kind's needs as a config with network: has them, by action (ec2:CreateTags
# is granted in two statements, both for 'up').
EC2 = {n.action: n for n in deployer.granted(_stack()) if n in SecurityGroup.operator}
EC2_ACTIONS = list(EC2)
# Lambda's own check of the caller: moto makes none, so each-action-needed cannot show it here
# (tests/real_aws/test_network.py injects Lambda's refusal instead).
CALLED = [a for a in EC2_ACTIONS if a not in LAMBDA_CHECKS]


def _network(subnets: list[str], tags: str) -> str:
    return MINIMAL + f"tags: {tags}\nnetwork:\n  subnet_ids: [{', '.join(subnets)}]\n"


def _steps(tmp_path: Path, admin: Callable[[str], Any],
           granted: set[str]) -> list[tuple[str, Callable[[], Any]]]:
    ec2 = admin("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.1.{i}.0/24")["Subnet"]["SubnetId"]
               for i in range(2)]
    first, _ = _prepared(write_config(tmp_path, _network(subnets, "{team: x}"), "a.yaml"),
                         granted)
    second, _ = _prepared(write_config(tmp_path, _network(subnets, "{owner: y}"), "b.yaml"),
                          granted)

    def tamper_then_repair() -> None:
        group = ec2.describe_security_groups(Filters=[
            {"Name": "group-name", "Values": ["t1-fn-sg"]}])["SecurityGroups"][0]["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
            "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        ec2.authorize_security_group_egress(GroupId=group, IpPermissions=[{
            "IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        pipelines.up(second)  # new tag (CreateTags), dropped tag (DeleteTags), rules revoked

    def teardown() -> None:
        the_plan, _ = pipelines.plan(second, mode=Mode.DOWN)
        pipelines.down(second, the_plan)
        assert ec2.describe_security_groups(Filters=[
            {"Name": "group-name", "Values": ["t1-fn-sg"]}])["SecurityGroups"] == []

    return [("status", lambda: pipelines.status(first)), ("up", lambda: pipelines.up(first)),
            ("up", tamper_then_repair), ("down", teardown)]


def _run(tmp_path: Path, granted: set[str], monkeypatch: pytest.MonkeyPatch,
         progress: Recorder | None = None) -> str | None:
    # moto's own names for some actions (lambda:Invoke, monitoring:*), as in the main test
    admin = _as_operator(sorted(granted | {MOTO_NAMES[a] for a in granted if a in MOTO_NAMES}),
                         monkeypatch)
    _ADMIN[:] = [admin]
    for command, step in _steps(tmp_path, admin, granted):
        if progress is not None:
            progress.command = command
        try:
            step()
        except AwsError as err:
            # moto answers EC2's refusal with code UnauthorizedOperation or AccessDenied
            assert err.code in ("AccessDenied", "UnauthorizedOperation", "AccessDeniedException"
                                ) or "not authorized" in str(err), err
            return command
    return None


_ADMIN: list[Callable[[str], Any]] = []  # the recorded lifecycle's admin, to make operators


ALL = set(deployer.actions(_stack()))  # the generated policy's actions, with network:


@set_initial_no_auth_action_count(SETUP_CALLS)
def test_the_network_policy_is_enough(world: None, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run(tmp_path, ALL, monkeypatch) is None


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorder]:
    """One lifecycle as the operator with the whole policy, recorded; moto stays active (and
    enforcing) for the replays."""
    with recorded_lifecycle(tmp_path_factory, SETUP_CALLS, ALL, _run) as recorder:
        yield recorder


def _operator(name: str, actions: set[str]) -> dict[str, Any]:
    return _user(name, sorted(actions | {MOTO_NAMES[a] for a in actions if a in MOTO_NAMES}),
                 _ADMIN[-1]("iam"))


@pytest.mark.parametrize("action", CALLED)
def test_every_ec2_action_is_needed(action: str, recorded: Recorder) -> None:
    first = recorded.first(action)
    assert first is not None, f"no call of the network lifecycle asked for {action}"
    assert first.command in EC2[action].commands, (action, first.command)
    name = action.replace(":", "-")
    assert is_denied(replay(first, _operator(f"without-{name}", ALL - {action})), action)
    assert not is_denied(replay(first, _operator(f"with-{name}", ALL)), action)


# scoping (pure) ---------------------------------------------------------------------------
def _ec2_statements(stack: Stack) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in deployer.policy(stack)["Statement"]
            if any(str(a).startswith("ec2:") for a in (
                s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))}


def test_no_network_only_the_teardown_ec2_actions_in_the_operator_policy() -> None:
    """'down' looks for a group left from an earlier network: whatever the config says now
    (issue 19), so it may find and delete this stack's tagged group; nothing else."""
    found = _ec2_statements(_stack(network=False))
    assert {sid: s["Action"] for sid, s in found.items()} == {
        "Ec2DescribeNoResourceLevel": ["ec2:DescribeSecurityGroups"],
        "OwnSecurityGroup": ["ec2:DeleteSecurityGroup"]}
    assert found["OwnSecurityGroup"]["Condition"] == {
        "StringEquals": {"aws:ResourceTag/stock-alert:stack": "t1"}}
    assert [(r[0], r[2]) for r in deployer.rows(_stack(network=False))
            if r[0].startswith("ec2:")] == [("ec2:DescribeSecurityGroups", "down"),
                                            ("ec2:DeleteSecurityGroup", "down")]


# the EC2 actions on Resource "*", each saying why it cannot be narrower
UNSCOPED = {a for a, n in EC2.items() if n.unscoped}


def test_ec2_statements_are_scoped_to_this_stacks_tag() -> None:
    group = f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/*"
    found = _ec2_statements(_stack())
    assert found["Ec2DescribeNoResourceLevel"]["Resource"] == "*"
    assert set(found["Ec2DescribeNoResourceLevel"]["Action"]) == UNSCOPED
    create = found["CreateSecurityGroupTaggedForThisStack"]
    assert create["Action"] == ["ec2:CreateSecurityGroup"]
    assert create["Resource"] == [group, f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/*"]
    assert create["Condition"] == {"StringEquals": {"aws:RequestTag/stock-alert:stack": "t1"}}
    tag = found["TagOnlyWhileCreatingIt"]
    assert tag["Action"] == ["ec2:CreateTags"] and tag["Resource"] == [group]
    assert tag["Condition"]["StringEquals"]["ec2:CreateAction"] == "CreateSecurityGroup"
    own = found["OwnSecurityGroup"]
    assert own["Resource"] == [group]
    assert own["Condition"] == {"StringEquals": {"aws:ResourceTag/stock-alert:stack": "t1"}}
    granted = {a for s in found.values() for a in s["Action"]}
    assert granted == set(EC2_ACTIONS)
    wild = [a for s in found.values() if s["Resource"] in ("*", ["*"]) for a in s["Action"]]
    assert sorted(wild) == sorted(UNSCOPED)


def test_each_ec2_resource_is_a_type_the_sar_defines_for_the_action() -> None:
    from parliament import analyze_policy_string, iam_definition

    ec2 = next(s for s in iam_definition if s["prefix"] == "ec2")
    types = {p["privilege"]: {r["resource_type"].rstrip("*") for r in p["resource_types"]} - {""}
             for p in ec2["privileges"]}
    for statement in _ec2_statements(_stack()).values():
        resources = statement["Resource"]
        for action in statement["Action"]:
            name = action.split(":")[1]
            if resources == "*":
                assert types[name] == set(), action
                continue
            kinds = {r.split(":")[5].split("/")[0] for r in resources}
            assert kinds <= types[name], (action, kinds, types[name])
    doc = json.dumps(deployer.policy(_stack()))
    assert analyze_policy_string(doc).findings == []


def test_explain_rows_name_scope_and_reason() -> None:
    rows = {r[0]: r for r in deployer.rows(_stack()) if r[0].startswith("ec2:")}
    assert set(rows) == set(EC2_ACTIONS)
    assert "Resource '*'" in rows["ec2:DescribeSubnets"][3]
    assert "tagged stock-alert:stack=t1" in rows["ec2:DeleteSecurityGroup"][1]
    assert rows["ec2:DeleteSecurityGroup"][2] == "down"
