"""The local quote server: both providers' response shapes, unknown tickers, determinism, and the
handler running end to end against it (the offline demo path)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest

from provision.local.quote_server import QuoteServer, parse_price
from tests.function.conftest import REGION, FakeContext


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_yahoo_shape(env):
    with QuoteServer(seed=1) as server:
        status, body = get(f"{server.url}/v8/finance/chart/TSLA?range=1d&interval=1d")
    assert status == 200 and body["chart"]["error"] is None
    meta = body["chart"]["result"][0]["meta"]
    assert meta["symbol"] == "TSLA" and meta["currency"] == "USD"
    assert isinstance(meta["regularMarketPrice"], float) and meta["regularMarketPrice"] > 0
    assert meta["chartPreviousClose"] == meta["previousClose"] > 0
    assert isinstance(meta["regularMarketTime"], int)


def test_unknown_tickers_answer_like_the_providers(env):
    with QuoteServer(unknown={"gone"}, api_key="k") as server:
        assert get(f"{server.url}/v8/finance/chart/XUNKNOWN") == (
            404,
            {
                "chart": {
                    "result": None,
                    "error": {
                        "code": "Not Found",
                        "description": "No data found, symbol may be delisted",
                    },
                }
            },
        )
        assert get(f"{server.url}/v8/finance/chart/GONE")[0] == 404
        query = f"{server.url}/query?function=GLOBAL_QUOTE&apikey=k&symbol="
        assert get(query + "GONE") == (200, {"Global Quote": {}})
        assert server.hits == 3


def test_alphavantage_shape_and_key_check(env):
    with QuoteServer(api_key="right") as server:
        base = f"{server.url}/query?function=GLOBAL_QUOTE&symbol=F"
        status, body = get(base + "&apikey=right")
        assert "Error Message" in get(base + "&apikey=wrong")[1]
        assert "Error Message" in get(base)[1]
    quote = body["Global Quote"]
    assert status == 200 and quote["01. symbol"] == "F"
    price, previous = float(quote["05. price"]), float(quote["08. previous close"])
    assert float(quote["09. change"]) == pytest.approx(price - previous, abs=1e-4)
    assert quote["10. change percent"].endswith("%")


def test_prices_are_a_seeded_walk(env):
    def walk(seed: int) -> list[float]:
        with QuoteServer(seed=seed) as server:
            url = f"{server.url}/v8/finance/chart/AAPL"
            return [
                get(url)[1]["chart"]["result"][0]["meta"]["regularMarketPrice"] for _ in range(4)
            ]

    assert walk(7) == walk(7)
    assert walk(7) != walk(8)
    assert len(set(walk(7))) > 1


def test_server_is_quiet_and_stops(env, capfd):
    server = QuoteServer().start()
    url = server.url
    get(f"{url}/v8/finance/chart/F")
    server.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{url}/v8/finance/chart/F", timeout=1)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize("provider", ["yahoo", "alphavantage"])
def test_handler_end_to_end_against_quote_server(fn, topic, configure, env, provider):
    parameter = None
    if provider == "alphavantage":
        parameter = "/demo/key"
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name=parameter, Value="demo-key", Type="SecureString"
        )
    configure(
        [{"symbol": "TSLA", "name": "Tesla"}, {"symbol": "F"}, {"symbol": "BADUNKNOWN"}],
        provider=provider,
        parameter=parameter,
    )
    fn.market.now = time.time  # the quote server prices on the real clock
    with QuoteServer(seed=3, api_key="demo-key") as server:
        env.setenv("STOCK_ALERT_QUOTES_BASE_URL", server.url)
        result = fn.handler.handler({}, FakeContext(30_000))

    assert [q["symbol"] for q in result["quotes"]] == ["TSLA", "F"]
    assert [(f["symbol"], f["reason"]) for f in result["failed"]] == [
        ("BADUNKNOWN", f"{provider}: unknown symbol")]
    assert {q["source"] for q in result["quotes"]} == {provider}
    assert result["market_closed"] is False
    sms = topic.only()["message"]["sms"]
    assert sms.startswith("TSLA ") and sms.endswith(" | failed: BADUNKNOWN")


@pytest.mark.parametrize(("text", "expected"), [
    ("TSLA=310:+4%", ("TSLA", 310.0, 298.0769)),
    ("f=11.5:-2.5%", ("F", 11.5, 11.7949)),
    ("GM=48", ("GM", 48.0, 48.0)),
    ("BRK.B=400.25:0.5%", ("BRK.B", 400.25, 398.2587)),
])
def test_parse_price(text: str, expected: tuple[str, float, float]) -> None:
    assert parse_price(text) == expected


@pytest.mark.parametrize(("text", "words"), [
    ("TSLA", "is not SYMBOL=PRICE"), ("TSLA=abc", "is not SYMBOL=PRICE"),
    ("TSLA=310:4", "is not SYMBOL=PRICE"), ("=310", "is not SYMBOL=PRICE"),
    ("TSLA=0", "above 0"), ("TSLA=310:-100%", "above -100%"),
])
def test_parse_price_names_the_bad_value(text: str, words: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_price(text)
    assert repr(text) in str(caught.value) and words in str(caught.value)


def test_fixed_prices_answer_the_same_in_both_shapes(env):
    fixed = {"TSLA": parse_price("TSLA=310:+4%")[1:]}
    with QuoteServer(api_key="k", prices=fixed) as server:
        for _ in range(3):  # never moves
            meta = get(f"{server.url}/v8/finance/chart/TSLA")[1]["chart"]["result"][0]["meta"]
            assert (meta["regularMarketPrice"], meta["previousClose"]) == (310.0, 298.0769)
        quote = get(f"{server.url}/query?function=GLOBAL_QUOTE&apikey=k&symbol=TSLA")[1]
    quote = quote["Global Quote"]
    assert (quote["05. price"], quote["08. previous close"]) == ("310.0000", "298.0769")
    assert quote["10. change percent"] == "4.0000%"
