"""Catalogue of real-AWS behaviours: a concurrent write to the same IAM or EventBridge resource.

IAM models ConcurrentModificationException with code "ConcurrentModification", HTTP 409: "The
request was rejected because multiple requests to change this object were submitted
simultaneously. Wait a few minutes and submit your request again." (botocore iam model).
EventBridge models ConcurrentModificationException: "There is concurrent modification on a
rule, target, archive, or replay." (botocore events model). Neither is throttling (botocore's
standard mode does not retry them) nor final: terraform-provider-aws retries both. moto never
answers either; here they are injected on the wire and the tool's retry policy must wait them
out on every IAM and EventBridge write.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from provision.core import pipelines
from tests.real_aws.test_events import down_leaves_nothing, no_writes_left, report, run_cli
from tests.support.awsproxy import Error
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import FaultInjector, no_retry_backoff
from tests.support.inprocess import FakeClock, target
from tests.support.inventory import inventory, is_empty

IAM_409 = Error(409, "ConcurrentModification",
                "The request was rejected because multiple requests to change this object were "
                "submitted simultaneously. Wait a few minutes and submit your request again.")
EVENTS_409 = Error(400, "ConcurrentModificationException",
                   "There is concurrent modification on a rule, target, archive, or replay.")
UP_WRITES = [(IAM_409, "iam", "CreateRole"), (IAM_409, "iam", "PutRolePolicy"),
             (EVENTS_409, "events", "PutRule"), (EVENTS_409, "events", "PutTargets")]
DOWN_WRITES = [(IAM_409, "iam", "DeleteRolePolicy"), (IAM_409, "iam", "DeleteRole"),
               (EVENTS_409, "events", "RemoveTargets"), (EVENTS_409, "events", "DeleteRule")]


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws(), no_retry_backoff():
        yield write_config(tmp_path, MINIMAL)


@pytest.mark.parametrize(("error", "service", "operation"), UP_WRITES,
                         ids=[w[2] for w in UP_WRITES])
def test_up_waits_out_a_concurrent_modification(config: Path, error: Error, service: str,
                                                operation: str) -> None:
    clock = FakeClock()
    with FaultInjector().patch_globally() as faults:
        faults.inject(error, service, operation, times=2)
        result = run_cli(config, clock, "up")
        failed = len([c for c in faults.calls if c.operation == operation and c.fault])
    report(f"{operation}, 2 {error.code}", failed, clock)
    assert result.exit_code == 0, result.output
    assert failed == 2 and len(clock.sleeps) >= 2 and max(clock.sleeps) <= 2.0
    assert "waiting for a concurrent change to the same resource to finish" in result.stderr
    no_writes_left(config)
    down_leaves_nothing(config)


@pytest.mark.parametrize(("error", "service", "operation"), DOWN_WRITES,
                         ids=[w[2] for w in DOWN_WRITES])
def test_down_waits_out_a_concurrent_modification(config: Path, error: Error, service: str,
                                                  operation: str) -> None:
    pipelines.up(target(config)[0])
    clock = FakeClock()
    with FaultInjector().patch_globally() as faults:
        faults.inject(error, service, operation, times=2)
        result = run_cli(config, clock, "down", "--yes")
    assert result.exit_code == 0, result.output
    assert len(clock.sleeps) >= 2
    assert is_empty(inventory(boto3.Session(region_name="us-east-1")))
