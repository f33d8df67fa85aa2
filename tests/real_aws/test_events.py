"""Catalogue of real-AWS behaviours: EventBridge.

moto applies every PutTargets/RemoveTargets entry, deletes a rule the instant its targets are
gone, and accepts rules without limit. Real EventBridge does none of that; each test below
injects what it answers instead, on the wire, and checks what the user sees.

Also holds the shared helpers of this catalogue: `EntriesFail` (an HTTP 200 answer with
FailedEntries, in the json protocol's wire format) and `run_cli` (the Typer app in-process under
moto, with the retry policy on a fake clock).
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from click.testing import Result
from moto import mock_aws
from typer.testing import CliRunner

from provision.aws.retry import RetryPolicy
from provision.cli import app
from provision.core import pipelines
from provision.core.plan import Mode
from provision.core.target import Options, Target
from provision.errors import AwsError
from tests.support.awsproxy import AwsProxy, Call, Error
from tests.support.cli_helpers import attempts, one_paragraph
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import FaultInjector, Forward, _RawBody, identify, no_retry_backoff
from tests.support.inprocess import FakeClock, target
from tests.support.inventory import inventory, is_empty

RULE = "t1-schedule"
TARGET_ID = "stock-alert-function"
# The documented per-entry code: "If the value is ConcurrentModificationException, too many
# requests were made at the same time." (botocore events model, PutTargetsResultEntry and
# RemoveTargetsResultEntry.ErrorCode). The message text is not documented.
CONCURRENT = "ConcurrentModificationException"
CONCURRENT_MESSAGE = "Too many requests were made at the same time."


class EntriesFail(FaultInjector):
    """A FaultInjector that can also answer a batch call with HTTP 200 and FailedEntryCount > 0,
    as EventBridge does; the failed entries are not applied (the call never reaches moto)."""

    def __init__(self) -> None:
        super().__init__()
        self._entry_rules: list[list[Any]] = []  # [operation, code, message, times left]

    def fail_entries(self, operation: str, code: str = CONCURRENT,
                     message: str = CONCURRENT_MESSAGE, times: int | None = 1) -> None:
        self._entry_rules.append([operation, code, message, times])

    def clear_faults(self) -> None:
        super().clear_faults()
        self._entry_rules.clear()

    def _take(self, operation: str) -> tuple[str, str] | None:
        for rule in self._entry_rules:
            if rule[0] == operation and (rule[3] is None or rule[3] > 0):
                if rule[3] is not None:
                    rule[3] -= 1
                return rule[1], rule[2]
        return None

    def dispatch(self, request: AWSPreparedRequest, event_name: str, forward: Forward) -> Any:
        service, operation = identify(request, event_name)
        failure = self._take(operation) if service == "events" else None
        if failure is None:
            return super().dispatch(request, event_name, forward)
        sent = json.loads(request.body or b"{}")
        ids = [t["Id"] for t in sent.get("Targets", [])] or sent.get("Ids", [])
        failed = [{"TargetId": i, "ErrorCode": failure[0], "ErrorMessage": failure[1]}
                  for i in ids]
        body = json.dumps({"FailedEntryCount": len(ids), "FailedEntries": failed}).encode()
        self.record(Call(service, operation, 200, True, fault=f"FailedEntries({failure[0]})",
                         method=request.method or "", path=request.url or ""))
        headers = {"Content-Type": "application/x-amz-json-1.1",
                   "x-amzn-RequestId": str(uuid.uuid4()), "Content-Length": str(len(body))}
        return AWSResponse(request.url, 200, headers, _RawBody(body))


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws(), no_retry_backoff():
        yield write_config(tmp_path, MINIMAL)


def faulty(config: Path, clock: FakeClock, deadline_s: float = 300.0,
           ) -> tuple[Target, EntriesFail]:
    prepared, _ = target(config, clock, deadline_s)
    injector = EntriesFail()
    injector.attach_session(prepared.aws)
    return prepared, injector


def run_cli(config: Path, clock: FakeClock, *args: str, deadline_s: float = 300.0,
            ) -> Result:
    """`stock-alert ARGS --config CONFIG` in-process (moto must be active), its retries on
    `clock`. Faults come from an injector's patch_globally()."""
    policy = RetryPolicy(deadline_s=deadline_s, sleep=clock.sleep, clock=clock.clock)
    with mock.patch("provision.core.target.Options", functools.partial(Options, retry=policy)):
        return CliRunner().invoke(app, [*args, "--config", str(config)])


def rule_targets() -> list[str]:
    events = boto3.client("events", region_name="us-east-1")
    return [t["Id"] for t in events.list_targets_by_rule(Rule=RULE)["Targets"]]


def no_writes_left(config: Path) -> None:
    """The promise after every scenario: the next `up` writes nothing."""
    prepared, log = target(config)
    pipelines.up(prepared)
    assert log.writes() == []


def down_leaves_nothing(config: Path) -> None:
    prepared, _ = target(config)
    the_plan, _ = pipelines.plan(prepared, mode=Mode.DOWN)
    pipelines.down(prepared, the_plan)
    assert is_empty(inventory(boto3.Session(region_name="us-east-1")))


def report(what: str, tries: int, clock: FakeClock) -> None:
    print(f"{what}: {tries} attempts, {clock.now:.1f} s on the fake clock "
          f"({len(clock.sleeps)} sleeps)")


# ---- 1. PutTargets / RemoveTargets: HTTP 200 with FailedEntryCount > 0 ----------------------


def test_put_targets_entries_not_applied_are_sent_again(config: Path) -> None:
    clock = FakeClock()
    prepared, faults = faulty(config, clock)
    faults.fail_entries("PutTargets", times=3)
    pipelines.up(prepared)
    tries = faults.count("events", "PutTargets")
    report("PutTargets, 3 answers with FailedEntries", tries, clock)
    assert tries == 4 and len(clock.sleeps) == 3
    assert rule_targets() == [TARGET_ID]  # the alert really runs
    no_writes_left(config)
    down_leaves_nothing(config)


def test_put_targets_that_keep_failing_exit_1_naming_the_code(config: Path) -> None:
    clock = FakeClock()
    with EntriesFail().patch_globally() as faults:
        faults.fail_entries("PutTargets", times=None)
        result = run_cli(config, clock, "up", deadline_s=60)
        tries = faults.count("events", "PutTargets")
    report("PutTargets, FailedEntries until the 60 s deadline", tries, clock)
    assert result.exit_code == 1
    message = one_paragraph(result.stderr)
    assert CONCURRENT in message and TARGET_ID in message and "no alert is sent" in message
    assert "'stock-alert up' again" in message
    assert "Created" not in result.stdout and "applied" not in result.stdout.lower()
    assert 60 <= clock.now <= 62 and 20 <= tries <= 240  # bounded by the deadline
    assert rule_targets() == []
    # Once EventBridge applies it, the next up adds exactly what is missing.
    prepared, log = target(config)
    pipelines.up(prepared)
    # (the errors alarm, issue 9, needs only the function and the topic: the failed run made
    # it alongside the rule, so it is not written again)
    assert log.writes() == ["eventbridge:PutTargets", "lambda:AddPermission"]
    no_writes_left(config)
    down_leaves_nothing(config)


def test_remove_targets_entries_not_applied_are_sent_again_and_down_finishes(
        config: Path) -> None:
    pipelines.up(target(config)[0])
    clock = FakeClock()
    prepared, faults = faulty(config, clock)
    faults.fail_entries("RemoveTargets", times=2)
    the_plan, _ = pipelines.plan(prepared, mode=Mode.DOWN)
    pipelines.down(prepared, the_plan)
    tries = faults.count("events", "RemoveTargets")
    report("RemoveTargets, 2 answers with FailedEntries", tries, clock)
    assert tries == 3 and faults.count("events", "DeleteRule") == 1
    assert is_empty(inventory(boto3.Session(region_name="us-east-1")))


def test_remove_targets_that_keep_failing_exit_1_and_the_next_down_finishes(
        config: Path) -> None:
    pipelines.up(target(config)[0])
    clock = FakeClock()
    with EntriesFail().patch_globally() as faults:
        faults.fail_entries("RemoveTargets", times=None)
        result = run_cli(config, clock, "down", "--yes", deadline_s=30)
        assert faults.count("events", "DeleteRule") == 0  # it never tried a doomed delete
    assert result.exit_code == 1
    message = one_paragraph(result.stderr)
    assert CONCURRENT in message and "'stock-alert down' again" in message
    assert rule_targets() == [TARGET_ID]
    again = run_cli(config, FakeClock(), "down", "--yes")
    assert again.exit_code == 0, again.output
    assert is_empty(inventory(boto3.Session(region_name="us-east-1")))


# ---- 2. DeleteRule right after RemoveTargets --------------------------------------------------

# "Rule can't be deleted since it has targets." is what real EventBridge answers
# (github.com/getmoto/moto/pull/5056, checked against a live account there;
# github.com/rebuy-de/aws-nuke/issues/877). Right after RemoveTargets it can still answer it,
# as removal takes "a short period of time" to take effect (RemoveTargets, events model).
HAS_TARGETS = Error(400, "ValidationException", "Rule can't be deleted since it has targets.")


def test_delete_rule_right_after_remove_targets_is_waited_out(config: Path) -> None:
    pipelines.up(target(config)[0])
    clock = FakeClock()
    prepared, faults = faulty(config, clock)
    faults.inject(HAS_TARGETS, "events", "DeleteRule", times=3)
    the_plan, _ = pipelines.plan(prepared, mode=Mode.DOWN)
    pipelines.down(prepared, the_plan)
    tries = faults.count("events", "DeleteRule")
    report("DeleteRule after RemoveTargets, 3 'has targets'", tries, clock)
    assert tries == 4 and len(clock.sleeps) == 3 and max(clock.sleeps) <= 2.0
    assert is_empty(inventory(boto3.Session(region_name="us-east-1")))


def test_delete_rule_refused_when_this_run_removed_nothing_is_not_waited(config: Path) -> None:
    pipelines.up(target(config)[0])
    boto3.client("events", region_name="us-east-1").remove_targets(Rule=RULE, Ids=[TARGET_ID])
    clock = FakeClock()
    prepared, faults = faulty(config, clock)
    faults.inject(HAS_TARGETS, "events", "DeleteRule", times=None)  # someone added one since
    the_plan, _ = pipelines.plan(prepared, mode=Mode.DOWN)
    with pytest.raises(AwsError, match="has targets"):
        pipelines.down(prepared, the_plan)
    assert faults.count("events", "DeleteRule") == 1 and clock.sleeps == []


# ---- 4. LimitExceededException is a full quota, not throttling --------------------------------

# EventBridge: "The request failed because it attempted to create resource beyond the allowed
# service quota." (botocore events model, LimitExceededException); wire message as reported in
# github.com/tmobile/pacbot/issues/253. Terraform stopped retrying it:
# github.com/hashicorp/terraform-provider-aws/pull/44489 (issue #44477).
RULES_FULL = Error(400, "LimitExceededException",
                   "The requested resource exceeds the maximum number allowed.")


def quota_message_is_complete(message: str, service: str) -> None:
    assert "LimitExceededException" in message and "not throttling" in message
    assert "Service Quotas console" in message
    assert f"request-service-quota-increase --service-code {service}" in message
    assert "kept failing" not in message and "retry deadline" not in message


def test_put_rule_quota_fails_at_once_naming_the_quota(config: Path) -> None:
    clock = FakeClock()
    with FaultInjector().patch_globally() as faults:
        faults.inject(RULES_FULL, "events", "PutRule", times=None)
        result = run_cli(config, clock, "up")
        tries = faults.count("events", "PutRule")
    report("PutRule LimitExceededException", tries, clock)
    assert result.exit_code == 1
    message = one_paragraph(result.stderr)
    quota_message_is_complete(message, "events")
    assert "rules per event bus" in message
    # botocore's standard mode counts it as throttling (its 4 attempts); the tool adds none.
    assert tries <= 4 and clock.sleeps == []


@pytest.mark.server
@pytest.mark.timeout(60)
def test_put_rule_quota_end_to_end_is_quick(cli, aws_env: dict[str, str], aws_proxy: AwsProxy,
                                             tmp_path: Path, inventory_now) -> None:
    write_config(tmp_path, MINIMAL)
    aws_proxy.inject(RULES_FULL, "events", "PutRule", times=None)
    started = time.monotonic()
    result = cli("up")
    elapsed = time.monotonic() - started
    tries = attempts(aws_proxy, "events:PutRule")
    print(f"PutRule quota end to end: exit {result.returncode} after {elapsed:.1f} s wall, "
          f"{tries} PutRule attempts")
    assert result.returncode == 1
    quota_message_is_complete(one_paragraph(result.stderr), "events")
    assert "attempt" not in result.stderr  # the tool's own retry loop never ran
    assert tries <= 4
    assert elapsed < 20  # botocore's jittered backoff is at most 1 + 2 + 4 s
    assert inventory_now()["rules"] == []
    aws_proxy.clear_faults()
    assert cli("down", "--yes").returncode == 0
    assert is_empty(inventory_now())
