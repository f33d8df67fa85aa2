"""A local, offline stand-in for the quote sources (standard library only).

Answers ``/v8/finance/chart/{SYMBOL}`` like the Yahoo Finance chart API,
``/query?function=GLOBAL_QUOTE&symbol=...&apikey=...`` like Alpha Vantage and
``/q/l/?s=tsla.us&f=sd2t2ohlcvp&h&e=csv`` like Stooq's CSV quote, with their response shapes
(quote_shapes.py), including each source's answer for an unknown ticker (Stooq: a row of
``N/D`` fields). Prices are a seeded random walk per symbol: the same seed and the same sequence
of requests give the same prices, except for symbols given a fixed quote (``prices``, e.g. from
``--price TSLA=310:+4%``), which always answer that price and that change on the day. Every
source answers from the same market (Stooq's ``tsla.us`` is ``TSLA``, ``brk-b.us`` ``BRK.B``).

Failures on request: ``refuse`` makes a source answer every request with an HTTP status (429,
403, 500, ...) or with its used-up daily quota ("quota": Alpha Vantage's "Information" note,
Stooq's "Exceeded the daily hits limit"; Yahoo has none and answers 429), to show a chain falling
back (``--refuse yahoo``, ``--refuse stooq=quota``). ``last_session`` prices every quote at that
session's close, as a weekend or market-holiday run sees it (``--last-session 2026-11-26``);
otherwise quotes are priced now, in a market that is always open.

    with QuoteServer(seed=0) as server:
        os.environ["STOCK_ALERT_QUOTES_BASE_URL"] = server.url
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from provision.aws.concurrency import wait
from provision.local import quote_shapes as shapes

CHART_PREFIX = "/v8/finance/chart/"
STOOQ_PATH = "/q/l/"
SOURCES = ("yahoo", "stooq", "alphavantage")
QUOTA = "quota"  # refuse a source with its used-up daily quota answer
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# Rough price levels for the tickers the docs and the demo use, so the demo reads plausibly.
_TYPICAL = {"TSLA": 250.0, "F": 12.0, "GM": 48.0, "AAPL": 190.0, "MSFT": 420.0}


_PRICE = re.compile(r"^(?P<symbol>[A-Za-z0-9.\-=^]{1,12})=(?P<price>[0-9]+(?:\.[0-9]+)?)"
                    r"(?::(?P<change>[+-]?[0-9]+(?:\.[0-9]+)?)%)?$")


def parse_price(text: str) -> tuple[str, float, float]:
    """'TSLA=310:+4%' -> ('TSLA', 310.0, previous close 298.08); no change part means 0%.

    Raises ValueError saying what is wrong with ``text`` and what is expected.
    """
    found = _PRICE.match(text.strip())
    if not found:
        raise ValueError(f"--price {text!r} is not SYMBOL=PRICE or SYMBOL=PRICE:CHANGE%")
    price = float(found["price"])
    change = float(found["change"] or 0)
    if price <= 0:
        raise ValueError(f"--price {text!r}: the price must be above 0")
    if change <= -100:
        raise ValueError(f"--price {text!r}: a day's change must be above -100%")
    return found["symbol"].upper(), price, round(price / (1 + change / 100), 4)


class Market:
    """Thread-safe random walk: each quote request moves the symbol's price one step.
    Symbols in ``fixed`` (symbol -> (price, previous close)) never move."""

    def __init__(self, seed: int, fixed: Mapping[str, tuple[float, float]] | None = None,
                 ) -> None:
        self.seed = seed
        self.fixed = dict(fixed or {})
        self._lock = threading.Lock()
        self._walks: dict[str, tuple[random.Random, float, float]] = {}

    def quote(self, symbol: str) -> tuple[float, float]:
        """Return (price, previous close) for ``symbol``."""
        if symbol in self.fixed:
            return self.fixed[symbol]
        with self._lock:
            if symbol not in self._walks:
                rng = random.Random(f"{self.seed}:{symbol}")
                base = _TYPICAL.get(symbol, 5 + rng.random() * 495)
                previous = round(base * (1 + rng.gauss(0, 0.02)), 2)
                self._walks[symbol] = (rng, previous, previous)
            rng, previous, price = self._walks[symbol]
            price = round(max(0.01, price * (1 + rng.gauss(0, 0.015))), 2)
            self._walks[symbol] = (rng, previous, price)
            return price, previous


def parse_refusal(text: str) -> tuple[str, int | str]:
    """'yahoo' -> ('yahoo', 429); 'stooq=403' -> ('stooq', 403); 'stooq=quota'.

    Raises ValueError saying what is wrong with ``text`` and what is expected."""
    source, _, how = text.strip().lower().partition("=")
    if source not in SOURCES:
        raise ValueError(f"--refuse {text!r}: the source must be one of {', '.join(SOURCES)}")
    if how in ("", QUOTA):
        return source, how or 429
    if not how.isdigit() or not 400 <= int(how) <= 599:
        raise ValueError(f"--refuse {text!r}: give an HTTP status from 400 to 599, or 'quota'")
    return source, int(how)


def check_session(text: str) -> str:
    """A YYYY-MM-DD day, else ValueError naming it."""
    try:
        if _DATE.fullmatch(text):
            time.strptime(text, "%Y-%m-%d")
            return text
    except ValueError:
        pass
    raise ValueError(f"--last-session {text!r} is not a day like 2026-11-26")


@dataclass
class Behaviour:
    """What the server answers besides quotes: unknown symbols, the expected API key, the
    refusing sources, and the session quotes are from (None: now)."""

    unknown: set[str] = field(default_factory=set)
    api_key: str | None = None
    refuse: dict[str, int | str] = field(default_factory=dict)
    last_session: str | None = None

    def is_unknown(self, symbol: str) -> bool:
        return not symbol or "UNKNOWN" in symbol or symbol in self.unknown

    def when(self) -> int:
        """When quotes are priced: now, or the last session's close."""
        if self.last_session is None:
            return int(time.time())
        return shapes.session_close(self.last_session)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], market: Market, behaviour: Behaviour) -> None:
        super().__init__(address, _Handler)
        self.market = market
        self.behaviour = behaviour
        self.hits = 0
        self.asked: dict[str, int] = {}  # requests per source

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client hangs up early."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """No request logging."""

    def do_GET(self) -> None:
        self.server.hits += 1
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if parts.path.startswith(CHART_PREFIX):
            source = "yahoo"
        elif parts.path == "/query":
            source = "alphavantage"
        elif parts.path == STOOQ_PATH:
            source = "stooq"
        else:
            self._send(404, {"error": "not found"})
            return
        self.server.asked[source] = self.server.asked.get(source, 0) + 1
        if not self._refused(source):
            self._answer(source, parts.path, query)

    def _answer(self, source: str, path: str, query: dict[str, str]) -> None:
        if source == "yahoo":
            self._chart(unquote(path[len(CHART_PREFIX):]).upper())
        elif source == "alphavantage":
            self._query(query)
        else:
            self._stooq(query)

    def _refused(self, source: str) -> bool:
        how = self.server.behaviour.refuse.get(source)
        if how is None:
            return False
        if how == QUOTA and source == "alphavantage":
            self._send(200, shapes.AV_DAILY)
        elif how == QUOTA and source == "stooq":
            self._send_text(200, shapes.STOOQ_DAILY)
        else:
            status = 429 if how == QUOTA else int(how)
            self._send_text(status, {429: "Too Many Requests", 403: "Forbidden"}.get(
                status, "Service Unavailable"))
        return True

    def _chart(self, symbol: str) -> None:
        if self.server.behaviour.is_unknown(symbol):
            self._send(404, shapes.YAHOO_UNKNOWN)
            return
        quote = self.server.market.quote(symbol)
        self._send(200, shapes.yahoo_chart(symbol, *quote, self.server.behaviour.when()))

    def _query(self, params: dict[str, str]) -> None:
        behaviour = self.server.behaviour
        expected = behaviour.api_key
        if not params.get("apikey") or (expected is not None and params["apikey"] != expected):
            self._send(200, shapes.AV_BAD_KEY)
        elif params.get("function") != "GLOBAL_QUOTE":
            self._send(200, {"Error Message": "Invalid API call."})
        else:
            symbol = params.get("symbol", "").upper()
            if behaviour.is_unknown(symbol):
                self._send(200, {"Global Quote": {}})
            else:
                quote = self.server.market.quote(symbol)
                self._send(200, shapes.global_quote(symbol, *quote, behaviour.when()))

    def _stooq(self, params: dict[str, str]) -> None:
        codes = shapes.stooq_codes(params.get("f", "sd2t2ohlcv"))
        lines = [shapes.stooq_header(codes)] if "h" in params else []
        when = self.server.behaviour.when()
        for asked in filter(None, re.split(r"[+ ,]", params.get("s", ""))):
            symbol = self._stooq_symbol(asked)
            quote = None if self.server.behaviour.is_unknown(symbol) else \
                self.server.market.quote(symbol)
            lines.append(shapes.stooq_row(codes, asked, quote, when))
        self._send_text(200, "".join(line + "\r\n" for line in lines), "text/csv")

    def _stooq_symbol(self, asked: str) -> str:
        """tsla.us -> TSLA; brk-b.us -> BRK.B when that is how the market knows it."""
        symbol = asked.upper().removesuffix(".US")
        dotted = symbol.replace("-", ".")
        return dotted if dotted in self.server.market.fixed else symbol

    def _send(self, status: int, body: dict[str, Any]) -> None:
        self._send_text(status, json.dumps(body), "application/json")

    def _send_text(self, status: int, text: str, kind: str = "text/plain") -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class QuoteServer:
    """The server on a daemon thread; a context manager. ``url`` is e.g. http://127.0.0.1:PORT."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        unknown: Iterable[str] = (),
        api_key: str | None = None,
        prices: Mapping[str, tuple[float, float]] | None = None,
        refuse: Mapping[str, int | str] | None = None,
        last_session: str | None = None,
    ) -> None:
        """``unknown``: extra symbols answered as unknown (any symbol containing "UNKNOWN" is).
        ``api_key``: if set, Alpha Vantage requests must carry exactly this key.
        ``prices``: symbol -> (price, previous close), answered every time instead of a walk.
        ``refuse``: source -> HTTP status or "quota", answered to every request it gets.
        ``last_session``: YYYY-MM-DD; quotes are that session's close (a closed market)."""
        self.market = Market(seed, prices)
        behaviour = Behaviour({s.upper() for s in unknown}, api_key, dict(refuse or {}),
                              last_session)
        self._server = _Server((host, port), self.market, behaviour)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def hits(self) -> int:
        """Requests answered so far."""
        return self._server.hits

    def asked(self, source: str) -> int:
        """Requests ``source`` got so far (refused ones too)."""
        return self._server.asked.get(source, 0)

    def start(self) -> QuoteServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> QuoteServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _argument(parse: Any) -> Any:
    def checked(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return checked


def main(argv: list[str] | None = None) -> None:
    """``python -m provision.local.quote_server --port 8765``: serve until interrupted."""
    parser = argparse.ArgumentParser(description="Offline Yahoo/Stooq/Alpha Vantage quote server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--price", action="append", default=[], type=_argument(parse_price),
                        help="SYMBOL=PRICE[:CHANGE%%], e.g. TSLA=310:+4%%; repeatable")
    parser.add_argument("--refuse", action="append", default=[], type=_argument(parse_refusal),
                        help="SOURCE[=STATUS|quota], e.g. yahoo (429) or stooq=quota: that "
                        "source refuses every request; repeatable")
    parser.add_argument("--last-session", type=_argument(check_session), default=None,
                        help="YYYY-MM-DD: quotes are that session's close, as on a weekend or "
                        "a market holiday")
    args = parser.parse_args(argv)
    prices = {symbol: (price, previous) for symbol, price, previous in args.price}
    with QuoteServer(args.host, args.port, args.seed, prices=prices, refuse=dict(args.refuse),
                     last_session=args.last_session) as server:
        print(server.url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            wait(threading.Event())  # a Ctrl-C on any thread ends it (concurrency.TICK_S)


if __name__ == "__main__":
    main()
