"""Lambda entry point ``notifier.handler``: the stack's on-failure destination, in words.

When a scheduled run of the stack's function fails for good, Lambda invokes this function
asynchronously with an invocation record (Lambda Developer Guide, "Capturing records of Lambda
asynchronous invocations", example invocation record): ``requestContext.condition`` is
``RetriesExhausted`` (the function failed on every attempt) or ``EventAgeExceeded`` (the event
waited in Lambda's queue longer than allowed), ``requestContext.approximateInvokeCount`` the
attempts made, ``requestContext.functionArn`` the failed function, ``responsePayload`` its error
(``errorMessage``, ``errorType``), ``requestPayload`` the original event (the schedule's, whose
``time`` is when the run was due) and ``timestamp`` when Lambda gave up.

It publishes ONE short message to the stack's topic, one text per protocol (MessageStructure
json, as the main function's alerts, messages.payload): an SMS of one segment and an e-mail,
e.g. "stock-alert NAME: the 21:30 UTC run failed after 3 attempts: <the handler's reason>.
See 'stock-alert logs'."

It never raises on a record it cannot read: it logs what it got and publishes a generic line
instead, so a failure is never lost and nothing recurses (this function has no destination of
its own). A failed publish is logged and raised, so Lambda retries this function (twice, its
default); only a publish whose answer was lost can then arrive twice.
"""

from __future__ import annotations

import os
import re

import aws
import log
import messages

TYPE_CHECKING = False  # typing costs ~20 ms to import at cold start; only the checker needs it
if TYPE_CHECKING:
    from typing import Any

LOGS_HINT = "See 'stock-alert logs'."
# The error types whose message the handler writes for people (handler.py): shown alone.
WORDED = {"ConfigurationError", "QuotesUnavailable"}
# Lambda's prefixes on a runtime error: "RequestId: <id> Error: ..." and, for older runtimes'
# timeouts, "<ISO time> <request id> Task timed out after 30.00 seconds".
_NOISE = re.compile(r"^(?:RequestId:\s*\S+\s*(?:Error:\s*)?"
                    r"|\d{4}-\d\d-\d\dT\S+\s+[0-9a-f-]{36}\s+)")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_ISO_UTC = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(?::\d\d(?:\.\d+)?)?Z\Z")
REASON_LIMIT = 600  # the e-mail's reason line; the SMS cuts it much shorter
MIN_REASON = 12  # septets: a shorter cut of the reason says nothing
FIX = "; fix: "  # how the handler ends a configuration error with its fix (handler.py)


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _utc(value: Any) -> tuple[str, str] | None:
    """("21:30 UTC", "2026-12-07 21:30 UTC") of an ISO time in UTC ("2026-12-07T21:30:00Z",
    "2019-11-14T18:16:05.568Z"); None for anything else."""
    found = _ISO_UTC.match(_text(value) or "")
    return (f"{found[2]} UTC", f"{found[1]} {found[2]} UTC") if found else None


def reason(payload: Any) -> str | None:
    """The function's error in one line: the handler's own sentence, or the error type and
    message of any other exception (``KeyError: 'price'``), without Lambda's request-id noise;
    None when the record holds none."""
    if isinstance(payload, str):
        payload = {"errorMessage": payload}
    if not isinstance(payload, dict):
        return None
    message = _text(payload.get("errorMessage"))
    kind = _text(payload.get("errorType"))
    line = _NOISE.sub("", message.splitlines()[0]).strip() if message else ""
    if kind and _IDENTIFIER.match(kind) and kind not in WORDED and not line.startswith(kind):
        line = f"{kind}: {line}" if line else kind
    return messages.truncate(line, REASON_LIMIT) or None


def due(record: dict[str, Any]) -> tuple[str, str] | None:
    """(the run's time "21:30 UTC", its date and time) from the scheduled event's ``time``
    (EventBridge: "2026-12-07T21:30:00Z"); None when the original event has no such time (an
    invocation not made by the schedule)."""
    event = record.get("requestPayload")
    return _utc(event.get("time")) if isinstance(event, dict) else None


def _attempts(count: Any) -> str | None:
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        return None
    return "no attempt" if count == 0 else f"{count} attempt{'' if count == 1 else 's'}"


def summary(record: dict[str, Any]) -> str:
    """What happened, in words: "the 21:30 UTC run failed after 3 attempts"."""
    context = record.get("requestContext")
    context = context if isinstance(context, dict) else {}
    when = due(record)
    run = f"the {when[0]} run" if when else "a run"
    tries = _attempts(context.get("approximateInvokeCount"))
    condition = context.get("condition")
    if condition == "EventAgeExceeded":
        ran = f" ({tries} made)" if tries else ""
        return f"{run} was dropped: it waited in Lambda's queue too long{ran}"
    if condition == "RetriesExhausted":
        return f"{run} failed" + (f" after {tries}" if tries else "")
    raise ValueError(f"not a failure record (condition {condition!r})")


def texts(stack: str, record: Any) -> dict[str, str]:
    """{"sms", "email_subject", "email"} for one failure record; ValueError when it is not one
    (Lambda sends an OnFailure destination only RetriesExhausted and EventAgeExceeded)."""
    if not isinstance(record, dict):
        raise ValueError(f"the record is a {type(record).__name__}, not an object")
    what = summary(record)
    why = reason(record.get("responsePayload"))
    head = f"stock-alert {stack}: {what}"
    return {"sms": _sms(head, why), "email_subject": _subject(stack, record),
            "email": _email(stack, what, why, record)}


def generic(stack: str) -> dict[str, str]:
    """The texts for a record that cannot be read: the failure is still told."""
    line = f"stock-alert {stack}: a run failed, and its failure record could not be read"
    return {"sms": _sms(line, None), "email_subject": f"stock-alert {stack}: a run failed",
            "email": f"{line}.\n\n{LOGS_HINT}\n"}


def _sms(head: str, why: str | None) -> str:
    """One segment. What happened always; then, as room allows: the reason and the hint to
    read the logs; of the handler's "<cause>; fix: <fix>" the fix before the hint, the cause
    cut first; no reason at all when only a few characters of it would fit."""
    head, hint = messages.gsm7(head), messages.gsm7(LOGS_HINT)
    reason = messages.gsm7(why or "").rstrip(".")
    cause, sep, fix = reason.partition(FIX)
    tails = [f". {hint}", "."] if sep else [f". {hint}"]
    for tail in tails:
        room = messages.SMS_LIMIT - messages.septets(f"{head}: {sep}{fix}{tail}")
        if reason and room >= MIN_REASON:
            cut = messages.truncate(cause, room, messages.septets)
            end = tail[1:] if cut.endswith("...") and not sep else tail  # no "...."
            return f"{head}: {cut}{sep}{fix}{end}"
    return messages.truncate(f"{head}. {hint}", messages.SMS_LIMIT, messages.septets)


def _subject(stack: str, record: dict[str, Any]) -> str:
    when = due(record)
    run = f"the {when[0]} run" if when else "a run"
    text = messages.ascii_text(f"stock-alert {stack}: {run} failed")
    return messages.truncate(text, messages.SUBJECT_LIMIT)


def _email(stack: str, what: str, why: str | None, record: dict[str, Any]) -> str:
    context = record.get("requestContext")
    context = context if isinstance(context, dict) else {}
    when, gave_up = due(record), _utc(record.get("timestamp"))
    lines = [f"stock-alert stack {stack}: {what}.", ""]
    if why:
        lines += [f"Reason: {why}", ""]
    facts = [("Run due at", when[1] if when else None),
             ("Lambda gave up at", gave_up[1] if gave_up else None),
             ("Condition", _text(context.get("condition"))),
             ("Function", _text(context.get("functionArn"))),
             ("Request id", _text(context.get("requestId")))]
    lines += [f"{label}: {value}" for label, value in facts if value]
    lines += ["", f"{LOGS_HINT} The next scheduled run will try again; 'stock-alert invoke' "
              "runs it now.", ""]
    return "\n".join(lines)


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Publish one message for the failure record ``event``; see the module docstring."""
    stack = os.environ.get("STOCK_ALERT_STACK", "").strip() or "stock-alert"
    topic = os.environ.get("STOCK_ALERT_TOPIC_ARN", "").strip()
    try:
        message = texts(stack, event)
    except Exception as exc:  # any record it cannot read: tell the failure anyway
        shape = sorted(event) if isinstance(event, dict) else type(event).__name__
        log.event("unreadable_record", stack=stack, error=f"{type(exc).__name__}: {exc}",
                  shape=shape)
        message = generic(stack)
    if not topic:
        log.event("error", stack=stack, error="STOCK_ALERT_TOPIC_ARN is not set; "
                  "run 'stock-alert up' to redeploy the notifier's settings")
        raise RuntimeError("STOCK_ALERT_TOPIC_ARN is not set")
    try:
        message_id = aws.publish(topic, message["email_subject"],
                                 messages.payload(message["sms"], message["email"]))
    except aws.AwsError as exc:
        log.event("error", stack=stack, error=str(exc))
        raise
    log.event("failure_notified", stack=stack, message_id=message_id,
              subject=message["email_subject"], sms_length=len(message["sms"]))
    return {"stack": stack, "published": True, "message_id": message_id, "message": message}
