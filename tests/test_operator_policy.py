"""The operator's permission list on the documentation site (docs/reference/
operator-permissions.md) is the generated one, and enough: proved with moto's IAM enforcement."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from provision.config.model import Config
from provision.core import pipelines
from provision.core.plan import Mode
from provision.core.stack import Stack
from provision.errors import AwsError
from provision.features.security import deployer
from tests.support.configs import MINIMAL, REPO, write_config
from tests.support.inprocess import target

SETUP_CALLS = 4  # create_user, create_policy, attach_user_policy, create_access_key
# What deployer-policy grants for MINIMAL, the config (and its variants) the lifecycle runs.
ACTIONS = deployer.actions(Stack(Config.model_validate(yaml.safe_load(MINIMAL)),
                                 "123456789012", "us-east-1"))


def _operator(actions: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Create a user allowed exactly `actions` and make its keys the process credentials."""
    # moto names CloudWatch's actions after its signing name (monitoring:DescribeAlarms); the
    # IAM prefix is cloudwatch: (Service Authorization Reference). Hold both, as AWS would need
    # only the real one.
    actions = actions + [a.replace("cloudwatch:", "monitoring:") for a in actions
                         if a.startswith("cloudwatch:")]
    iam = boto3.client("iam")
    iam.create_user(UserName="operator")
    policy = iam.create_policy(PolicyName="stock-alert-operator", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
    iam.attach_user_policy(UserName="operator", PolicyArn=policy["Policy"]["Arn"])
    key = iam.create_access_key(UserName="operator")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from moto.iam.access_control import IAMRequest

    # moto 5.2 recomputes Lambda GET signatures wrongly in-process (SignatureDoesNotMatch for
    # a correctly signed GetFunction); these tests are about which actions are allowed, so the
    # signature check is skipped and the action check stays.
    monkeypatch.setattr(IAMRequest, "check_signature", lambda self: None)
    with mock_aws():
        yield write_config(tmp_path, MINIMAL)


def _lifecycle(config: Path, tmp_path: Path) -> None:
    _, done = pipelines.up(target(config)[0])
    # the notifier and the on-failure destination (issue 21); no errors alarm without a
    # customer key
    assert [a.kind for a in done] == ["role", "log-group", "topic", "function", "notifier",
                                      "on-failure", "schedule"]
    changed = write_config(tmp_path, MINIMAL.replace("[TSLA, F, GM]", "[TSLA]")
                           + 'schedule: "rate(1 hour)"\ntags: {team: x}\n', name="c.yaml")
    pipelines.up(target(changed)[0])
    _, rows = pipelines.status(target(changed)[0])
    notes = [n for r in rows for n in r.notes]
    assert not [n for n in notes if "AccessDenied" in n or "AuthorizationError" in n], notes
    prepared = target(changed)[0]
    the_plan, observation = pipelines.plan(prepared, mode=Mode.DOWN)
    # with the notifier and the on-failure destination
    assert len(pipelines.down(prepared, the_plan)) == 7


@set_initial_no_auth_action_count(SETUP_CALLS)
def test_operator_actions_are_enough_for_the_whole_lifecycle(
        config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _operator(ACTIONS, monkeypatch)
    _lifecycle(config, tmp_path)


@set_initial_no_auth_action_count(SETUP_CALLS)
def test_enforcement_is_real_without_create_function(
        config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test above can fail: one missing action stops 'up' with AccessDenied."""
    actions = [a for a in ACTIONS if a != "lambda:CreateFunction"]
    _operator(actions, monkeypatch)
    with pytest.raises(AwsError, match="AccessDenied"):
        pipelines.up(target(config)[0])


def test_docs_page_holds_the_generated_list() -> None:
    """What 'deployer-policy --format markdown' prints for the example config is the page's
    list, whole (the list the tests above prove enough)."""
    from provision.features.security import deployer
    from provision.features.security.deployer import operator_stack
    from tests.support.configs import EXAMPLE_CONFIG

    page = (REPO / "docs" / "reference" / "operator-permissions.md").read_text(encoding="utf-8")
    section = page.split("## For the example config", 1)[1].split("\n## ", 1)[0]
    stack, _ = operator_stack(target(EXAMPLE_CONFIG)[0], "123456789012")
    assert deployer.markdown(stack).strip() in section


@set_initial_no_auth_action_count(SETUP_CALLS)
def test_status_without_the_sms_read_says_delivery_unknown(
        config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The status check above can fail: without sns:CheckIfPhoneNumberIsOptedOut the SMS note
    names the refusal (and status still succeeds)."""
    actions = [a for a in ACTIONS if a != "sns:CheckIfPhoneNumberIsOptedOut"]
    _operator(actions, monkeypatch)
    pipelines.up(target(config)[0])
    _, rows = pipelines.status(target(config)[0])
    notes = [n for r in rows for n in r.notes if n.startswith("sms +15555550100")]
    assert len(notes) == 1 and "sns:CheckIfPhoneNumberIsOptedOut: " in notes[0]
    assert "AccessDenied" in notes[0] or "AuthorizationError" in notes[0]
