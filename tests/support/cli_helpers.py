"""Small helpers shared by the end-to-end CLI tests (tests/test_cli_*.py).

* ``direct(moto_url, service)`` -- a boto3 client talking to moto directly (not counted by the
  proxy), for making drift, foreign resources and deletions "by hand";
* ``normalised(inventory)`` -- an inventory with the parts that differ between two equally good
  runs (subscription ARNs are random UUIDs) taken out, so two inventories compare equal;
* ``clean_inventory(...)`` -- the normalised inventory of one clean ``up`` of ``MINIMAL``,
  computed once per test session (it resets moto afterwards);
* ``one_paragraph(stderr)`` -- asserts a user-facing error is one line, without a traceback.

Write keys are ``service:Operation``; a Lambda call naming the stack's notifier (a function
named ``<stack>_notify``, kinds/notifier.py) is ``service:Operation@notifier`` (``key_of``): the
function and the notifier are written at once (issue 22), so only the name a request carries
tells their calls apart, not their order.
"""

from __future__ import annotations

import copy
import subprocess
from collections import Counter
from collections.abc import Callable
from typing import Any

from botocore.client import BaseClient

from tests.support.awsproxy import AwsProxy, Call, CallLog
from tests.support.fixtures import reset_moto
from tests.support.inventory import Inventory, client_factory, inventory, is_empty

REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK_TAGS = {"managed-by": "stock-alert", "stock-alert:stack": "t1"}
NOTIFIER_SUFFIX = "_notify"  # the notifier function's name: '<stack>_notify'
ON_NOTIFIER = "@notifier"  # how a write key marks a call naming the notifier

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
    "lambda:CreateFunction@notifier",  # the notifier (issue 21), made alongside the function
    "events:PutRule",
    "events:PutTargets",
    "lambda:AddPermission",
    "lambda:PutFunctionEventInvokeConfig",  # failed runs go to the notifier (issue 21)
]
DOWN_WRITES = [
    "lambda:DeleteFunctionEventInvokeConfig",  # alongside its function (issue 22), before the
    # notifier it sends to (issue 21)
    "events:RemoveTargets",
    "events:DeleteRule",
    "lambda:DeleteFunction@notifier",  # the notifier (issue 21), alongside the function
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


def key_of(call: Call) -> str:
    """``service:Operation``, marked ``@notifier`` when the call names the notifier."""
    notifier = call.function is not None and call.function.endswith(NOTIFIER_SUFFIX)
    return call.key + ON_NOTIFIER if notifier else call.key


def call_of(key: str, stack: str = "t1") -> tuple[str, str, str | None]:
    """(service, operation, function) for a fault rule meaning the call of that key: a Lambda
    key names the stack's function, or with ``@notifier`` its notifier."""
    notifier = key.endswith(ON_NOTIFIER)
    service, operation = key.removesuffix(ON_NOTIFIER).split(":", 1)
    if service != "lambda":
        return service, operation, None
    return service, operation, stack + NOTIFIER_SUFFIX if notifier else stack


def kind_of(key: str) -> str:
    """The resource kind a "service:Operation" write (a key_of key) belongs to."""
    if key.endswith(ON_NOTIFIER):
        return "notifier"
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


# Teardown: the kinds whose delete lets what they need go after its first write (the market
# schedule's DeleteSchedule; its group's delete follows alongside: concurrency.ready()).
READY_AFTER_FIRST_DELETE = frozenset({"market-schedule"})


def in_dependency_order(actual: list[str], teardown: bool = False) -> None:
    """Assert no kind was written before a kind it needs was done (backwards for teardown,
    where a setting of a host deleted too, Kind.host, waits for nothing and holds nothing
    up, and a kind in READY_AFTER_FIRST_DELETE holds up only until its first delete; in
    'up', a kind waits for those in its Kind.after_ready only until their first write, and
    an early create's first write waits for nothing; in a teardown, a role's grants go
    before the functions are gone: engine.dependencies)."""
    from provision.kinds import BY_NAME

    where: dict[str, list[int]] = {}
    for index, key in enumerate(actual):
        where.setdefault(kind_of(key), []).append(index)
    for kind in where:
        for first in BY_NAME[kind].after:
            if teardown and BY_NAME[kind].host in where:
                continue
            if first in where:
                before, later = (kind, first) if teardown else (first, kind)
                at_first = (before in READY_AFTER_FIRST_DELETE if teardown
                            else first in BY_NAME[kind].after_ready)  # its ready point
                done = (min if at_first else max)(where[before])
                # an early create's first write needs nothing (Kind.early_create)
                gated = where[later]
                if not teardown and BY_NAME[later].early_create:
                    gated = gated[1:]
                elif teardown and BY_NAME[later].strips_after:  # its grants go early
                    gated = [i for i in gated if not actual[i].startswith("iam:DeleteRolePol")]
                assert not gated or done < min(gated), (before, later, actual)


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


def writes(proxy: CallLog) -> list[str]:
    """The key (key_of) of every write attempt, in order."""
    return [key_of(c) for c in proxy.writes()]


def reads(proxy: AwsProxy) -> Counter[str]:
    return Counter(c.key for c in proxy.calls if not c.is_write)


def attempts(proxy: CallLog, key: str) -> int:
    """How many calls had this key (key_of): "lambda:CreateFunction" counts the function's,
    "lambda:CreateFunction@notifier" the notifier's."""
    return sum(1 for c in proxy.calls if key_of(c) == key)


def one_paragraph(stderr: str) -> str:
    """The single ``error: ...`` line of a user-facing failure; no traceback, no extra lines."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    return lines[0]


def by_kind(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["kind"]: row for row in rows}
