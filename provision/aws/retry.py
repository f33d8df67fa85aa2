"""Which AWS answers are worth retrying, and the tenacity policy that retries them.

botocore's `standard` retry mode already retries throttling and dropped connections a few times.
This layer adds what botocore cannot know: IAM propagation ("The role defined for the function
cannot be assumed by Lambda."), Lambda's "update in progress" and "state: Pending", conflicting
operations on a log group, deletes that AWS refuses for a moment after their dependents were
removed, batch entries AWS did not apply, and throttling storms that outlast botocore's attempts.
A full quota (LimitExceededException) is not a rate: it is never retried here. Backoff is
capped exponential with full jitter, bounded by a deadline on an injected clock, so tests run
without real sleeps and nothing waits a fixed time.
"""

from __future__ import annotations

import logging
import random as _random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import tenacity
from botocore.exceptions import ClientError

from provision.errors import InTransition, PartialFailure

log = logging.getLogger("provision.aws.retry")
T = TypeVar("T")

THROTTLING = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
    "RequestLimitExceeded", "RequestThrottled", "RequestThrottledException",
    "SlowDown", "ProvisionedThroughputExceededException",
    "Throttled",  # SNS (HTTP 429); botocore's standard mode does not list this code
})
# A quota is full: waiting does not empty it. botocore's standard mode still counts
# LimitExceededException as throttling, so it makes its few attempts; this layer adds none.
QUOTA = frozenset({"LimitExceededException", "LimitExceeded"})
# Codes of batch entries AWS did not apply that are worth sending again (EventBridge's
# PutTargetsResultEntry: "ConcurrentModificationException: too many requests at the same time").
TRANSIENT_ENTRY = frozenset({"ConcurrentModificationException", "InternalException",
                             "InternalFailure", "ServiceUnavailable"}) | THROTTLING
# Another write to the same role or policy (IAM, HTTP 409 ConcurrentModification "... please
# try again") or rule (EventBridge ConcurrentModificationException) is in flight: neither
# throttling nor final. terraform-provider-aws retries both (its IAM and EventBridge retry
# helpers); this tool writes kinds concurrently, which makes them likelier.
CONCURRENT = frozenset({"ConcurrentModification", "ConcurrentModificationException"})
NOT_FOUND = frozenset({
    "NoSuchEntity", "ResourceNotFoundException", "NotFound", "NotFoundException",
    "ParameterNotFound",
})
_PROPAGATION = ("cannot be assumed by lambda",)
# EventBridge Scheduler checks at CreateSchedule/UpdateSchedule that it may assume the target's
# RoleArn; right after the role is created IAM may not show it yet: ValidationException "The
# execution role you provide must allow AWS EventBridge Scheduler to assume the role."
# (github.com/aws/aws-sdk-js-v3/issues/6494). terraform-provider-aws retries exactly this for 2
# minutes (internal/service/scheduler/retry.go, iamPropagationTimeout); so does this tool,
# whoever wrote the role: a rerun after a crash meets a role made seconds before too.
SCHEDULER_ROLE = "must allow aws eventbridge scheduler to assume the role"
SCHEDULER_ROLE_WAIT_S = 120.0
# Lambda checks the execution role's own ENI permissions when VpcConfig is set: "The provided
# execution role does not have permissions to call CreateNetworkInterface on EC2"
# (InvalidParameterValueException), or 403 AccessDeniedException "Your access has been denied
# by EC2, please make sure your function execution role have permission to
# CreateNetworkInterface" (github.com/serverless/serverless/issues/1966). Propagation only when
# this run wrote the role or its ENI grant; otherwise a permissions boundary, an SCP or a
# statement Lambda's check does not accept (github.com/hashicorp/terraform-provider-aws/issues/
# 20698, github.com/aws/serverless-application-model/issues/1074), which waiting cannot fix.
# Lambda words its check of the role on a destination the same way (PutFunctionEventInvokeConfig:
# "...execution role does not have permissions to call InvokeFunction on <the notifier>"; the
# check fails for a while right after the grant was written, github.com/aws-amplify/amplify-js/
# issues/9869): the same wait, in words that name no ENI.
ENI_PERMISSION = re.compile(r"execution role (does not have permissions to call|have "
                            r"permission to) (\w+)", re.IGNORECASE)
NETWORK_ACTIONS = frozenset({"CreateNetworkInterface", "DescribeNetworkInterfaces",
                             "DeleteNetworkInterface", "DescribeSubnets",
                             "AssignPrivateIpAddresses", "UnassignPrivateIpAddresses"})
ENI_GRANT_WAIT_S = 45.0  # IAM usually propagates in seconds; longer means it is not that
# "The function is currently in the following state: Pending" (also quoted, with
# "StateReasonCode: 'Creating'"): the new function is not Active yet.
_PENDING = re.compile(r"currently in the following state:\s*'?pending\b")
# Refusals that only mean "the dependents you just removed are not gone yet".
_DEPENDENTS_LEFT = {
    "ValidationException": "since it has targets",  # EventBridge DeleteRule
    "DeleteConflict": "policies first",  # IAM DeleteRole: "must delete/detach ... policies first"
}


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def error_message(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Message", ""))
    return str(exc)


def eni_permission(exc: BaseException) -> str | None:
    """The EC2 action Lambda says the execution role may not call, or None."""
    found = ENI_PERMISSION.search(error_message(exc))
    return found.group(2) if found and error_code(exc) in (
        "InvalidParameterValueException", "AccessDeniedException") else None


def retry_reason(exc: BaseException, settling: bool = False,
                 dependents_removed: bool = False, role_written: bool = False) -> str | None:
    """Why this error is worth another try, or None when it is final.

    `settling`: the call acts on something created moments ago in this run; AWS's eventual
    consistency (IAM above all) can still answer "not found" for a short while.
    `dependents_removed`: this run has just removed what hung on the target (a rule's targets,
    a role's policies); AWS can still refuse the delete because of them for a short while.
    """
    if isinstance(exc, PartialFailure):
        return _entries_reason(exc)
    if isinstance(exc, InTransition):
        return f"waiting: {exc.message}"
    code, message = error_code(exc), error_message(exc).lower()
    if code in QUOTA:
        return None
    action = eni_permission(exc)
    if action:
        if not role_written:
            return None
        grant = "ENI grant" if action in NETWORK_ACTIONS else "grant"
        return f"waiting for the role's new {grant} to propagate"
    if settling and code in NOT_FOUND:
        return "waiting for the new resource to become visible"
    if dependents_removed and _dependents_left(code, message):
        return "waiting for AWS to see the dependents this run removed"
    if code in THROTTLING:
        return "AWS is throttling requests"
    return _busy_reason(code, message)


def _wait_limit(exc: BaseException | None) -> float:
    """How long an error is worth waiting out at most, whatever the deadline."""
    if exc is not None and eni_permission(exc) is not None:
        return ENI_GRANT_WAIT_S
    if exc is not None and SCHEDULER_ROLE in error_message(exc).lower():
        return SCHEDULER_ROLE_WAIT_S
    return float("inf")


def _dependents_left(code: str, message: str) -> bool:
    phrase = _DEPENDENTS_LEFT.get(code)
    return phrase is not None and phrase in message


def _busy_reason(code: str, message: str) -> str | None:
    """The resource is busy (propagating, updating, being created) for a while."""
    if code == "InvalidParameterValueException" and any(p in message for p in _PROPAGATION):
        return "waiting for the new IAM role to propagate"
    if code == "ValidationException" and SCHEDULER_ROLE in message:
        return "waiting for the scheduler's new IAM role to propagate"
    if code == "ResourceConflictException" and "in progress" in message:
        return "waiting for the previous Lambda update to finish"
    if code == "ResourceConflictException" and _PENDING.search(message):
        return "waiting for the new Lambda function to become Active"
    if code in CONCURRENT:
        return "waiting for a concurrent change to the same resource to finish"
    if code == "OperationAbortedException":
        return "waiting for a conflicting operation on the resource to finish"
    return None


def _entries_reason(exc: PartialFailure) -> str | None:
    codes = {str(e.get("ErrorCode", "")) for e in exc.entries}
    if codes and codes <= TRANSIENT_ENTRY:
        n = len(exc.entries)
        return f"sending again the {n} {'entry' if n == 1 else 'entries'} AWS did not apply"
    return None


@dataclass
class RetryPolicy:
    """Bounded retries: capped exponential backoff with jitter until a deadline."""

    deadline_s: float = 300.0
    initial_s: float = 0.25
    cap_s: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    on_retry: Callable[[str, str, int, float], None] | None = None
    attempts: dict[str, int] = field(default_factory=dict)

    def call(self, what: str, fn: Callable[..., T], *args: Any, settling: bool = False,
             dependents_removed: bool = False, role_written: bool = False,
             **kwargs: Any) -> T:
        start = self.clock()

        def reason(exc: BaseException) -> str | None:
            return retry_reason(exc, settling, dependents_removed, role_written)

        def out_of_time(state: tenacity.RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            return self.clock() - start >= min(self.deadline_s, _wait_limit(exc))

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            why = reason(exc) if exc else "retrying"
            wait = state.next_action.sleep if state.next_action else 0.0
            self.attempts[what] = state.attempt_number + 1
            log.info("%s: %s; attempt %d in %.1fs", what, why, state.attempt_number + 1, wait)
            if self.on_retry:
                self.on_retry(what, why or "", state.attempt_number + 1, self.clock() - start)

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(lambda e: reason(e) is not None),
            wait=tenacity.wait_random_exponential(multiplier=self.initial_s, max=self.cap_s),
            stop=out_of_time,
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(fn, *args, **kwargs)


@dataclass
class ThrottleGate:
    """A rate limiter shared by every caller of one client (one service, Region and account,
    which is how AWS counts its rates): after a throttling answer, every call through the
    client waits until a shared moment, later with each throttling answer in a row (capped
    exponential, jittered), and the first answer that is not throttling lifts it.

    botocore's own backoff only delays the call that was throttled; the other stacks would go
    on at full rate into the same limit. botocore's adaptive mode does share a limit per client,
    but it lowers the send rate by a fixed factor on every throttling answer and raises it only
    slowly (CUBIC, down to 0.5 requests/s): 50 stacks' 'up' under 20% throttling took 156 s in
    adaptive mode and 35 s in standard mode (bench/fleet.py, 2026-11-29).
    """

    initial_s: float = 0.1
    cap_s: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    random: Callable[[], float] = _random.random
    streak: int = 0
    until: float = 0.0
    waited_s: float = 0.0

    def __post_init__(self) -> None:
        import threading

        self._lock = threading.Lock()

    def attach(self, events: Any) -> None:
        """Register on a client's event emitter (its own copy of the session's)."""
        events.register("before-send", self.before_send)
        events.register("needs-retry", self.after_answer)

    def before_send(self, **_: Any) -> None:
        with self._lock:
            wait = self.until - self.clock()
        if wait > 0:
            self.waited_s += wait
            self.sleep(wait)

    def after_answer(self, response: Any = None, **_: Any) -> None:
        """Decides nothing (returns None): botocore's retry handler decides the retry."""
        if not response:
            return  # no answer at all: not a rate signal
        code = str(response[1].get("Error", {}).get("Code", ""))
        with self._lock:
            if code in THROTTLING:
                self.streak += 1
                pause = min(self.cap_s, self.initial_s * 2 ** (self.streak - 1))
                pause *= 0.5 + self.random() / 2
                self.until = max(self.until, self.clock() + pause)
            else:
                self.streak = 0
