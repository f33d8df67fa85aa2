"""The on-failure notifier's words (function_code/notifier.py, issue 21).

Lambda invokes the notifier with an invocation record when a run of the stack's function failed
for good; it publishes ONE short message per record to the topic (SMS and e-mail). moto does not
deliver Lambda destinations, so these tests feed the notifier records of the shape AWS documents
and read what SNS (moto) accepted.
"""

from __future__ import annotations

import copy
import importlib
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.function.conftest import events

# The example invocation record of the Lambda Developer Guide, "Capturing records of Lambda
# asynchronous invocations" (docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-
# records.html, "Example invocation record": an event that failed three processing attempts
# due to a function error), verbatim.
AWS_EXAMPLE: dict[str, Any] = {
    "version": "1.0",
    "timestamp": "2019-11-14T18:16:05.568Z",
    "requestContext": {
        "requestId": "e4b46cbf-b738-xmpl-8880-a18cdf61200e",
        "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:my-function:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    },
    "requestPayload": {
        "ORDER_IDS": [
            "9e07af03-ce31-4ff3-xmpl-36dce652cb4f",
            "637de236-e7b2-464e-xmpl-baf57f86bb53",
            "a81ddca6-2c35-45c7-xmpl-c3a03a31ed15",
        ]
    },
    "responseContext": {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    },
    "responsePayload": {
        "errorMessage": "RequestId: e4b46cbf-b738-xmpl-8880-a18cdf61200e Process exited before "
        "completing request"
    },
}
# What the stack's schedule sends (EventBridge "Scheduled Event"): the record's requestPayload.
SCHEDULED = {"version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
             "detail-type": "Scheduled Event", "source": "aws.events",
             "account": "123456789012", "time": "2026-12-07T21:30:00Z", "region": "us-east-1",
             "resources": ["arn:aws:events:us-east-1:123456789012:rule/test-stack-schedule"],
             "detail": {}}
CONFIG_ERROR = ("configuration error: ssm:GetParameter /stock-alert/test-stack/api-key failed: "
                "ParameterNotFound; fix: store the API key with 'stock-alert secret set'")


@pytest.fixture
def notifier(fn: Any) -> Iterator[ModuleType]:
    """function_code/notifier.py, imported fresh beside the function's other modules."""
    sys.modules.pop("notifier", None)
    yield importlib.import_module("notifier")
    sys.modules.pop("notifier", None)


def record(condition: str = "RetriesExhausted", count: int = 3,
           payload: Any = None, event: Any = None) -> dict[str, Any]:
    """A failure record of the stack's function, as the AWS example has it."""
    found = copy.deepcopy(AWS_EXAMPLE)
    found["timestamp"] = "2026-12-07T21:33:02.418Z"
    found["requestContext"].update(
        condition=condition, approximateInvokeCount=count,
        functionArn="arn:aws:lambda:us-east-1:123456789012:function:test-stack:$LATEST")
    found["requestPayload"] = SCHEDULED if event is None else event
    found["responsePayload"] = payload
    return found


def test_the_records_aws_documents_reach_sns_as_one_short_message(notifier, topic, capsys):
    """The documented record, verbatim: not a scheduled run (its payload has no time), a
    crash whose message carries Lambda's request id."""
    result = notifier.handler(copy.deepcopy(AWS_EXAMPLE), None)
    sent = topic.only()
    assert sent["id"] == result["message_id"]
    sms = sent["message"]["sms"]
    assert sms == ("stock-alert test-stack: a run failed after 3 attempts: Process exited "
                   "before completing request. See 'stock-alert logs'.")
    assert sent["subject"] == "stock-alert test-stack: a run failed"
    assert sent["message"]["default"] == sent["message"]["email"]
    assert sent["message"]["email"] == "\n".join([
        "stock-alert stack test-stack: a run failed after 3 attempts.",
        "",
        "Reason: Process exited before completing request",
        "",
        "Lambda gave up at: 2019-11-14 18:16 UTC",
        "Condition: RetriesExhausted",
        "Function: arn:aws:lambda:us-east-1:123456789012:function:my-function:$LATEST",
        "Request id: e4b46cbf-b738-xmpl-8880-a18cdf61200e",
        "",
        "See 'stock-alert logs'. The next scheduled run will try again; 'stock-alert invoke' "
        "runs it now.",
        ""])
    assert sent["attributes"]["AWS.SNS.SMS.SMSType"]["Value"] == "Transactional"
    assert "{" not in sms and "requestContext" not in sent["message"]["email"]  # no raw JSON
    [line] = events(capsys.readouterr().out, "failure_notified")
    assert line["message_id"] == result["message_id"]


def test_retries_exhausted_names_the_run_the_attempts_and_the_handlers_reason(
        notifier, topic, fn):
    reason = "no quote fetched for any of 1 symbols: TSLA (HTTP 500)"
    notifier.handler(record(payload={"errorType": "QuotesUnavailable",
                                     "errorMessage": reason}), None)
    sent = topic.only()
    assert sent["message"]["sms"] == (
        "stock-alert test-stack: the 21:30 UTC run failed after 3 attempts: no quote fetched "
        "for any of 1 symbols: TSLA (HTTP 500). See 'stock-alert logs'.")
    assert fn.messages.septets(sent["message"]["sms"]) <= fn.messages.SMS_LIMIT
    assert sent["subject"] == "stock-alert test-stack: the 21:30 UTC run failed"
    email = sent["message"]["email"]
    assert email.startswith("stock-alert stack test-stack: the 21:30 UTC run failed after 3 "
                            f"attempts.\n\nReason: {reason}\n\nRun due at: 2026-12-07 21:30 UTC\n"
                            "Lambda gave up at: 2026-12-07 21:33 UTC\n")


def test_a_configuration_error_keeps_its_fix_in_the_sms(notifier, topic, fn):
    notifier.handler(record(payload={"errorType": "ConfigurationError",
                                     "errorMessage": CONFIG_ERROR}), None)
    sms = topic.only()["message"]["sms"]
    assert sms.startswith("stock-alert test-stack: the 21:30 UTC run failed after 3 attempts: "
                          "configuration error: ")
    assert sms.endswith("...; fix: store the API key with 'stock-alert secret set'.")
    assert fn.messages.septets(sms) <= fn.messages.SMS_LIMIT
    assert f"Reason: {CONFIG_ERROR}\n" in topic.only()["message"]["email"]  # whole in the e-mail


def test_event_age_exceeded_says_the_run_was_dropped(notifier, topic):
    notifier.handler(record("EventAgeExceeded", 0), None)
    sent = topic.only()
    assert sent["message"]["sms"] == (
        "stock-alert test-stack: the 21:30 UTC run was dropped: it waited in Lambda's queue too "
        "long (no attempt made). See 'stock-alert logs'.")
    assert "Condition: EventAgeExceeded" in sent["message"]["email"]
    assert "Reason:" not in sent["message"]["email"]  # the record holds none


@pytest.mark.parametrize("payload", [
    # Lambda's words for a run that hit the function's timeout: with the runtime's request-id
    # prefix, and in the older "<time> <request id> ..." form
    {"errorType": "Sandbox.Timedout", "errorMessage": "RequestId: 5f1d2c3b-1111-2222-3333-"
     "444455556666 Error: Task timed out after 30.00 seconds"},
    {"errorMessage": "2026-12-07T21:30:31.123Z 5f1d2c3b-1111-2222-3333-444455556666 Task timed "
     "out after 30.00 seconds"},
], ids=["sandbox-timedout", "classic"])
def test_a_timeout_is_said_in_lambdas_words_without_its_noise(notifier, topic, payload):
    notifier.handler(record(payload=payload), None)
    assert topic.only()["message"]["sms"] == (
        "stock-alert test-stack: the 21:30 UTC run failed after 3 attempts: Task timed out "
        "after 30.00 seconds. See 'stock-alert logs'.")


def test_a_python_error_is_named_by_its_type(notifier, topic):
    notifier.handler(record(payload={"errorType": "KeyError", "errorMessage": "'price'",
                                     "stackTrace": ["  File \"/var/task/quotes.py\" ..."]}), None)
    assert topic.only()["message"]["sms"] == (
        "stock-alert test-stack: the 21:30 UTC run failed after 3 attempts: KeyError: 'price'. "
        "See 'stock-alert logs'.")


@pytest.mark.parametrize("event", [
    ["not", "a", "record"],
    "RetriesExhausted",
    {},
    {"requestContext": "RetriesExhausted"},
    {"requestContext": {"condition": "Success"}},
    {"requestContext": {"condition": None}, "responsePayload": {"errorMessage": 7}},
], ids=["list", "string", "empty", "context-not-object", "not-a-failure", "no-condition"])
def test_a_record_it_cannot_read_is_still_told_and_logged_never_raised(
        notifier, topic, capsys, event):
    result = notifier.handler(event, None)
    sent = topic.only()
    assert sent["message"]["sms"] == ("stock-alert test-stack: a run failed, and its failure "
                                      "record could not be read. See 'stock-alert logs'.")
    assert sent["subject"] == "stock-alert test-stack: a run failed"
    assert result["published"] is True
    [line] = events(capsys.readouterr().out, "unreadable_record")
    assert line["stack"] == "test-stack" and line["error"]


def test_odd_fields_are_left_out_not_guessed(notifier, topic):
    """A record whose count, time and reason are of the wrong type still reads as a failure:
    what cannot be read is not said."""
    odd = record(count=True, payload={"errorMessage": ["x"]}, event={"time": 1765143000})
    odd["timestamp"] = None
    notifier.handler(odd, None)
    sent = topic.only()
    assert sent["message"]["sms"] == "stock-alert test-stack: a run failed. See 'stock-alert logs'."
    assert "Lambda gave up at" not in sent["message"]["email"]


def test_every_sms_is_one_segment_however_long_the_name_and_reason(notifier, topic, fn, env):
    env.setenv("STOCK_ALERT_STACK", "s" * 55)  # the longest stack name
    notifier.handler(record(payload={"errorMessage": "é" * 3000}), None)
    notifier.handler(record(payload={"errorType": "ConfigurationError",
                                     "errorMessage": CONFIG_ERROR}), None)
    for sent in topic.notifications():
        sms = sent["message"]["sms"]
        assert fn.messages.septets(sms) <= fn.messages.SMS_LIMIT, sms
        assert sms.startswith("stock-alert " + "s" * 55 + ": the 21:30 UTC run failed")
        assert len(sent["subject"]) <= fn.messages.SUBJECT_LIMIT


def test_a_failed_publish_is_logged_and_raised_so_lambda_retries_the_notifier(
        notifier, topic, env, capsys):
    env.setenv("STOCK_ALERT_TOPIC_ARN", topic.arn + "-gone")
    with pytest.raises(notifier.aws.AwsError, match="sns:Publish failed: NotFound"):
        notifier.handler(record(payload={"errorMessage": "boom"}), None)
    [line] = events(capsys.readouterr().out, "error")
    assert "sns:Publish failed" in line["error"]
    assert topic.notifications() == []
