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
    assert result["failed"] == [
        {"symbol": "GM", "reason": "alphavantage: rate limited",
         "sources": [{"source": "alphavantage", "reason": "rate limited"}]}]
    assert len(fn.sleeps) == 2
    out = capsys.readouterr().out
    assert KEY not in out
    assert [e["reason"] for e in events(out, "quote_retry")] == ["rate limited"] * 2


# Alpha Vantage answers its limits with HTTP 200 and a text, never with 429. Sources:
# - the daily quota of a free key is 25 requests: https://www.alphavantage.co/support/#api-key,
#   home-assistant/core#109153 ("Alpha Vantage API rate exceeded on free tier", 2024-01), and
#   finance-quote/finance-quote#363 ("There is a daily limit of 25 queries per day", 2024-03);
#   the answer is {"Information": "Thank you for using Alpha Vantage! Our standard API rate limit
#   is 25 requests per day. Please subscribe to any of the premium plans at
#   https://www.alphavantage.co/premium/ to instantly remove all daily rate limits."}; a variant
#   names the key: "We have detected your API key as ... and our standard API rate limit is 25
#   requests per day" (TauricResearch/TradingAgents#991: rate-limit notices mention "API key");
# - the burst notice also uses "Information" and ALSO names the daily limit, so it must not count
#   as the daily quota: beancount/beanprice#124 (2025-12, "Please consider spreading out your
#   free API requests more sparingly ... (25 requests per day)");
# - the per-minute notice uses "Note": finance-quote/finance-quote#104 and
#   RomelTorres/alpha_vantage#125 ("Our standard API call frequency is 5 calls per minute and
#   500 calls per day").
DAILY = (
    "Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day. "
    "Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to "
    "instantly remove all daily rate limits."
)
BURST = (
    "Thank you for using Alpha Vantage! Please consider spreading out your free API requests "
    "more sparingly. You may subscribe to any of the premium plans at "
    "https://www.alphavantage.co/premium/ to lift the free key rate limit (25 requests per day) "
    "and instantly unlock all premium endpoints"
)
AV_DAILY = Reply(200, {"Information": DAILY})


@pytest.mark.parametrize(
    ("body", "reason", "retries", "stop_run"),
    [
        ({"Information": DAILY}, "daily quota used up", 0, True),
        (
            {
                "Information": f"We have detected your API key as {KEY} and our standard API rate "
                "limit is 25 requests per day."
            },
            "daily quota used up",
            0,
            True,
        ),
        ({"Information": "Our standard API rate limit is 25/day."}, "daily quota used up", 0, True),
        ({"Information": BURST}, "rate limited", 1, False),
        (AV_NOTE.body, "rate limited", 1, False),
        ({"Information": "The demo API key is for demo purposes only."}, "rate limited", 1, False),
        ({"Global Quote": {}}, None, None, None),
    ],
)
def test_limit_answers_are_classified(fn, body, reason, retries, stop_run):
    error = fn.sources.limit_error(body)

    if reason is None:
        assert error is None
        return
    assert (error.reason, error.retries, error.stop_run) == (reason, retries, stop_run)
    assert error.detail == next(iter(body.values()))[:300]


def test_information_answer_about_the_daily_quota_is_not_retried(
    fn, topic, server, configure, api_key
):
    configure_av(configure, [{"symbol": "TSLA"}, {"symbol": "F"}])
    server.script("TSLA", alphavantage("TSLA", 251.30, 243.00))
    server.script("F", Reply(200, {"Information": "Our standard API rate limit is 25/day."}))

    result = fn.handler.handler({}, FakeContext(30_000))

    assert server.count("F") == 1 and fn.sleeps == []
    assert result["failed"] == [
        {"symbol": "F", "reason": "alphavantage: daily quota used up",
         "sources": [{"source": "alphavantage", "reason": "daily quota used up"}]}]


def test_daily_quota_stops_asking_for_the_remaining_symbols(
    fn, topic, server, configure, api_key, capsys
):
    configure_av(configure)
    av_three(server)
    server.script("F", AV_DAILY)

    result = fn.handler.handler({}, FakeContext(30_000))

    assert [seen.symbol for seen in server.requests] == ["TSLA", "F"]  # GM never asked
    assert fn.sleeps == []  # and F not retried
    assert [q["symbol"] for q in result["quotes"]] == ["TSLA"]
    assert [(f["symbol"], f["reason"]) for f in result["failed"]] == [
        ("F", "alphavantage: daily quota used up"),
        ("GM", "alphavantage: not requested: daily quota used up"),
    ]
    out = capsys.readouterr().out
    (exhausted,) = events(out, "quota_exhausted")
    assert exhausted["symbol"] == "F" and exhausted["reason"] == "daily quota used up"
    assert "25 requests per day" in exhausted["detail"]
    skipped = [e for e in events(out, "source_failed") if e["symbol"] == "GM"]
    assert skipped[0]["attempts"] == 0
    message = topic.only()["message"]
    assert message["sms"] == "TSLA 251.30 +3.4% | failed: F, GM (daily quota used up)"
    assert "  GM: alphavantage: not requested: daily quota used up" in message["email"]
    assert "The Alpha Vantage daily request quota is used up" in message["email"]


def test_burst_notice_is_retried_and_does_not_stop_the_run(fn, topic, server, configure, api_key):
    configure_av(configure)
    av_three(server)
    server.script("F", Reply(200, {"Information": BURST}), alphavantage("F", 12.01, 12.07))

    result = fn.handler.handler({}, FakeContext(30_000))

    assert server.count("F") == 2 and server.count("GM") == 1
    assert result["failed"] == []


def test_key_named_in_the_quota_answer_never_leaks(fn, topic, server, configure, api_key, capsys):
    configure_av(configure, [{"symbol": "TSLA"}, {"symbol": "F"}])
    server.script("TSLA", alphavantage("TSLA", 251.30, 243.00))
    text = f"We have detected your API key as {KEY} and our standard API rate limit is 25 per day."
    server.script("F", Reply(200, {"Information": text}))

    result = fn.handler.handler({}, FakeContext(30_000))

    assert result["failed"] == [
        {"symbol": "F", "reason": "alphavantage: daily quota used up",
         "sources": [{"source": "alphavantage", "reason": "daily quota used up"}]}]
    out = capsys.readouterr().out
    assert "detected your API key as ***" in events(out, "quota_exhausted")[0]["detail"]
    assert KEY not in out and KEY not in json.dumps(result)
    assert KEY not in json.dumps(topic.only())


def test_latest_trading_day_is_the_quote_market_time(fn, topic, server, configure, api_key):
    configure_av(configure, [{"symbol": "TSLA"}, {"symbol": "F"}])
    server.script("TSLA", alphavantage("TSLA", 251.30, 243.00))  # "07. latest trading day"
    bad = alphavantage("F", 12.01, 12.07)
    bad.body["Global Quote"]["07. latest trading day"] = "yesterday"
    server.script("F", bad)

    result = fn.handler.handler({}, FakeContext(30_000))

    assert [q["market_time"] for q in result["quotes"]] == ["2023-11-14", None]
    assert [q["session_date"] for q in result["quotes"]] == ["2023-11-14", None]


def test_unknown_ticker_and_missing_previous_close(fn, topic, server, configure, api_key):
    configure_av(configure, [{"symbol": "NEWCO"}, {"symbol": "NOPE"}])
    server.script("NEWCO", alphavantage("NEWCO", 10.5, None))
    server.script("NOPE", AV_UNKNOWN)

    result = fn.handler.handler({}, FakeContext(30_000))

    assert result["failed"] == [
        {"symbol": "NOPE", "reason": "alphavantage: unknown symbol",
         "sources": [{"source": "alphavantage", "reason": "unknown symbol"}]}]
    assert result["quotes"][0]["change_percent"] is None
    assert topic.only()["message"]["sms"] == "NEWCO 10.50 n/a | failed: NOPE"


def test_server_errors_never_leak_the_key(fn, topic, server, configure, api_key, capsys):
    configure_av(configure, [{"symbol": "TSLA"}])
    server.script("TSLA", Reply(502, f"bad gateway for apikey={KEY}"))

    with pytest.raises(fn.handler.QuotesUnavailable) as raised:  # the only quote failed
        fn.handler.handler({}, FakeContext(30_000))

    result = raised.value.result
    assert result["failed"] == [
        {"symbol": "TSLA", "reason": "alphavantage: HTTP 502",
         "sources": [{"source": "alphavantage", "reason": "HTTP 502"}]}]
    out = capsys.readouterr().out
    assert KEY not in out and KEY not in json.dumps(result) and KEY not in str(raised.value)
    assert KEY not in json.dumps(topic.only()["message"])


def test_missing_parameter_name_is_a_clear_configuration_error(fn, topic, configure, capsys):
    configure([{"symbol": "TSLA"}], provider="alphavantage")

    with pytest.raises(fn.handler.ConfigurationError) as raised:
        fn.handler.handler({}, FakeContext(30_000))

    assert "STOCK_ALERT_API_KEY_PARAMETER" in str(raised.value)
    assert str(raised.value).startswith("configuration error: ")
    assert str(raised.value).endswith("fix: run 'stock-alert up' to redeploy the function's "
                                      "settings")
    assert events(capsys.readouterr().out, "error")[0]["error"] == str(raised.value)
    assert topic.notifications() == []


def test_unreadable_parameter_is_reported_with_its_error_code(fn, topic, server, configure):
    configure_av(configure, [{"symbol": "TSLA"}])  # the parameter was never created

    # Raised, not returned: on Lambda a return is a success, so no error metric, no retry, no
    # on-failure message would ever say that nothing is sent (issue 21, item 1).
    with pytest.raises(fn.handler.ConfigurationError) as raised:
        fn.handler.handler({}, FakeContext(30_000))

    assert str(raised.value) == (
        f"configuration error: ssm:GetParameter {PARAMETER} failed: ParameterNotFound; "
        "fix: store the API key with 'stock-alert secret set'"
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


def test_quota_used_up_before_any_quote_fails_the_run(
    fn, topic, server, configure, api_key, capsys
):
    configure_av(configure, mode="threshold", change_percent=1.0)
    server.script("TSLA", AV_DAILY)

    with pytest.raises(fn.handler.QuotesUnavailable) as raised:
        fn.handler.handler({}, FakeContext(30_000))

    assert str(raised.value) == (
        "no quote fetched for any of 3 symbols: TSLA (alphavantage: daily quota used up), "
        "F (alphavantage: not requested: daily quota used up), "
        "GM (alphavantage: not requested: daily quota used up)"
    )
    assert [seen.symbol for seen in server.requests] == ["TSLA"]
    assert topic.notifications() == []
    out = capsys.readouterr().out
    assert events(out, "quota_exhausted")[0]["symbol"] == "TSLA"
    assert [f["symbol"] for f in events(out, "error")[0]["failed"]] == ["TSLA", "F", "GM"]
