"""Catalogue of real-AWS behaviours: storing the API key (`secret set`, `down --delete-secret`).

Each test names its source, puts AWS's answer on the wire (or relies on moto where moto already
gives it) and checks what the user sees. Runs in-process under mock_aws; retries run on a fake
clock, so the waits are measured, not slept.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from click.testing import Result
from moto import mock_aws
from typer.testing import CliRunner

from provision.aws.retry import RetryPolicy
from provision.cli import app
from provision.core.target import Options
from provision.kinds import secret
from tests.support.awsproxy import Error, LoseResponse
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import inject_faults, no_retry_backoff
from tests.support.inprocess import FakeClock

KEY = "av-Key-7Q2x9ZpL"
PARAMETER = "/stock-alert/t1/api-key"
SECRET = "t1/api-key"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OURS = [{"Key": "managed-by", "Value": "stock-alert"}, {"Key": "stock-alert:stack", "Value": "t1"}]
SSM_CONFIG = MINIMAL + "quotes: {provider: alphavantage}\n"
SM_CONFIG = MINIMAL + f"quotes: {{provider: alphavantage, api_key_secret: {SECRET}}}\n"
# CreateSecret's answer while a secret of that name is scheduled for deletion (real AWS; moto
# answers ResourceExistsException instead): github.com/redpanda-data/console/issues/1835,
# github.com/aws/copilot-cli/issues/655, github.com/aws-ia/terraform-aws-eks-blueprints/issues/1733
SCHEDULED = Error(400, "InvalidRequestException", "You can't create this secret because a "
                  "secret with this name is already scheduled for deletion.")


def store_calls(operations: list[str]) -> list[str]:
    """The key store's calls: `secret set` also asks STS once for the account it names on its
    first line (issue 21), which is not what these tests are about."""
    return [o for o in operations if not o.startswith("sts:")]


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws(), no_retry_backoff():
        yield


def run(config: Path, clock: FakeClock, *args: str, stdin: str = KEY) -> Result:
    """`stock-alert ARGS --config CONFIG` in-process, stdin piped, retries on `clock`."""
    policy = RetryPolicy(deadline_s=300.0, sleep=clock.sleep, clock=clock.clock)
    with mock.patch("provision.core.target.Options", functools.partial(Options, retry=policy)):
        return CliRunner().invoke(app, [*args, "--config", str(config)], input=stdin)


def client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1")


def flat(result: Result) -> str:
    return " ".join(result.output.split())


def assert_quiet(result: Result) -> None:
    assert KEY not in result.output and "Traceback" not in result.output


# --- SSM: PutParameter refuses Tags together with Overwrite ----------------------------------
# Source: PutParameter's Tags in the ssm service model ("To add tags to an existing Systems
# Manager parameter, use the AddTagsToResource operation"); real AWS answers ValidationException
# "Invalid request: tags and overwrite can't be used together..." (github.com/getmoto/moto/
# issues/4283, github.com/hashicorp/terraform-provider-aws/issues/18550). moto gives that answer
# since getmoto/moto#4362, so the calls below go to moto unchanged, and the check can fail.
def test_moto_refuses_tags_with_overwrite_as_aws_does(aws: None) -> None:
    ssm = client("ssm")
    ssm.put_parameter(Name=PARAMETER, Value="v", Type="SecureString", Tags=OURS)
    with pytest.raises(ssm.exceptions.ClientError, match="tags and overwrite"):
        ssm.put_parameter(Name=PARAMETER, Value="w", Type="SecureString", Overwrite=True,
                          Tags=OURS)


def test_overwrite_sends_no_tags_and_adds_new_ones_apart(aws: None, tmp_path: Path) -> None:
    clock = FakeClock()
    assert run(write_config(tmp_path, SSM_CONFIG), clock, "secret", "set").exit_code == 0
    tagged = write_config(tmp_path, SSM_CONFIG + "tags: {team: quotes}\n", "tagged.yaml")
    with inject_faults() as calls:
        result = run(tagged, clock, "secret", "set", "--overwrite", stdin="second-key")
        again = run(tagged, clock, "secret", "set", "--overwrite", stdin="third-key")
    assert result.exit_code == 0 and again.exit_code == 0, result.output + again.output
    assert store_calls(calls.operations()) == ["ssm:ListTagsForResource", "ssm:PutParameter",
                                  "ssm:AddTagsToResource", "ssm:ListTagsForResource",
                                  "ssm:PutParameter"]
    ssm = client("ssm")
    assert ssm.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]["Value"] == \
        "third-key"
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=PARAMETER)["TagList"]
    assert {t["Key"]: t["Value"] for t in tags} == {
        "managed-by": "stock-alert", "stock-alert:stack": "t1", "team": "quotes"}


# --- Secrets Manager: a name scheduled for deletion ------------------------------------------
# Source: DeleteSecret in the secretsmanager service model ("Secrets Manager attaches a
# DeletionDate stamp ... At any time before recovery window ends, you can use RestoreSecret");
# InvalidRequestException's documentation ("The secret is scheduled for deletion").
def test_our_secret_scheduled_for_deletion_is_named_with_both_fixes(
        aws: None, tmp_path: Path) -> None:
    sm = client("secretsmanager")
    arn = sm.create_secret(Name=SECRET, SecretString="old", Tags=OURS)["ARN"]
    sm.delete_secret(SecretId=arn, RecoveryWindowInDays=7)
    with inject_faults() as calls:
        result = run(write_config(tmp_path, SM_CONFIG), FakeClock(), "secret", "set",
                     "--overwrite")
    assert result.exit_code == 1
    text = flat(result)
    assert f"Secrets Manager secret {SECRET} is scheduled for deletion" in text
    assert f"aws secretsmanager restore-secret --secret-id {arn}" in text
    assert "--force-delete-without-recovery" in text
    assert store_calls(calls.operations()) == ["secretsmanager:DescribeSecret"]  # nothing written
    assert_quiet(result)


# Source: DeleteSecret's ForceDeleteWithoutRecovery in the secretsmanager service model:
# "Secrets Manager performs the actual deletion with an asynchronous background process, so
# there might be a short delay before the secret is permanently deleted. If you delete a secret
# and then immediately create a secret with the same name, use appropriate back off and retry
# logic." Meanwhile DescribeSecret no longer finds it, and CreateSecret answers SCHEDULED.
def test_create_right_after_a_forced_delete_is_retried_until_the_name_is_free(
        aws: None, tmp_path: Path) -> None:
    clock = FakeClock()
    with inject_faults() as faults:
        faults.inject(SCHEDULED, service="secretsmanager", operation="CreateSecret", times=3)
        result = run(write_config(tmp_path, SM_CONFIG), clock, "secret", "set")
    assert result.exit_code == 0, result.output
    assert faults.count("secretsmanager", "CreateSecret") == 4
    assert len(clock.sleeps) == 3 and clock.now < secret.CREATE_DEADLINE_S
    print(f"3 refusals waited out in {clock.now:.2f} s of backoff: {clock.sleeps}")
    described = client("secretsmanager").describe_secret(SecretId=SECRET)
    assert described["Tags"] == OURS
    assert_quiet(result)


def test_a_name_that_stays_blocked_fails_at_the_deadline(aws: None, tmp_path: Path) -> None:
    clock = FakeClock()
    with inject_faults() as faults:
        faults.inject(SCHEDULED, service="secretsmanager", operation="CreateSecret", times=10**6)
        result = run(write_config(tmp_path, SM_CONFIG), clock, "secret", "set")
    assert result.exit_code == 1
    assert "scheduled for deletion" in flat(result)
    tries = faults.count("secretsmanager", "CreateSecret")
    assert secret.CREATE_DEADLINE_S <= clock.now < secret.CREATE_DEADLINE_S + 8.0
    assert tries == len(clock.sleeps) + 1 and tries < 200
    print(f"gave up after {tries} attempts and {clock.now:.1f} s (deadline "
          f"{secret.CREATE_DEADLINE_S:.0f} s)")
    assert client("secretsmanager").list_secrets()["SecretList"] == []
    assert_quiet(result)


# --- Secrets Manager: ResourceExistsException ------------------------------------------------
# Source: CreateSecret's errors in the secretsmanager service model (ResourceExistsException:
# "A resource with the ID you requested already exists"); moto gives the same answer.
def test_a_lost_create_answer_is_made_good_by_the_idempotency_token(
        aws: None, tmp_path: Path) -> None:
    """CreateSecret's ClientRequestToken is an idempotency token: "If you use the Amazon Web
    Services CLI or one of the Amazon Web Services SDKs to call this operation, then you can
    leave this parameter empty. The CLI or SDK generates a random UUID for you" (secretsmanager
    service model), and botocore sends the same one again when it retries. So a lost answer
    does not turn into ResourceExistsException: the second attempt is answered as the first."""
    sent: list[str] = []
    with inject_faults() as faults:
        faults.inject(LoseResponse(), service="secretsmanager", operation="CreateSecret")
        with mock.patch.object(faults, "dispatch", wraps=faults.dispatch) as seen:
            result = run(write_config(tmp_path, SM_CONFIG), FakeClock(), "secret", "set")
            sent = [c.args[0].body.decode() for c in seen.call_args_list
                    if c.args[1].endswith("CreateSecret")]
    assert result.exit_code == 0, result.output
    assert [o.split(":")[1] for o in store_calls(faults.operations())] == [
        "DescribeSecret", "CreateSecret", "CreateSecret"]
    tokens = {json.loads(body)["ClientRequestToken"] for body in sent}
    assert len(sent) == 2 and len(tokens) == 1
    assert client("secretsmanager").get_secret_value(SecretId=SECRET)["SecretString"] == KEY
    assert_quiet(result)


NOT_FOUND = Error(400, "ResourceNotFoundException", "Secrets Manager can't find the specified "
                  "secret.")


def test_a_secret_of_ours_that_appears_meanwhile_gets_the_value(
        aws: None, tmp_path: Path) -> None:
    sm = client("secretsmanager")
    sm.create_secret(Name=SECRET, SecretString="older", Tags=OURS)  # e.g. a parallel run
    with inject_faults() as faults:
        # it appeared between our DescribeSecret and CreateSecret
        faults.inject(NOT_FOUND, service="secretsmanager", operation="DescribeSecret")
        result = run(write_config(tmp_path, SM_CONFIG), FakeClock(), "secret", "set")
    assert result.exit_code == 0, result.output
    assert [o.split(":")[1] for o in store_calls(faults.operations())] == [
        "DescribeSecret", "CreateSecret", "DescribeSecret", "PutSecretValue"]
    assert sm.get_secret_value(SecretId=SECRET)["SecretString"] == KEY
    assert_quiet(result)


def test_a_secret_that_appears_owned_by_another_stack_is_refused(
        aws: None, tmp_path: Path) -> None:
    sm = client("secretsmanager")
    sm.create_secret(Name=SECRET, SecretString="theirs", Tags=[
        {"Key": "managed-by", "Value": "stock-alert"}, {"Key": "stock-alert:stack",
                                                        "Value": "other"}])
    with inject_faults() as faults:
        # it appeared between our DescribeSecret and CreateSecret
        faults.inject(NOT_FOUND, service="secretsmanager", operation="DescribeSecret")
        result = run(write_config(tmp_path, SM_CONFIG), FakeClock(), "secret", "set")
    assert result.exit_code == 1
    assert "belongs to stock-alert stack 'other'" in flat(result)
    assert "secretsmanager:PutSecretValue" not in faults.operations()
    assert sm.get_secret_value(SecretId=SECRET)["SecretString"] == "theirs"
    assert_quiet(result)


# --- AccessDeniedException with a customer key -----------------------------------------------
# Sources: Secrets Manager answers AccessDeniedException "Access to KMS is not allowed" when the
# caller may not use the secret's customer key (github.com/aws/aws-cdk/issues/7677); CreateSecret
# needs "kms:GenerateDataKey and kms:Decrypt permission to the key" (secretsmanager service
# model). SSM relays KMS's refusal (Service: AWSKMS; github.com/tryolabs/aws-workshop/issues/6);
# a standard SecureString write needs kms:Encrypt. moto does not check KMS permissions at all.
@pytest.mark.parametrize(("config", "service", "operation", "message", "needs"), [
    (SM_CONFIG, "secretsmanager", "CreateSecret", "Access to KMS is not allowed",
     "kms:GenerateDataKey and kms:Decrypt"),
    (SSM_CONFIG, "ssm", "PutParameter", "User: arn:aws:iam::123456789012:user/op is not "
     f"authorized to perform: kms:Encrypt on resource: {KMS_KEY} (Service: AWSKMS; Status "
     "Code: 400; Error Code: AccessDeniedException)", "kms:Encrypt"),
])
def test_a_refused_customer_key_names_the_key_and_the_permissions(
        aws: None, tmp_path: Path, config: str, service: str, operation: str, message: str,
        needs: str) -> None:
    keyed = config.replace("}\n", f", api_key_kms_key: '{KMS_KEY}'}}\n")
    with inject_faults() as faults:
        faults.inject(Error(400, "AccessDeniedException", message), service=service,
                      operation=operation)
        result = run(write_config(tmp_path, keyed), FakeClock(), "secret", "set", "--debug")
    assert result.exit_code == 1
    text = flat(result)
    assert f"with the customer key {KMS_KEY} (AccessDeniedException); nothing was stored" in text
    assert f"You need {needs} on that key" in text and "remove quotes.api_key_kms_key" in text
    assert KEY not in result.output  # --debug prints the traceback: it holds no key either
