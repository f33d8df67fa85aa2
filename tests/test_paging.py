"""Paged reads follow botocore's paginator model as its PageIterator does (provision/aws/paging.py),
JMESPath output tokens included, and ask for each page once."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from provision.aws.client import Aws


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws():
        yield Aws("us-east-1")


def test_an_expression_token_is_followed_and_each_page_asked_for_once(aws: Aws) -> None:
    """S3 ListObjects: output token 'NextMarker || Contents[-1].Key', more results
    IsTruncated (botocore's s3 paginators-1.json); moto pages it by MaxKeys."""
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="paged-bucket")
    for key in ("a", "b", "c"):
        s3.put_object(Bucket="paged-bucket", Key=key, Body=b"x")
    sent: list[str] = []
    aws.events.register("before-call.s3.ListObjects", lambda **_: sent.append("ListObjects"))
    keys = [o["Key"] for page in aws.pages("s3", "list_objects", Bucket="paged-bucket", MaxKeys=1)
            for o in page.get("Contents", [])]
    assert keys == ["a", "b", "c"]
    assert len(sent) == 3  # one request a page: the first is not asked for again
