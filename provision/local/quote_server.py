"""A local, offline stand-in for both quote providers (standard library only).

Answers ``/v8/finance/chart/{SYMBOL}`` like the Yahoo Finance chart API and
``/query?function=GLOBAL_QUOTE&symbol=...&apikey=...`` like Alpha Vantage, with the same
response shapes, including each provider's answer for an unknown ticker. Prices are a seeded
random walk per symbol: the same seed and the same sequence of requests give the same prices,
except for symbols given a fixed quote (``prices``, e.g. from ``--price TSLA=310:+4%``), which
always answer that price and that change on the day.

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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

CHART_PREFIX = "/v8/finance/chart/"
YAHOO_UNKNOWN = {
    "chart": {
        "result": None,
        "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
    }
}
AV_BAD_KEY = {"Error Message": "the parameter apikey is invalid or missing."}


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


def yahoo_chart(symbol: str, price: float, previous: float) -> dict[str, Any]:
    now = int(time.time())
    meta = {
        "currency": "USD",
        "symbol": symbol,
        "exchangeName": "NMS",
        "instrumentType": "EQUITY",
        "regularMarketTime": now,
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
    result = {"meta": meta, "timestamp": [now], "indicators": {"quote": [quote]}}
    return {"chart": {"result": [result], "error": None}}


def global_quote(symbol: str, price: float, previous: float) -> dict[str, Any]:
    change = price - previous
    return {
        "Global Quote": {
            "01. symbol": symbol,
            "02. open": f"{previous:.4f}",
            "03. high": f"{max(price, previous):.4f}",
            "04. low": f"{min(price, previous):.4f}",
            "05. price": f"{price:.4f}",
            "06. volume": "1000000",
            "07. latest trading day": time.strftime("%Y-%m-%d", time.gmtime()),
            "08. previous close": f"{previous:.4f}",
            "09. change": f"{change:.4f}",
            "10. change percent": f"{change / previous * 100:.4f}%",
        }
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(
        self, address: tuple[str, int], market: Market, unknown: set[str], api_key: str | None
    ) -> None:
        super().__init__(address, _Handler)
        self.market = market
        self.unknown = unknown
        self.api_key = api_key
        self.hits = 0

    def is_unknown(self, symbol: str) -> bool:
        return not symbol or "UNKNOWN" in symbol or symbol in self.unknown

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client hangs up early."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """No request logging."""

    def do_GET(self) -> None:
        self.server.hits += 1
        parts = urlsplit(self.path)
        if parts.path.startswith(CHART_PREFIX):
            self._chart(unquote(parts.path[len(CHART_PREFIX) :]).upper())
        elif parts.path == "/query":
            self._query({k: v[-1] for k, v in parse_qs(parts.query).items()})
        else:
            self._send(404, {"error": "not found"})

    def _chart(self, symbol: str) -> None:
        if self.server.is_unknown(symbol):
            self._send(404, YAHOO_UNKNOWN)
            return
        self._send(200, yahoo_chart(symbol, *self.server.market.quote(symbol)))

    def _query(self, params: dict[str, str]) -> None:
        expected = self.server.api_key
        if not params.get("apikey") or (expected is not None and params["apikey"] != expected):
            self._send(200, AV_BAD_KEY)
        elif params.get("function") != "GLOBAL_QUOTE":
            self._send(200, {"Error Message": "Invalid API call."})
        else:
            symbol = params.get("symbol", "").upper()
            if self.server.is_unknown(symbol):
                self._send(200, {"Global Quote": {}})
            else:
                self._send(200, global_quote(symbol, *self.server.market.quote(symbol)))

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
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
    ) -> None:
        """``unknown``: extra symbols answered as unknown (any symbol containing "UNKNOWN" is).
        ``api_key``: if set, Alpha Vantage requests must carry exactly this key.
        ``prices``: symbol -> (price, previous close), answered every time instead of a walk."""
        self.market = Market(seed, prices)
        self._server = _Server((host, port), self.market, {s.upper() for s in unknown}, api_key)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def hits(self) -> int:
        """Requests answered so far."""
        return self._server.hits

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


def _price_arg(text: str) -> tuple[str, float, float]:
    try:
        return parse_price(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> None:
    """``python -m provision.local.quote_server --port 8765``: serve until interrupted."""
    parser = argparse.ArgumentParser(description="Offline Yahoo/Alpha Vantage quote server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--price", action="append", default=[], type=_price_arg,
                        help="SYMBOL=PRICE[:CHANGE%%], e.g. TSLA=310:+4%%; repeatable")
    args = parser.parse_args(argv)
    prices = {symbol: (price, previous) for symbol, price, previous in args.price}
    with QuoteServer(args.host, args.port, args.seed, prices=prices) as server:
        print(server.url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
