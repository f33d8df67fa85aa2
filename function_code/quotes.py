"""Quotes and failures, and fetching them through the chain of sources (sources.py).

``fetch_all`` asks the sources in the configured order, per symbol: when one refuses (HTTP 429,
403), answers with an error, times out, or gives a quote that fails the sanity checks
(``check``), the next is asked for that symbol. One symbol failing never loses the others.

Time: each source gets its share of the time left, the time left divided by the sources still
to ask for that symbol, so a slow first source cannot starve the next (transport.Budget.share);
no request starts with less than a minimal request's time left, and none runs past its share.
Retries: a source with another behind it is not retried (asking the next is the retry); the
last source retries what deserves it, within its share. A source that refuses the rest of the
run (a used-up daily quota) is not asked again in this run: the symbols after it fail there as
"not requested: <reason>" without a request, and go on to the next source.

Each quote says which source served it (``source``) and the trading day it is from
(``session_date``, in the market's zone; see market.py).
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace

import log
import market
from settings import Stock
from transport import Budget, FetchError

TYPE_CHECKING = False  # typing costs ~20 ms to import at cold start; only the checker needs it
if TYPE_CHECKING:
    from typing import Any

    from sources import Provider

BACKOFF_BASE_S = 0.25
BACKOFF_CAP_S = 2.0
RETRY_AFTER_CAP_S = 2.0
MAX_WORKERS = 4
DAILY_QUOTA = "daily quota used up"
NOT_REQUESTED = "not requested: "  # reason prefix of stocks skipped after a run-stopping answer
# Sanity checks of a parsed quote (``check``):
MAX_MOVE = 10.0  # a price over 10 times, or under a tenth of, the previous close is not news
STALE_DAYS = 7  # a trading day older than this is a dead feed, not a long weekend
FUTURE_DAYS = 1  # a market a day ahead of New York (Asia) is fine; more is a broken clock
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
    market_time: str | None = None  # "2026-11-27T21:00:00Z" (Yahoo) or "2026-11-27"
    source: str | None = None  # the source that served it: "yahoo", "stooq", "alphavantage"
    session_date: str | None = None  # its trading day, in the market's zone
    utc_offset_s: int | None = None  # the market's UTC offset, when the source gives it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Failure:
    symbol: str
    reason: str  # every source's reason: "yahoo: HTTP 429; stooq: no data"
    attempts: tuple[tuple[str, str], ...] = ()  # (source, reason), in the chain's order

    def to_dict(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "reason": self.reason,
                "sources": [{"source": s, "reason": r} for s, r in self.attempts]}


def make_quote(
    stock: Stock,
    price: float,
    previous: float | None,
    currency: str | None,
    name: str | None,
    market_time: str | None = None,
    session_date: str | None = None,
    utc_offset_s: int | None = None,
) -> Quote:
    """Build a quote; change fields stay None when the previous close is unknown."""
    change = round(price - previous, 4) if previous else None
    percent = round((price - previous) / previous * 100.0, 4) if previous else None
    return Quote(stock.symbol, stock.name or name, price, previous, change, percent, currency,
                 market_time, None, session_date, utc_offset_s)


def check(quote: Quote, at: float) -> str | None:
    """Why ``quote`` is not believable at time ``at``, or None."""
    previous = quote.previous_close
    if previous and not 1 / MAX_MOVE <= quote.price / previous <= MAX_MOVE:
        return f"implausible price {quote.price:g} against previous close {previous:g}"
    if quote.session_date is None:
        return None
    ahead = market.days_between(market.day(at, quote.utc_offset_s), quote.session_date)
    if ahead > FUTURE_DAYS:
        return f"trading day {quote.session_date} is in the future"
    if -ahead > STALE_DAYS:
        return f"stale: last traded {quote.session_date}"
    return None


def backoff(attempt: int, retry_after: float | None) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based); Retry-After is capped."""
    if retry_after is not None:
        return min(retry_after, RETRY_AFTER_CAP_S)
    return min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


class RunStop:
    """Shared by the fetches of one source in one run; ``reason`` is set once the source
    refuses the rest of the run."""

    def __init__(self) -> None:
        self.reason: str | None = None

    def stop(self, source: str, stock: Stock, exc: FetchError) -> None:
        self.reason = exc.reason
        log.event("quota_exhausted", source=source, symbol=stock.symbol, reason=exc.reason,
                  detail=exc.detail)


@dataclass(frozen=True)
class Asked:
    """One source's answer for one symbol: the quote, or why not (and how many requests)."""

    quote: Quote | None
    reason: str = ""
    attempts: int = 0


def _answer(provider: Provider, stock: Stock, budget: Budget, timeout_s: float) -> Quote:
    status, data = provider.fetch(provider.url(stock.symbol), budget.timeout(timeout_s))
    quote = replace(provider.parse(stock, status, data), source=provider.name)
    problem = check(quote, market.now())
    if problem:
        raise FetchError(problem)
    return quote


def fetch_one(
    provider: Provider,
    stock: Stock,
    budget: Budget,
    timeout_s: float,
    run: RunStop | None = None,
    last: bool = True,
) -> Asked:
    """Ask one source for one quote; retry what deserves it (only when ``last``) while the
    budget allows; never raise."""
    run = run or RunStop()
    attempt = 0
    while True:
        if run.reason:
            return Asked(None, NOT_REQUESTED + run.reason, attempt)
        if not budget.allows():
            return Asked(None, "no time left", attempt)
        attempt += 1
        try:
            return Asked(_answer(provider, stock, budget, timeout_s), attempts=attempt)
        except FetchError as exc:
            if exc.stop_run:
                run.stop(provider.name, stock, exc)
                return Asked(None, exc.reason, attempt)
            delay = backoff(attempt, exc.retry_after)
            if not last or attempt > exc.retries or not budget.allows(delay):
                return Asked(None, exc.reason, attempt)
            log.event("quote_retry", symbol=stock.symbol, source=provider.name, attempt=attempt,
                      reason=exc.reason, delay_s=round(delay, 3))
            sleep(delay)
        except Exception as exc:  # a bug or an answer shape nobody foresaw: lose one symbol only
            return Asked(None, f"unexpected {type(exc).__name__}", attempt)


class Chain:
    """The sources of one run, in order, each with its own concurrency gate and run stop."""

    def __init__(self, providers: list[Provider], budget: Budget, timeout_s: float) -> None:
        self.providers = providers
        self.budget = budget
        self.timeout_s = timeout_s
        self.gates = [threading.Semaphore(p.workers) for p in providers]
        self.runs = [RunStop() for _ in providers]

    @property
    def workers(self) -> int:
        return min(MAX_WORKERS, max(p.workers for p in self.providers))

    def fetch(self, stock: Stock) -> Quote | Failure:
        """The first believable quote for ``stock``, or a Failure naming every reason."""
        tried: list[tuple[str, str]] = []
        for index, provider in enumerate(self.providers):
            left = len(self.providers) - index
            with self.gates[index]:  # the share starts once this source may be asked
                share = self.budget.share(left)
                asked = fetch_one(provider, stock, share, self.timeout_s, self.runs[index],
                                  last=left == 1)
            if asked.quote is not None:
                return asked.quote
            tried.append((provider.name, asked.reason))
            following = self.providers[index + 1].name if left > 1 else None
            log.event("source_failed", symbol=stock.symbol, source=provider.name,
                      reason=asked.reason, attempts=asked.attempts, next=following)
        reason = "; ".join(f"{source}: {why}" for source, why in tried)
        log.event("quote_failed", symbol=stock.symbol, reason=reason)
        return Failure(stock.symbol, reason, tuple(tried))


def fetch_all(
    providers: list[Provider], stocks: tuple[Stock, ...], budget: Budget, timeout_s: float
) -> list[Quote | Failure]:
    """Results in the order of ``stocks``."""
    chain = Chain(providers, budget, timeout_s)
    workers = max(1, min(chain.workers, len(stocks)))
    if workers == 1:
        return [chain.fetch(stock) for stock in stocks]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(chain.fetch, stocks))


def quota_sources(results: list[Quote | Failure] | tuple[Quote | Failure, ...]) -> list[str]:
    """The sources whose daily quota ran out for a stock that then failed, in chain order."""
    found = {s: None for r in results if isinstance(r, Failure)
             for s, why in r.attempts if why.endswith(DAILY_QUOTA)}
    return list(found)


def daily_quota_used_up(results: list[Quote | Failure] | tuple[Quote | Failure, ...]) -> bool:
    """Whether some stock failed because a source's daily quota is used up."""
    return bool(quota_sources(results))
