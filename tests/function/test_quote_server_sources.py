"""The local quote server's Stooq answers (CSV, the N/D row, several symbols), the refusals it
can be told to give per source, and a closed market (--last-session); the handler's chain
falling back against it, as the demo runs it."""

from __future__ import annotations

import calendar
import json
import time
import urllib.error
import urllib.request

import pytest

from provision.local import quote_server
from provision.local.quote_server import QuoteServer, check_session, parse_refusal
from tests.function.conftest import FakeContext, events


@pytest.fixture(autouse=True)
def patient_requests(env: pytest.MonkeyPatch) -> None:
    """The local quote server answers at once, but a loaded test machine can hold its thread
    past the function's 3 s request timeout (seen: 'timeout' next to the expected 'HTTP 429');
    these tests are about the answers' shapes, not the timeout."""
    env.setenv("STOCK_ALERT_HTTP_TIMEOUT_S", "20")

STOOQ = "/q/l/?f=sd2t2ohlcvp&h&e=csv&s="


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_stooq_shape_matches_yahoo_prices_and_has_the_previous_close(env):
    with QuoteServer(prices={"TSLA": (310.0, 298.0769)}) as server:
        status, text = fetch(server.url + STOOQ + "tsla.us")
        meta = json.loads(fetch(f"{server.url}/v8/finance/chart/TSLA")[1])[
            "chart"]["result"][0]["meta"]
    assert status == 200 and text.endswith("\r\n")
    header, row = text.splitlines()
    assert header == "Symbol,Date,Time,Open,High,Low,Close,Volume,Prev"
    fields = dict(zip(header.split(","), row.split(","), strict=True))
    assert fields["Symbol"] == "TSLA.US" and fields["Close"] == "310"
    assert fields["Prev"] == "298.077" and float(fields["Prev"]) == pytest.approx(298.0769, 1e-5)
    assert (meta["regularMarketPrice"], meta["previousClose"]) == (310.0, 298.0769)
    assert fields["Date"] == time.strftime("%Y-%m-%d", time.gmtime(
        meta["regularMarketTime"] + meta["gmtoffset"]))  # New York's day, as Yahoo's
    assert meta["gmtoffset"] in (-18000, -14400) and len(fields["Time"]) == 8


def test_stooq_no_data_row_fields_and_several_symbols(env):
    with QuoteServer(unknown={"GONE"}) as server:
        _, text = fetch(server.url + "/q/l/?s=gone.us+f.us&f=sd2c&h&e=csv")
        _, bare = fetch(server.url + "/q/l/?s=xunknown.us&f=sd2t2ohlcvp&e=csv")
    header, gone, ford = text.splitlines()
    assert header == "Symbol,Date,Close"
    assert gone == "GONE.US,N/D,N/D"
    assert ford.startswith("F.US,") and float(ford.rsplit(",", 1)[1]) > 0
    assert bare == "XUNKNOWN.US" + ",N/D" * 8 + "\r\n"  # no header without h


@pytest.mark.parametrize(("refusal", "path", "status", "text"), [
    ({"yahoo": 429}, "/v8/finance/chart/TSLA", 429, "Too Many Requests"),
    ({"yahoo": 403}, "/v8/finance/chart/TSLA", 403, "Forbidden"),
    ({"yahoo": "quota"}, "/v8/finance/chart/TSLA", 429, "Too Many Requests"),
    ({"stooq": 503}, STOOQ + "tsla.us", 503, "Service Unavailable"),
    ({"stooq": "quota"}, STOOQ + "tsla.us", 200, "Exceeded the daily hits limit"),
    ({"alphavantage": "quota"}, "/query?function=GLOBAL_QUOTE&symbol=F&apikey=k", 200,
     "25 requests per day"),
])
def test_a_source_can_be_told_to_refuse(env, refusal, path, status, text):
    with QuoteServer(refuse=refusal) as server:
        answer = fetch(server.url + path)
        other = fetch(server.url + (STOOQ + "tsla.us" if "chart" in path else
                                    "/v8/finance/chart/TSLA"))
        asked = server.asked(next(iter(refusal)))
    assert answer[0] == status and text in answer[1]
    assert other[0] == 200  # only the named source refuses
    assert asked == 1


def test_last_session_prices_every_source_at_that_close(env):
    with QuoteServer(last_session="2026-11-25") as server:  # the day before Thanksgiving
        meta = json.loads(fetch(f"{server.url}/v8/finance/chart/F")[1])[
            "chart"]["result"][0]["meta"]
        _, csv_text = fetch(server.url + STOOQ + "f.us")
        av = json.loads(fetch(f"{server.url}/query?function=GLOBAL_QUOTE&symbol=F&apikey=k")[1])
    assert time.gmtime(meta["regularMarketTime"])[:5] == (2026, 11, 25, 21, 0)  # 16:00 EST
    assert meta["gmtoffset"] == -18000
    assert csv_text.splitlines()[1].split(",")[1:3] == ["2026-11-25", "22:00:00"]  # Warsaw
    assert av["Global Quote"]["07. latest trading day"] == "2026-11-25"


@pytest.mark.parametrize(("text", "expected"), [
    ("yahoo", ("yahoo", 429)), ("Stooq=403", ("stooq", 403)),
    ("alphavantage=quota", ("alphavantage", "quota")),
])
def test_parse_refusal(text, expected):
    assert parse_refusal(text) == expected


@pytest.mark.parametrize(("text", "words"), [
    ("google", "one of yahoo, stooq, alphavantage"), ("yahoo=200", "from 400 to 599"),
    ("yahoo=soon", "or 'quota'"),
])
def test_parse_refusal_names_the_bad_value(text, words):
    with pytest.raises(ValueError) as caught:
        parse_refusal(text)
    assert repr(text) in str(caught.value) and words in str(caught.value)


def test_check_session():
    assert check_session("2026-11-26") == "2026-11-26"
    for bad in ("2026-02-30", "tomorrow", "2026-1-2"):
        with pytest.raises(ValueError, match="is not a day like 2026-11-26"):
            check_session(bad)


def test_command_line_refusal_error_exits_2(capsys):
    with pytest.raises(SystemExit) as ended:
        quote_server.main(["--refuse", "google"])
    assert ended.value.code == 2
    assert "--refuse 'google': the source must be one of" in capsys.readouterr().err


def test_handler_falls_back_when_the_quote_server_refuses_yahoo(
        fn, topic, configure, env, capsys):
    fn.market.now = time.time  # the quote server prices on the real clock
    configure([{"symbol": "TSLA"}, {"symbol": "F"}], provider="yahoo,stooq")
    with QuoteServer(refuse={"yahoo": 429}) as server:
        env.setenv("STOCK_ALERT_QUOTES_BASE_URL", server.url)
        result = fn.handler.handler({}, FakeContext(30_000))
        asked = (server.asked("yahoo"), server.asked("stooq"))

    assert asked == (2, 2)
    assert [q["source"] for q in result["quotes"]] == ["stooq", "stooq"]
    assert "Quotes from Stooq (TSLA, F)" in topic.only()["message"]["email"]
    assert {e["reason"] for e in events(capsys.readouterr().out, "source_failed")} == {
        "HTTP 429"}


def test_handler_on_a_closed_market_from_the_quote_server(fn, topic, configure, env):
    fn.market.now = lambda: calendar.timegm((2026, 11, 26, 17, 0, 0))  # Thanksgiving, noon
    configure([{"symbol": "TSLA"}], provider="stooq")
    with QuoteServer(last_session="2026-11-25") as server:
        env.setenv("STOCK_ALERT_QUOTES_BASE_URL", server.url)
        result = fn.handler.handler({}, FakeContext(30_000))

    assert result["market_closed"] is True and result["last_session"] == "2026-11-25"
    assert topic.only()["message"]["sms"].startswith("Market closed, last session 2026-11-25 | ")
