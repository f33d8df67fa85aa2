"""A scriptable quote server on 127.0.0.1 for handler tests, and provider response builders.

Replies are scripted per symbol (taken from the Yahoo chart path, the Alpha Vantage ``symbol``
query parameter or Stooq's ``s``, without its ``.us``), optionally for one source only, and
consumed in order; the last reply repeats. Every request is recorded with its source.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

CHART_PREFIX = "/v8/finance/chart/"
STOOQ_PATH = "/q/l/"
STOOQ_HEADER = "Symbol,Date,Time,Open,High,Low,Close,Volume,Prev"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON; str/bytes -> sent as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    trickle: float = 0.0  # seconds between the body's bytes (sent one at a time)


@dataclass(frozen=True)
class Seen:
    symbol: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    source: str = ""  # "yahoo", "alphavantage" or "stooq", from the path


def yahoo(symbol: str, price: float, previous: float | None = None, **meta: Any) -> Reply:
    """A Yahoo chart answer; ``previous=None`` omits both previous-close fields."""
    fields: dict[str, Any] = {
        "symbol": symbol,
        "currency": "USD",
        "regularMarketPrice": price,
        "regularMarketTime": 1_700_000_000,
        **meta,
    }
    if previous is not None:
        fields |= {"chartPreviousClose": previous, "previousClose": previous}
    result = {"meta": fields, "timestamp": [1_700_000_000], "indicators": {"quote": [{}]}}
    return Reply(200, {"chart": {"result": [result], "error": None}})


YAHOO_UNKNOWN = Reply(
    404,
    {
        "chart": {
            "result": None,
            "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
        }
    },
)


def alphavantage(symbol: str, price: float, previous: float | None) -> Reply:
    quote = {
        "01. symbol": symbol,
        "02. open": f"{price:.4f}",
        "05. price": f"{price:.4f}",
        "07. latest trading day": "2023-11-14",  # the day of yahoo()'s regularMarketTime
        "08. previous close": "" if previous is None else f"{previous:.4f}",
    }
    if previous:
        change = price - previous
        quote |= {"09. change": f"{change:.4f}", "10. change percent": f"{change / previous:.4%}"}
    return Reply(200, {"Global Quote": quote})


AV_UNKNOWN = Reply(200, {"Global Quote": {}})


def stooq(symbol: str, price: float, previous: float | None, day: str = "2023-11-14") -> Reply:
    """Stooq's CSV quote (f=sd2t2ohlcvp, h, e=csv) for a US ticker; ``previous=None``: N/D."""
    prev = "N/D" if previous is None else f"{previous:g}"
    row = f"{symbol.upper()}.US,{day},22:00:09,{price:g},{price:g},{price:g},{price:g},1000,{prev}"
    return Reply(200, f"{STOOQ_HEADER}\r\n{row}\r\n", {"Content-Type": "text/csv"})


def stooq_no_data(symbol: str) -> Reply:
    """Stooq's answer for a symbol it has no data for: every field after the symbol N/D."""
    row = f"{symbol.upper()}.US" + ",N/D" * 8
    return Reply(200, f"{STOOQ_HEADER}\r\n{row}\r\n", {"Content-Type": "text/csv"})


STOOQ_LIMIT = Reply(200, "Exceeded the daily hits limit", {"Content-Type": "text/plain"})
AV_NOTE = Reply(
    200,
    {
        "Note": "Thank you for using Alpha Vantage! Our standard API call frequency"
        " is 5 calls per minute and 500 calls per day."
    },
)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if parts.path.startswith(CHART_PREFIX):
            symbol, source = unquote(parts.path[len(CHART_PREFIX) :]), "yahoo"
        elif parts.path == STOOQ_PATH:
            symbol, source = query.get("s", "").upper().removesuffix(".US"), "stooq"
        else:
            symbol, source = query.get("symbol", ""), "alphavantage"
        seen = Seen(symbol, parts.path, query, dict(self.headers), source)
        reply = self.server.owner.take(seen)
        if reply.delay and self.server.owner.stopping.wait(reply.delay):
            return
        body = reply.body
        data = (
            body
            if isinstance(body, bytes)
            else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        )
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not reply.trickle:
                self.wfile.write(data)
            for byte in data if reply.trickle else b"":
                if self.server.owner.stopping.wait(reply.trickle):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        except OSError:
            pass  # the client gave up (timeout test)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, owner: ScriptedServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet."""


class ScriptedServer:
    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.stopping = threading.Event()
        self._scripts: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def script(self, symbol: str, *replies: Reply, source: str = "") -> None:
        """The replies for ``symbol``; with ``source``, for that source only (it wins over a
        script for every source)."""
        self._scripts[f"{source}:{symbol}" if source else symbol] = list(replies)

    def take(self, seen: Seen) -> Reply:
        with self._lock:
            self.requests.append(seen)
            replies = self._scripts.get(f"{seen.source}:{seen.symbol}") or self._scripts.get(
                seen.symbol)
            if not replies:
                return Reply(404, {"error": f"nothing scripted for {seen.symbol!r}"})
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def count(self, symbol: str, source: str = "") -> int:
        return sum(1 for seen in self.requests
                   if seen.symbol == symbol and source in ("", seen.source))

    def start(self) -> ScriptedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
