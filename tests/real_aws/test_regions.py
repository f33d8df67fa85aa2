"""Catalogue of real-AWS behaviours: regional STS, and a Region not enabled in the account.

An opt-in Region that the account has not enabled answers every call with "The security token
included in the request is invalid": UnrecognizedClientException (json services),
InvalidClientTokenId (STS, IAM, SNS, query protocol), AuthFailure (EC2)
(github.com/aws/chalice/issues/1445, github.com/99designs/aws-vault/issues/543). A session
token from the global STS endpoint (sts.amazonaws.com) is refused in opt-in Regions the same
way; botocore uses regional STS by default only from 1.40 (github.com/boto/boto3/issues/4583),
and pyproject allows botocore 1.34, so the tool sets it. moto answers in every Region: the
refusal is injected on the wire for the one Region.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from provision.aws.client import Aws
from tests.real_aws.test_events import run_cli
from tests.real_aws.wire import Wire, every_session
from tests.support.awsproxy import Error
from tests.support.cli_helpers import one_paragraph
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import error_response, no_retry_backoff
from tests.support.inprocess import FakeClock

INVALID = Error(403, "InvalidClientTokenId",
                "The security token included in the request is invalid.")
OPT_IN = "ap-southeast-3"


def test_sts_is_regional_even_where_the_environment_says_legacy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "legacy")  # botocore < 1.40's default
    for region in ("us-east-1", OPT_IN):
        url = Aws(region).client("sts").meta.endpoint_url
        assert url == f"https://sts.{region}.amazonaws.com", url


def refuse(regions: tuple[str, ...]) -> Wire:
    wire = Wire()

    def answer(request: Any) -> AWSResponse | None:
        refused = any(f".{r}." in request.url for r in regions)
        return error_response(request.url, "sts", INVALID) if refused else None

    wire.answers["GetCallerIdentity"] = answer
    return wire


@pytest.fixture
def opt_in_config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws(), no_retry_backoff():
        yield write_config(tmp_path, MINIMAL.replace("us-east-1", OPT_IN))


def test_a_region_not_enabled_is_named_with_how_to_enable_it(opt_in_config: Path) -> None:
    with every_session(refuse((OPT_IN,))):
        result = run_cli(opt_in_config, FakeClock(), "plan")
    assert result.exit_code == 1
    message = one_paragraph(result.stderr)
    assert f"Region {OPT_IN} is not enabled in account 123456789012" in message
    assert f"aws account enable-region --region-name {OPT_IN}" in message
    assert "lacks this permission" not in message


def test_credentials_refused_everywhere_are_not_blamed_on_the_region(
        opt_in_config: Path) -> None:
    with every_session(refuse((OPT_IN, "us-east-1"))):
        result = run_cli(opt_in_config, FakeClock(), "plan")
    assert result.exit_code == 1
    message = one_paragraph(result.stderr)
    assert "not enabled" not in message and "credentials are invalid" in message
