"""`iam.path` and `iam.permissions_boundary`: validated, applied to the role, diffed, repaired,
audited, exported, and reflected in the operator's policy.

Real-AWS behaviour injected (moto accepts any boundary ARN, real IAM does not): a boundary that
does not exist, or is a service-role policy, is refused. IAM API Reference,
PutRolePermissionsBoundary errors: NoSuchEntity, PolicyNotAttachable ("Amazon Web Services
service role policies can only be attached to the service-linked role for that service");
CreateRole: InvalidInput. IAM cannot move a role to another path: UpdateRole takes no Path
(IAM API Reference, UpdateRole), so a changed iam.path is refused before any write.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from provision.cli import app
from provision.config.model import Config
from provision.core import pipelines
from provision.core.plan import Mode
from provision.core.stack import Stack
from provision.errors import AwsError, ConflictError
from provision.features.export.cloudformation import template
from provision.features.security import deployer
from provision.features.security.audit import ExtraReads, audit
from tests.support.awsproxy import Error
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import FaultInjector
from tests.support.inprocess import target

ACCOUNT = "123456789012"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/workshop-boundary"
OTHER = "arn:aws:iam::aws:policy/ReadOnlyAccess"
WITH_BOTH = MINIMAL + f"iam:\n  path: /stock-alert/\n  permissions_boundary: {BOUNDARY}\n"
runner = CliRunner()


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _role() -> dict:  # type: ignore[type-arg]
    iam = boto3.client("iam", region_name="us-east-1")
    return iam.get_role(RoleName="t1-us-east-1-role")["Role"]


def _up(config: Path) -> list[str]:
    prepared, calls = target(config)
    pipelines.up(prepared)
    return calls.writes()


# -- config ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "named"), [
    ("iam: {path: stock-alert}\n", "iam.path"),
    ("iam: {path: /a//b/}\n", "iam.path"),
    ("iam: {path: '/with space/'}\n", "iam.path"),
    ("iam: {permissions_boundary: arn:aws:iam::123:policy/x}\n", "iam.permissions_boundary"),
    ("iam: {permissions_boundary: arn:aws:iam::123456789012:role/x}\n",
     "iam.permissions_boundary"),
    ("iam: {boundary: x}\n", "iam.boundary"),
])
def test_bad_iam_settings_exit_2_naming_the_key_without_aws(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, named: str) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # any AWS call would fail
    config = write_config(tmp_path, MINIMAL + text)
    result = runner.invoke(app, ["plan", "-c", str(config)])
    assert result.exit_code == 2, result.output
    assert named in result.output and "Traceback" not in result.output


def test_the_role_arn_carries_the_path() -> None:
    stack = Stack(Config.model_validate({"name": "t1", "stocks": ["F"],
                                         "iam": {"path": "/team/apps/"}}), ACCOUNT, "us-east-1")
    assert stack.role_arn == f"arn:aws:iam::{ACCOUNT}:role/team/apps/t1-us-east-1-role"


# -- lifecycle against moto ----------------------------------------------------------------------
def test_up_creates_the_role_at_its_path_with_its_boundary_in_one_call(
        aws: None, tmp_path: Path) -> None:
    config = write_config(tmp_path, WITH_BOTH)
    writes = _up(config)
    assert writes.count("iam:CreateRole") == 1
    assert "iam:PutRolePermissionsBoundary" not in writes  # set at creation
    role = _role()
    assert role["Path"] == "/stock-alert/"
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"] == BOUNDARY
    # the function is given the role's real ARN, path included
    fn = boto3.client("lambda", region_name="us-east-1").get_function(FunctionName="t1")
    assert fn["Configuration"]["Role"] == (
        f"arn:aws:iam::{ACCOUNT}:role/stock-alert/t1-us-east-1-role")
    assert _up(config) == []  # a second up changes nothing


def test_boundary_added_changed_and_removed_in_the_config(aws: None, tmp_path: Path) -> None:
    _up(write_config(tmp_path, MINIMAL))
    assert "PermissionsBoundary" not in _role()
    added = _up(write_config(tmp_path, MINIMAL + f"iam: {{permissions_boundary: {BOUNDARY}}}\n"))
    assert added == ["iam:PutRolePermissionsBoundary", "iam:TagRole"]  # TagRole: the record
    changed = _up(write_config(tmp_path, MINIMAL + f"iam: {{permissions_boundary: {OTHER}}}\n"))
    assert changed == ["iam:PutRolePermissionsBoundary", "iam:TagRole"]
    assert _role()["PermissionsBoundary"]["PermissionsBoundaryArn"] == OTHER
    silent = _up(write_config(tmp_path, MINIMAL))  # says nothing of a boundary: kept
    assert silent == [] and _role()["PermissionsBoundary"]["PermissionsBoundaryArn"] == OTHER
    removed = _up(write_config(tmp_path, MINIMAL + "iam: {permissions_boundary: null}\n"))
    assert removed == ["iam:DeleteRolePermissionsBoundary", "iam:TagRole"]
    assert "PermissionsBoundary" not in _role()


def test_a_boundary_attached_by_hand_is_kept_and_reported(aws: None, tmp_path: Path) -> None:
    """issue 19: loosening a control someone else added is not the tool's call."""
    config = write_config(tmp_path, MINIMAL)
    _up(config)
    boto3.client("iam", region_name="us-east-1").put_role_permissions_boundary(
        RoleName="t1-us-east-1-role", PermissionsBoundary=OTHER)
    prepared, calls = target(config)
    the_plan, _ = pipelines.up(prepared)
    assert calls.writes() == []
    assert _role()["PermissionsBoundary"]["PermissionsBoundaryArn"] == OTHER
    [role] = [a for a in the_plan.actions if a.kind == "role"]
    assert any(f"permissions boundary {OTHER} was attached outside stock-alert and is kept"
               in note for note in role.notes)


def test_a_boundary_removed_by_hand_is_found_by_audit_and_put_back_by_up(
        aws: None, tmp_path: Path) -> None:
    config = write_config(tmp_path, WITH_BOTH)
    _up(config)
    boto3.client("iam", region_name="us-east-1").delete_role_permissions_boundary(
        RoleName="t1-us-east-1-role")
    the_plan, observation = pipelines.plan(target(config)[0])
    found = audit(the_plan, observation, ExtraReads())
    assert [(f.rule, f.resource) for f in found] == [("boundary-removed", "role t1-us-east-1-role")]
    assert found[0].up_repairs and BOUNDARY in found[0].detail
    assert _up(config) == ["iam:PutRolePermissionsBoundary"]  # drift: no new record
    assert _role()["PermissionsBoundary"]["PermissionsBoundaryArn"] == BOUNDARY


def test_a_changed_path_is_refused_before_any_write(aws: None, tmp_path: Path) -> None:
    _up(write_config(tmp_path, WITH_BOTH))
    moved = write_config(tmp_path, WITH_BOTH.replace("/stock-alert/", "/elsewhere/"))
    prepared, calls = target(moved)
    with pytest.raises(ConflictError) as caught:
        pipelines.up(prepared)
    assert calls.writes() == []
    text = str(caught.value)
    assert "IAM path /stock-alert/ but iam.path says /elsewhere/" in text
    assert "'stock-alert down' then 'up'" in text and "managed-by" not in text
    # down still removes it, wherever it lives
    the_plan, _ = pipelines.plan(prepared, mode=Mode.DOWN)
    pipelines.down(prepared, the_plan)
    assert boto3.client("iam", region_name="us-east-1").list_roles()["Roles"] == []


@pytest.mark.parametrize(("error", "code"), [
    (Error(404, "NoSuchEntity", f"Scope ARN: {BOUNDARY} does not exist or is not attachable."),
     "NoSuchEntity"),
    (Error(400, "InvalidInput", f"ARN {BOUNDARY} is not valid."), "InvalidInput"),
    (Error(400, "PolicyNotAttachable", "Cannot attach a Service Role Policy to a Customer "
           "Role."), "PolicyNotAttachable"),
])
def test_a_boundary_iam_refuses_names_the_config_key(
        aws: None, tmp_path: Path, error: Error, code: str) -> None:
    prepared, calls = target(write_config(tmp_path, WITH_BOTH))
    faults = FaultInjector()
    faults.attach_session(prepared.aws)
    faults.inject(error, "iam", "CreateRole", times=1)
    with pytest.raises(AwsError) as caught:
        pipelines.up(prepared)
    assert caught.value.code == code
    assert f"iam.permissions_boundary {BOUNDARY}" in caught.value.message
    assert "fix the ARN in the config" in caught.value.hint
    assert boto3.client("iam", region_name="us-east-1").list_roles()["Roles"] == []


# -- what the operator may do, and the exported template ----------------------------------------
def _stack(text: str) -> Stack:
    import yaml

    return Stack(Config.model_validate(yaml.safe_load(text)), ACCOUNT, "us-east-1")


def test_with_a_boundary_the_operator_creates_roles_only_with_it_and_cannot_remove_it() -> None:
    policy = deployer.policy(_stack(WITH_BOTH))
    text = json.dumps(policy)
    assert "iam:DeleteRolePermissionsBoundary" not in text
    guarded = [s for s in policy["Statement"] if s["Sid"] == "CreateRoleOnlyWithTheBoundary"]
    assert guarded == [{
        "Sid": "CreateRoleOnlyWithTheBoundary", "Effect": "Allow",
        "Action": ["iam:CreateRole", "iam:PutRolePermissionsBoundary"],
        # both roles (issue 23: the scheduler's too), both at the config's path
        "Resource": [f"arn:aws:iam::{ACCOUNT}:role/stock-alert/t1-us-east-1-role",
                     f"arn:aws:iam::{ACCOUNT}:role/stock-alert/t1-us-east-1-scheduler"],
        "Condition": {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY}}}]
    elsewhere = [s for s in policy["Statement"] if s is not guarded[0]]
    assert "iam:CreateRole" not in json.dumps(elsewhere)


def test_without_a_boundary_the_operator_can_remove_one_but_not_set_one() -> None:
    text = json.dumps(deployer.policy(_stack(MINIMAL)))
    assert "iam:DeleteRolePermissionsBoundary" in text
    assert "iam:PutRolePermissionsBoundary" not in text
    assert "iam:PermissionsBoundary" not in text


def test_the_exported_role_has_the_path_and_boundary() -> None:
    role = template(_stack(WITH_BOTH).config)["Resources"]["Role"]["Properties"]
    assert role["Path"] == "/stock-alert/" and role["PermissionsBoundary"] == BOUNDARY
    assert "PermissionsBoundary" not in template(_stack(MINIMAL).config)["Resources"]["Role"][
        "Properties"]
