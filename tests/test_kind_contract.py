"""Every kind supplies, itself, what the rest of the tool asks of it (issue 19): its physical
name, `locate` (teardown by tags, no config), how it recognises its ARNs, the AWS clients it
needs, whether it is global, its CloudFormation rendering, the operator's needs
(`deployer-policy`), its audit rules and why the function holds its grants (`permissions`);
and those feature modules ask the kinds, keeping no table of their own. Pure: no AWS."""

from __future__ import annotations

import pytest

from provision.config.model import Config
from provision.core import pipelines
from provision.core.needs import Need
from provision.core.stack import Stack
from provision.features.export import cloudformation
from provision.features.security import audit, deployer, grants
from provision.features.security.key_scopes import KEY_STORE_NEEDS
from provision.kinds import KINDS
from provision.kinds.contract import AnyKind, Fragment, Kind
from provision.kinds.tagged import kind_and_name

STACK = Stack(Config.model_validate({"name": "t1", "stocks": ["SPY"]}), "123456789012",
              "us-east-1")
# The AWS services botocore knows that stock-alert's kinds may use.
BOTOCORE = {"iam", "logs", "sns", "ec2", "lambda", "events", "cloudwatch", "scheduler"}
OWN = ("physical_name", "recognise", "locate", "read", "wanted", "changes", "create",
       "update", "delete", "summary", "cloudformation", "operator", "audit_rules", "grants")


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


def test_a_kind_that_leaves_a_part_out_is_caught() -> None:
    """The check above can fail: a kind with everything but its operator needs and its
    CloudFormation rendering is reported for exactly those."""
    kind = KINDS[1]
    partial = type("Partial", (Kind,), {n: getattr(type(kind), n) for n in OWN
                                          if n not in ("operator", "cloudformation")})
    assert missing(partial) == {"operator", "cloudformation"}
    with pytest.raises(TypeError):
        partial()  # the rendering is abstract: such a kind cannot even be built


def test_the_operator_policy_is_made_of_the_kinds_needs() -> None:
    assert tuple(n for k in KINDS for n in k.operator) + KEY_STORE_NEEDS == deployer.NEEDS
    policy = deployer.policy(STACK)
    granted = {a for st in policy["Statement"] for a in (
        [st["Action"]] if isinstance(st["Action"], str) else st["Action"])}
    wanted = set(deployer.granted(STACK))
    assert {n.action for k in KINDS for n in k.operator if n in wanted} <= granted
    assert all(n in wanted for n in KINDS[0].operator if "Boundary" not in n.action)


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
