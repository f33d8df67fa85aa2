"""Alpha Vantage: the key from an SSM SecureString (read once per container), rate-limit notes,
unknown tickers, and the key never appearing in logs or results."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from tests.function.conftest import REGION, FakeContext, events, log_lines
from tests.function.fake_http import AV_NOTE, AV_UNKNOWN, Reply, alphavantage

PARAMETER = "/stock-alert/test-stack/alphavantage-api-key"
KEY = "AVKEY-s3cr3t-4242"


@pytest.fixture
def api_key(topic) -> str:
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name=PARAMETER, Value=KEY, Type="SecureString"
    )
    return KEY


@pytest.fixture
def ssm_calls(env) -> Iterator[list[str]]:
    """GetParameter calls made by clients of the default session created from now on."""
    calls: list[str] = []

    def count(params, **kwargs) -> None:
        calls.append(params["Name"])

    events = boto3._get_default_session().events
    events.register("provide-client-params.ssm.GetParameter", count)
    yield calls
    events.unregister("provide-client-params.ssm.GetParameter", count)


def av_three(server) -> None:
    server.script("TSLA", alphavantage("TSLA", 251.30, 243.00))
    server.script("F", alphavantage("F", 12.01, 12.07))
    server.script("GM", alphavantage("GM", 48.20, 48.15))


def configure_av(configure, stocks=None, **kwargs) -> None:
    stocks = stocks or [{"symbol": "TSLA"}, {"symbol": "F"}, {"symbol": "GM"}]
    configure(stocks, provider="alphavantage", parameter=PARAMETER, **kwargs)


def test_key_comes_from_ssm_once_per_container_and_reaches_the_server(
    fn, topic, server, configure, api_key, ssm_calls, capsys
):
    configure_av(configure)
    av_three(server)

    first = fn.handler.handler({}, FakeContext(30_000))
    second = fn.handler.handler({}, FakeContext(30_000))

    assert ssm_calls == [PARAMETER]  # the second invocation used the cached key
    assert len(server.requests) == 6
    assert {seen.query["apikey"] for seen in server.requests} == {KEY}
    assert {seen.query["function"] for seen in server.requests} == {"GLOBAL_QUOTE"}
    assert [seen.query["symbol"] for seen in server.requests[:3]] == ["TSLA", "F", "GM"]
    for result in (first, second):
        assert result["published"] is True
        assert [q["currency"] for q in result["quotes"]] == [None] * 3
        assert KEY not in json.dumps(result)
    sent = topic.notifications()
    assert len(sent) == 2
    assert sent[0]["message"]["sms"] == "TSLA 251.30 +3.4% | F 12.01 -0.5% | GM 48.20 +0.1%"
    assert "Quotes from Alpha Vantage" in sent[0]["message"]["email"]
    assert KEY not in capsys.readouterr().out


def test_rate_limit_note_is_retried_once(fn, topic, server, configure, api_key, capsys):
    configure_av(configure)
    av_three(server)
    server.script("F", AV_NOTE, alphavantage("F", 12.01, 12.07))
    server.script("GM", AV_NOTE)  # every answer is a note

    result = fn.handler.handler({}, FakeContext(30_000))

    assert server.count("F") == 2 and server.count("GM") == 2
    assert [q["symbol"] for q in result["quotes"]] == ["TSLA", "F"]
    assert result["failed"] == [{"symbol": "GM", "reason": "rate limited"}]
    assert len(fn.sleeps) == 2
    out = capsys.readouterr().out
    assert KEY not in out
    assert [e["reason"] for e in events(out, "quote_retry")] == ["rate limited"] * 2


def test_information_answer_counts_as_rate_limit(fn, topic, server, configure, api_key):
    configure_av(configure, [{"symbol": "TSLA"}])
    server.script("TSLA", Reply(200, {"Information": "Our standard API rate limit is 25/day."}))

    result = fn.handler.handler({}, FakeContext(30_000))

    assert server.count("TSLA") == 2
    assert result["failed"] == [{"symbol": "TSLA", "reason": "rate limited"}]


def test_unknown_ticker_and_missing_previous_close(fn, topic, server, configure, api_key):
    configure_av(configure, [{"symbol": "NEWCO"}, {"symbol": "NOPE"}])
    server.script("NEWCO", alphavantage("NEWCO", 10.5, None))
    server.script("NOPE", AV_UNKNOWN)

    result = fn.handler.handler({}, FakeContext(30_000))

    assert result["failed"] == [{"symbol": "NOPE", "reason": "unknown symbol"}]
    assert result["quotes"][0]["change_percent"] is None
    assert topic.only()["message"]["sms"] == "NEWCO 10.50 n/a | NOPE n/a"


def test_server_errors_never_leak_the_key(fn, topic, server, configure, api_key, capsys):
    configure_av(configure, [{"symbol": "TSLA"}])
    server.script("TSLA", Reply(502, f"bad gateway for apikey={KEY}"))

    result = fn.handler.handler({}, FakeContext(30_000))

    assert result["failed"] == [{"symbol": "TSLA", "reason": "HTTP 502"}]
    out = capsys.readouterr().out
    assert KEY not in out and KEY not in json.dumps(result)
    assert KEY not in json.dumps(topic.only()["message"])


def test_missing_parameter_name_is_a_clear_configuration_error(fn, topic, configure, capsys):
    configure([{"symbol": "TSLA"}], provider="alphavantage")

    result = fn.handler.handler({}, FakeContext(30_000))

    assert result["published"] is False
    assert "STOCK_ALERT_API_KEY_PARAMETER" in result["reason"]
    assert result["reason"].startswith("configuration error: ")
    assert "STOCK_ALERT_API_KEY_PARAMETER" in events(capsys.readouterr().out, "error")[0]["error"]
    assert topic.notifications() == []


def test_unreadable_parameter_is_reported_with_its_error_code(fn, topic, server, configure):
    configure_av(configure, [{"symbol": "TSLA"}])  # the parameter was never created

    result = fn.handler.handler({}, FakeContext(30_000))

    assert result["published"] is False
    assert result["reason"] == (
        f"configuration error: ssm:GetParameter {PARAMETER} failed: ParameterNotFound"
    )
    assert server.requests == [] and topic.notifications() == []


def test_log_redaction_helpers(fn):
    fn.log.add_secret("hunter2")
    assert fn.log.redact("GET /query?symbol=F&apikey=ABC123&x=1") == (
        "GET /query?symbol=F&apikey=***&x=1"
    )
    assert fn.log.redact("token hunter2 here") == "token *** here"


def test_log_lines_scrub_a_registered_key(fn, capsys):
    fn.log.add_secret(KEY)
    fn.log.event("error", error=f"boom {KEY}", url=f"http://x/query?apikey={KEY}")
    (record,) = log_lines(capsys.readouterr().out)
    assert record["error"] == "boom ***" and record["url"] == "http://x/query?apikey=***"
