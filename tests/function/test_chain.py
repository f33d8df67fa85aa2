"""The chain of quote sources, per symbol: a refusal, an error answer, a timeout or a quote that
fails its sanity checks sends the symbol on to the next source; each source gets its share of
the time left; the message and the log say which source served each quote, and a symbol that
every source failed is named with each source's reason."""

from __future__ import annotations

import time

import boto3
import pytest

from tests.function.conftest import NOW, REGION, FakeContext, events
from tests.function.fake_http import (
    STOOQ_LIMIT,
    YAHOO_UNKNOWN,
    Reply,
    alphavantage,
    stooq,
    stooq_no_data,
    yahoo,
)

CHAIN = "yahoo,stooq"
TOO_MANY = Reply(429, "Too Many Requests", {"Retry-After": "1"})


def test_refused_symbol_is_served_by_the_next_source_and_the_message_names_it(
        fn, topic, server, configure, capsys):
    configure([{"symbol": "TSLA"}, {"symbol": "F"}], provider=CHAIN)
    server.script("TSLA", TOO_MANY, source="yahoo")
    server.script("TSLA", stooq("TSLA", 251.30, 243.00), source="stooq")
    server.script("F", yahoo("F", 12.01, 12.07), source="yahoo")

    result = fn.handler.handler({}, FakeContext(30_000))

    # no retry at a source with another behind it: asking the next source is the retry
    assert server.count("TSLA", "yahoo") == 1 and fn.sleeps == []
    assert server.count("TSLA", "stooq") == 1 and server.count("F", "stooq") == 0
    assert [(q["symbol"], q["source"]) for q in result["quotes"]] == [
        ("TSLA", "stooq"), ("F", "yahoo")]
    tsla = result["quotes"][0]
    assert (tsla["price"], tsla["previous_close"], tsla["session_date"]) == (
        251.3, 243.0, "2023-11-14")
    assert tsla["change_percent"] == pytest.approx(3.4156, abs=1e-3)
    assert result["failed"] == []
    email = topic.only()["message"]["email"]
    assert "Quotes from Yahoo Finance (F) and Stooq (TSLA); change is against" in email
    rows = email.splitlines()[2:5]
    assert rows[1].startswith("TSLA") and rows[1].endswith("2023-11-14  stooq")
    assert rows[2].startswith("F") and rows[2].endswith("UTC  yahoo")
    out = capsys.readouterr().out
    (failed,) = events(out, "source_failed")
    assert (failed["symbol"], failed["source"], failed["reason"], failed["next"]) == (
        "TSLA", "yahoo", "HTTP 429", "stooq")
    assert events(out, "quotes_fetched")[0]["sources"] == {"TSLA": "stooq", "F": "yahoo"}
    assert events(out, "quote_failed") == []


@pytest.mark.parametrize(("first", "reason"), [
    (Reply(403, "Forbidden"), "HTTP 403"),
    (YAHOO_UNKNOWN, "unknown symbol"),
    (Reply(200, {"chart": {"result": None, "error": {"code": "Internal"}}}),
     "provider error Internal"),
    (Reply(503, "busy"), "HTTP 503"),
    (yahoo("TSLA", 251.30, 243.00, regularMarketTime=NOW - 30 * 86_400),
     "stale: last traded 2023-10-15"),
    (yahoo("TSLA", 2513.0, 243.00), "implausible price 2513 against previous close 243"),
    (Reply(200, {"chart": {"result": [{"meta": {
        "symbol": "TSLA.MX", "regularMarketPrice": 251.3, "regularMarketTime": NOW}}]}}),
     "answer for another symbol (TSLA.MX)"),
    (yahoo("TSLA", 251.30, 243.00, regularMarketTime=NOW + 3 * 86_400),
     "trading day 2023-11-17 is in the future"),
])
def test_each_kind_of_failure_asks_the_next_source(fn, topic, server, configure, capsys,
                                                   first, reason):
    configure([{"symbol": "TSLA"}], provider=CHAIN)
    server.script("TSLA", first, source="yahoo")
    server.script("TSLA", stooq("TSLA", 251.30, 243.00), source="stooq")

    result = fn.handler.handler({}, FakeContext(30_000))

    assert result["quotes"][0]["source"] == "stooq" and result["failed"] == []
    assert events(capsys.readouterr().out, "source_failed")[0]["reason"] == reason


def test_timeout_at_the_first_source_asks_the_next(fn, topic, server, configure, env):
    env.setenv("STOCK_ALERT_HTTP_TIMEOUT_S", "0.2")
    configure([{"symbol": "TSLA"}], provider=CHAIN)
    server.script("TSLA", Reply(200, {}, delay=5.0), source="yahoo")
    server.script("TSLA", stooq("TSLA", 251.30, 243.00), source="stooq")

    started = time.monotonic()
    result = fn.handler.handler({}, FakeContext(30_000))

    assert time.monotonic() - started < 1.5
    assert server.count("TSLA", "yahoo") == 1  # not retried: stooq was next
    assert result["quotes"][0]["source"] == "stooq"


def test_every_source_failing_names_the_symbol_with_each_reason(
        fn, topic, server, configure, capsys):
    configure([{"symbol": "TSLA"}, {"symbol": "NOPE"}], provider=CHAIN)
    server.script("TSLA", yahoo("TSLA", 251.30, 243.00), source="yahoo")
    server.script("NOPE", TOO_MANY, source="yahoo")
    server.script("NOPE", stooq_no_data("NOPE"), source="stooq")

    result = fn.handler.handler({}, FakeContext(30_000))  # some symbols quoted: no error

    assert result["failed"] == [{"symbol": "NOPE", "reason": "yahoo: HTTP 429; stooq: no data",
                                 "sources": [{"source": "yahoo", "reason": "HTTP 429"},
                                             {"source": "stooq", "reason": "no data"}]}]
    message = topic.only()["message"]
    assert message["sms"] == "TSLA 251.30 +3.4% | failed: NOPE"
    assert "Not fetched:\n  NOPE: yahoo: HTTP 429; stooq: no data" in message["email"]
    out = capsys.readouterr().out
    assert [(e["symbol"], e["reason"]) for e in events(out, "quote_failed")] == [
        ("NOPE", "yahoo: HTTP 429; stooq: no data")]
    assert events(out, "quotes_fetched")[0]["failed"] == ["NOPE"]
    assert events(out, "error") == []


def test_no_symbol_quoted_by_any_source_fails_the_run_naming_every_reason(
        fn, topic, server, configure):
    configure([{"symbol": "TSLA"}], provider=CHAIN, mode="threshold", change_percent=1.0)
    server.script("TSLA", Reply(403, "Forbidden"), source="yahoo")
    server.script("TSLA", Reply(500, "oops"), source="stooq")

    with pytest.raises(fn.handler.QuotesUnavailable) as raised:
        fn.handler.handler({}, FakeContext(30_000))

    assert str(raised.value) == (
        "no quote fetched for any of 1 symbols: TSLA (yahoo: HTTP 403; stooq: HTTP 500)")
    summary = raised.value.result  # threshold: nothing published; the e-mail text is below
    assert summary["published"] is False
    email = fn.messages.email("s", "summary", ["yahoo", "stooq"], [
        fn.quotes.Failure("TSLA", "yahoo: HTTP 403; stooq: HTTP 500")], [])
    assert "Sources asked, in order: Yahoo Finance, Stooq; change is" in email
    assert server.count("TSLA", "stooq") == 3  # the last source retries what deserves it
    assert topic.notifications() == []


def test_each_source_gets_its_share_of_the_time_left(fn, topic, server, configure, env):
    """1.2 s left for fetching (3.7 s minus the 2.5 s reserve): Yahoo, first of two, may use
    half of it, so Stooq still has time to answer after Yahoo hangs. Without shares Yahoo's
    request (timeout min(3 s, time left)) would use it all."""
    env.setenv("STOCK_ALERT_HTTP_TIMEOUT_S", "3")
    configure([{"symbol": "TSLA"}], provider=CHAIN)
    server.script("TSLA", Reply(200, {}, delay=5.0), source="yahoo")
    server.script("TSLA", stooq("TSLA", 251.30, 243.00), source="stooq")

    started = time.monotonic()
    result = fn.handler.handler({}, FakeContext(3_700))
    elapsed = time.monotonic() - started

    assert result["quotes"][0]["source"] == "stooq"
    assert 0.5 <= elapsed < 1.2  # Yahoo stopped at its share, about 0.6 s


def test_no_request_starts_in_a_share_too_short_to_finish_it(
        fn, topic, server, configure, capsys):
    """0.35 s left for fetching (2.85 s minus the 2.5 s reserve): Yahoo's half, 0.175 s, is
    under a minimal request (0.2 s), so it is not asked at all; Stooq, last, gets all of it."""
    configure([{"symbol": "TSLA"}], provider=CHAIN)
    server.script("TSLA", yahoo("TSLA", 251.30, 243.00), source="yahoo")
    server.script("TSLA", stooq("TSLA", 251.30, 243.00), source="stooq")

    result = fn.handler.handler({}, FakeContext(2_850))

    assert server.count("TSLA", "yahoo") == 0
    assert result["quotes"][0]["source"] == "stooq"
    (skipped,) = events(capsys.readouterr().out, "source_failed")
    assert (skipped["source"], skipped["reason"], skipped["attempts"]) == (
        "yahoo", "no time left", 0)


def test_a_trickling_answer_is_cut_off_at_the_request_timeout(fn, topic, server, configure, env):
    env.setenv("STOCK_ALERT_HTTP_TIMEOUT_S", "0.3")
    configure([{"symbol": "TSLA"}], provider=CHAIN)
    slow = yahoo("TSLA", 251.30, 243.00)  # each byte within the socket timeout, but the whole
    server.script("TSLA", Reply(200, slow.body, trickle=0.05), source="yahoo")  # takes seconds
    server.script("TSLA", stooq("TSLA", 251.30, 243.00), source="stooq")

    started = time.monotonic()
    result = fn.handler.handler({}, FakeContext(30_000))

    assert time.monotonic() - started < 1.0
    assert result["quotes"][0]["source"] == "stooq"


def test_stooq_answer_shapes(fn, topic, server, configure):
    configure([{"symbol": "BRK.B"}, {"symbol": "NEW"}, {"symbol": "ODD"}, {"symbol": "GONE"}],
              provider="stooq")
    server.script("BRK-B", stooq("BRK-B", 412.5, 410.0))
    server.script("NEW", stooq("NEW", 10.5, None))  # no previous close: N/D
    server.script("ODD", Reply(200, "<html>maintenance</html>"))
    server.script("GONE", stooq_no_data("GONE"))

    result = fn.handler.handler({}, FakeContext(30_000))

    assert server.requests[0].query == {"s": "brk-b.us", "f": "sd2t2ohlcvp", "h": "", "e": "csv"}
    brk, new = result["quotes"]
    assert (brk["symbol"], brk["price"], brk["previous_close"], brk["market_time"]) == (
        "BRK.B", 412.5, 410.0, "2023-11-14")
    assert brk["change"] == 2.5 and brk["currency"] is None
    assert (new["previous_close"], new["change_percent"]) == (None, None)
    assert [(f["symbol"], f["reason"]) for f in result["failed"]] == [
        ("ODD", "stooq: malformed response"), ("GONE", "stooq: no data")]


@pytest.mark.parametrize(("symbol", "expected"), [
    ("TSLA", "tsla.us"), ("BRK.B", "brk-b.us"), ("BF-B", "bf-b.us"), ("VOW3.DE", "vow3.de"),
    ("^SPX", "^spx"), ("EURUSD=X", "eurusd=x"),
])
def test_stooq_symbols(fn, symbol, expected):
    assert fn.sources.stooq_symbol(symbol) == expected


def test_stooq_daily_limit_stops_asking_it_and_the_next_source_serves(
        fn, topic, server, configure, capsys):
    configure([{"symbol": "TSLA"}, {"symbol": "F"}], provider="stooq,yahoo")
    server.script("TSLA", STOOQ_LIMIT, source="stooq")
    server.script("TSLA", yahoo("TSLA", 251.30, 243.00), source="yahoo")
    server.script("F", yahoo("F", 12.01, 12.07), source="yahoo")

    result = fn.handler.handler({}, FakeContext(30_000))

    assert [(q["symbol"], q["source"]) for q in result["quotes"]] == [
        ("TSLA", "yahoo"), ("F", "yahoo")]
    assert server.count("TSLA", "stooq") + server.count("F", "stooq") == 1  # asked once only
    out = capsys.readouterr().out
    assert events(out, "quota_exhausted")[0]["source"] == "stooq"
    reasons = {e["symbol"]: e["reason"] for e in events(out, "source_failed")}
    assert sorted(reasons.values()) == ["daily quota used up",
                                        "not requested: daily quota used up"]


def test_keyed_source_anywhere_in_the_chain_has_its_key_read_first(
        fn, topic, server, configure, env):
    configure([{"symbol": "TSLA"}], provider="yahoo,alphavantage", parameter="/t/key")
    server.script("TSLA", yahoo("TSLA", 251.30, 243.00), source="yahoo")

    with pytest.raises(fn.handler.ConfigurationError, match="ParameterNotFound"):
        fn.handler.handler({}, FakeContext(30_000))  # the key was never stored
    assert server.requests == [] and topic.notifications() == []

    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/t/key", Value="k-123", Type="SecureString")
    server.script("TSLA", TOO_MANY, source="yahoo")
    server.script("TSLA", alphavantage("TSLA", 251.30, 243.00), source="alphavantage")

    result = fn.handler.handler({}, FakeContext(30_000))

    assert result["quotes"][0]["source"] == "alphavantage"
    assert server.requests[-1].query["apikey"] == "k-123"
    assert "Quotes from Alpha Vantage (TSLA)" in topic.only()["message"]["email"]
