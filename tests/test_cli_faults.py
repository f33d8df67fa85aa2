"""End-to-end under faults injected exactly as AWS answers them (through the counting proxy).

The tool's own retries sleep for real (capped exponential backoff with jitter, 0.25 s initial,
2 s cap); botocore's standard mode retries throttling and dropped connections by itself. Tests
that only need the tool's loop, and the outage tests (so a dropped call fails at once), set
``AWS_MAX_ATTEMPTS=1``. ``STOCK_ALERT_RETRY_DEADLINE_S`` is small everywhere, so nothing can hang.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from itertools import groupby
from pathlib import Path
from typing import Any

import pytest

from tests.support.awsproxy import (
    AwsProxy,
    Drop,
    Error,
    Fault,
    LoseResponse,
    role_not_assumable,
    throttling,
    update_in_progress,
)
from tests.support.cli_helpers import (
    ACCOUNT,
    DOWN_WRITES,
    FRESH_UP_WRITES,
    attempts,
    call_of,
    clean_inventory,
    in_dependency_order,
    key_of,
    kind_of,
    normalised,
    one_paragraph,
    remaining,
    writes,
    writes_match,
)
from tests.support.configs import MINIMAL, write_config
from tests.support.inventory import is_empty, leftovers

pytestmark = [pytest.mark.server, pytest.mark.timeout(60)]

FN_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:t1"
PERMISSION_EXISTS = Error(
    409,
    "ResourceConflictException",
    "The statement id (t1-schedule-invoke) provided already exists. Please provide a new "
    "statement id, or remove the existing statement.",
)


@pytest.fixture
def env(aws_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The CLI's environment (the ``cli`` fixture reads this same dict on every run)."""
    write_config(tmp_path, MINIMAL)
    aws_env["STOCK_ALERT_RETRY_DEADLINE_S"] = "20"
    return aws_env


def _inject(
    proxy: AwsProxy, fault: Fault | Callable[[str], Fault], *keys: str, times: int | None = 1
) -> None:
    """The same fault (or ``fault(service)``) on each call in ``keys`` (write keys: a Lambda
    key means the call naming the function, or with ``@notifier`` the notifier)."""
    for key in keys:
        service, operation, function = call_of(key)
        proxy.inject(fault(service) if callable(fault) else fault, service, operation,
                     times=times, function=function)


def _retry_lines(stderr: str, what: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip().startswith(f"{what}:")]


def _outcomes(proxy: AwsProxy) -> list[tuple[str, int | str]]:
    """Each write attempt with its HTTP error status, "ok" (2xx) or "lost" (no answer)."""
    return [
        (key_of(c), "lost" if c.status is None else "ok" if c.status < 300 else c.status)
        for c in proxy.writes()
    ]


def _per_kind(outcome: list[tuple[str, Any]]) -> dict[str, list[tuple[str, Any]]]:
    """Outcomes grouped by resource kind, each group in order: independent kinds are written
    concurrently, so only the order within a kind (and across dependencies) is fixed. Within a
    kind, a run of the same operation (the role's policies, the topic's subscriptions) is sent
    at once (issue 22): which of them meets a fault first is not fixed, so each run is compared
    as a multiset, in its place."""
    out: dict[str, list[tuple[str, Any]]] = {}
    for key, result in outcome:
        out.setdefault(kind_of(key), []).append((key, result))
    return {kind: [entry for _, run in groupby(entries, key=lambda e: e[0])
                   for entry in sorted(run, key=str)] for kind, entries in out.items()}


def _forwarded_writes(proxy: AwsProxy) -> list[str]:
    return [key_of(c) for c in proxy.writes() if c.fault is None]


# ---- the tool's own retries -------------------------------------------------------------------


def test_iam_propagation_and_update_in_progress_are_waited_out(
    cli, env: dict[str, str], aws_proxy: AwsProxy, inventory_now, tmp_path: Path
) -> None:
    _inject(aws_proxy, role_not_assumable(), "lambda:CreateFunction", times=3)
    result = cli("up")
    assert result.returncode == 0, result.stderr
    # the function's: refused 3 times, then made; the notifier's (issue 21), made at once
    assert attempts(aws_proxy, "lambda:CreateFunction") == 4
    assert attempts(aws_proxy, "lambda:CreateFunction@notifier") == 1
    progress = _retry_lines(result.stderr, "lambda:create_function")
    assert len(progress) == 3, result.stderr
    assert all("waiting for the new IAM role to propagate" in line for line in progress)
    assert [line.split("attempt ")[1].split()[0] for line in progress] == ["2", "3", "4"]
    assert [f["name"] for f in inventory_now()["functions"]] == ["t1", "t1_notify"]

    # A config change meets "update in progress", then the role again: both waited out.
    (tmp_path / "config.yaml").write_text(MINIMAL + "function: {memory_mb: 256}\n")
    aws_proxy.reset_calls()
    aws_proxy.inject(update_in_progress(FN_ARN), "lambda", "UpdateFunctionConfiguration")
    aws_proxy.inject(role_not_assumable(), "lambda", "UpdateFunctionConfiguration")
    changed = cli("up")
    assert changed.returncode == 0, changed.stderr
    # three attempts, then the tag call recording the new config digest
    assert writes(aws_proxy) == ["lambda:UpdateFunctionConfiguration"] * 3 + ["lambda:TagResource"]
    progress = _retry_lines(changed.stderr, "lambda:update_function_configuration")
    assert len(progress) == 2, changed.stderr
    assert "waiting for the previous Lambda update to finish" in progress[0]
    assert "waiting for the new IAM role to propagate" in progress[1]
    assert inventory_now()["functions"][0]["memory"] == 256


THROTTLED = [
    "iam:CreateRole",
    "logs:CreateLogGroup",
    "sns:CreateTopic",
    "lambda:CreateFunction",
    "events:PutRule",
]


def test_throttling_on_every_service_is_retried_by_the_tool(
    cli, env: dict[str, str], aws_proxy: AwsProxy, moto_server: str, inventory_now
) -> None:
    clean = clean_inventory(cli, moto_server, aws_proxy)
    env["AWS_MAX_ATTEMPTS"] = "1"  # botocore does not retry: only the tool's loop does
    _inject(aws_proxy, throttling, *THROTTLED, times=2)
    started = time.monotonic()
    result = cli("up")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    print(f"throttled up: {elapsed:.1f}s, {len(aws_proxy.calls)} calls")
    for key in THROTTLED:
        assert attempts(aws_proxy, key) == 3, key
        service, operation = key.split(":")
        faults = [c.fault for c in aws_proxy.calls if key_of(c) == key]
        code = throttling(service).code
        assert faults == [f"Error({throttling(service).status} {code})"] * 2 + [None], key
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()  # CreateRole -> create_role
        lines = _retry_lines(result.stderr, f"{service}:{snake}")
        assert len(lines) == 2 and all("AWS is throttling requests" in x for x in lines), key
    writes_match(_forwarded_writes(aws_proxy), FRESH_UP_WRITES)
    assert normalised(inventory_now()) == clean


def test_single_drops_and_throttles_are_retried_by_botocore_transparently(
    cli, env: dict[str, str], aws_proxy: AwsProxy, moto_server: str, inventory_now
) -> None:
    clean = clean_inventory(cli, moto_server, aws_proxy)
    dropped = ["iam:GetRole", "iam:PutRolePolicy", "lambda:CreateFunction", "events:PutTargets"]
    _inject(aws_proxy, Drop(), *dropped)
    _inject(aws_proxy, throttling, "logs:CreateLogGroup")
    result = cli("up")
    assert result.returncode == 0, result.stderr
    # one dropped attempt each, then every call: three policies, two roles looked for (the
    # scheduler's absent, issue 23); the notifier's CreateFunction was not dropped (issue 21)
    calls = {"iam:PutRolePolicy": 3, "iam:GetRole": 2}
    for key in [*dropped, "logs:CreateLogGroup"]:
        assert attempts(aws_proxy, key) == calls.get(key, 1) + 1, key
    assert attempts(aws_proxy, "lambda:CreateFunction@notifier") == 1
    assert "attempt" not in result.stderr  # botocore's retries are silent; the tool's are not
    writes_match(_forwarded_writes(aws_proxy), FRESH_UP_WRITES)
    assert normalised(inventory_now()) == clean


def test_retry_deadline_exceeded_fails_with_a_bounded_wait(
    cli, env: dict[str, str], aws_proxy: AwsProxy, inventory_now
) -> None:
    env["STOCK_ALERT_RETRY_DEADLINE_S"] = "3"
    # the role never works for Lambda: both functions' creates are refused
    aws_proxy.inject(role_not_assumable(), "lambda", "CreateFunction", times=None)
    started = time.monotonic()
    result = cli("up")
    elapsed = time.monotonic() - started
    print(f"deadline 3 s: gave up after {elapsed:.1f}s, "
          f"{attempts(aws_proxy, 'lambda:CreateFunction')} CreateFunction attempts")
    assert result.returncode == 1
    assert elapsed < 3 + 5
    message = one_paragraph(result.stderr)
    assert "kept failing" in message and "InvalidParameterValueException" in message
    assert "run the same command again" in message
    assert attempts(aws_proxy, "lambda:CreateFunction") >= 3
    assert [f["name"] for f in inventory_now()["functions"]] == []
    # it stopped at the functions: what they need was written, nothing that needs them
    writes_match(_forwarded_writes(aws_proxy),
                 [w for w in FRESH_UP_WRITES if kind_of(w) in ("role", "log-group", "topic")])


# ---- crash safety: outages and lost responses --------------------------------------------------


@pytest.mark.parametrize("n", [1, 4, 7, 10])
def test_outage_halfway_then_up_again_finishes_exactly_the_rest(
    n: int, cli, env: dict[str, str], aws_proxy: AwsProxy, moto_server: str, inventory_now
) -> None:
    """After ``n`` writes everything is dropped. The next ``up`` writes exactly what is left."""
    clean = clean_inventory(cli, moto_server, aws_proxy)
    env["AWS_MAX_ATTEMPTS"] = "1"  # fail at the first dropped call instead of after 4
    aws_proxy.fail_all_after_writes(n)
    failed = cli("up")
    assert failed.returncode == 1
    message = one_paragraph(failed.stderr)
    assert "run the same command again" in message
    assert failed.stdout == ""
    forwarded = _forwarded_writes(aws_proxy)
    # the outage starts once n writes have gone through; writes already on the wire at that
    # moment went through too: independent kinds are written at once, and so is what hangs on
    # one resource (issue 22): at most the role's 3 policies, the topic's 2 subscriptions and
    # the log group's one write in flight together
    assert n <= len(forwarded) <= n + 6
    writes_match(forwarded, FRESH_UP_WRITES, prefix=True)
    # independent kinds were being written at once: each of those in flight met the outage
    # at its next write, and nothing new started
    cut = [key_of(c) for c in aws_proxy.calls if c.fault == "Outage" and c.is_write]
    assert cut and set(cut) <= set(remaining(FRESH_UP_WRITES, forwarded))

    aws_proxy.clear_faults()
    aws_proxy.reset_calls()
    resumed = cli("up")
    assert resumed.returncode == 0, resumed.stderr
    writes_match(writes(aws_proxy), remaining(FRESH_UP_WRITES, forwarded))
    assert normalised(inventory_now()) == clean

    aws_proxy.reset_calls()
    third = cli("up")
    assert third.returncode == 0, third.stderr
    assert writes(aws_proxy) == []


def test_lost_responses_are_adopted_or_repeated_within_the_same_up(
    cli, env: dict[str, str], aws_proxy: AwsProxy, moto_server: str, inventory_now
) -> None:
    """Each call takes effect but its answer is lost; botocore repeats it and meets the result.

    * CreateRole -> EntityAlreadyExists, CreateLogGroup -> ResourceAlreadyExistsException,
      CreateFunction -> ResourceConflictException: the tool reads it again, sees its own tags
      and adopts it (finishing what the create did not do, e.g. the retention);
    * PutRolePolicy, Subscribe: idempotent, the repeat just succeeds;
    * AddPermission: AWS answers 409 for the existing statement (moto would silently add a
      duplicate, so the proxy answers as AWS does); the tool replaces the statement.
    All of it finishes in the same ``up``.
    """
    clean = clean_inventory(cli, moto_server, aws_proxy)
    _inject(aws_proxy, LoseResponse(), "iam:CreateRole", "iam:PutRolePolicy",
            "logs:CreateLogGroup", "sns:Subscribe", "lambda:CreateFunction",
            "lambda:AddPermission")
    aws_proxy.inject(PERMISSION_EXISTS, "lambda", "AddPermission", skip=1)
    result = cli("up")
    assert result.returncode == 0, result.stderr
    outcome = _outcomes(aws_proxy)
    assert _per_kind(outcome) == _per_kind([
        ("iam:CreateRole", "lost"),
        ("iam:CreateRole", 409),  # EntityAlreadyExists: adopted
        ("iam:PutRolePolicy", "lost"),
        ("iam:PutRolePolicy", "ok"),
        ("iam:PutRolePolicy", "ok"),
        ("iam:PutRolePolicy", "ok"),  # NAME-invoke-notifier (issue 21)
        ("logs:CreateLogGroup", "lost"),
        ("logs:CreateLogGroup", 400),  # ResourceAlreadyExistsException: adopted
        ("logs:PutRetentionPolicy", "ok"),
        ("sns:CreateTopic", "ok"),
        ("sns:Subscribe", "lost"),
        ("sns:Subscribe", "ok"),
        ("sns:Subscribe", "ok"),
        ("lambda:CreateFunction", "lost"),
        ("lambda:CreateFunction", 409),  # ResourceConflictException: adopted
        ("lambda:PutFunctionConcurrency", "ok"),  # what the create did not do (issue 9)
        ("lambda:CreateFunction@notifier", "ok"),  # the notifier (issue 21)
        ("events:PutRule", "ok"),
        ("events:PutTargets", "ok"),
        ("lambda:AddPermission", "lost"),
        ("lambda:AddPermission", 409),  # the statement exists: replaced
        ("lambda:RemovePermission", "ok"),
        ("lambda:AddPermission", "ok"),
        ("lambda:PutFunctionEventInvokeConfig", "ok"),  # the on-failure destination (21)
    ]), outcome
    in_dependency_order([key for key, _ in outcome], teardown=False)
    for what in ("role t1-us-east-1-role", "log-group /aws/lambda/t1", "function t1"):
        assert f"{what} already exists; reading it again" in result.stderr, what
    assert normalised(inventory_now()) == clean

    aws_proxy.reset_calls()
    again = cli("up")
    assert again.returncode == 0, again.stderr
    assert writes(aws_proxy) == []


# ---- faults during down --------------------------------------------------------------------


def test_down_survives_drops_and_lost_responses(
    cli, env: dict[str, str], aws_proxy: AwsProxy, inventory_now
) -> None:
    assert cli("up").returncode == 0
    aws_proxy.reset_calls()
    _inject(aws_proxy, Drop(), "events:RemoveTargets", "iam:DeleteRolePolicy")
    _inject(aws_proxy, LoseResponse(), "lambda:DeleteFunction@notifier", "iam:DeleteRole")
    down = cli("down", "--yes")
    assert down.returncode == 0, down.stderr
    outcome = _outcomes(aws_proxy)
    per_kind = _per_kind(outcome)
    # the on-failure destination goes alongside its function (issue 22): deleted, or already
    # gone with the function (Lambda's 404 counts as done)
    assert per_kind.pop("on-failure") in ([("lambda:DeleteFunctionEventInvokeConfig", "ok")],
                                          [("lambda:DeleteFunctionEventInvokeConfig", 404)])
    assert per_kind == _per_kind([
        ("events:RemoveTargets", "lost"),  # dropped before it reached AWS
        ("events:RemoveTargets", "ok"),
        ("events:DeleteRule", "ok"),
        ("lambda:DeleteFunction@notifier", "lost"),  # the notifier's: took effect, answer lost
        ("lambda:DeleteFunction@notifier", 404),  # already gone: counts as deleted
        ("lambda:DeleteFunction", "ok"),  # the function's (issue 21)
        ("sns:DeleteTopic", "ok"),
        ("logs:DeleteLogGroup", "ok"),
        ("iam:DeleteRolePolicy", "lost"),
        ("iam:DeleteRolePolicy", "ok"),
        ("iam:DeleteRolePolicy", "ok"),
        ("iam:DeleteRolePolicy", "ok"),
        ("iam:DeleteRole", "lost"),
        ("iam:DeleteRole", 404),
    ]), outcome
    in_dependency_order([key for key, _ in outcome], teardown=True)
    assert leftovers(inventory_now()) == {}


def test_down_after_an_outage_then_down_again_leaves_nothing(
    cli, env: dict[str, str], aws_proxy: AwsProxy, inventory_now
) -> None:
    assert cli("up").returncode == 0
    aws_proxy.reset_calls()
    env["AWS_MAX_ATTEMPTS"] = "1"
    # RemoveTargets, DeleteRule: the rule goes first, alone (no run starts while the failure
    # path goes)
    aws_proxy.fail_all_after_writes(2)
    failed = cli("down", "--yes")
    assert failed.returncode == 1
    assert "run the same command again" in one_paragraph(failed.stderr)
    forwarded = _forwarded_writes(aws_proxy)
    writes_match(forwarded, ["events:RemoveTargets", "events:DeleteRule"], teardown=True)
    # then the on-failure destination, the function (its host), the notifier (which no
    # longer waits for a destination deleted with its host) and the role's grants (nothing
    # starts a run any more), at once (issue 22): all of them met the outage
    cut = {key_of(c) for c in aws_proxy.calls if c.fault == "Outage" and c.is_write}
    assert cut == {"lambda:DeleteFunctionEventInvokeConfig", "lambda:DeleteFunction",
                   "lambda:DeleteFunction@notifier", "iam:DeleteRolePolicy"}
    assert not is_empty(inventory_now())

    aws_proxy.clear_faults()
    aws_proxy.reset_calls()
    again = cli("down", "--yes")
    assert again.returncode == 0, again.stderr
    writes_match(writes(aws_proxy), remaining(DOWN_WRITES, forwarded), teardown=True)
    assert leftovers(inventory_now()) == {}
