"""Quote providers (Yahoo Finance chart API, Alpha Vantage GLOBAL_QUOTE) behind one interface.

``fetch_all`` fetches every configured stock, retrying transient failures a bounded number of
times within the time budget; one stock failing never loses the others. An answer that refuses
the rest of the run (Alpha Vantage's used-up daily quota) stops asking for the remaining stocks:
they fail as "not requested: <reason>" without a request.

Each quote carries its own market time (``market_time``): ISO 8601 UTC from Yahoo's
``regularMarketTime``, or the date of Alpha Vantage's ``07. latest trading day``.
"""

from __future__ import annotations

import math
import random
import re
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import log
from settings import Stock
from transport import Budget, FetchError, get_json

TYPE_CHECKING = False  # typing costs ~20 ms to import at cold start; only the checker needs it
if TYPE_CHECKING:
    from typing import Any

BACKOFF_BASE_S = 0.25
BACKOFF_CAP_S = 2.0
RETRY_AFTER_CAP_S = 2.0
MAX_EPOCH_S = 10**11  # beyond the year 5000: not a market time
DETAIL_CHARS = 300  # how much of a provider's refusal text reaches the log
DAILY_QUOTA = "daily quota used up"
NOT_REQUESTED = "not requested: "  # reason prefix of stocks skipped after a run-stopping answer
# Alpha Vantage's burst and per-minute notices also mention the daily limit ("...more sparingly
# ... (25 requests per day)"), so these words win over the daily words.
_BURST_WORDS = ("sparingly", "spreading out", "per second", "per minute")
_DAILY_RE = re.compile(r"per day|daily|/ ?day\b|a day\b")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
sleep = time.sleep  # tests replace it to run without waiting


@dataclass(frozen=True)
class Quote:
    symbol: str
    name: str | None
    price: float
    previous_close: float | None
    change: float | None
    change_percent: float | None
    currency: str | None
    market_time: str | None = None  # "2026-11-27T21:00:00Z" (Yahoo) or "2026-11-27" (AV)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Failure:
    symbol: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_quote(
    stock: Stock,
    price: float,
    previous: float | None,
    currency: str | None,
    name: str | None,
    market_time: str | None = None,
) -> Quote:
    """Build a quote; change fields stay None when the previous close is unknown."""
    change = round(price - previous, 4) if previous else None
    percent = round((price - previous) / previous * 100.0, 4) if previous else None
    return Quote(
        stock.symbol, stock.name or name, price, previous, change, percent, currency, market_time
    )


def _number(value: Any) -> float | None:
    """A positive finite number from a JSON number or numeric string, else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _epoch_text(value: Any) -> str | None:
    """Epoch seconds as ISO 8601 UTC, e.g. "2023-11-14T22:13:20Z"; None if not a sane time."""
    seconds = _number(value)
    if seconds is None or seconds > MAX_EPOCH_S:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(seconds)))


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
    """A quote source: the URL for a symbol, and the parser of the answer."""

    workers = 1  # how many symbols may be fetched at once

    def url(self, symbol: str) -> str:
        raise NotImplementedError

    def parse(self, stock: Stock, status: int, data: Any) -> Quote:
        raise NotImplementedError


class Yahoo(Provider):
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
        price = _number(meta.get("regularMarketPrice"))
        if price is None:
            raise FetchError("no price")
        previous = _number(meta.get("previousClose")) or _number(meta.get("chartPreviousClose"))
        currency = meta.get("currency") if isinstance(meta.get("currency"), str) else None
        name = meta.get("shortName") if isinstance(meta.get("shortName"), str) else None
        market_time = _epoch_text(meta.get("regularMarketTime"))
        return make_quote(stock, price, previous, currency, name, market_time)


class AlphaVantage(Provider):
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
        market_time = _date_text(body.get("07. latest trading day"))
        return make_quote(stock, price, previous, None, None, market_time)


def backoff(attempt: int, retry_after: float | None) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based); Retry-After is capped."""
    if retry_after is not None:
        return min(retry_after, RETRY_AFTER_CAP_S)
    return min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


class RunStop:
    """Shared by the fetches of one run; ``reason`` is set once the provider refuses the rest."""

    def __init__(self) -> None:
        self.reason: str | None = None

    def stop(self, stock: Stock, exc: FetchError) -> None:
        self.reason = exc.reason
        log.event("quota_exhausted", symbol=stock.symbol, reason=exc.reason, detail=exc.detail)


def fetch_one(
    provider: Provider,
    stock: Stock,
    budget: Budget,
    timeout_s: float,
    run: RunStop | None = None,
) -> Quote | Failure:
    """Fetch one quote; retry what deserves it while the budget allows; never raise."""
    run = run or RunStop()
    attempt = 0
    while True:
        if run.reason:
            return _failed(stock, NOT_REQUESTED + run.reason, attempt)
        if not budget.allows():
            return _failed(stock, "no time left", attempt)
        attempt += 1
        try:
            status, data = get_json(provider.url(stock.symbol), budget.timeout(timeout_s))
            return provider.parse(stock, status, data)
        except FetchError as exc:
            if exc.stop_run:
                run.stop(stock, exc)
                return _failed(stock, exc.reason, attempt)
            delay = backoff(attempt, exc.retry_after)
            if attempt > exc.retries or not budget.allows(delay):
                return _failed(stock, exc.reason, attempt)
            log.event(
                "quote_retry",
                symbol=stock.symbol,
                attempt=attempt,
                reason=exc.reason,
                delay_s=round(delay, 3),
            )
            sleep(delay)
        except Exception as exc:  # a bug or an answer shape nobody foresaw: lose one symbol only
            return _failed(stock, f"unexpected {type(exc).__name__}", attempt)


def _failed(stock: Stock, reason: str, attempts: int) -> Failure:
    log.event("quote_failed", symbol=stock.symbol, reason=reason, attempts=attempts)
    return Failure(stock.symbol, reason)


def fetch_all(
    provider: Provider, stocks: tuple[Stock, ...], budget: Budget, timeout_s: float
) -> list[Quote | Failure]:
    """Results in the order of ``stocks``."""
    run = RunStop()
    workers = max(1, min(provider.workers, len(stocks)))
    if workers == 1:
        return [fetch_one(provider, stock, budget, timeout_s, run) for stock in stocks]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda s: fetch_one(provider, s, budget, timeout_s, run), stocks))


def daily_quota_used_up(results: list[Quote | Failure] | tuple[Quote | Failure, ...]) -> bool:
    """Whether some stock failed because the provider's daily quota is used up."""
    return any(isinstance(r, Failure) and r.reason.endswith(DAILY_QUOTA) for r in results)
