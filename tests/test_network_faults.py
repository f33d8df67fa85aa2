"""Catalogue (moto in-process, faults at the wire in EC2's own format): what real AWS does to a
VPC-attached function's security group that moto does not.

EC2 speaks its own protocol ("ec2" in botocore's model): an error is HTTP 400 with
`<Response><Errors><Error><Code>..</Code><Message>..</Message></Error></Errors>
<RequestID>..</RequestID></Response>`, which tests/support/awsproxy.render_error does not
write; `ec2_errors` below adds it to the in-process injector.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from provision.core import pipelines
from provision.core.plan import Mode
from provision.errors import AwsError
from provision.kinds import enis
from tests.support import faults
from tests.support.awsproxy import Error, LoseResponse, role_not_assumable
from tests.support.inprocess import FakeClock, target
from tests.test_network_moto import aws, ec2, group, make_vpc, network_config, vpc_config

__all__ = ["aws"]  # the fixture, imported for the tests below

# Real EC2's answer while Lambda still holds Hyperplane ENIs in the group, verbatim from
# https://github.com/hashicorp/terraform-provider-aws/issues/37046 ("resource sg-... has a
# dependent object"); the EC2 API reference for DeleteSecurityGroup (botocore model): "If you
# attempt to delete a security group that is associated with ... network interface ... the
# operation fails with DependencyViolation". Lambda releases them up to 45 minutes after the
# function is gone (Terraform's wait, github.com/hashicorp/terraform-provider-aws/pull/10347).
IN_USE = Error(400, "DependencyViolation", "resource sg-0 has a dependent object")


def _ec2_error(url: str, service: str, error: Error) -> AWSResponse:
    body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>"
            f"<Code>{error.code}</Code><Message>{error.message}</Message></Error></Errors>"
            f"<RequestID>{uuid.uuid4()}</RequestID></Response>").encode()
    headers = {"Content-Type": "text/xml;charset=UTF-8", "Content-Length": str(len(body))}
    return AWSResponse(url, error.status, headers, faults._RawBody(body))


@pytest.fixture
def ec2_errors(monkeypatch: pytest.MonkeyPatch) -> Iterator[faults.FaultInjector]:
    original = faults.error_response

    def render(url: str, service: str, error: Error) -> AWSResponse:
        return _ec2_error(url, service, error) if service == "ec2" else original(
            url, service, error)

    monkeypatch.setattr(faults, "error_response", render)
    with faults.inject_faults() as injector:
        yield injector


def _deployed(tmp_path: Path) -> tuple[str, Path]:
    vpc, subnets = make_vpc()
    config = network_config(tmp_path, subnets)
    pipelines.up(target(config)[0])
    return vpc, config


def _down(config: Path, clock: FakeClock) -> Any:
    prepared, calls = target(config, clock)
    the_plan, _ = pipelines.plan(prepared, mode=Mode.DOWN)
    return pipelines.down(prepared, the_plan), calls


def test_down_waits_for_lambda_to_release_its_enis(
        aws: None, ec2_errors: faults.FaultInjector, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    vpc, config = _deployed(tmp_path)
    ec2_errors.inject(IN_USE, service="ec2", operation="DeleteSecurityGroup", times=4)
    clock = FakeClock()
    with caplog.at_level(logging.INFO, logger="provision"):
        done, _ = _down(config, clock)

    assert group(vpc) is None and "security-group" in [a.kind for a in done]
    assert ec2_errors.count("ec2", "DeleteSecurityGroup") == 5  # 4 refusals, then deleted
    assert clock.sleeps == [10.0, 20.0, 40.0, 60.0]  # capped doubling, on the fake clock
    waits = [r.getMessage() for r in caplog.records if "DependencyViolation" in r.getMessage()]
    assert len(waits) == 4 and "t1-fn-sg" in waits[0] and "45 minutes" in waits[0]
    assert "waited 70s, next try in 60s" in waits[-1]  # progress says how long so far


def test_the_wait_is_bounded_and_says_what_to_do(
        aws: None, ec2_errors: faults.FaultInjector, tmp_path: Path) -> None:
    vpc, config = _deployed(tmp_path)
    ec2_errors.inject(IN_USE, service="ec2", operation="DeleteSecurityGroup", times=1000)
    clock = FakeClock()
    with pytest.raises(AwsError) as err:
        _down(config, clock)

    assert clock.now <= enis.ENI_RELEASE_WAIT_S
    assert clock.now >= enis.ENI_RELEASE_WAIT_S - enis.ENI_POLL_CAP_S
    tries = ec2_errors.count("ec2", "DeleteSecurityGroup")
    assert tries == len(clock.sleeps) + 1 < 60  # about one try a minute, not a busy loop
    text = str(err.value)
    assert "t1-fn-sg" in text and "DependencyViolation" in text
    assert "describe-network-interfaces" in text and "'down' again" in text
    assert group(vpc) is not None  # nothing pretended: the group is still there
    ec2_errors.clear_faults()
    _down(config, FakeClock())  # later, the same command finishes the job
    assert group(vpc) is None


def test_a_lost_create_answer_is_adopted_not_refused(
        aws: None, ec2_errors: faults.FaultInjector, tmp_path: Path) -> None:
    """CreateSecurityGroup took effect but its answer was lost; botocore sends it again and
    EC2 answers InvalidGroup.Duplicate ("You can't have two security groups for the same VPC
    with the same name", CreateSecurityGroup in the botocore model). Ours (tagged at
    creation): adopt it and finish it."""
    vpc, subnets = make_vpc()
    config = network_config(tmp_path, subnets)
    ec2_errors.inject(LoseResponse(), service="ec2", operation="CreateSecurityGroup", times=1)
    pipelines.up(target(config)[0])
    made = group(vpc)
    assert made is not None
    assert [p["FromPort"] for p in made["IpPermissionsEgress"]] == [443]
    assert vpc_config()["SecurityGroupIds"] == [made["GroupId"]]
    ec2_errors.clear_faults()
    _, calls = target(config)
    pipelines.up(_)
    assert calls.writes() == []


def test_a_lost_authorize_answer_is_not_an_error(
        aws: None, ec2_errors: faults.FaultInjector, tmp_path: Path) -> None:
    """The 443 rule was added but the answer lost; the retry gets InvalidPermission.Duplicate
    (EC2 API "Error codes": the rule already exists), which means done."""
    vpc, subnets = make_vpc()
    ec2_errors.inject(LoseResponse(), service="ec2", operation="AuthorizeSecurityGroupEgress",
                      times=1)
    pipelines.up(target(network_config(tmp_path, subnets))[0])
    assert ec2_errors.count("ec2", "AuthorizeSecurityGroupEgress") == 2
    [egress] = group(vpc)["IpPermissionsEgress"]  # type: ignore[index]
    assert egress["FromPort"] == 443


def test_no_network_makes_no_ec2_call_but_down_looks(aws: None,
                                                     ec2_errors: faults.FaultInjector,
                                                     tmp_path: Path) -> None:
    """up and status without network: make no EC2 call; down always looks for the stack's
    tagged groups (one read), so a group left from an earlier network: is never leaked."""
    from tests.support.configs import MINIMAL, write_config

    config = write_config(tmp_path, MINIMAL)
    pipelines.up(target(config)[0])
    pipelines.status(target(config)[0])
    assert ec2_errors.count("ec2") == 0
    prepared, _ = target(config)
    pipelines.down(prepared, pipelines.plan(prepared, mode=Mode.DOWN)[0])
    assert ec2_errors.count("ec2") == ec2_errors.count("ec2", "DescribeSecurityGroups") == 1
    assert ec2().describe_security_groups(Filters=[
        {"Name": "group-name", "Values": ["t1-fn-sg"]}])["SecurityGroups"] == []


def test_a_new_eni_grant_that_has_not_propagated_is_waited_out(
        aws: None, ec2_errors: faults.FaultInjector, tmp_path: Path) -> None:
    """Right after 'up' writes the role's t1-vpc-enis policy, Lambda can still see the role
    without it and refuses CreateFunction with InvalidParameterValueException "The provided
    execution role does not have permissions to call CreateNetworkInterface on EC2"
    (github.com/serverless/serverless/issues/1966, github.com/aws/aws-sam-cli/issues/617).
    That is IAM's eventual consistency: retried like "cannot be assumed", on the fake clock."""
    vpc, subnets = make_vpc()
    refused = Error(400, "InvalidParameterValueException", "The provided execution role does "
                    "not have permissions to call CreateNetworkInterface on EC2")
    assert refused.status == role_not_assumable().status
    # the function's (in the VPC); the notifier (issue 21) is in none
    ec2_errors.inject(refused, service="lambda", operation="CreateFunction", times=3,
                      function="t1")
    clock = FakeClock()
    prepared, _ = target(network_config(tmp_path, subnets), clock)
    pipelines.up(prepared)
    # the function's 4th attempt works; the notifier's at its first
    assert ec2_errors.count("lambda", "CreateFunction", "t1") == 4
    assert ec2_errors.count("lambda", "CreateFunction", "t1_notify") == 1
    assert len(clock.sleeps) == 3 and 0 < clock.now < 10
    assert vpc_config()["SecurityGroupIds"] == [group(vpc)["GroupId"]]  # type: ignore[index]


def test_a_new_group_not_yet_visible_is_waited_for(
        aws: None, ec2_errors: faults.FaultInjector, tmp_path: Path) -> None:
    """EC2 API reference, "Eventual consistency": right after CreateSecurityGroup, a call
    naming the new group may return InvalidGroup.NotFound (github.com/boto/boto3/issues/620,
    github.com/hashicorp/packer/issues/1322). The 443 rule is added once EC2 sees the group."""
    vpc, subnets = make_vpc()
    missing = Error(400, "InvalidGroup.NotFound", "The security group 'sg-0' does not exist")
    ec2_errors.inject(missing, service="ec2", operation="AuthorizeSecurityGroupEgress", times=2)
    clock = FakeClock()
    pipelines.up(target(network_config(tmp_path, subnets), clock)[0])
    assert ec2_errors.count("ec2", "AuthorizeSecurityGroupEgress") == 3
    assert clock.sleeps == [0.5, 1.0]
    [egress] = group(vpc)["IpPermissionsEgress"]  # type: ignore[index]
    assert egress["FromPort"] == 443
