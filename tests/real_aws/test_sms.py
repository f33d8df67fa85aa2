"""Catalogue: SMS that SNS accepts but never delivers; `status` says so, `up`/`plan` never read it.

Sources (botocore sns service model):
- CheckIfPhoneNumberIsOptedOut: "You cannot send SMS messages to a number that is opted out."
  moto answers true for every number ending in 99, so moto itself plays the opted-out number.
- GetSMSSandboxAccountStatus / ListSMSSandboxPhoneNumbers: in the SMS sandbox "you can send SMS
  messages only to verified destination phone numbers"; the list is paginated by NextToken and
  each number's Status is Pending or Verified. Errors include AuthorizationError (403).
moto does not implement the two sandbox calls (in-process NotImplementedError, over HTTP a 500
HTML page), so their answers are put on the wire in SNS's XML format (tests/real_aws/wire.py).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from provision.core import pipelines
from provision.core.target import Target
from tests.real_aws.wire import Answer, Wire, form, query_answer
from tests.support.awsproxy import Error
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import error_response
from tests.support.inprocess import ClientCalls, target

SMS_READS = {"sns:CheckIfPhoneNumberIsOptedOut", "sns:GetSMSSandboxAccountStatus",
             "sns:ListSMSSandboxPhoneNumbers"}
OPTED_OUT = "+15555550199"  # moto: ends in 99
Pages = tuple[tuple[tuple[str, str], ...], ...]


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _config(tmp_path: Path, *numbers: str) -> Path:
    return write_config(tmp_path, MINIMAL.replace('["+15555550100"]', json.dumps(list(numbers))))


def _account(in_sandbox: bool | None, pages: Pages = ()) -> dict[str, Answer]:
    """The account's sandbox status and verified numbers as SNS sends them (None: as moto)."""
    if in_sandbox is None:
        return {}

    def listing(request: Any) -> AWSResponse:
        page = int(parse_qs(form(request)).get("NextToken", ["0"])[0])
        members = "".join(f"<member><PhoneNumber>{n}</PhoneNumber><Status>{s}</Status></member>"
                          for n, s in pages[page])
        more = f"<NextToken>{page + 1}</NextToken>" if page + 1 < len(pages) else ""
        return query_answer(request, "ListSMSSandboxPhoneNumbers",
                            f"<PhoneNumbers>{members}</PhoneNumbers>{more}")

    return {"GetSMSSandboxAccountStatus": lambda request: query_answer(
                request, "GetSMSSandboxAccountStatus",
                f"<IsInSandbox>{str(in_sandbox).lower()}</IsInSandbox>"),
            "ListSMSSandboxPhoneNumbers": listing}


def _denied(operation: str) -> Answer:
    return lambda request: error_response(request.url, "sns", Error(
        403, "AuthorizationError", "User: arn:aws:iam::123456789012:user/operator is not "
        f"authorized to perform: SNS:{operation}"))


def _status(config: Path, answers: dict[str, Answer],
            extra: Callable[[Target], None] | None = None) -> tuple[list[str], ClientCalls]:
    """Every sms note of `status` (all rows), and the calls it made."""
    prepared, log = target(config)
    Wire().attach(prepared.aws.events).answers.update(answers)
    if extra:
        extra(prepared)
    _, rows = pipelines.status(prepared)
    return [n for r in rows for n in r.notes if n.startswith("sms ")], log


def test_opted_out_number_is_reported_by_status_and_never_read_by_up_or_plan(
        aws: None, tmp_path: Path) -> None:
    config = _config(tmp_path, "+15555550100", OPTED_OUT)
    prepared, log = target(config)
    pipelines.up(prepared)
    pipelines.plan(prepared)
    assert SMS_READS.isdisjoint(log.calls)  # up and plan gain no reads
    notes, log = _status(config, _account(in_sandbox=False))
    assert len(notes) == 1 and notes[0].startswith(f"sms {OPTED_OUT} has opted out")
    assert f"opt-in-phone-number --phone-number {OPTED_OUT}" in notes[0]
    assert log.calls.count("sns:CheckIfPhoneNumberIsOptedOut") == 2
    assert "sns:ListSMSSandboxPhoneNumbers" not in log.calls  # not in the sandbox: not needed


def test_sandbox_number_not_verified_is_reported_across_pages(aws: None, tmp_path: Path) -> None:
    config = _config(tmp_path, "+15555550100", "+15555550101")
    pipelines.up(target(config)[0])
    notes, log = _status(config, _account(in_sandbox=True, pages=(
        (("+15555550101", "Pending"), ("+15555550111", "Verified")),
        (("+15555550100", "Verified"),))))
    assert len(notes) == 1 and notes[0].startswith(
        "sms +15555550101 is not a verified destination and this account is in the SMS sandbox")
    assert log.calls.count("sns:ListSMSSandboxPhoneNumbers") == 2  # both pages read


@pytest.mark.parametrize(("in_sandbox", "denied", "reason"), [
    # moto lacks the API: not a permission problem (issue 21)
    (None, None, "sns:GetSMSSandboxAccountStatus is not available on the emulator"),
    (False, "CheckIfPhoneNumberIsOptedOut", "AuthorizationError"),
    (True, "ListSMSSandboxPhoneNumbers", "AuthorizationError"),
])
def test_a_failed_read_makes_delivery_unknown_and_status_still_succeeds(
        aws: None, tmp_path: Path, in_sandbox: bool | None, denied: str | None,
        reason: str) -> None:
    config = _config(tmp_path, "+15555550100")
    pipelines.up(target(config)[0])
    answers = _account(in_sandbox, pages=((("+15555550100", "Verified"),),))
    if denied:
        answers[denied] = _denied(denied)
    notes, _ = _status(config, answers)
    assert len(notes) == 1 and notes[0].startswith("sms +15555550100: delivery unknown")
    assert reason in notes[0]
    assert ("read permissions" in notes[0]) is (denied is not None)


def test_sms_reads_run_concurrently_with_each_other_and_the_stack_reads(
        aws: None, tmp_path: Path) -> None:
    """A barrier that opens only while both opt-out checks, the sandbox status and the topic's
    own read are in flight at once: made one after another, they would break it."""
    config = _config(tmp_path, "+15555550100", OPTED_OUT)
    pipelines.up(target(config)[0])
    barrier = threading.Barrier(4, timeout=10)

    def wait(**_: Any) -> None:
        barrier.wait()  # answers nothing: the call goes on to its answer

    def together(prepared: Target) -> None:
        for operation in ("CheckIfPhoneNumberIsOptedOut", "GetSMSSandboxAccountStatus",
                          "GetTopicAttributes"):
            prepared.aws.events.register_first(f"before-send.sns.{operation}", wait)

    notes, _ = _status(config, _account(in_sandbox=False), together)
    assert [n.split(" ")[1] for n in notes] == [OPTED_OUT]  # nothing "unknown"


@pytest.mark.server
@pytest.mark.timeout(120)
def test_emulator_without_the_sandbox_api_status_exits_0(
        cli: Callable[..., Any], aws_proxy: Any, tmp_path: Path) -> None:
    """Over HTTP moto answers the sandbox call with a 500 HTML page."""
    write_config(tmp_path, MINIMAL)
    assert cli("up").returncode == 0
    assert cli("plan").returncode == 0
    assert SMS_READS.isdisjoint(c.key for c in aws_proxy.calls)
    result = cli("status", "--output", "json")
    assert result.returncode == 0, result.stderr
    topic = next(r for r in json.loads(result.stdout)["resources"] if r["kind"] == "topic")
    (note,) = [n for n in topic["notes"] if n.startswith("sms ")]
    assert note.startswith("sms +15555550100: delivery unknown")
    assert "sns:GetSMSSandboxAccountStatus" in note
    keys = [c.key for c in aws_proxy.calls]
    assert keys.count("sns:GetSMSSandboxAccountStatus") == 1  # a parse failure: not retried
    assert keys.count("sns:CheckIfPhoneNumberIsOptedOut") == 1
