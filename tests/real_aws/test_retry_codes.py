"""Catalogue of real-AWS behaviours: error codes and what the retry policy makes of them.

Each answer is injected on the wire, in the service's own protocol, and the test checks what the
user sees: the exit code, the attempts made, the fake-clock time spent, and the final state.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from provision.core import pipelines
from provision.core.plan import Mode
from provision.errors import AwsError
from tests.real_aws.test_events import (
    down_leaves_nothing,
    faulty,
    no_writes_left,
    quota_message_is_complete,
    report,
    run_cli,
)
from tests.support.awsproxy import Error
from tests.support.cli_helpers import one_paragraph
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import FaultInjector, no_retry_backoff
from tests.support.inprocess import FakeClock, target
from tests.support.inventory import inventory, is_empty


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws(), no_retry_backoff():
        yield write_config(tmp_path, MINIMAL)


# ---- 4. CloudWatch Logs LimitExceededException: a full quota, not throttling -----------------

# CreateLogGroup models LimitExceededException; Logs answers it as "Resource limit exceeded."
# (github.com/DNXLabs/terraform-aws-ecs-app/issues/40, github.com/aws/aws-cdk/issues/22307).
# Log groups per account and Region is an adjustable quota:
# docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html
LOG_GROUPS_FULL = Error(400, "LimitExceededException", "Resource limit exceeded.")


def test_create_log_group_quota_fails_at_once_naming_the_quota(config: Path) -> None:
    clock = FakeClock()
    with FaultInjector().patch_globally() as faults:
        faults.inject(LOG_GROUPS_FULL, "logs", "CreateLogGroup", times=None)
        result = run_cli(config, clock, "up")
        tries = faults.count("logs", "CreateLogGroup")
    report("CreateLogGroup LimitExceededException", tries, clock)
    assert result.exit_code == 1
    message = one_paragraph(result.stderr)
    quota_message_is_complete(message, "logs")
    assert "log groups per account and Region" in message
    # botocore's standard mode counts the code as throttling (at most 4 attempts, its own
    # jittered 1/2/4 s backoff, zeroed here); the tool's own loop adds none.
    assert tries <= 4 and clock.sleeps == []
    down_leaves_nothing(config)


# ---- 5. SNS throttles with its own code ---------------------------------------------------

# SNS ThrottledException: code "Throttled", HTTP 429, "Indicates that the rate at which requests
# have been submitted for this action exceeds the limit for your Amazon Web Services account."
# (botocore sns model). botocore's standard mode does not list the code (it retries 429 only in
# recent versions, and only where the operation does not model the error), so the tool's loop
# must. AWS_MAX_ATTEMPTS=1 takes botocore out: only the tool's loop retries.
SNS_THROTTLED = Error(429, "Throttled", "Rate exceeded")


@pytest.mark.parametrize(("operation", "calls"), [("CreateTopic", 1), ("Subscribe", 2)])
def test_sns_throttled_is_retried_by_the_tool(config: Path, monkeypatch: pytest.MonkeyPatch,
                                             operation: str, calls: int) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    clock = FakeClock()
    prepared, faults = faulty(config, clock)
    faults.inject(SNS_THROTTLED, "sns", operation, times=3)
    pipelines.up(prepared)
    tries = faults.count("sns", operation)
    report(f"sns {operation}, 3 'Throttled' (botocore retries off)", tries, clock)
    assert tries == calls + 3 and len(clock.sleeps) == 3 and max(clock.sleeps) <= 2.0
    no_writes_left(config)
    down_leaves_nothing(config)


# ---- 6. Conflicting operations on a log group ---------------------------------------------

# PutRetentionPolicy models OperationAbortedException: "A conflicting operation is currently in
# progress against this resource. Please try again." (github.com/aws/aws-cdk/issues/15709; CDK
# added a retry for it in github.com/aws/aws-cdk/pull/16083 and pull/17688).
ABORTED = Error(400, "OperationAbortedException",
                "A conflicting operation is currently in progress against this resource. "
                "Please try again.")


def test_put_retention_policy_conflict_is_retried_and_up_exits_0(config: Path) -> None:
    clock = FakeClock()
    with FaultInjector().patch_globally() as faults:
        faults.inject(ABORTED, "logs", "PutRetentionPolicy", times=3)
        result = run_cli(config, clock, "up")
        tries = faults.count("logs", "PutRetentionPolicy")
    report("PutRetentionPolicy, 3 OperationAbortedException", tries, clock)
    assert result.exit_code == 0, result.output
    assert tries == 4 and len(clock.sleeps) == 3 and max(clock.sleeps) <= 2.0
    assert "waiting for a conflicting operation on the resource to finish" in result.stderr
    groups = inventory(boto3.Session(region_name="us-east-1"))["log_groups"]
    assert [g["retention_days"] for g in groups] == [14]  # the config's default
    no_writes_left(config)
    down_leaves_nothing(config)


# ---- 2. DeleteRole right after DeleteRolePolicy ----------------------------------------------

# IAM answers DeleteRole with 409 DeleteConflict "Cannot delete entity, must delete policies
# first." and can still do so right after the policies were deleted: IAM is eventually
# consistent (github.com/ministryofjustice/analytics-platform/issues/33 reproduced it after a
# successful detach; github.com/ekristen/aws-nuke/issues/203).
POLICIES_LEFT = Error(409, "DeleteConflict", "Cannot delete entity, must delete policies first.")


def test_delete_role_flag_waits_out_the_conflict(config: Path) -> None:
    """Aws.call's dependents_removed flag, as role.py's delete will use it."""
    pipelines.up(target(config)[0])
    iam = boto3.client("iam")
    for name in iam.list_role_policies(RoleName="t1-us-east-1-role")["PolicyNames"]:
        iam.delete_role_policy(RoleName="t1-us-east-1-role", PolicyName=name)
    clock = FakeClock()
    prepared, faults = faulty(config, clock)
    faults.inject(POLICIES_LEFT, "iam", "DeleteRole", times=2)
    prepared.aws.call("iam", "delete_role", RoleName="t1-us-east-1-role", dependents_removed=True)
    tries = faults.count("iam", "DeleteRole")
    report("DeleteRole (flag), 2 DeleteConflict", tries, clock)
    assert tries == 3 and len(clock.sleeps) == 2
    assert inventory(boto3.Session(region_name="us-east-1"))["roles"] == []


def test_delete_role_conflict_is_final_without_the_flag(config: Path) -> None:
    pipelines.up(target(config)[0])
    clock = FakeClock()
    prepared, faults = faulty(config, clock)
    faults.inject(POLICIES_LEFT, "iam", "DeleteRole", times=None)
    with pytest.raises(AwsError, match="DeleteConflict"):
        prepared.aws.call("iam", "delete_role", RoleName="t1-us-east-1-role")
    assert faults.count("iam", "DeleteRole") == 1 and clock.sleeps == []


def test_down_waits_out_delete_role_right_after_delete_role_policy(config: Path) -> None:
    pipelines.up(target(config)[0])
    clock = FakeClock()
    prepared, faults = faulty(config, clock)
    faults.inject(POLICIES_LEFT, "iam", "DeleteRole", times=2)
    the_plan, _ = pipelines.plan(prepared, mode=Mode.DOWN)
    pipelines.down(prepared, the_plan)
    assert faults.count("iam", "DeleteRole") == 3 and len(clock.sleeps) == 2
    assert is_empty(inventory(boto3.Session(region_name="us-east-1")))
