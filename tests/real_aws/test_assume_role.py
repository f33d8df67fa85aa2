"""Catalogue of real-AWS behaviours: assumed-role credentials expire.

AssumeRole's credentials last one hour by default, and at most one hour when roles are chained
(STS API reference, AssumeRole, DurationSeconds). After that every call signed with them is
refused, 400 ExpiredToken "The security token included in the request is expired" (STS and the
query services; ExpiredTokenException in the json services; github.com/boto/boto3/issues/443).
A fleet `down --assume-role` can run longer than that (up to 45 minutes per VPC stack waiting
for Lambda's ENIs). moto never expires a key: here the wire refuses a key once the fake clock
is past its hour, as AWS does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from provision.aws.client import Aws
from provision.aws.retry import RetryPolicy
from tests.real_aws.wire import Wire, every_session
from tests.support.awsproxy import Error
from tests.support.faults import error_response
from tests.support.inprocess import FakeClock

ROLE = "arn:aws:iam::111111111111:role/deployer"
EXPIRED = Error(400, "ExpiredToken", "The security token included in the request is expired")
HOUR = 3600.0


class Sts(Wire):
    """moto's answers, except that a key past its hour (on the fake clock) is refused; counts
    AssumeRole calls and which key signed each call."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock, self.issued, self.signed = clock, {}, []  # key -> fake time issued
        for operation in ("GetCallerIdentity", "ListFunctions", "AssumeRole"):
            self.answers[operation] = self.check

    def check(self, request: Any) -> AWSResponse | None:
        found = re.search(r"Credential=([A-Z0-9]+)/", request.headers.get("Authorization", b"")
                          .decode() if isinstance(request.headers.get("Authorization"), bytes)
                          else request.headers.get("Authorization", ""))
        key = found.group(1) if found else ""
        self.signed.append(key)
        issued = self.issued.get(key)
        if issued is not None and self.clock.now - issued >= HOUR:
            service = "sts" if "sts." in request.url else "lambda"
            return error_response(request.url, service, EXPIRED)
        return None

    def after_assume(self, parsed: dict[str, Any], **_: Any) -> None:
        """STS's Expiration: an hour from now, on the fake clock (moto's is the wall's)."""
        creds = parsed["Credentials"]
        self.issued[creds["AccessKeyId"]] = self.clock.now
        creds["Expiration"] = datetime.now(UTC) + timedelta(seconds=self.clock.now + HOUR)


@pytest.fixture
def wire() -> Iterator[tuple[Sts, FakeClock]]:
    clock = FakeClock()
    sts = Sts(clock)
    with mock_aws(), every_session(sts):
        yield sts, clock


def test_a_long_fleet_run_renews_the_assumed_role_before_it_expires(
        wire: tuple[Sts, FakeClock]) -> None:
    sts, clock = wire
    base = Aws("us-east-1", retry=RetryPolicy(sleep=clock.sleep, clock=clock.clock))
    base.events.register("after-call.sts.AssumeRole", sts.after_assume)
    account = base.assume(ROLE)
    assert account.account()[0] == "111111111111"
    account.call("lambda", "list_functions")
    first = sts.signed[-1]
    clock.sleep(50 * 60)  # a long teardown: 50 minutes on
    account.call("lambda", "list_functions")
    clock.sleep(50 * 60)  # 100 minutes: the first credentials are long expired
    account.call("lambda", "list_functions")
    account.sibling("us-west-2").call("lambda", "list_functions")  # the account's other Region
    assert len(sts.issued) >= 2  # AssumeRole again, before the hour was up
    assert sts.signed[-1] != first and sts.signed[-2] == sts.signed[-1]
