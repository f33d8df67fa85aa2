"""Small helpers shared by the end-to-end CLI tests (tests/test_cli_*.py).

* ``direct(moto_url, service)`` -- a boto3 client talking to moto directly (not counted by the
  proxy), for making drift, foreign resources and deletions "by hand";
* ``normalised(inventory)`` -- an inventory with the parts that differ between two equally good
  runs (subscription ARNs are random UUIDs) taken out, so two inventories compare equal;
* ``clean_inventory(...)`` -- the normalised inventory of one clean ``up`` of ``MINIMAL``,
  computed once per test session (it resets moto afterwards);
* ``one_paragraph(stderr)`` -- asserts a user-facing error is one line, without a traceback.
"""

from __future__ import annotations

import copy
import subprocess
from collections import Counter
from collections.abc import Callable
from typing import Any

from botocore.client import BaseClient

from tests.support.awsproxy import AwsProxy
from tests.support.fixtures import reset_moto
from tests.support.inventory import Inventory, client_factory, inventory, is_empty

REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK_TAGS = {"managed-by": "stock-alert", "stock-alert:stack": "t1"}

# The writes of a fresh up and of a full down of MINIMAL, in order (proxy "service:Operation").
# Issue 21: the on-failure destination replaces the errors alarm on the default config (the
# alarm is made only with a customer key); it sends failed runs to the notifier function,
# which the role may invoke (a third inline policy).
FRESH_UP_WRITES = [
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:PutRolePolicy",
    "iam:PutRolePolicy",  # NAME-invoke-notifier (issue 21)
    "logs:CreateLogGroup",
    "logs:PutRetentionPolicy",
    "sns:CreateTopic",
    "sns:Subscribe",
    "sns:Subscribe",
    "lambda:CreateFunction",
    "lambda:PutFunctionConcurrency",  # function.reserved_concurrency: 1 by default (issue 9)
    "lambda:CreateFunction",  # the notifier, made after the function (issue 21)
    "events:PutRule",
    "events:PutTargets",
    "lambda:AddPermission",
    "lambda:PutFunctionEventInvokeConfig",  # failed runs go to the notifier (issue 21)
]
DOWN_WRITES = [
    "lambda:DeleteFunctionEventInvokeConfig",  # made last, so it goes first (issue 21)
    "events:RemoveTargets",
    "events:DeleteRule",
    "lambda:DeleteFunction",  # the notifier, deleted before the function (issue 21)
    "lambda:DeleteFunction",
    "sns:DeleteTopic",
    "logs:DeleteLogGroup",
    "iam:DeleteRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:DeleteRole",
]

# Kinds are written concurrently once what they need exists (Kind.after), so two runs may
# interleave the writes of independent kinds differently; within a kind the order is fixed.
_KIND_OF_SERVICE = {"iam": "role", "logs": "log-group", "sns": "topic", "events": "schedule",
                    "cloudwatch": "alarm", "monitoring": "alarm", "ec2": "security-group",
                    # the market-time schedule (issue 23); its role's IAM writes count as the
                    # role kind's: a service:Operation key does not say which role
                    "scheduler": "market-schedule"}
_SCHEDULE_LAMBDA = {"AddPermission", "RemovePermission"}
# The on-failure destination is its own kind (kinds/on_failure.py) though Lambda's API
# writes it: its writes are not the function's.
_ON_FAILURE_LAMBDA = {"PutFunctionEventInvokeConfig", "UpdateFunctionEventInvokeConfig",
                      "DeleteFunctionEventInvokeConfig"}


def kind_of(key: str) -> str:
    """The resource kind a "service:Operation" write belongs to.

    The notifier's writes (kinds/notifier.py) carry the same keys as the function's:
    CreateFunction names its function only in the request body. They count as the function's
    here; the notifier is made after the function and deleted before it (Notifier.after), so
    within "function" every run writes them in the one order the lists above show."""
    service, operation = key.split(":", 1)
    if service == "lambda":
        if operation in _ON_FAILURE_LAMBDA:
            return "on-failure"
        return "schedule" if operation in _SCHEDULE_LAMBDA else "function"
    return _KIND_OF_SERVICE[service]


def _by_kind(keys: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key in keys:
        out.setdefault(kind_of(key), []).append(key)
    return out


def in_dependency_order(actual: list[str], teardown: bool = False) -> None:
    """Assert no kind was written before a kind it needs was done (backwards for teardown)."""
    from provision.kinds import BY_NAME

    where: dict[str, list[int]] = {}
    for index, key in enumerate(actual):
        where.setdefault(kind_of(key), []).append(index)
    for kind in where:
        for first in BY_NAME[kind].after:
            if first in where:
                before, later = (kind, first) if teardown else (first, kind)
                assert max(where[before]) < min(where[later]), (before, later, actual)


def writes_match(actual: list[str], expected: list[str], teardown: bool = False,
                 prefix: bool = False) -> None:
    """Assert `actual` is `expected` (or, with prefix, a start of each kind's part of it) in
    some order the dependencies allow, each kind's writes in their fixed order."""
    got, want = _by_kind(actual), _by_kind(expected)
    if prefix:
        assert all(want.get(k, [])[:len(v)] == v for k, v in got.items()), (actual, expected)
    else:
        assert got == want, (actual, expected)
    in_dependency_order(actual, teardown)


def remaining(expected: list[str], done: list[str]) -> list[str]:
    """`expected` without the writes already `done` (as a multiset), in expected's order."""
    left = Counter(done)
    out = []
    for key in expected:
        if left[key]:
            left[key] -= 1
        else:
            out.append(key)
    return out


Cli = Callable[..., subprocess.CompletedProcess[str]]

_CLEAN: dict[str, Inventory] = {}


def direct(moto_url: str, service: str) -> BaseClient:
    """A client that talks straight to moto: its calls never show up in the proxy's counts."""
    return client_factory(moto_url, REGION)(service)


def normalised(inv: Inventory) -> Inventory:
    out = copy.deepcopy(inv)
    for sub in out["subscriptions"]:
        sub["arn"] = "<subscription-arn>"
    return out


def clean_inventory(cli: Cli, moto_url: str, proxy: AwsProxy) -> Inventory:
    """Normalised inventory after one clean ``stock-alert up`` on an empty account.

    Must be called before the test makes anything: it runs ``up`` (once per session), then
    resets moto and the proxy's call log, so the test starts from an empty account again.
    """
    if "clean" not in _CLEAN:
        assert is_empty(inventory(moto_url, REGION)), "clean_inventory() needs an empty account"
        result = cli("up")
        assert result.returncode == 0, result.stderr
        _CLEAN["clean"] = normalised(inventory(moto_url, REGION))
        reset_moto(moto_url)
        proxy.reset_calls()
    return copy.deepcopy(_CLEAN["clean"])


def writes(proxy: AwsProxy) -> list[str]:
    """``service:Operation`` of every write attempt, in order."""
    return [c.key for c in proxy.writes()]


def reads(proxy: AwsProxy) -> Counter[str]:
    return Counter(c.key for c in proxy.calls if not c.is_write)


def attempts(proxy: AwsProxy, key: str) -> int:
    service, operation = key.split(":")
    return proxy.count(service, operation)


def one_paragraph(stderr: str) -> str:
    """The single ``error: ...`` line of a user-facing failure; no traceback, no extra lines."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    return lines[0]


def by_kind(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["kind"]: row for row in rows}
