"""In-process: remote invoke decodes what Lambda really answers; --since parsing."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from provision.core import pipelines
from provision.errors import InputError, StockAlertError
from provision.features import invoke, logs
from tests.support.configs import MINIMAL, write_config
from tests.support.inprocess import target


class _Raw(io.BytesIO):
    """The raw body botocore reads an HTTP answer from."""

    def stream(self, **_: Any) -> Any:
        yield self.getvalue()


def _lambda_answer(payload: dict[str, Any], log: str, error: str | None = None) -> AWSResponse:
    headers = {"X-Amz-Log-Result": base64.b64encode(log.encode()).decode(),
               "X-Amz-Executed-Version": "$LATEST", "Content-Type": "application/json"}
    if error:
        headers["X-Amz-Function-Error"] = error
    body = json.dumps(payload).encode()
    return AWSResponse("https://lambda.us-east-1.amazonaws.com", 200, headers, _Raw(body))


@pytest.mark.parametrize("error", [None, "Unhandled"])
def test_invoke_remote_decodes_payload_and_log_tail(tmp_path: Path, error: str | None) -> None:
    with mock_aws():
        config = write_config(tmp_path, MINIMAL)
        prepared, _ = target(config)
        pipelines.up(prepared)
        log = 'START RequestId: 1\n{"event": "published"}\nEND RequestId: 1\n'
        answer = _lambda_answer({"published": True, "message_id": "m-1"}, log, error)
        seen: list[bytes] = []

        def respond(request: Any, **_: Any) -> AWSResponse:
            seen.append(request.body)
            return answer

        # Lambda's answer in its real wire shape; registered first, it wins over moto's
        # (which would need Docker to run the code). On the session: Invoke goes through a
        # client of its own, made to send it once (Aws.call_once).
        prepared.aws.events.register_first("before-send.lambda.Invoke", respond)
        result = invoke.invoke_remote(prepared)
    assert result.result == {"published": True, "message_id": "m-1"}
    assert result.log == log.splitlines()
    assert result.status == 200 and result.error == error and result.failed is bool(error)
    assert json.loads(seen[0]) == {"source": "stock-alert.invoke"}


def test_invoke_remote_refuses_a_foreign_function(tmp_path: Path) -> None:
    with mock_aws():
        import boto3

        boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        boto3.client("lambda").create_function(
            FunctionName="t1", Role="arn:aws:iam::123456789012:role/r", Runtime="python3.12",
            Handler="h.h", Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18})
        prepared, log = target(write_config(tmp_path, MINIMAL))
        with pytest.raises(StockAlertError, match="not owned by stack t1"):
            invoke.invoke_remote(prepared)
        assert "lambda:Invoke" not in log.calls


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("30m", 1800), ("1h", 3600),
                                               ("2d", 172800)])
def test_parse_since(text: str, seconds: int) -> None:
    assert logs.parse_since(text) == seconds


@pytest.mark.parametrize("text", ["", "1", "h", "0m", "1w", "-1h", "1.5h", "yesterday"])
def test_parse_since_rejects(text: str) -> None:
    with pytest.raises(InputError, match="duration"):
        logs.parse_since(text)


# ---- logs --follow: late events and repeats (real-AWS behaviour) ---------------------------
# CloudWatch Logs ingests events asynchronously; an event can arrive after newer ones with an
# older timestamp (concurrent invocations, delayed delivery). FilterLogEvents returns events by
# timestamp, so a follower that restarts at the newest timestamp it saw skips such an event.
# Source: the FilterLogEvents API reference ("events ... ingested ... may not be returned ...
# in order") and aws-cli's `logs tail --follow` de-duplication by eventId (aws/aws-cli#5560).


def test_tail_rereads_an_overlap_and_shows_each_event_once() -> None:
    tail = logs.Tail(start_ms=1_000_000)
    first = [{"eventId": "a", "timestamp": 2_000_000}]
    assert tail.fresh(first) == first
    assert tail.next_start() == 2_000_000 - logs.OVERLAP_MS  # not the newest timestamp
    late = {"eventId": "b", "timestamp": 1_990_000}  # older than "a", arrived after it
    assert tail.fresh([late, first[0]]) == [late]  # "a" is not shown twice
    assert tail.fresh([late, first[0]]) == []


def test_follow_prints_an_event_ingested_late_with_an_older_timestamp(tmp_path: Path) -> None:
    import threading
    import time

    import boto3

    with mock_aws():
        config = write_config(tmp_path, MINIMAL)
        prepared, _ = target(config)
        pipelines.up(prepared)
        client = boto3.client("logs", region_name="us-east-1")
        client.create_log_stream(logGroupName="/aws/lambda/t1", logStreamName="s")
        now = int(time.time() * 1000)

        def put(message: str, at: int) -> None:
            client.put_log_events(logGroupName="/aws/lambda/t1", logStreamName="s",
                                  logEvents=[{"timestamp": at, "message": message}])

        shown: list[str] = []
        stop = threading.Event()
        follower = threading.Thread(target=logs.stream, args=(
            target(config)[0], 600, True, lambda e: shown.append(e["message"]), stop, 0.02))
        put("newest first", now)
        follower.start()
        try:
            _wait_for(lambda: shown == ["newest first"])
            put("late and older", now - 60_000)
            _wait_for(lambda: len(shown) == 2)
            time.sleep(0.2)  # several more polls: nothing is shown twice
        finally:
            stop.set()
            follower.join(timeout=10)
    assert shown == ["newest first", "late and older"]


def _wait_for(condition: Any, seconds: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
