"""Catalogue of real-AWS behaviours: "The provided execution role does not have permissions to
call CreateNetworkInterface on EC2".

Lambda checks the execution role's own ENI permissions when a function has VpcConfig. Right
after the role or its grant is written, the refusal is IAM propagation
(github.com/serverless/serverless/issues/1966). Otherwise it is usually permanent: a
permissions boundary without the ENI actions, a service control policy, or a scoped statement
Lambda's check does not accept (github.com/hashicorp/terraform-provider-aws/issues/20698,
github.com/aws/serverless-application-model/issues/1074,
github.com/aws-samples/data-perimeter-policy-examples/issues/63). It comes as 400
InvalidParameterValueException, or as 403 AccessDeniedException "Your access has been denied
by EC2, please make sure your function execution role have permission to
CreateNetworkInterface. EC2 Error Code: UnauthorizedOperation." (serverless#1966). moto checks
nothing of the kind: both are injected on the wire.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provision.core import pipelines
from tests.real_aws.test_events import run_cli
from tests.real_aws.test_network import aws, dual_stack_subnet, network_config
from tests.support.awsproxy import Error
from tests.support.cli_helpers import one_paragraph
from tests.support.faults import FaultInjector
from tests.support.inprocess import FakeClock, target

__all__ = ["aws"]  # the fixture
INVALID = Error(400, "InvalidParameterValueException",
                "The provided execution role does not have permissions to call "
                "CreateNetworkInterface on EC2")
DENIED = Error(403, "AccessDeniedException",
               "Your access has been denied by EC2, please make sure your function execution "
               "role have permission to CreateNetworkInterface. EC2 Error Code: "
               "UnauthorizedOperation. EC2 Error Message: You are not authorized to perform "
               "this operation.")
FORMS = [pytest.param(INVALID, id="400"), pytest.param(DENIED, id="403")]


def says_boundary_and_scp(message: str) -> None:
    assert "permissions boundary" in message and "service control policies" in message
    assert "ec2:CreateNetworkInterface" in message and "ec2:DeleteNetworkInterface" in message
    assert "retry deadline" not in message  # waiting is not the cure


@pytest.mark.parametrize("error", FORMS)
def test_after_writing_the_role_it_is_waited_out_briefly(aws: None, tmp_path: Path,
                                                         error: Error) -> None:
    _, subnet = dual_stack_subnet()
    clock = FakeClock()
    with FaultInjector().patch_globally() as faults:
        # the function's (in the VPC); the notifier (issue 21) is in none
        faults.inject(error, "lambda", "CreateFunction", times=2, function="t1")
        result = run_cli(network_config(tmp_path, subnet), clock, "up")
        tries = faults.count("lambda", "CreateFunction", "t1")
        notifier = faults.count("lambda", "CreateFunction", "t1_notify")
    assert result.exit_code == 0, result.output
    # the function's third attempt works; the notifier's at its first
    assert tries == 3 and notifier == 1 and len(clock.sleeps) == 2
    assert "waiting for the role's new ENI grant to propagate" in result.stderr


@pytest.mark.parametrize("error", FORMS)
def test_after_writing_the_role_a_lasting_refusal_stops_within_a_minute(
        aws: None, tmp_path: Path, error: Error) -> None:
    _, subnet = dual_stack_subnet()
    clock = FakeClock()
    with FaultInjector().patch_globally() as faults:
        faults.inject(error, "lambda", "CreateFunction", times=None, function="t1")
        result = run_cli(network_config(tmp_path, subnet), clock, "up")
    assert result.exit_code == 1
    assert 30 <= clock.now < 60
    message = one_paragraph(result.stderr)
    says_boundary_and_scp(message)
    assert "after 45 s of waiting" in message


@pytest.mark.parametrize("error", FORMS)
def test_when_this_run_wrote_no_role_it_fails_at_once(aws: None, tmp_path: Path,
                                                      error: Error) -> None:
    _, subnet = dual_stack_subnet()
    pipelines.up(target(network_config(tmp_path, subnet))[0])
    bigger = network_config(tmp_path, subnet, "function: {memory_mb: 256}\n", "big.yaml")
    clock = FakeClock()
    with FaultInjector().patch_globally() as faults:
        faults.inject(error, "lambda", "UpdateFunctionConfiguration", times=None)
        result = run_cli(bigger, clock, "up")
        tries = faults.count("lambda", "UpdateFunctionConfiguration")
    assert result.exit_code == 1 and tries == 1 and clock.sleeps == []
    message = one_paragraph(result.stderr)
    says_boundary_and_scp(message)
    assert "waiting" not in message
