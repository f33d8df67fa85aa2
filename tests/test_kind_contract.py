"""Every kind supplies, itself, what the rest of the tool asks of it (issue 19): its physical
name, `locate` (teardown by tags, no config), how it recognises its ARNs, the AWS clients it
needs, whether it is global, its CloudFormation rendering, the operator's needs
(`deployer-policy`), its audit rules and why the function holds its grants (`permissions`);
and those feature modules ask the kinds, keeping no table of their own. Pure: no AWS."""

from __future__ import annotations

from typing import Any

import pytest

from provision.config.model import Config
from provision.core import pipelines
from provision.core.needs import Need
from provision.core.plan import Action
from provision.core.pricing import Line
from provision.core.stack import Stack
from provision.features.export import cloudformation
from provision.features.security import audit, deployer, grants
from provision.features.security.key_scopes import KEY_STORE_NEEDS
from provision.kinds import KINDS
from provision.kinds.alarm import Alarm
from provision.kinds.contract import AnyKind, Fragment, Kind
from provision.kinds.security_group import SecurityGroup
from provision.kinds.tagged import kind_and_name

STACK = Stack(Config.model_validate({"name": "t1", "stocks": ["SPY"]}), "123456789012",
              "us-east-1")
# The AWS services botocore knows that stock-alert's kinds may use.
BOTOCORE = {"iam", "logs", "sns", "ec2", "lambda", "events", "cloudwatch", "scheduler"}
OWN = ("physical_name", "recognise", "locate", "read", "wanted", "changes", "create",
       "update", "delete", "summary", "cloudformation", "operator", "audit_rules", "grants",
       "cost")


def missing(kind_class: type) -> set[str]:
    """The parts of OWN a kind class leaves to the base class (which supplies none of them)."""
    defined = {name for cls in kind_class.__mro__ if cls is not Kind for name in vars(cls)}
    return set(OWN) - defined


def _arn(kind: AnyKind) -> str:
    """The ARN a tagging-API (or ListRoles / ListRules) answer gives for the kind's resource."""
    wanted = kind.wanted(STACK)
    arn = getattr(wanted, "arn", None)
    return arn if isinstance(arn, str) else STACK.ec2_arn("security-group/sg-0123456789abcdef0")


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_every_kind_defines_each_part_itself(kind: AnyKind) -> None:
    assert missing(type(kind)) == set()
    assert kind.services and set(kind.services) <= BOTOCORE
    assert isinstance(kind.is_global, bool)
    assert all(isinstance(n, Need) for n in kind.operator)
    assert all(callable(rule) for rule in kind.audit_rules.values())
    assert all(isinstance(a, str) and why for a, why in kind.grants.items())
    assert isinstance(kind.cloudformation(kind.wanted(STACK)), Fragment)
    assert all(isinstance(line, Line) for line in kind.cost(STACK, 100))


def test_the_docs_page_names_every_part_a_kind_supplies() -> None:
    """The docs page "Adding a resource kind" lists what the contract asks, hooks included."""
    from tests.support.configs import REPO

    section = (REPO / "docs" / "contributing" / "adding-a-kind.md").read_text(encoding="utf-8")
    assert [part for part in (*OWN, "inspect", "after", "services", "is_global", "host")
            if f"`{part}" not in section] == []


def test_a_kind_that_leaves_a_part_out_is_caught() -> None:
    """The check above can fail: a kind with everything but its operator needs and its
    CloudFormation rendering is reported for exactly those."""
    kind = KINDS[1]
    partial = type("Partial", (Kind,), {n: getattr(type(kind), n) for n in OWN
                                          if n not in ("operator", "cloudformation")})
    assert missing(partial) == {"operator", "cloudformation"}
    with pytest.raises(TypeError):
        partial()  # the rendering is abstract: such a kind cannot even be built


NETWORK = Stack(Config.model_validate({"name": "t1", "stocks": ["SPY"], "network": {
    "subnet_ids": ["subnet-0123456789abcdef0"]}}), "123456789012", "us-east-1")
BOUNDED = Stack(Config.model_validate({"name": "t1", "stocks": ["SPY"], "iam": {
    "permissions_boundary": "arn:aws:iam::aws:policy/PowerUserAccess"}}), "123456789012",
    "us-east-1")


def _granted(stack: Stack) -> set[tuple[str, str]]:
    """(statement, action) pairs of the generated policy."""
    return {(st["Sid"], a) for st in deployer.policy(stack)["Statement"] for a in (
        [st["Action"]] if isinstance(st["Action"], str) else st["Action"])}


@pytest.mark.parametrize("stack", [STACK, NETWORK, BOUNDED], ids=["plain", "network", "bounded"])
def test_the_operator_policy_is_exactly_the_kinds_needs(stack: Stack) -> None:
    """deployer-policy adds nothing of its own: each statement and action is a need that
    applies to this config, in the statement (Scope) the kind put it in; '*' only where the
    need says why."""
    assert tuple(n for k in KINDS for n in k.operator) + KEY_STORE_NEEDS == deployer.NEEDS
    needed = {(n.scope.sid, n.action) for n in deployer.NEEDS
              if n.applies(stack) and n.scope.named(stack)}
    assert _granted(stack) == needed
    for need in deployer.NEEDS:
        assert (need.scope.named(stack) == ["*"]) == bool(need.unscoped), need.action


def test_needs_apply_by_config() -> None:
    """Without network:, only 'down''s EC2 needs (find the tagged groups, delete them); a
    boundary takes its removal away and guards the role's creation."""
    ec2 = {(sid, a) for sid, a in _granted(STACK) if a.startswith("ec2:")}
    assert ec2 == {("Ec2DescribeNoResourceLevel", "ec2:DescribeSecurityGroups"),
                   ("OwnSecurityGroup", "ec2:DeleteSecurityGroup")}
    assert {a for _, a in _granted(NETWORK) if a.startswith("ec2:")} == {
        n.action for n in SecurityGroup.operator}
    assert ("ExecutionRoles", "iam:DeleteRolePermissionsBoundary") in _granted(STACK)
    assert {a for sid, a in _granted(BOUNDED) if sid == "CreateRoleOnlyWithTheBoundary"} == {
        "iam:CreateRole", "iam:PutRolePermissionsBoundary"}
    assert "iam:DeleteRolePermissionsBoundary" not in {a for _, a in _granted(BOUNDED)}


def test_permissions_explains_each_grant_with_the_kinds_words() -> None:
    for kind in KINDS:
        for action, why in kind.grants.items():
            assert grants.WHY[action] == why
    assert grants.unexplained(STACK) == []


def test_export_asks_each_kind_for_its_resources() -> None:
    doc = cloudformation.template(STACK.config)
    stack = cloudformation.export_stack(STACK.config)
    for kind in KINDS:
        part = kind.cloudformation(kind.wanted(stack))
        assert set(part.resources) <= set(doc["Resources"]), kind.name
    assert {"Role", "LogGroup", "Topic", "Function", "Schedule", "OnFailure"} <= set(
        doc["Resources"])


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_audit_words_a_changed_field_by_the_kinds_rule(kind: AnyKind) -> None:
    from provision.core.plan import Action, Change, Op

    for field, rule in kind.audit_rules.items():
        action = Action(kind=kind.name, name="x", op=Op.UPDATE, wanted=None, observed=None,
                        changes=(Change(field, {"a": "1"}, {"a": "2"}),), reason="")
        assert audit._from_change(action, action.changes[0]) == rule(action, action.changes[0])


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_audit_asks_every_kind_to_inspect_its_resource(kind: AnyKind,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """audit reaches each kind's own whole-resource checks (Kind.inspect) through the
    registry, with that kind's action from the plan 'up' would make, and keeps what it says."""
    from provision.core.engine import Observation, make_plan
    from provision.core.findings import Finding

    seen: list[tuple[Stack, str]] = []

    def inspect(stack: Stack, action: Action[Any, Any]) -> list[Finding]:
        seen.append((stack, action.kind))
        return [Finding("probe", f"{action.kind} {action.name}", "", "", False)]

    monkeypatch.setattr(kind, "inspect", inspect)
    observation = Observation(STACK, {k.name: k.wanted(STACK) for k in KINDS},
                              {k.name: None for k in KINDS})
    found = audit.audit(make_plan(observation), observation, audit.ExtraReads())
    assert seen == [(STACK, kind.name)]
    assert [f.resource for f in found if f.rule == "probe"] == [
        f"{kind.name} {kind.physical_name(STACK)}"]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_the_cost_estimate_is_made_of_the_kinds_lines(kind: AnyKind,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`stock-alert cost` prices nothing itself: each line is a kind's (Kind.cost), asked
    through the registry with the month's runs."""
    import datetime as dt

    from provision.features.cost.estimate import estimate

    asked: list[int] = []

    def cost(stack: Stack, runs: int) -> tuple[Line, ...]:
        asked.append(runs)
        return (Line(f"probe {stack.name}", runs, "probes", 1.5, ""),)

    before = estimate(STACK.config, dt.date(2026, 11, 29))
    assert {line.item for line in before.lines} == {
        line.item for k in KINDS for line in k.cost(STACK, before.runs)}
    own = {line.item for line in kind.cost(STACK, before.runs)}
    monkeypatch.setattr(kind, "cost", cost)
    after = estimate(STACK.config, dt.date(2026, 11, 29))
    assert asked == [before.runs]
    assert after.lines[0] == Line("probe t1", before.runs, "probes", 1.5, "")  # the dearest
    assert {line.item for line in after.lines} == (
        {line.item for line in before.lines} - own) | {"probe t1"}
    assert after.total_usd == pytest.approx(before.total_usd + 1.5)  # this config is free


def test_the_alarm_is_priced_only_where_it_is_made_and_by_its_own_name() -> None:
    keyed = Stack(Config.model_validate({"name": "t1", "stocks": ["SPY"], "notify": {
        "kms_key": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}),
        "123456789012", "us-east-1")
    assert Alarm().cost(STACK, 100) == ()
    assert [line.item for line in Alarm().cost(keyed, 100)] == ["CloudWatch alarm (t1-errors)"]


def test_audit_and_the_operator_policy_import_no_kind() -> None:
    """They ask every kind through the registry; a kind module imported here would be a kind
    known outside itself."""
    import ast
    import inspect as source

    for module in (audit, deployer):
        tree = ast.parse(source.getsource(module))
        named = {node.module for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
        assert {m for m in named if m.startswith("provision.kinds")} <= {"provision.kinds"}, (
            module.__name__)


@pytest.mark.parametrize("kind", [k for k in KINDS if k.host is None], ids=lambda k: k.name)
def test_every_kind_recognises_its_own_arn_and_no_other_kind_does(kind: AnyKind) -> None:
    arn = _arn(kind)
    found = kind.recognise(arn)
    assert found is not None and kind.matches(found, STACK)
    assert [k.name for k in KINDS if k.recognise(arn) is not None] == [kind.name]
    assert kind_and_name(arn) == (kind.name, found)


@pytest.mark.parametrize("kind", [k for k in KINDS if k.host is not None], ids=lambda k: k.name)
def test_a_setting_without_an_arn_claims_no_arn(kind: AnyKind) -> None:
    """A setting on another kind's resource (the on-failure destination, on the function):
    the tagging API lists its host, never it, so it claims none of the kinds' ARNs."""
    hosts = [k for k in KINDS if k.host is None]
    assert [kind.recognise(_arn(k)) for k in hosts] == [None] * len(hosts)
    assert kind.host in {k.name for k in hosts}


def test_the_reads_prewarm_every_kinds_clients() -> None:
    """pipelines.SERVICES comes from the kinds: cloudwatch and ec2 included."""
    assert set(pipelines.SERVICES) == {s for k in KINDS for s in k.services}
    assert {"cloudwatch", "ec2"} <= set(pipelines.SERVICES)


def test_only_iam_is_global_and_its_name_carries_the_region() -> None:
    assert [k.name for k in KINDS if k.is_global] == ["role", "scheduler-role"]
    west = Stack(STACK.config, STACK.account, "eu-west-1")
    assert {k.physical_name(STACK) for k in KINDS if k.is_global}.isdisjoint(
        {k.physical_name(west) for k in KINDS if k.is_global})


def test_a_long_name_in_a_long_region_still_fits_iam() -> None:
    name = "a" * 55  # the longest stack name the config allows
    long = Stack(Config.model_validate({"name": name, "stocks": ["SPY"]}), STACK.account,
                 "ap-southeast-4")
    other = Stack(long.config, STACK.account, "ap-southeast-3")
    assert len(long.role_name) <= 64 and long.role_name.endswith("-ap-southeast-4-role")
    assert long.role_name != other.role_name
    scheduler = long.scheduler_role_name
    assert len(scheduler) <= 64 and scheduler.endswith("-ap-southeast-4-scheduler")
    assert scheduler != other.scheduler_role_name
