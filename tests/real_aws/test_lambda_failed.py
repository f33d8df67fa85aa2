"""Catalogue of real-AWS behaviours: a Lambda function in State Failed or LastUpdateStatus
Failed.

Lambda reports a function it could not create as State "Failed" and an update it could not
apply as LastUpdateStatus "Failed", each with a reason code and reason (Lambda API reference,
FunctionConfiguration: StateReasonCode / LastUpdateStatusReasonCode, among them
InsufficientRolePermissions, SubnetOutOfIPAddresses, EniLimitExceeded, InvalidSubnet). A first
VPC deploy can fail with InsufficientRolePermissions while the role's ENI grant propagates
(github.com/terraform-aws-modules/terraform-aws-lambda/issues/489). moto reports Active and
Successful always; GetFunction's answer is edited on the wire here to say what Lambda says.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from provision.core import pipelines
from provision.core.plan import Op
from tests.real_aws.test_events import no_writes_left, run_cli
from tests.real_aws.wire import every_session_answers
from tests.support.cli_helpers import one_paragraph
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import no_retry_backoff
from tests.support.inprocess import FakeClock, target

ROLE_REASON = ("The function's execution role does not have permissions to call "
               "CreateNetworkInterface on EC2")
FAILED = {"State": "Failed", "StateReasonCode": "InsufficientRolePermissions",
          "StateReason": ROLE_REASON}
SUBNET_FULL = {"LastUpdateStatus": "Failed", "LastUpdateStatusReasonCode":
               "SubnetOutOfIPAddresses", "LastUpdateStatusReason":
               "Lambda was not able to create an ENI in the VPC of the Lambda function because "
               "the limit for Network Interfaces has been reached."}


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[Path]:
    with mock_aws(), no_retry_backoff():
        config = write_config(tmp_path, MINIMAL)
        pipelines.up(target(config)[0])
        yield config


def get_function_says(fields: dict[str, Any], reads: int | None = None,
                      ) -> Callable[..., None]:
    """An after-call edit: the first `reads` GetFunction answers (all when None) carry
    `fields`, as real Lambda's would."""
    seen = {"n": 0}

    def edit(parsed: dict[str, Any], **_: Any) -> None:
        seen["n"] += 1
        if reads is None or seen["n"] <= reads:
            parsed.get("Configuration", {}).update(fields)

    return edit


def test_a_failed_function_is_drift_shown_with_its_reason(deployed: Path) -> None:
    with every_session_answers("after-call.lambda.GetFunction", get_function_says(FAILED)):
        result = run_cli(deployed, FakeClock(), "plan")
        status = run_cli(deployed, FakeClock(), "status")
        prepared, _ = target(deployed)
        the_plan, _ = pipelines.plan(prepared)
    function = {a.kind: a for a in the_plan.actions}["function"]
    assert function.op is Op.UPDATE
    assert [c.old for c in function.changes if c.field == "state"] == [
        f"State Failed (InsufficientRolePermissions: {ROLE_REASON})"]
    text = " ".join(result.output.split())
    assert "InsufficientRolePermissions" in text and "CreateNetworkInterface" in text
    shown = " ".join(status.output.replace("│", " ").split())
    assert "drifted" in shown
    assert "State Failed (InsufficientRolePermissions: The function's execution role" in shown


def test_up_repairs_a_failed_function(deployed: Path) -> None:
    """Lambda tries again when the configuration is sent: the next read says Active."""
    with every_session_answers("after-call.lambda.GetFunction",
                               get_function_says(FAILED, reads=1)):
        prepared, calls = target(deployed)
        pipelines.up(prepared)
    assert "lambda:UpdateFunctionConfiguration" in calls.writes()
    no_writes_left(deployed)


def test_up_exits_1_naming_the_reason_when_the_repair_fails(deployed: Path) -> None:
    def in_progress(parsed: dict[str, Any], **_: Any) -> None:
        parsed["LastUpdateStatus"] = "InProgress"

    with every_session_answers("after-call.lambda.GetFunction", get_function_says(
            {**FAILED, **SUBNET_FULL}, reads=None)), \
            every_session_answers("after-call.lambda.UpdateFunctionConfiguration",
                                  in_progress):
        result = run_cli(deployed, FakeClock(), "up")
    assert result.exit_code == 1, result.output
    message = one_paragraph(result.stderr)
    # The waiter's own error carries Lambda's reason code and reason.
    assert "SubnetOutOfIPAddresses" in message and "limit for Network Interfaces" in message
    assert "Fix that cause" in message
