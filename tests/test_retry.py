"""Pure: the retry policy retries only what is worth it, backs off with a cap, and stops in time."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from provision.aws.retry import RetryPolicy, retry_reason
from provision.errors import PartialFailure
from tests.support.inprocess import FakeClock

CANNOT_ASSUME = "The role defined for the function cannot be assumed by Lambda."


def _error(code: str, message: str, op: str = "CreateFunction") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, op)


class Flaky:
    """Fails with `error` until the fake clock reaches `ready_at`, then answers 'ok'."""

    def __init__(self, clock: FakeClock, error: ClientError, ready_at: float) -> None:
        self.clock, self.error, self.ready_at, self.calls = clock, error, ready_at, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.clock.now < self.ready_at:
            raise self.error
        return "ok"


@pytest.mark.parametrize(("code", "message", "retried"), [
    ("InvalidParameterValueException", CANNOT_ASSUME, True),
    # Propagation only when this run wrote the role (role_written); see
    # tests/real_aws/test_role_eni.py.
    ("InvalidParameterValueException",
     "The provided execution role does not have permissions to call PutLogEvents", False),
    ("InvalidParameterValueException", "Unzipped size must be smaller than 262144000", False),
    ("ResourceConflictException", "An update is in progress for resource: arn:x", True),
    ("ResourceConflictException", "Function already exist: t1", False),
    ("Throttling", "Rate exceeded", True),
    ("TooManyRequestsException", "Rate exceeded", True),
    ("ThrottlingException", "Rate exceeded", True),
    ("AccessDenied", "no", False),
    ("Throttled", "Rate exceeded", True),  # SNS, HTTP 429
    ("LimitExceededException", "The requested resource exceeds the maximum number allowed.",
     False),  # a full quota, not a rate
    ("LimitExceeded", "Cannot exceed quota for RolesPerAccount: 1000", False),
    ("ResourceConflictException",
     "The operation cannot be performed at this time. The function is currently in the "
     "following state: Pending", True),
    ("ResourceConflictException",
     "The operation cannot be performed at this time. The resource arn:x is currently in the "
     "following state: 'Pending'. StateReasonCode: 'Creating'", True),
    ("ResourceConflictException",
     "The operation cannot be performed at this time. The function is currently in the "
     "following state: Failed", False),
    ("OperationAbortedException",
     "A conflicting operation is currently in progress against this resource.", True),
    # Without dependents_removed these are final: nothing this run did explains them.
    ("ValidationException", "Rule can't be deleted since it has targets.", False),
    ("DeleteConflict", "Cannot delete entity, must delete policies first.", False),
])
def test_what_is_retried(code: str, message: str, retried: bool) -> None:
    assert (retry_reason(_error(code, message)) is not None) is retried


@pytest.mark.parametrize(("code", "message", "retried"), [
    ("ValidationException", "Rule can't be deleted since it has targets.", True),
    ("DeleteConflict", "Cannot delete entity, must delete policies first.", True),
    ("DeleteConflict", "Cannot delete entity, must detach all policies first.", True),
    ("DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.",
     False),  # not something this run removed
    ("ValidationException", "1 validation error detected", False),
])
def test_what_is_retried_after_removing_dependents(code: str, message: str,
                                                    retried: bool) -> None:
    error = _error(code, message, "DeleteRule")
    assert (retry_reason(error, dependents_removed=True) is not None) is retried


def _entries(*codes: str) -> PartialFailure:
    return PartialFailure("x", code=codes[0], entries=tuple(
        {"TargetId": f"t{n}", "ErrorCode": c, "ErrorMessage": "m"} for n, c in enumerate(codes)))


@pytest.mark.parametrize(("codes", "retried"), [
    (("ConcurrentModificationException",), True),
    (("InternalException", "ConcurrentModificationException"), True),
    (("ConcurrentModificationException", "ValidationException"), False),
    (("AccessDeniedException",), False),
])
def test_which_failed_entries_are_sent_again(codes: tuple[str, ...], retried: bool) -> None:
    assert (retry_reason(_entries(*codes)) is not None) is retried


def test_propagation_wait_ends_within_cap_after_role_is_usable() -> None:
    clock = FakeClock()
    policy = RetryPolicy(deadline_s=300, sleep=clock.sleep, clock=clock.clock)
    flaky = Flaky(clock, _error("InvalidParameterValueException", CANNOT_ASSUME), ready_at=20.0)
    assert policy.call("lambda:create_function", flaky) == "ok"
    assert clock.now >= 20.0
    assert clock.now - 20.0 <= policy.cap_s  # done at most one capped backoff after ready
    assert max(clock.sleeps) <= policy.cap_s
    assert flaky.calls == len(clock.sleeps) + 1
    assert policy.attempts["lambda:create_function"] == flaky.calls


def test_backoff_grows_then_caps() -> None:
    clock = FakeClock()
    policy = RetryPolicy(deadline_s=300, sleep=clock.sleep, clock=clock.clock)
    flaky = Flaky(clock, _error("Throttling", "Rate exceeded"), ready_at=60.0)
    policy.call("iam:create_role", flaky)
    # Full jitter: each wait is random in [0, min(cap, initial * 2^n)].
    for n, wait in enumerate(clock.sleeps):
        assert 0 <= wait <= min(policy.cap_s, policy.initial_s * 2 ** (n + 1))


def test_deadline_bounds_the_wait_and_reraises() -> None:
    clock = FakeClock()
    policy = RetryPolicy(deadline_s=30, sleep=clock.sleep, clock=clock.clock)
    flaky = Flaky(clock, _error("InvalidParameterValueException", CANNOT_ASSUME), ready_at=1e9)
    with pytest.raises(ClientError, match="cannot be assumed"):
        policy.call("lambda:create_function", flaky)
    assert 30 <= clock.now <= 30 + policy.cap_s
    assert flaky.calls >= 15  # it kept trying, boundedly, for the whole deadline


def test_final_errors_are_not_retried() -> None:
    clock = FakeClock()
    policy = RetryPolicy(sleep=clock.sleep, clock=clock.clock)
    flaky = Flaky(clock, _error("AccessDenied", "no"), ready_at=1.0)
    with pytest.raises(ClientError):
        policy.call("iam:create_role", flaky)
    assert flaky.calls == 1 and clock.sleeps == []


def test_progress_callback_sees_each_retry() -> None:
    clock = FakeClock()
    seen: list[tuple[str, str, int]] = []
    policy = RetryPolicy(sleep=clock.sleep, clock=clock.clock,
                         on_retry=lambda what, why, n, _: seen.append((what, why, n)))
    flaky = Flaky(clock, _error("InvalidParameterValueException", CANNOT_ASSUME), ready_at=3.0)
    policy.call("lambda:create_function", flaky)
    assert len(seen) == flaky.calls - 1
    assert seen[0] == ("lambda:create_function", "waiting for the new IAM role to propagate", 2)
