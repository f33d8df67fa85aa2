"""The handler against a scripted Yahoo chart server on 127.0.0.1 and moto's SNS."""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.function.conftest import EMAIL, PHONE, FakeContext, events, log_lines
from tests.function.fake_http import YAHOO_UNKNOWN, Reply, yahoo

THREE = [
    {"symbol": "TSLA", "name": "Tesla"},
    {"symbol": "F", "name": "Ford"},
    {"symbol": "GM", "name": "General Motors"},
]


def at_yahoo(symbol: str, reason: str) -> dict:
    """A symbol that failed at its only source, Yahoo, as the result lists it."""
    return {"symbol": symbol, "reason": f"yahoo: {reason}",
            "sources": [{"source": "yahoo", "reason": reason}]}


def script_three(server, tsla: Reply | None = None) -> None:
    server.script("TSLA", tsla or yahoo("TSLA", 251.30, 243.00))
    server.script("F", yahoo("F", 12.01, 12.07))
    server.script("GM", yahoo("GM", 48.20, 48.15))


def test_summary_publishes_one_message_with_sms_email_and_attributes(
    fn, topic, server, configure, capsys
):
    configure(THREE)
    script_three(server)

    result = fn.handler.handler({}, FakeContext(30_000))

    sent = topic.only()
    sms, email = sent["message"]["sms"], sent["message"]["email"]
    assert sms == "TSLA 251.30 +3.4% | F 12.01 -0.5% | GM 48.20 +0.1%"
    assert fn.messages.septets(sms) <= 160
    assert sent["subject"] == "stock-alert: TSLA +3.4%, F -0.5%, GM +0.1%"
    assert sent["message"]["default"] == email
    assert sent["attributes"]["AWS.SNS.SMS.SMSType"]["Value"] == "Transactional"
    table = email.splitlines()[2:6]
    assert table == [
        "SYMBOL  NAME             PRICE  CHANGE  CHANGE %           MARKET TIME  SOURCE",
        "TSLA    Tesla           251.30   +8.30    +3.42%  2023-11-14 22:13 UTC  yahoo",
        "F       Ford             12.01   -0.06    -0.50%  2023-11-14 22:13 UTC  yahoo",
        "GM      General Motors   48.20   +0.05    +0.10%  2023-11-14 22:13 UTC  yahoo",
    ]
    assert "Quotes from Yahoo Finance (TSLA, F, GM); change is against" in email
    assert email.startswith("stock-alert summary for stack test-stack at ")
    assert "Not fetched" not in email and "Alerts fired" not in email

    assert result["published"] is True and result["reason"] is None
    assert result["message_id"] == sent["id"]
    assert result["message"] == {"sms": sms, "email_subject": sent["subject"], "email": email}
    assert PHONE not in json.dumps(result) and EMAIL not in json.dumps(result)
    assert result["stack"] == "test-stack"
    assert result["failed"] == [] and result["rules_fired"] == []
    tsla = result["quotes"][0]
    assert tsla == {
        "symbol": "TSLA",
        "name": "Tesla",
        "price": 251.3,
        "previous_close": 243.0,
        "change": pytest.approx(8.3),
        "change_percent": pytest.approx(3.4156, abs=1e-3),
        "currency": "USD",
        "market_time": "2023-11-14T22:13:20Z",  # regularMarketTime 1_700_000_000
        "source": "yahoo",
        "session_date": "2023-11-14",  # in New York: no gmtoffset in the answer
        "utc_offset_s": None,
    }
    assert result["market_closed"] is False and result["last_session"] is None
    assert [q["symbol"] for q in result["quotes"]] == ["TSLA", "F", "GM"]

    first = server.requests[0]
    assert first.query == {"range": "1d", "interval": "1d"}
    assert first.headers["User-Agent"].startswith("Mozilla/5.0")
    assert len(server.requests) == 3

    out = capsys.readouterr().out
    fetched = events(out, "quotes_fetched")
    assert fetched[0]["fetched"] == ["TSLA", "F", "GM"] and fetched[0]["failed"] == []
    assert fetched[0]["providers"] == ["yahoo"]
    assert fetched[0]["sources"] == {"TSLA": "yahoo", "F": "yahoo", "GM": "yahoo"}
    assert events(out, "published")[0]["message_id"] == sent["id"]
    assert PHONE not in out and EMAIL not in out


def test_missing_previous_close_shows_na_and_change_rule_does_not_fire(
    fn, topic, server, configure
):
    configure([{"symbol": "TSLA", "name": "Tesla"}], mode="threshold", change_percent=0.1)
    server.script("TSLA", yahoo("TSLA", 251.30, None, marketState="CLOSED"))

    result = fn.handler.handler({}, FakeContext(30_000))

    quote = result["quotes"][0]
    assert quote["price"] == 251.3
    assert quote["previous_close"] is None
    assert quote["change"] is None and quote["change_percent"] is None
    assert result["published"] is False and result["reason"] == "no rule fired"
    assert topic.notifications() == []

    configure([{"symbol": "TSLA", "name": "Tesla"}])
    fn.handler.handler({}, FakeContext(30_000))
    sent = topic.only()
    assert sent["message"]["sms"] == "TSLA 251.30 n/a"
    assert "TSLA    Tesla  251.30     n/a       n/a" in sent["message"]["email"]


@pytest.mark.parametrize(("retry_after", "expected_sleep"), [("1", 1.0), ("30", 2.0)])
def test_http_429_is_retried_honouring_capped_retry_after(
    fn, topic, server, configure, capsys, retry_after, expected_sleep
):
    configure([{"symbol": "TSLA"}])
    busy = Reply(429, "Too Many Requests", {"Retry-After": retry_after})
    server.script("TSLA", busy, yahoo("TSLA", 251.30, 243.00))

    result = fn.handler.handler({}, FakeContext(30_000))

    assert server.count("TSLA") == 2
    assert fn.sleeps == [expected_sleep]
    assert result["failed"] == [] and result["quotes"][0]["price"] == 251.3
    retry = events(capsys.readouterr().out, "quote_retry")
    assert retry[0]["symbol"] == "TSLA" and retry[0]["reason"] == "HTTP 429"


def test_http_500_retries_twice_then_reports_and_publishes_the_other_two(
    fn, topic, server, configure, capsys
):
    configure(THREE)
    script_three(server, tsla=Reply(500, "oops"))

    result = fn.handler.handler({}, FakeContext(30_000))

    assert server.count("TSLA") == 3  # one attempt + two retries
    assert len(fn.sleeps) == 2 and all(0 < s <= 2.0 for s in fn.sleeps)
    assert result["failed"] == [at_yahoo("TSLA", "HTTP 500")]
    assert [q["symbol"] for q in result["quotes"]] == ["F", "GM"]
    assert result["published"] is True
    message = topic.only()["message"]
    assert message["sms"] == "F 12.01 -0.5% | GM 48.20 +0.1% | failed: TSLA"
    assert "Not fetched:\n  TSLA: yahoo: HTTP 500" in message["email"]
    out = capsys.readouterr().out
    failed = events(out, "source_failed")
    assert failed == [
        {
            "event": "source_failed",
            "ts": failed[0]["ts"],
            "symbol": "TSLA",
            "source": "yahoo",
            "reason": "HTTP 500",
            "attempts": 3,
            "next": None,
        }
    ]
    assert [(e["symbol"], e["reason"]) for e in events(out, "quote_failed")] == [
        ("TSLA", "yahoo: HTTP 500")]


def test_malformed_json_fails_that_ticker_without_retry(fn, topic, server, configure):
    configure(THREE)
    script_three(server, tsla=Reply(200, '{"chart": {"result": [{"meta": '))

    result = fn.handler.handler({}, FakeContext(30_000))

    assert server.count("TSLA") == 1
    assert result["failed"] == [at_yahoo("TSLA", "malformed JSON")]
    assert len(result["quotes"]) == 2 and result["published"] is True


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"chart": {"result": [{"meta": {}}], "error": None}}, "no price"),
        ({"chart": {"result": [{"meta": {"regularMarketPrice": "x"}}]}}, "no price"),
        ({"chart": {"result": ["oops"], "error": None}}, "malformed response"),
        ({"chart": []}, "malformed response"),
        ([1, 2, 3], "malformed response"),
        (
            {"chart": {"result": None, "error": {"code": "Bad Request"}}},
            "provider error Bad Request",
        ),
    ],
)
def test_unexpected_json_shapes_fail_that_ticker_only(fn, topic, server, configure, body, reason):
    configure([{"symbol": "TSLA"}, {"symbol": "F"}])
    server.script("TSLA", Reply(200, body))
    server.script("F", yahoo("F", 12.01, 12.07))

    result = fn.handler.handler({}, FakeContext(30_000))

    assert result["failed"] == [{"symbol": "TSLA", "reason": f"yahoo: {reason}",
                                 "sources": [{"source": "yahoo", "reason": reason}]}]
    assert [q["symbol"] for q in result["quotes"]] == ["F"]


def test_timeout_is_retried_then_reported_quickly(fn, topic, server, configure, env):
    env.setenv("STOCK_ALERT_HTTP_TIMEOUT_S", "0.2")
    configure(THREE)
    script_three(server, tsla=Reply(200, {}, delay=5.0))

    started = time.monotonic()
    result = fn.handler.handler({}, FakeContext(30_000))
    elapsed = time.monotonic() - started

    assert server.count("TSLA") == 3
    assert result["failed"] == [at_yahoo("TSLA", "timeout")]
    assert [q["symbol"] for q in result["quotes"]] == ["F", "GM"]
    assert 0.6 <= elapsed < 2.0
    assert topic.only()["message"]["sms"] == "F 12.01 -0.5% | GM 48.20 +0.1% | failed: TSLA"


def test_unknown_ticker_is_reported_without_retry(fn, topic, server, configure):
    configure([{"symbol": "TSLA"}, {"symbol": "NOPE"}])
    server.script("TSLA", yahoo("TSLA", 251.30, 243.00))
    server.script("NOPE", YAHOO_UNKNOWN)

    result = fn.handler.handler({}, FakeContext(30_000))

    assert server.count("NOPE") == 1
    assert result["failed"] == [at_yahoo("NOPE", "unknown symbol")]
    assert topic.only()["message"]["sms"] == "TSLA 251.30 +3.4% | failed: NOPE"


def closed_port_url() -> str:
    with socket.socket() as probe:  # a port that is closed: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_no_quote_at_all_publishes_in_summary_mode_then_fails(fn, topic, configure, env, capsys):
    env.setenv("STOCK_ALERT_QUOTES_BASE_URL", closed_port_url())
    configure([{"symbol": "TSLA"}, {"symbol": "F"}])

    with pytest.raises(fn.handler.QuotesUnavailable) as raised:
        fn.handler.handler({}, FakeContext(30_000))

    assert str(raised.value) == (
        "no quote fetched for any of 2 symbols: TSLA (yahoo: connection error), "
        "F (yahoo: connection error)"
    )
    result = raised.value.result
    assert result["quotes"] == [] and result["published"] is True
    assert {f["reason"] for f in result["failed"]} == {"yahoo: connection error"}
    sent = topic.only()
    assert sent["subject"] == "stock-alert: could not fetch any quote"
    assert sent["message"]["sms"] == (
        "stock-alert: no quote fetched: TSLA (yahoo: connection error), "
        "F (yahoo: connection error)"
    )
    out = capsys.readouterr().out
    assert [e["event"] for e in log_lines(out)][-2:] == ["published", "error"]
    error = events(out, "error")[0]
    assert error["published"] is True
    assert error["failed"] == [
        {"symbol": "TSLA", "reason": "yahoo: connection error",
         "sources": [{"source": "yahoo", "reason": "connection error"}]},
        {"symbol": "F", "reason": "yahoo: connection error",
         "sources": [{"source": "yahoo", "reason": "connection error"}]},
    ]


def test_exhausted_budget_fetches_nothing_publishes_then_fails(fn, topic, server, configure):
    configure(THREE)
    script_three(server)

    with pytest.raises(
        fn.handler.QuotesUnavailable, match=r"TSLA \(yahoo: no time left\), F \("
    ) as raised:
        fn.handler.handler({}, FakeContext(2_000))  # less than the 2.5 s reserve

    result = raised.value.result
    assert server.requests == []
    assert [f["reason"] for f in result["failed"]] == ["yahoo: no time left"] * 3
    assert result["published"] is True
    assert topic.only()["message"]["sms"].startswith(
        "stock-alert: no quote fetched: TSLA (yahoo: no time")


def test_slow_ticker_is_cut_off_by_the_budget_not_the_timeout(fn, topic, server, configure, env):
    env.setenv("STOCK_ALERT_HTTP_TIMEOUT_S", "3")
    configure(THREE)
    script_three(server, tsla=Reply(200, {}, delay=5.0))

    started = time.monotonic()
    result = fn.handler.handler({}, FakeContext(3_300))  # 0.8 s left for fetching
    elapsed = time.monotonic() - started

    assert elapsed < 2.0  # neither the 3 s timeout nor its retries ran
    assert server.count("TSLA") == 1
    assert result["failed"] == [at_yahoo("TSLA", "timeout")]
    assert [q["symbol"] for q in result["quotes"]] == ["F", "GM"]
    assert result["published"] is True


def test_every_log_line_is_json_with_known_events(fn, topic, server, configure, capsys):
    configure(THREE)
    script_three(server, tsla=Reply(503, "down"))

    fn.handler.handler({}, FakeContext(30_000))

    names = {r["event"] for r in log_lines(capsys.readouterr().out)}
    assert names == {"quote_retry", "source_failed", "quote_failed", "quotes_fetched", "published"}


def test_publish_failure_is_logged_and_raised(fn, topic, server, configure, env, capsys):
    configure([{"symbol": "TSLA"}])
    server.script("TSLA", yahoo("TSLA", 251.30, 243.00))
    env.setenv("STOCK_ALERT_TOPIC_ARN", topic.arn + "-missing")

    with pytest.raises(fn.aws.AwsError, match="sns:Publish failed: NotFound"):
        fn.handler.handler({}, FakeContext(30_000))

    assert events(capsys.readouterr().out, "error")[0]["error"].startswith("sns:Publish failed")


@pytest.mark.parametrize(
    ("market_time", "expected"),
    [
        (1_699_995_600, "2023-11-14T21:00:00Z"),
        (1_699_995_600.9, "2023-11-14T21:00:00Z"),
        ("x", None),
        (None, None),
        (-5, None),
        (10**13, None),  # milliseconds by mistake, or garbage: not a market time
    ],
)
def test_regular_market_time_is_the_quote_market_time(
    fn, topic, server, configure, market_time, expected
):
    configure([{"symbol": "TSLA"}])
    server.script("TSLA", yahoo("TSLA", 251.30, 243.00, regularMarketTime=market_time))

    result = fn.handler.handler({}, FakeContext(30_000))

    assert result["quotes"][0]["market_time"] == expected
