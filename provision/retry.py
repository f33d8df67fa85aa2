"""Which AWS answers are worth retrying, and the tenacity policy that retries them.

botocore's `standard` retry mode already retries throttling and dropped connections a few times.
This layer adds what botocore cannot know: IAM propagation ("The role defined for the function
cannot be assumed by Lambda."), Lambda's "update in progress", and throttling storms that outlast
botocore's attempts. Backoff is capped exponential with full jitter, bounded by a deadline on an
injected clock, so tests run without real sleeps and nothing waits a fixed time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import tenacity
from botocore.exceptions import ClientError

log = logging.getLogger("provision.retry")
T = TypeVar("T")

THROTTLING = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "TooManyRequestsException",
    "RequestLimitExceeded", "RequestThrottled", "RequestThrottledException",
    "SlowDown", "ProvisionedThroughputExceededException", "LimitExceededException",
})
NOT_FOUND = frozenset({
    "NoSuchEntity", "ResourceNotFoundException", "NotFound", "NotFoundException",
    "ParameterNotFound",
})
_PROPAGATION = (
    "cannot be assumed by lambda",
    "execution role does not have permissions",
)


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def error_message(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Message", ""))
    return str(exc)


def retry_reason(exc: BaseException, settling: bool = False) -> str | None:
    """Why this error is worth another try, or None when it is final.

    `settling`: the call acts on something created moments ago in this run; AWS's eventual
    consistency (IAM above all) can still answer "not found" for a short while.
    """
    code, message = error_code(exc), error_message(exc).lower()
    if settling and code in NOT_FOUND:
        return "waiting for the new resource to become visible"
    if code in THROTTLING:
        return "AWS is throttling requests"
    if code == "InvalidParameterValueException" and any(p in message for p in _PROPAGATION):
        return "waiting for the new IAM role to propagate"
    if code == "ResourceConflictException" and "in progress" in message:
        return "waiting for the previous Lambda update to finish"
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
             **kwargs: Any) -> T:
        start = self.clock()

        def out_of_time(state: tenacity.RetryCallState) -> bool:
            return self.clock() - start >= self.deadline_s

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            reason = retry_reason(exc, settling) if exc else "retrying"
            wait = state.next_action.sleep if state.next_action else 0.0
            self.attempts[what] = state.attempt_number + 1
            log.info("%s: %s; attempt %d in %.1fs", what, reason, state.attempt_number + 1, wait)
            if self.on_retry:
                self.on_retry(what, reason or "", state.attempt_number + 1, self.clock() - start)

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(lambda e: retry_reason(e, settling) is not None),
            wait=tenacity.wait_random_exponential(multiplier=self.initial_s, max=self.cap_s),
            stop=out_of_time,
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(fn, *args, **kwargs)
