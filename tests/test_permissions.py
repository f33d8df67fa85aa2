"""`stock-alert permissions`: the table is made from the deployed documents, so it cannot drift
from them, and every grant stock-alert makes carries its reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from provision.cli import app
from provision.config.model import Config
from provision.core import policies
from provision.core.stack import Stack
from provision.features.security import grants
from tests.support.configs import MINIMAL, write_config
from tests.support.inprocess import target

ACCOUNT = "123456789012"  # moto's default account
ROLE = "t1-us-east-1-role"
WITH_KEY = MINIMAL + "quotes: {provider: alphavantage, api_key_parameter: /sa/key}\n"
runner = CliRunner()


def _stack(text: str = MINIMAL) -> Stack:
    import yaml

    return Stack(Config.model_validate(yaml.safe_load(text)), ACCOUNT, "us-east-1")


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _up(config: Path) -> None:
    from provision.core import pipelines

    pipelines.up(target(config)[0])


def _permissions(config: Path) -> dict[str, Any]:
    result = runner.invoke(app, ["permissions", "-c", str(config), "--output", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _deployed_pairs() -> list[tuple[str, str]]:
    """(action, resource) of every Allow in the role's inline documents, read with boto3."""
    iam = boto3.client("iam")
    found = []
    for name in iam.list_role_policies(RoleName=ROLE)["PolicyNames"]:
        doc = iam.get_role_policy(RoleName=ROLE, PolicyName=name)["PolicyDocument"]
        found += [(a, r) for _, a, r in policies.pairs(doc)]
    return found


def _row_pairs(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(g["action"], g["resource"]) for g in doc["grants"]]


# pure ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [MINIMAL, WITH_KEY])
def test_every_planned_grant_has_a_why(text: str) -> None:
    stack = _stack(text)
    assert grants.unexplained(stack) == []
    rows = grants.rows(policies.inline_policies(stack), stack)
    assert rows and all(g.planned and g.why for g in rows)


def test_a_grant_added_without_a_why_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: a new action in policies.py with no WHY entry is reported."""
    built = policies.inline_policies

    def more(stack: Stack) -> dict[str, policies.Document]:
        docs = built(stack)
        docs[stack.policy_name("publish-alerts")]["Statement"][0]["Action"].append(
            "sns:ListSubscriptionsByTopic")
        return docs

    monkeypatch.setattr(policies, "inline_policies", more)
    assert grants.unexplained(_stack()) == ["sns:ListSubscriptionsByTopic"]


def test_not_granted_list_names_the_lessons_risky_defaults() -> None:
    named = " ".join(a for a, _, _ in grants.NOT_GRANTED)
    for action in ("logs:CreateLogGroup", "kms:", "sns:Subscribe", "ssm:GetParameters",
                   "sns:Publish"):
        assert action in named
    assert all(why for _, _, why in grants.NOT_GRANTED)


# moto: before and after up ---------------------------------------------------------------------
@pytest.mark.parametrize("text", [MINIMAL, WITH_KEY])
def test_before_up_the_rows_are_the_plan(aws: None, tmp_path: Path, text: str) -> None:
    doc = _permissions(write_config(tmp_path, text))
    assert doc["source"] == "plan"
    planned = [(a, r) for d in policies.inline_policies(_stack(text)).values()
               for _, a, r in policies.pairs(d)]
    assert sorted(_row_pairs(doc)) == sorted(planned)
    assert all(g["why"] and g["planned"] for g in doc["grants"])


@pytest.mark.parametrize("text", [MINIMAL, WITH_KEY])
def test_after_up_the_rows_are_exactly_the_deployed_documents(
        aws: None, tmp_path: Path, text: str) -> None:
    config = write_config(tmp_path, text)
    _up(config)
    doc = _permissions(config)
    assert doc["source"] == "deployed" and doc["owned"] is True
    deployed = _deployed_pairs()
    rows = _row_pairs(doc)
    assert len(rows) == len(set(rows))  # each (action, resource) exactly once
    assert set(rows) == set(deployed)
    assert all(g["planned"] and g["why"] == grants.WHY[g["action"]] for g in doc["grants"])
    assert doc["attached_managed_policies"] == []
    assert {n["action"] for n in doc["not_granted"]} >= {"logs:CreateLogGroup"}


def test_a_statement_added_by_hand_is_flagged(aws: None, tmp_path: Path) -> None:
    config = write_config(tmp_path, MINIMAL)
    _up(config)
    iam = boto3.client("iam")
    extra = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "sns:Publish"], "Resource": "*"}]}
    iam.put_role_policy(RoleName=ROLE, PolicyName="added-by-hand",
                        PolicyDocument=json.dumps(extra))
    managed = iam.create_policy(PolicyName="wide", PolicyDocument=json.dumps(extra))
    iam.attach_role_policy(RoleName=ROLE, PolicyArn=managed["Policy"]["Arn"])
    doc = _permissions(config)
    assert set(_row_pairs(doc)) == set(_deployed_pairs())
    flagged = {(g["action"], g["resource"]) for g in doc["grants"] if not g["planned"]}
    assert flagged == {("s3:GetObject", "*"), ("sns:Publish", "*")}
    assert all(g["why"] == grants.EXTRA_WHY for g in doc["grants"] if not g["planned"])
    assert doc["attached_managed_policies"] == [managed["Policy"]["Arn"]]
    human = runner.invoke(app, ["permissions", "-c", str(config)])
    assert human.exit_code == 0
    text = " ".join(human.stdout.split())
    assert "from the deployed role" in text and "2 grant(s) marked ! are not made" in text
    assert "managed policy arn:aws:iam::123456789012:policy/wide is attached" in text


def test_human_table_before_up_says_it_is_the_plan(aws: None, tmp_path: Path) -> None:
    result = runner.invoke(app, ["permissions", "-c", str(write_config(tmp_path, MINIMAL))])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "from the plan (the role does not exist yet" in text
    assert "logs:PutLogEvents" in text and "Deliberately not granted" in text
    assert "UNEXPLAINED" not in text and "!" not in text


def test_bad_config_is_exit_2_without_aws(tmp_path: Path) -> None:
    config = write_config(tmp_path, MINIMAL.replace("name: t1", "name: 'bad name!'"))
    result = runner.invoke(app, ["permissions", "-c", str(config)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "name" in result.output


@pytest.mark.server
def test_permissions_over_http_match_the_deployed_role(cli: Any, moto_server: str,
                                                       tmp_path: Path) -> None:
    from tests.support.cli_helpers import direct

    write_config(tmp_path, MINIMAL)
    assert cli("up").returncode == 0
    result = cli("permissions", "--output", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    iam = direct(moto_server, "iam")
    deployed = {(a, r) for name in iam.list_role_policies(RoleName=ROLE)["PolicyNames"]
                for _, a, r in policies.pairs(iam.get_role_policy(
                    RoleName=ROLE, PolicyName=name)["PolicyDocument"])}
    assert doc["source"] == "deployed" and set(_row_pairs(doc)) == deployed
