"""`stock-alert deployer-policy`: enough for the whole lifecycle, and every action needed.

moto's IAM enforcement checks actions only (AWS-NOTES "IAM enforcement"): the user below holds
the generated policy's actions on Resource "*", and removing any one of them must make some
step fail with AccessDenied, in a command the policy's table says needs it. Resource scoping
and the PassRole condition are asserted exactly in tests/test_deployer_scoping.py.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

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
from provision.features import logs
from provision.features.invoke import invoke_remote
from provision.features.security import deployer
from tests.deployer_secret_steps import secret_steps
from tests.real_aws.wire import Wire, query_answer
from tests.support.awsproxy import Error, is_write_operation
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import inject_faults
from tests.support.inprocess import target

SETUP_CALLS = 8  # two users: create_user, create_policy, attach_user_policy, create_access_key
ACCOUNT = "123456789012"
ROLE = "t1-us-east-1-role"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"Service": "lambda.amazonaws.com"}}]}
# FIRST sets a permissions boundary at CreateRole, SECOND drops it (DeleteRolePermissionsBoundary:
# the config says so explicitly, since 'up' keeps a boundary the config is silent about),
# BOUNDED sets it again on the existing role (PutRolePermissionsBoundary).
BOUNDARY = "iam: {permissions_boundary: arn:aws:iam::aws:policy/PowerUserAccess}\n"
# A customer key for the topic: the errors alarm is made only then (issue 21), so its actions
# are exercised too.
TOPIC_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KEYED = MINIMAL.replace("notify:\n", f"notify:\n  kms_key: {TOPIC_KEY}\n")
FIRST = KEYED + "tags: {team: x}\n" + BOUNDARY
CHANGED = (KEYED.replace("[TSLA, F, GM]", "[TSLA]").replace('  sms: ["+15555550100"]\n', "")
           + 'schedule: "rate(1 hour)"\ntags: {owner: y}\n'
           # exercises lambda:DeleteFunctionConcurrency (issue 9: reserving nothing)
           + "function: {reserved_concurrency: null}\n")
SECOND = CHANGED + "iam: {permissions_boundary: null}\n"
BOUNDED = CHANGED + BOUNDARY
# The market-time schedule (issue 23): MARKET moves BOUNDED's rule to EventBridge Scheduler
# (the scheduler's role is made under the boundary too; the rule and its permission go),
# MARKET_LATER changes its time (UpdateSchedule) and swaps a tag key (TagResource and
# UntagResource on the group); down removes the schedule, its group and role.
MARKET = BOUNDED.replace('schedule: "rate(1 hour)"',
                         'schedule: {at: "16:30", timezone: America/New_York}')
MARKET_LATER = MARKET.replace('"16:30"', '"17:00"').replace("tags: {owner: y}",
                                                            "tags: {team: z}")


def _stack_of(text: str) -> Stack:
    return Stack(Config.model_validate(yaml.safe_load(text)), ACCOUNT, "us-east-1")


# The generated policy's actions for every config the lifecycle runs (the secret steps' configs
# differ from these only in where they keep the key, whose needs apply to every config).
LIFECYCLE = tuple(_stack_of(text) for text in (FIRST, SECOND, BOUNDED, MARKET, MARKET_LATER))
ACTIONS = deployer.actions(*LIFECYCLE)
# moto names the Invoke call's action after the operation ("lambda:Invoke"); the IAM action is
# lambda:InvokeFunction (Service Authorization Reference). The test user holds moto's name
# exactly when it holds the real one.
MOTO_NAMES = {"lambda:InvokeFunction": "lambda:Invoke"}
# moto also names CloudWatch's actions after its signing name (monitoring:DescribeAlarms); the
# IAM prefix is cloudwatch: (Service Authorization Reference, Amazon CloudWatch).
MOTO_NAMES.update({a: a.replace("cloudwatch:", "monitoring:") for a in ACTIONS
                   if a.startswith("cloudwatch:")})
Step = tuple[str, Callable[[], Any]]


def _user(name: str, actions: list[str], iam: Any = None) -> dict[str, str]:
    iam = iam or boto3.client("iam")
    iam.create_user(UserName=name)
    policy = iam.create_policy(PolicyName=f"{name}-policy", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
    iam.attach_user_policy(UserName=name, PolicyArn=policy["Policy"]["Arn"])
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"],
            "aws_secret_access_key": key["SecretAccessKey"], "aws_session_token": None}


_LOADER: list[Any] = []


def _shared_loader(make: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Every Aws in these tests reads botocore's service models through one cached loader:
    ~60 runs of the lifecycle would otherwise parse the same JSON files hundreds of times."""
    def made(self: Any) -> Any:
        session = make(self)
        if not _LOADER:
            _LOADER.append(session.get_component("data_loader"))
        session.register_component("data_loader", _LOADER[0])
        return session
    return made


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from moto.iam.access_control import IAMRequest

    from provision.aws.client import Aws

    monkeypatch.setattr(Aws, "_make_session", _shared_loader(Aws._make_session))

    # moto 5.2 recomputes Lambda GET signatures wrongly in-process (SignatureDoesNotMatch for
    # a correctly signed GetFunction); the action check stays.
    monkeypatch.setattr(IAMRequest, "check_signature", lambda self: None)
    with mock_aws():
        yield


def _as_operator(granted: list[str], monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Any]:
    """Create the admin (for tampering) and the operator; the process runs as the operator."""
    admin_keys = _user("admin", ["*"])
    keys = _user("operator", granted)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys["aws_secret_access_key"])
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    clients: dict[str, Any] = {}

    def admin(service: str) -> Any:
        if service not in clients:
            clients[service] = boto3.client(service, region_name="us-east-1", **admin_keys)
        return clients[service]
    return admin


def _prepared(config: Path, granted: set[str]) -> Any:
    prepared, calls = target(config)
    # moto has no SMS sandbox API. Answer GetSMSSandboxAccountStatus as an account still in the
    # sandbox does (so status also reads ListSMSSandboxPhoneNumbers), but only for a caller
    # allowed to call it; otherwise the call goes on to moto, which refuses it (AccessDenied).
    wire = Wire()
    wire.answers["GetSMSSandboxAccountStatus"] = lambda request: query_answer(
        request, "GetSMSSandboxAccountStatus", "<IsInSandbox>true</IsInSandbox>",
    ) if "sns:GetSMSSandboxAccountStatus" in granted else None
    wire.attach(prepared.aws.events)
    if "lambda:ListTags" not in granted:
        # Real Lambda leaves Tags out of GetFunction for callers not allowed lambda:ListTags
        # (since 2024-07-27; AWS's notice quoted in github.com/DataBiosphere/azul/issues/6387);
        # moto always includes them.
        prepared.aws.events.register("after-call.lambda.GetFunction",
                                     lambda parsed, **_: parsed.pop("Tags", None))
    return prepared, calls


def _code_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("handler.py", "def handler(event, context):\n    return 'changed'\n")
    return buffer.getvalue()


def _tamper(admin: Callable[[str], Any]) -> None:
    """What someone with console access might do; the second 'up' must undo each."""
    iam = admin("iam")
    iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=json.dumps(
        {**TRUST, "Statement": TRUST["Statement"] + [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}}]}))
    wide = iam.create_policy(PolicyName="wide", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                "Resource": "*"}]}))
    iam.attach_role_policy(RoleName=ROLE, PolicyArn=wide["Policy"]["Arn"])
    admin("lambda").update_function_code(FunctionName="t1", ZipFile=_code_zip())
    admin("lambda").remove_permission(FunctionName="t1", StatementId="t1-schedule-invoke")
    admin("lambda").add_permission(FunctionName="t1", StatementId="t1-schedule-invoke",
                                   Action="lambda:InvokeFunction",
                                   Principal="events.amazonaws.com")
    admin("sns").set_topic_attributes(TopicArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:t1-alerts",
                                      AttributeName="DisplayName", AttributeValue="hacked")


def _steps(tmp_path: Path, admin: Callable[[str], Any], granted: set[str]) -> list[Step]:
    # One Aws per config for the whole run, as a person running the commands in one shell
    # would have: the clients are made once.
    first, _ = _prepared(write_config(tmp_path, FIRST, "first.yaml"), granted)
    second, calls = _prepared(write_config(tmp_path, SECOND, "second.yaml"), granted)
    bounded, _ = _prepared(write_config(tmp_path, BOUNDED, "bounded.yaml"), granted)
    market, _ = _prepared(write_config(tmp_path, MARKET, "market.yaml"), granted)
    later, _ = _prepared(write_config(tmp_path, MARKET_LATER, "later.yaml"), granted)

    def foreign_role_status() -> None:
        admin("iam").create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(TRUST))
        rows = pipelines.status(first)[1]
        assert rows[0].state == "foreign"
        admin("iam").delete_role(RoleName=ROLE)

    def repair() -> None:
        _tamper(admin)
        _, done = pipelines.up(second)
        # the alarm and the notifier: their tags changed
        assert [a.kind for a in done] == ["role", "log-group", "topic", "function", "alarm",
                                          "notifier", "schedule"]

    def noop() -> None:
        before = len(calls.calls)
        pipelines.up(second)
        assert [c for c in calls.calls[before:]
                if is_write_operation(c.split(":", 1)[1])] == []

    def move_to_market_time() -> None:
        _, done = pipelines.up(market)
        assert {a.kind for a in done} >= {"scheduler-role", "market-schedule", "schedule"}

    def teardown() -> None:
        the_plan, _ = pipelines.plan(second, mode=Mode.DOWN)
        # with the errors alarm, the notifier, the on-failure destination and the market-time
        # schedule and its role (the rule went when it moved)
        assert len(pipelines.down(second, the_plan)) == 9
        assert admin("lambda").list_functions()["Functions"] == []

    return [
        ("status", foreign_role_status),
        ("up", lambda: pipelines.up(first)),
        ("up", repair),
        ("up", noop),
        ("up", lambda: pipelines.up(bounded)),
        ("up", move_to_market_time),
        ("up", lambda: pipelines.up(later)),
        ("status", lambda: _status_refusals(first)),  # first has an SMS subscriber
        ("logs", lambda: logs.stream(second, 3600, False, lambda e: None)),
        ("invoke", lambda: invoke_remote(second)),
        ("down", teardown),
    ]


def _status_refusals(prepared: Any) -> None:
    """status never fails on the SMS delivery reads (the number shows 'unknown'), so a refused
    read is found in its notes: raise it as the AccessDenied it was."""
    _, rows = pipelines.status(prepared)
    refused = [n for r in rows for n in r.notes
               if "AccessDenied" in n or "AuthorizationError" in n or "not authorized" in n]
    if refused:
        raise AwsError(refused[0], code="AccessDenied")


def _run(tmp_path: Path, granted: set[str], monkeypatch: pytest.MonkeyPatch) -> str | None:
    """Run the steps as an operator holding `granted`; the command of the first step AWS
    refuses with AccessDenied, or None when every step succeeds."""
    return lifecycle(tmp_path, granted, monkeypatch)


class _Steps(Protocol):
    command: str


def lifecycle(tmp_path: Path, granted: set[str], monkeypatch: pytest.MonkeyPatch,
              progress: _Steps | None = None) -> str | None:
    """_run, telling `progress` (a recorder) which command each step belongs to."""
    admin = _as_operator(sorted(granted | {MOTO_NAMES[a] for a in granted if a in MOTO_NAMES}),
                         monkeypatch)
    with inject_faults() as faults:
        if "iam:PassRole" not in granted:
            # moto does not check the iam:PassRole that CreateFunction implies (AWS-NOTES);
            # real Lambda refuses it with AccessDeniedException (Lambda Developer Guide,
            # "Lambda execution role": the user needs iam:PassRole to create a function).
            faults.inject(Error(403, "AccessDeniedException", "User is not authorized to "
                                "perform: iam:PassRole"), service="lambda",
                          operation="CreateFunction", times=1)
        if "scheduler:DeleteSchedule" not in granted:
            # DeleteScheduleGroup deletes the group's schedules, and IAM authorises it as
            # scheduler:DeleteScheduleGroup and scheduler:DeleteSchedule (Service Authorization
            # Reference, EventBridge Scheduler, "API operations": DeleteScheduleGroup); moto
            # checks only the first. Scheduler's refusal: 403 AccessDeniedException.
            faults.inject(Error(403, "AccessDeniedException", "User is not authorized to "
                                "perform: scheduler:DeleteSchedule"), service="scheduler",
                          operation="DeleteScheduleGroup", times=1)
        for command, step in (_steps(tmp_path, admin, granted)
                              + secret_steps(tmp_path, granted, faults)):
            if progress is not None:
                progress.command = command
            try:
                step()
            except AwsError as err:
                # moto answers Lambda's AccessDenied in XML, which botocore reads as code 403
                assert err.code in ("AccessDenied", "AccessDeniedException") or (
                    "is not authorized to perform" in str(err)), err
                return command
    admin_clients.append(admin)
    return None


admin_clients: list[Callable[[str], Any]] = []  # the last lifecycle's admin, for its replays


@set_initial_no_auth_action_count(SETUP_CALLS)
def test_the_generated_policy_is_enough_for_every_command(
        world: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run(tmp_path, set(ACTIONS), monkeypatch) is None


# The actions whose refusal moto does not check, so this module simulates it as real AWS
# answers (above and in tests/deployer_secret_steps.py): each keeps a whole lifecycle without
# it. Every other action is proven from one recorded lifecycle in test_deployer_actions.py.
SIMULATED = frozenset({
    "iam:PassRole", "ssm:AddTagsToResource", "secretsmanager:TagResource", "kms:Encrypt",
    "kms:GenerateDataKey", "kms:Decrypt", "lambda:ListTags", "sns:GetSMSSandboxAccountStatus",
    "scheduler:DeleteSchedule",
})


def _cases() -> list[Any]:
    """One case per simulated action; an action two kinds need (lambda:ListTags on the
    function and on the notifier, issue 21) once, with the commands of both."""
    merged: dict[str, deployer.Need] = {}
    for need in deployer.NEEDS:
        if need.action in SIMULATED:
            seen = merged.get(need.action)
            merged[need.action] = need if seen is None else replace(
                seen, commands=tuple(dict.fromkeys(seen.commands + need.commands)))
    return [pytest.param(need, id=action) for action, need in merged.items()]


@pytest.mark.parametrize("need", _cases())
@set_initial_no_auth_action_count(SETUP_CALLS)
def test_every_action_is_needed(need: deployer.Need, world: None, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    granted = set(ACTIONS) - {need.action}
    failed_in = _run(tmp_path, granted, monkeypatch)
    assert failed_in is not None, f"nothing failed without {need.action}"
    assert failed_in in need.commands, (need.action, failed_in)

