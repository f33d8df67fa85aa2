"""An Aws is configured when it is built and never changed afterwards (issue 19): a fleet's
shared gates are a constructor argument, and sibling/assume build a new Aws through the
constructor (sharing the session, never writing another instance's fields)."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from provision.aws.client import CONFIGURATION, Aws
from provision.core.target import Options, prepare
from tests.support.configs import MINIMAL, write_config


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for var, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(var, value)


@pytest.mark.parametrize("name", sorted(CONFIGURATION))
def test_configuration_cannot_change_after_build(name: str) -> None:
    aws = Aws("us-east-1", shared_gates=True)
    before = getattr(aws, name)
    with pytest.raises(AttributeError, match=f"Aws.{name} is set when the Aws is built"):
        setattr(aws, name, "changed")
    assert getattr(aws, name) == before


def test_a_fleet_target_has_shared_gates_from_construction(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL)
    assert prepare(Options(path, region="us-east-1", shared_gates=True)).aws.shared_gates
    assert not prepare(Options(path, region="us-east-1")).aws.shared_gates


def test_a_sibling_is_built_with_the_same_settings_and_session_in_its_own_region() -> None:
    home = Aws("us-east-1", shared_gates=True)
    with mock_aws():
        account = home.account()
        other = home.sibling("eu-west-1")
        assert (other.region, other.shared_gates, other.retry) == ("eu-west-1", True, home.retry)
        assert other.session() is home.session()
        assert other.account() == account  # the identity travels: no second STS call needed
        assert other.client("sns").meta.region_name == "eu-west-1"
        assert home.client("sns").meta.region_name == "us-east-1"


def test_assume_builds_an_aws_of_another_identity_without_touching_this_one() -> None:
    home = Aws("us-east-1", shared_gates=True)
    with mock_aws():
        role = boto3.client("iam", region_name="us-east-1").create_role(
            RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        home.account()
        assumed = home.assume(role)
        assert assumed.shared_gates and assumed.region == "us-east-1"
        assert assumed.session() is not home.session()
        assert home._identity is not None  # noqa: SLF001 - the home identity is left as it was
        assert assumed._identity is None  # noqa: SLF001 - another account: STS is asked again
