"""Catalogue of real-AWS behaviours: Lambda function state.

moto reports every function Active at once. Real Lambda creates a function in State=Pending and
refuses updates until it is Active, with ResourceConflictException "The operation cannot be
performed at this time. The function is currently in the following state: Pending"
(github.com/remotion-dev/remotion/issues/1186); a variant quotes the state and adds
"StateReasonCode: 'Creating'" (github.com/aws/serverless-application-model/issues/2356).
Lambda's guide (docs.aws.amazon.com/lambda/latest/dg/functions-states.html) says to wait for
Active; botocore's waiter function_active_v2 polls GetFunction for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from provision.core import pipelines
from tests.real_aws.test_events import (
    down_leaves_nothing,
    faulty,
    no_writes_left,
    report,
    run_cli,
)
from tests.support.awsproxy import Error
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import FaultInjector, no_retry_backoff
from tests.support.inprocess import FakeClock, target

FN_ARN = "arn:aws:lambda:us-east-1:123456789012:function:t1"
PENDING = Error(409, "ResourceConflictException",
                "The operation cannot be performed at this time. The function is currently in "
                "the following state: Pending")
PENDING_QUOTED = Error(409, "ResourceConflictException",
                       "The operation cannot be performed at this time. The resource "
                       f"{FN_ARN} is currently in the following state: 'Pending'. "
                       "StateReasonCode: 'Creating'")


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws(), no_retry_backoff():
        yield write_config(tmp_path, MINIMAL)


@pytest.fixture
def bigger(config: Path, tmp_path: Path) -> Path:
    """The stack is up (its function created by a first run that stopped before Active); the
    config now asks for more memory, so the next up updates the function."""
    pipelines.up(target(config)[0])
    return write_config(tmp_path, MINIMAL + "function: {memory_mb: 256}\n", name="big.yaml")


def memory() -> int:
    lam = boto3.client("lambda", region_name="us-east-1")
    return int(lam.get_function_configuration(FunctionName="t1")["MemorySize"])


def test_update_refused_while_pending_is_waited_out(bigger: Path) -> None:
    clock = FakeClock()
    with FaultInjector().patch_globally() as faults:
        faults.inject(PENDING, "lambda", "UpdateFunctionConfiguration", times=2)
        faults.inject(PENDING_QUOTED, "lambda", "UpdateFunctionConfiguration", times=1)
        result = run_cli(bigger, clock, "up")
        tries = faults.count("lambda", "UpdateFunctionConfiguration")
    report("UpdateFunctionConfiguration, 3 'state: Pending' conflicts", tries, clock)
    assert result.exit_code == 0, result.output
    assert tries == 4 and len(clock.sleeps) == 3 and max(clock.sleeps) <= 2.0
    assert "waiting for the new Lambda function to become Active" in result.stderr
    assert memory() == 256
    no_writes_left(bigger)
    down_leaves_nothing(bigger)


def test_function_observed_pending_is_waited_for_before_the_first_update(bigger: Path) -> None:
    clock = FakeClock()
    prepared, faults = faulty(bigger, clock, deadline_s=30)
    # Real Lambda refuses the update until the function is Active.
    faults.inject(PENDING, "lambda", "UpdateFunctionConfiguration", times=None)
    reads = {"n": 0}

    def pending_until_polled(parsed: dict[str, Any], **_: Any) -> None:
        # moto says Active at once. Here the observe read sees Pending (what real Lambda says
        # while creating); by the next GetFunction it is Active and updates are accepted. The
        # function's reads only: the notifier (issue 21) is read at the same time.
        if parsed["Configuration"]["FunctionName"] != "t1":
            return
        reads["n"] += 1
        if reads["n"] == 1:
            parsed["Configuration"].update(State="Pending", StateReasonCode="Creating")
        else:
            faults.clear_faults()

    prepared.aws.events.register("after-call.lambda.GetFunction", pending_until_polled)
    called: list[str] = []
    prepared.aws.events.register(
        "before-parameter-build.lambda", lambda event_name, params, **_: called.append(
            event_name.split(".")[-1]) if params.get("FunctionName") == "t1" else None)
    pipelines.up(prepared)
    tries = faults.count("lambda", "UpdateFunctionConfiguration")
    report("UpdateFunctionConfiguration after observing Pending", tries, clock)
    # function_active_v2 polled GetFunction before the update, which then met no conflict.
    seen = [c for c in called if c in ("GetFunction", "UpdateFunctionConfiguration")]
    assert seen[:3] == ["GetFunction", "GetFunction", "UpdateFunctionConfiguration"]
    assert tries == 1 and clock.sleeps == []
    assert memory() == 256
    no_writes_left(bigger)
