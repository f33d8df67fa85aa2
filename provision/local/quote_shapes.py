"""The answers of each quote source, as the local quote server gives them (standard library).

- Yahoo Finance chart API: ``{"chart": {"result": [{"meta": {...}}], "error": null}}``; an
  unknown ticker is HTTP 404 with ``{"chart": {"result": null, "error": {"code": "Not Found",
  ...}}}``; a refusal is an HTTP status with a text body ("Too Many Requests").
- Alpha Vantage GLOBAL_QUOTE: ``{"Global Quote": {"01. symbol": ..., "05. price": ...}}``; an
  unknown ticker is ``{"Global Quote": {}}``; a used-up daily quota is HTTP 200 with an
  ``"Information"`` text.
- Stooq's CSV quote (``/q/l/?s=tsla.us&f=sd2t2ohlcvp&h&e=csv``): a header line of the asked
  fields' names (``h``) and one line per symbol (``s=tsla.us+f.us``), each field in the order of
  ``f`` (``Symbol,Date,Time,Open,High,Low,Close,Volume,Prev``); a symbol it has no data for
  keeps its name and has ``N/D`` in every other field; a used-up daily limit is HTTP 200 with
  the text "Exceeded the daily hits limit". Its times are Warsaw's (Stooq is a Polish site).

Quotes are priced at a moment (``when``): now, or a past session's close (``session_close``).
"""

from __future__ import annotations

import calendar
import re
import time
from typing import Any

from provision.function_code import market as days

YAHOO_UNKNOWN = {
    "chart": {
        "result": None,
        "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
    }
}
AV_BAD_KEY = {"Error Message": "the parameter apikey is invalid or missing."}
AV_DAILY = {"Information": "Thank you for using Alpha Vantage! Our standard API rate limit is "
            "25 requests per day. Please subscribe to any of the premium plans at "
            "https://www.alphavantage.co/premium/ to instantly remove all daily rate limits."}
STOOQ_DAILY = "Exceeded the daily hits limit"
STOOQ_NO_DATA = "N/D"
# Stooq's f= codes this server answers, and their header names (Stooq's own).
STOOQ_COLUMNS = {"s": "Symbol", "d2": "Date", "t2": "Time", "o": "Open", "h": "High",
                 "l": "Low", "c": "Close", "v": "Volume", "p": "Prev", "n": "Name"}
_STOOQ_CODE = re.compile(r"[a-z][0-9]?")
_WARSAW_S = 3600  # CET; CEST (+2 h) from the last Sunday of March to the last of October


def session_close(session: str) -> int:
    """16:00 in New York on ``session`` (YYYY-MM-DD), as epoch seconds: that day's close."""
    close = calendar.timegm(time.strptime(session, "%Y-%m-%d")) + 16 * 3600
    return close - days.us_eastern_offset(close - days.EST_S)


def _warsaw_offset(epoch: int) -> int:
    year = time.gmtime(epoch).tm_year

    def last_sunday(month: int) -> int:
        last = calendar.monthrange(year, month)[1]
        return last - (calendar.weekday(year, month, last) + 1) % 7

    starts = calendar.timegm((year, 3, last_sunday(3), 1, 0, 0))  # 01:00 UTC
    ends = calendar.timegm((year, 10, last_sunday(10), 1, 0, 0))
    return _WARSAW_S * (2 if starts <= epoch < ends else 1)


def yahoo_chart(symbol: str, price: float, previous: float, when: int) -> dict[str, Any]:
    offset = days.us_eastern_offset(when)
    meta = {
        "currency": "USD",
        "symbol": symbol,
        "exchangeName": "NMS",
        "instrumentType": "EQUITY",
        "exchangeTimezoneName": "America/New_York",
        "timezone": "EDT" if offset == days.EDT_S else "EST",
        "gmtoffset": offset,
        "regularMarketTime": when,
        "regularMarketPrice": price,
        "chartPreviousClose": previous,
        "previousClose": previous,
        "marketState": "REGULAR",
    }
    quote = {
        "open": [previous],
        "high": [max(price, previous)],
        "low": [min(price, previous)],
        "close": [price],
        "volume": [1_000_000],
    }
    result = {"meta": meta, "timestamp": [when], "indicators": {"quote": [quote]}}
    return {"chart": {"result": [result], "error": None}}


def global_quote(symbol: str, price: float, previous: float, when: int) -> dict[str, Any]:
    change = price - previous
    return {
        "Global Quote": {
            "01. symbol": symbol,
            "02. open": f"{previous:.4f}",
            "03. high": f"{max(price, previous):.4f}",
            "04. low": f"{min(price, previous):.4f}",
            "05. price": f"{price:.4f}",
            "06. volume": "1000000",
            "07. latest trading day": days.day(when, None),
            "08. previous close": f"{previous:.4f}",
            "09. change": f"{change:.4f}",
            "10. change percent": f"{change / previous * 100:.4f}%",
        }
    }


def stooq_codes(fields: str) -> list[str]:
    """'sd2t2ohlcvp' -> ['s', 'd2', 't2', 'o', 'h', 'l', 'c', 'v', 'p'] (known codes only)."""
    return [code for code in _STOOQ_CODE.findall(fields) if code in STOOQ_COLUMNS]


def stooq_header(codes: list[str]) -> str:
    return ",".join(STOOQ_COLUMNS[code] for code in codes)


def stooq_row(codes: list[str], asked: str, quote: tuple[float, float] | None,
              when: int) -> str:
    """One CSV line for symbol ``asked`` (as sent, e.g. tsla.us); ``quote`` None: no data."""
    if quote is None:
        return ",".join(asked.upper() if code == "s" else STOOQ_NO_DATA for code in codes)
    price, previous = quote
    local = time.gmtime(when + _warsaw_offset(when))
    values = {"s": asked.upper(), "d2": days.day(when, None),
              "t2": time.strftime("%H:%M:%S", local), "o": f"{previous:g}",
              "h": f"{max(price, previous):g}", "l": f"{min(price, previous):g}",
              "c": f"{price:g}", "v": "1000000", "p": f"{previous:g}", "n": asked.upper()}
    return ",".join(values[code] for code in codes)
