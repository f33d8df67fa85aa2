"""Reserved concurrency in an account whose concurrency limit is low: the real Lambda answer,
injected in rest-json wire format, and what the user is told."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from provision.core import pipelines
from provision.errors import AwsError
from tests.support.awsproxy import Error
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import FaultInjector, no_retry_backoff
from tests.support.inprocess import target

# New accounts often have a concurrency limit of 10 (or 50), and Lambda keeps that many
# unreserved, so any reservation fails (github.com/aws-samples/one-observability-demo/issues/278,
# github.com/milliHQ/terraform-aws-next-js/issues/251; botocore's lambda model lists
# InvalidParameterValueException for PutFunctionConcurrency). moto accepts any reservation.
LOW_LIMIT = Error(400, "InvalidParameterValueException",
                  "Specified ReservedConcurrentExecutions for function decreases account's "
                  "UnreservedConcurrentExecution below its minimum value of [10].")


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws(), no_retry_backoff():
        yield write_config(tmp_path, MINIMAL)


def test_low_account_limit_names_the_key_and_the_fix(config: Path, tmp_path: Path) -> None:
    prepared, _ = target(config)
    faults = FaultInjector()
    faults.attach_session(prepared.aws)
    faults.inject(LOW_LIMIT, "lambda", "PutFunctionConcurrency", times=None)
    with pytest.raises(AwsError) as caught:
        pipelines.up(prepared)
    text = str(caught.value)
    assert "function.reserved_concurrency: null" in text and "minimum value of [10]" in text
    assert faults.count("lambda", "PutFunctionConcurrency") == 1  # not a rate: never retried
    # With null the same account converges: nothing is reserved, the rest is created.
    unreserved = write_config(tmp_path, MINIMAL + "function: {reserved_concurrency: null}\n",
                              name="null.yaml")
    prepared, calls = target(unreserved)
    pipelines.up(prepared)
    assert "lambda:PutFunctionConcurrency" not in calls.writes()
    assert boto3.client("lambda").get_function(FunctionName="t1").get("Concurrency") is None
    prepared, calls = target(unreserved)
    pipelines.up(prepared)
    assert calls.writes() == []
