"""The fleet's shared throttling gate, in-process against moto with a fake clock.

A throttling answer on one client (IAM's 400 `Throttling` "Rate exceeded", query protocol;
injected at before-send so botocore parses it like a wire answer) makes the *next* call through
that client wait, whichever stack makes it: AWS counts rates per account, Region and API, not
per caller (IAM and STS "independently implement a token bucket algorithm for throttling",
AWS Support, quoted in github.com/hashicorp/terraform-provider-aws/issues/44853). Other
services' clients are not held up; an answer that is not throttling lifts the gate.
"""

from __future__ import annotations

import pytest
from moto import mock_aws

from provision.aws.client import Aws
from provision.aws.retry import RetryPolicy, ThrottleGate
from provision.errors import AwsError
from tests.support.faults import inject_faults, throttling
from tests.support.inprocess import FakeClock


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Aws:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # botocore sends once; the gate is the subject
    for var, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(var, value)
    clock = FakeClock()
    made = Aws("us-east-1", retry=RetryPolicy(deadline_s=0.0, sleep=clock.sleep,
                                              clock=clock.clock), shared_gates=True)
    made.clock = clock  # type: ignore[attr-defined]
    return made


def test_a_throttled_call_makes_the_next_call_of_that_client_wait(aws: Aws) -> None:
    clock: FakeClock = aws.clock  # type: ignore[attr-defined]
    with mock_aws(), inject_faults() as faults:
        faults.inject(throttling("iam"), "iam", "ListRoles")
        with pytest.raises(AwsError):  # deadline 0: this stack's own retries are not the point
            aws.call("iam", "list_roles")
        assert clock.sleeps == []
        aws.call("logs", "describe_log_groups")  # another service: not held up
        assert clock.sleeps == []
        aws.call("iam", "list_roles")  # the next IAM call, e.g. another stack's, waits first
        assert len(clock.sleeps) == 1 and 0.05 <= clock.sleeps[0] <= 0.1
        aws.call("iam", "list_roles")  # the success lifted the gate
        assert len(clock.sleeps) == 1
        assert [c.fault is not None for c in faults.calls] == [True, False, False, False]


def test_pauses_grow_with_throttling_in_a_row_and_are_capped() -> None:
    clock = FakeClock()
    gate = ThrottleGate(sleep=clock.sleep, clock=clock.clock, random=lambda: 1.0)
    throttled = (None, {"Error": {"Code": "Throttling"}})
    pauses = []
    for _ in range(7):
        gate.after_answer(response=throttled)
        gate.before_send()
        pauses.append(clock.sleeps[-1])
    assert pauses == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0])
    gate.after_answer(response=(None, {"ResponseMetadata": {}}))
    gate.after_answer(response=throttled)
    gate.before_send()
    assert clock.sleeps[-1] == pytest.approx(0.1)  # the streak started again
    gate.after_answer(response=None)  # no answer at all (a dropped connection): not a rate
    assert gate.streak == 1
