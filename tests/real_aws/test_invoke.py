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
from typing import Any

import pytest
from moto import mock_aws

from provision.core import pipelines
from provision.local.quote_server import QuoteServer
from tests.real_aws.test_events import run_cli
from tests.support.awsproxy import AwsProxy, Drop, Error, Fault
from tests.support.cli_helpers import one_paragraph
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import FaultInjector, no_retry_backoff
from tests.support.inprocess import FakeClock, target

ROLE = "t1-us-east-1-role"  # the stack's role: IAM is global, so its name holds the Region

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


# ---- 10. invoke --local cannot publish to a deployed topic -----------------------------------

# The topic policy denies sns:Publish to every principal but the stack's role and its errors
# alarm (README, "Hardening"). A local run publishes with the operator's credentials; SNS
# answers 403 AuthorizationError "... with an explicit deny in a resource-based policy", and
# no Allow can override an explicit Deny (IAM user guide, "Policy evaluation logic":
# "An explicit deny in any policy overrides any allows"). moto does not enforce topic
# policies; the answer is injected on the wire between the local run and the moto server.
DENIED_PUBLISH = Error(403, "AuthorizationError",
                       "User: arn:aws:iam::123456789012:user/op is not authorized to perform: "
                       "SNS:Publish on resource: arn:aws:sns:us-east-1:123456789012:t1-alerts "
                       "with an explicit deny in a resource-based policy")


def test_invoke_local_on_a_deployed_stack_explains_the_deny_and_exits_1(
        cli: Any, aws_proxy: AwsProxy, tmp_path: Path) -> None:
    with QuoteServer() as quotes:
        write_config(tmp_path, MINIMAL + f'quotes: {{base_url: "{quotes.url}"}}\n')
        assert cli("up").returncode == 0
        aws_proxy.inject(DENIED_PUBLISH, "sns", "Publish", times=None)
        result = cli("invoke", "--local")
    assert result.returncode == 1, result.stderr
    message = one_paragraph(result.stderr)
    assert "explicit Deny beats any permission you could be granted" in message
    assert ROLE in message and "'stock-alert invoke'" in message
    assert "Grant" not in message and "grant sns:Publish" not in message.lower()
    # ... and the operator policy does not advise a grant that cannot help.
    policy = cli("deployer-policy", "--format", "markdown")
    [publish] = [line for line in policy.stdout.splitlines() if "sns:Publish" in line]
    assert "Granting it cannot help 'invoke --local'" in publish
    assert "add them only if" not in publish
