"""Every kind supplies, itself, what the rest of the tool asks of it (issue 19): its physical
name, `locate` (teardown by tags, no config), how it recognises its ARNs, the AWS clients it
needs, and whether it is global. Pure: no AWS."""

from __future__ import annotations

import pytest

from provision import pipelines
from provision.config.model import Config
from provision.resources import KINDS
from provision.resources.contract import AnyKind, Kind
from provision.resources.tagged import kind_and_name
from provision.stack import Stack

STACK = Stack(Config.model_validate({"name": "t1", "stocks": ["SPY"]}), "123456789012",
              "us-east-1")
# The AWS services botocore knows that stock-alert's kinds may use.
BOTOCORE = {"iam", "logs", "sns", "ec2", "lambda", "events", "cloudwatch"}
OWN = ("physical_name", "recognise", "locate", "read", "wanted", "changes", "create",
       "update", "delete", "summary")


def _arn(kind: AnyKind) -> str:
    """The ARN a tagging-API (or ListRoles / ListRules) answer gives for the kind's resource."""
    wanted = kind.wanted(STACK)
    arn = getattr(wanted, "arn", None)
    return arn if isinstance(arn, str) else STACK.ec2_arn("security-group/sg-0123456789abcdef0")


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_every_kind_defines_each_part_itself(kind: AnyKind) -> None:
    defined = {name for cls in type(kind).__mro__ if cls is not Kind for name in vars(cls)}
    assert set(OWN) <= defined
    assert kind.services and set(kind.services) <= BOTOCORE
    assert isinstance(kind.is_global, bool)


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
    assert [k.name for k in KINDS if k.is_global] == ["role"]
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
