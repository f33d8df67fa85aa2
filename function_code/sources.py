"""Quote sources behind one interface: Yahoo Finance's chart API, Stooq's CSV quote, Alpha
Vantage's GLOBAL_QUOTE. Each gives the URL for a symbol and parses its own answer into a Quote,
raising FetchError with a short reason for any answer that is not a usable quote.

Every source's quote carries the previous close (the change, the change rule and the crossing
rules need it) and the trading day it is from:
- Yahoo: ``meta.previousClose`` (else ``chartPreviousClose``); ``regularMarketTime`` (epoch s)
  in the exchange's own zone, ``meta.gmtoffset`` (s), else New York's;
- Alpha Vantage: ``08. previous close``; ``07. latest trading day``;
- Stooq: the ``Prev`` field of the same answer (``f=sd2t2ohlcvp``: symbol, date, time, open,
  high, low, close, volume, previous close), so one request per symbol is enough; ``Date``.
  Its no-data answer is a row of ``N/D`` fields; its used-up daily limit is the plain text
  "Exceeded the daily hits limit". US tickers take the ``.us`` suffix (BRK.B -> brk-b.us);
  a ticker with an exchange suffix (VOW3.DE) or an index (^SPX) is sent as written.
"""

from __future__ import annotations

import csv
import math
import re
import time
import urllib.parse

import market
from quotes import DAILY_QUOTA, Quote, make_quote
from settings import Stock
from transport import FetchError, get_json, get_text

TYPE_CHECKING = False  # typing costs ~20 ms to import at cold start; only the checker needs it
if TYPE_CHECKING:
    from typing import Any

MAX_EPOCH_S = 10**11  # beyond the year 5000: not a market time
MAX_OFFSET_S = 14 * 3600  # the widest UTC offset there is
DETAIL_CHARS = 300  # how much of a provider's refusal text reaches the log
NAMES = {"yahoo": "Yahoo Finance", "stooq": "Stooq", "alphavantage": "Alpha Vantage"}
# Alpha Vantage's burst and per-minute notices also mention the daily limit ("...more sparingly
# ... (25 requests per day)"), so these words win over the daily words.
_BURST_WORDS = ("sparingly", "spreading out", "per second", "per minute")
_DAILY_RE = re.compile(r"per day|daily|/ ?day\b|a day\b")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EXCHANGE_SUFFIX = re.compile(r"\.[A-Z]{2,}$")
STOOQ_FIELDS = "sd2t2ohlcvp"
STOOQ_NO_DATA = "N/D"
STOOQ_LIMIT = "exceeded the daily hits limit"


def _number(value: Any) -> float | None:
    """A positive finite number from a JSON number or numeric string, else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _epoch(value: Any) -> int | None:
    """Whole epoch seconds, or None if not a sane time."""
    seconds = _number(value)
    return None if seconds is None or seconds > MAX_EPOCH_S else int(seconds)


def _offset(value: Any) -> int | None:
    """A UTC offset in whole seconds, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return int(value) if abs(value) <= MAX_OFFSET_S else None


def _date_text(value: Any) -> str | None:
    """A "YYYY-MM-DD" string as is; anything else None."""
    return value if isinstance(value, str) and _DATE_RE.fullmatch(value) else None


def limit_error(data: dict[str, Any]) -> FetchError | None:
    """Alpha Vantage's limit answers: HTTP 200 with a text under "Information" or "Note".

    A used-up daily quota stops the run (no retry, no further symbol); a burst or per-minute
    notice, or any other such text, is retried once.
    """
    key = next((k for k in ("Information", "Note") if k in data), None)
    if key is None:
        return None
    text = str(data[key])
    words = text.lower()
    detail = text[:DETAIL_CHARS]
    if any(word in words for word in _BURST_WORDS) or not _DAILY_RE.search(words):
        return FetchError("rate limited", retries=1, detail=detail)
    return FetchError(DAILY_QUOTA, stop_run=True, detail=detail)


class Provider:
    """A quote source: the URL for a symbol, the request, and the parser of the answer."""

    name = ""
    workers = 1  # how many symbols may be fetched from it at once

    def url(self, symbol: str) -> str:
        raise NotImplementedError

    def fetch(self, url: str, timeout: float) -> tuple[int, Any]:
        return get_json(url, timeout)

    def parse(self, stock: Stock, status: int, data: Any) -> Quote:
        raise NotImplementedError


class Yahoo(Provider):
    name = "yahoo"
    workers = 4

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def url(self, symbol: str) -> str:
        path = urllib.parse.quote(symbol, safe="")
        return f"{self.base_url}/v8/finance/chart/{path}?range=1d&interval=1d"

    def parse(self, stock: Stock, status: int, data: Any) -> Quote:
        chart = data.get("chart") if isinstance(data, dict) else None
        if not isinstance(chart, dict):
            raise FetchError("malformed response" if status == 200 else f"HTTP {status}")
        result, error = chart.get("result"), chart.get("error")
        if error or not result:
            code = error.get("code") if isinstance(error, dict) else None
            if status == 404 or code == "Not Found":
                raise FetchError("unknown symbol")
            raise FetchError(f"provider error {str(code)[:40]}" if code else f"HTTP {status}")
        first = result[0] if isinstance(result, list) else None
        meta = first.get("meta") if isinstance(first, dict) else None
        if not isinstance(meta, dict):
            raise FetchError("malformed response")
        return self._quote(stock, meta)

    @staticmethod
    def _quote(stock: Stock, meta: dict[str, Any]) -> Quote:
        price = _number(meta.get("regularMarketPrice"))
        if price is None:
            raise FetchError("no price")
        answered = meta.get("symbol")
        if isinstance(answered, str) and answered.upper() != stock.symbol:
            raise FetchError(f"answer for another symbol ({answered[:20]})")
        previous = _number(meta.get("previousClose")) or _number(meta.get("chartPreviousClose"))
        currency = meta.get("currency") if isinstance(meta.get("currency"), str) else None
        name = meta.get("shortName") if isinstance(meta.get("shortName"), str) else None
        epoch = _epoch(meta.get("regularMarketTime"))
        offset = _offset(meta.get("gmtoffset"))
        market_time = None if epoch is None else time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                               time.gmtime(epoch))
        session = None if epoch is None else market.day(epoch, offset)
        return make_quote(stock, price, previous, currency, name, market_time, session, offset)


class AlphaVantage(Provider):
    name = "alphavantage"
    workers = 1  # the free tier throttles bursts; fetch one symbol at a time

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url
        self.api_key = api_key

    def url(self, symbol: str) -> str:
        query = {"function": "GLOBAL_QUOTE", "symbol": symbol, "apikey": self.api_key}
        return f"{self.base_url}/query?{urllib.parse.urlencode(query)}"

    def parse(self, stock: Stock, status: int, data: Any) -> Quote:
        if status != 200:
            raise FetchError(f"HTTP {status}")
        if not isinstance(data, dict):
            raise FetchError("malformed response")
        limit = limit_error(data)
        if limit is not None:
            raise limit
        if "Error Message" in data:
            raise FetchError("provider error")
        body = data.get("Global Quote")
        if not isinstance(body, dict):
            raise FetchError("malformed response")
        if not body:
            raise FetchError("unknown symbol")
        price = _number(body.get("05. price"))
        if price is None:
            raise FetchError("no price")
        previous = _number(body.get("08. previous close"))
        day = _date_text(body.get("07. latest trading day"))
        return make_quote(stock, price, previous, None, None, day, day)


def stooq_symbol(symbol: str) -> str:
    """TSLA -> tsla.us, BRK.B -> brk-b.us; VOW3.DE and ^SPX as written, in lower case."""
    if symbol.startswith("^") or "=" in symbol or _EXCHANGE_SUFFIX.search(symbol):
        return symbol.lower()
    return symbol.replace(".", "-").lower() + ".us"


class Stooq(Provider):
    name = "stooq"
    # One at a time: its daily limit is not documented, and once it answers that the limit is
    # used up, no request already in flight wastes another of the run's symbols on it.
    workers = 1

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def url(self, symbol: str) -> str:
        query = urllib.parse.quote(stooq_symbol(symbol), safe="")
        return f"{self.base_url}/q/l/?s={query}&f={STOOQ_FIELDS}&h&e=csv"

    def fetch(self, url: str, timeout: float) -> tuple[int, Any]:
        return get_text(url, timeout)

    def parse(self, stock: Stock, status: int, data: Any) -> Quote:
        text = data.strip() if isinstance(data, str) else ""
        if status != 200:
            raise FetchError(f"HTTP {status}")
        if STOOQ_LIMIT in text.lower():
            raise FetchError(DAILY_QUOTA, stop_run=True, detail=text[:DETAIL_CHARS])
        rows = list(csv.DictReader(text.splitlines()))
        row = rows[0] if len(rows) == 1 else None
        if row is None or "Close" not in row or "Symbol" not in row:
            raise FetchError("malformed response")
        if str(row["Symbol"]).lower() != stooq_symbol(stock.symbol):
            raise FetchError(f"answer for another symbol ({str(row['Symbol'])[:20]})")
        if row.get("Close") == STOOQ_NO_DATA:
            raise FetchError("no data")
        price = _number(row.get("Close"))
        if price is None:
            raise FetchError("no price")
        day = _date_text(row.get("Date"))
        return make_quote(stock, price, _number(row.get("Prev")), None, None, day, day)


def build(name: str, base_url: str, api_key: str | None = None) -> Provider:
    """The source called ``name`` (settings.DEFAULT_BASE_URLS lists them)."""
    if name == "alphavantage":
        return AlphaVantage(base_url, str(api_key))
    return Stooq(base_url) if name == "stooq" else Yahoo(base_url)
