"""Catalogue of real-AWS behaviours: the CloudFormation export as a multi-Region StackSet.

- IAM names are global: a fixed RoleName `${StackName}-role` makes the second Region's stack
  instance fail with "already exists" (github.com/aws-samples/amazon-cloudfront-secure-static-
  site/issues/39). moto's IAM is global per account too, so two moto CloudFormation stacks in
  two Regions show it.
- Lambda reads Code.S3Bucket only in its own Region; elsewhere S3 answers PermanentRedirect
  (github.com/binxio/cfn-certificate-provider/issues/20). moto reads any bucket: the template
  is checked to name the Region's own bucket.
- ReservedConcurrentExecutions fails in new accounts whose concurrency limit is 10
  (github.com/aws-samples/one-observability-demo/issues/278): it is a parameter that can be
  left empty (AWS::NoValue).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from provision.aws.client import Aws
from provision.config.model import load_config
from provision.core import package
from provision.features.export import cloudformation as cf
from provision.kinds import code_bucket
from tests.support.configs import MINIMAL, write_config

REGIONS = ("us-east-1", "eu-west-1")


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws():
        yield write_config(tmp_path, MINIMAL + "function: {reserved_concurrency: 1}\n")


def deploy(body: str, region: str, **parameters: str) -> dict[str, Any]:
    cfn = boto3.client("cloudformation", region_name=region)
    cfn.create_stack(StackName="alerts", TemplateBody=body,
                     Capabilities=["CAPABILITY_NAMED_IAM"],
                     Parameters=[{"ParameterKey": k, "ParameterValue": v}
                                 for k, v in parameters.items()])
    return dict(cfn.describe_stacks(StackName="alerts")["Stacks"][0])


def test_one_stack_name_deploys_to_two_regions_of_one_account(config: Path) -> None:
    code = package.build()
    for region in REGIONS:  # one bucket per Region, the same key in each
        boto3.client("s3", region_name=region).create_bucket(
            Bucket=f"code-{region}", **({} if region == "us-east-1" else {
                "CreateBucketConfiguration": {"LocationConstraint": region}}))
        location = code_bucket.upload(Aws(region), f"code-{region}", "t1", code)
    body = cf.dump(cf.template(load_config(config)))
    roles = set()
    for region in REGIONS:
        stack = deploy(body, region, CodeBucket="code", CodeKey=location.key,
                       CodeBucketPerRegion="true")
        assert stack["StackStatus"] == "CREATE_COMPLETE", (region, stack)
        conf = boto3.client("lambda", region_name=region).get_function(
            FunctionName="t1")["Configuration"]
        roles.add(conf["Role"])
    assert len(roles) == 2  # each Region's stack has its own role


def test_the_code_bucket_is_the_functions_regions(config: Path) -> None:
    function = cf.template(load_config(config))["Resources"]["Function"]["Properties"]
    assert function["Code"]["S3Bucket"] == {"Fn::If": [
        "CodeBucketPerRegion", {"Fn::Sub": "${CodeBucket}-${AWS::Region}"},
        {"Ref": "CodeBucket"}]}


@pytest.mark.parametrize(("given", "reserved"), [("", None), ("1", 1)])
def test_reserved_concurrency_is_a_parameter_that_can_be_empty(
        config: Path, given: str, reserved: int | None) -> None:
    doc = cf.template(load_config(config))
    assert doc["Parameters"]["ReservedConcurrency"]["Default"] == "1"  # the config's
    function = doc["Resources"]["Function"]["Properties"]
    assert function["ReservedConcurrentExecutions"] == {"Fn::If": [
        "HasReservedConcurrency", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]}
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="code")
    location = code_bucket.upload(Aws("us-east-1"), "code", "t1", package.build())
    stack = deploy(cf.dump(doc), "us-east-1", CodeBucket="code", CodeKey=location.key,
                   ReservedConcurrency=given)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    got = boto3.client("lambda", region_name="us-east-1").get_function(FunctionName="t1")
    assert (got.get("Concurrency") or {}).get("ReservedConcurrentExecutions") == reserved


def test_the_stackset_template_lints_clean_for_every_region(tmp_path: Path) -> None:
    from cfnlint.api import ManualArgs, lint

    config = write_config(tmp_path, MINIMAL + "function: {reserved_concurrency: null}\n"
                          "network: {subnet_ids: [subnet-0123456789abcdef0]}\n")
    text = cf.dump(cf.template(load_config(config)))
    errors = [f"{m.rule.id} {m.message}" for m in lint(text, config=ManualArgs(
        regions=list(REGIONS))) if m.rule.id.startswith("E")]
    assert errors == []
