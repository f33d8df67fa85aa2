"""Catalogue of real-AWS behaviours: `invoke` on Lambda and `invoke --local`.

botocore's standard retry mode retries HTTP 500/502/503/504 and dropped connections
(botocore/retries/standard.py, TRANSIENT_STATUS_CODES and RETRYABLE_EXCEPTIONS), and Lambda's
guide warns that a synchronous invoke retried by the SDK runs the function again
(docs.aws.amazon.com/lambda/latest/dg/invocation-sync.html: "the AWS CLI and AWS SDK also
automatically retry on client timeouts, throttling, and service errors"; Invoke API reference:
"When an error occurs, your function may be invoked multiple times"). Each run sends the alert,
so `invoke` sends Invoke once, and an answer that does not say whether the function ran (5xx,
no answer, a dropped connection) is reported as exactly that. moto needs Docker to invoke at
all; each answer here is injected on the wire.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from provision import pipelines
from tests.real_aws.test_events import run_cli
from tests.support.awsproxy import Drop, Error, Fault
from tests.support.cli_helpers import one_paragraph
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import FaultInjector, no_retry_backoff
from tests.support.inprocess import FakeClock, target

# Lambda's Invoke models ServiceException (HTTP 500, "The Lambda service encountered an
# internal error.") and, for a VPC function, 502s such as EC2UnexpectedException.
SERVICE_ERROR = Error(500, "ServiceException", "The Lambda service encountered an internal error.",
                      sender_fault=False)
EC2_UNEXPECTED = Error(502, "EC2UnexpectedException",
                       "Lambda received an unexpected Amazon EC2 client exception while setting "
                       "up for the Lambda function.", sender_fault=False)
THROTTLED = Error(429, "TooManyRequestsException", "Rate Exceeded.")
MAYBE = "may or may not have run"


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[Path]:
    with mock_aws(), no_retry_backoff():
        config = write_config(tmp_path, MINIMAL)
        pipelines.up(target(config)[0])
        yield config


@pytest.mark.parametrize("fault", [SERVICE_ERROR, EC2_UNEXPECTED, Drop()],
                         ids=["500", "502", "dropped"])
def test_uncertain_invoke_is_sent_once_and_says_it_may_have_run(deployed: Path,
                                                                fault: Fault) -> None:
    clock = FakeClock()
    with FaultInjector().patch_globally() as faults:
        faults.inject(fault, "lambda", "Invoke", times=None)
        result = run_cli(deployed, clock, "invoke")
        sent = faults.count("lambda", "Invoke")
    assert result.exit_code == 1, result.output
    assert sent == 1 and clock.sleeps == []
    message = one_paragraph(result.stderr)
    assert MAYBE in message and "does not send it again" in message
    assert "stock-alert logs" in message
    assert "run the same command again" not in message  # that could send the alert twice


def test_a_refused_invoke_is_sent_once_and_says_nothing_ran(deployed: Path) -> None:
    """A 429 is a certain answer (the function did not run): no 'may have run'."""
    clock = FakeClock()
    with FaultInjector().patch_globally() as faults:
        faults.inject(THROTTLED, "lambda", "Invoke", times=None)
        result = run_cli(deployed, clock, "invoke")
        sent = faults.count("lambda", "Invoke")
    assert result.exit_code == 1 and sent == 1
    assert MAYBE not in result.stderr and "TooManyRequestsException" in result.stderr
