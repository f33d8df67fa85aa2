"""An HTTP proxy in front of the emulator that adds network latency, and what it saw.

Every request is held for one round trip (`rtt_s`, 60 ms: about a same-Region AWS call); a new
connection costs `handshake_rtts` more before its first request is answered (2: TCP, then TLS
1.3). Connections are kept alive (HTTP/1.1), so a client that reuses its connections pays the
handshake once, as against AWS.

It records each request (its connection, when it arrived, when it was answered, whether it was
the connection's first) so `longest_chain` can tell how many round trips lay one after another
on the command's critical path: the figure real AWS multiplies by its own latency.
bench/compare.py runs it in its own process, beside the emulator.
"""

from __future__ import annotations

import http.client
import itertools
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support.awsproxy import classify  # noqa: E402 - names each call

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "te", "trailer",
                        "transfer-encoding", "upgrade", "content-length", "date", "server"})


@dataclass(frozen=True)
class Seen:
    """One request: from `began` (its connection's opening, for a first request) to `ended`,
    costing `round_trips` (1, plus the handshake for a connection's first request)."""

    connection: int
    began: float
    ended: float
    round_trips: int
    call: str = ""  # service:Operation


def longest_chain(seen: list[Seen]) -> list[Seen]:
    """The chain of requests, each begun after the one before it ended, with the most round
    trips: concurrent requests overlap, so only requests that waited for each other line up."""
    ordered = sorted(seen, key=lambda s: s.ended)
    best: list[tuple[int, list[Seen]]] = []
    for i, request in enumerate(ordered):
        before = max((best[j] for j in range(i) if ordered[j].ended <= request.began),
                     key=lambda b: b[0], default=(0, []))
        best.append((before[0] + request.round_trips, [*before[1], request]))
    return max(best, key=lambda b: b[0], default=(0, []))[1]


def round_trips(chain: list[Seen]) -> int:
    return sum(s.round_trips for s in chain)


def words(chain: list[Seen]) -> str:
    """The chain as 'sts:GetCallerIdentity (+2) > iam:GetRole > ...' (+2: a new connection)."""
    return " > ".join(s.call + (f" (+{s.round_trips - 1})" if s.round_trips > 1 else "")
                      for s in chain)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY, as AWS's endpoints answer: with Nagle's algorithm a response's body waited
    # for the client's delayed ACK of its headers, 40 ms on Linux, on a kept-alive connection.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        return

    def setup(self) -> None:
        super().setup()
        self.opened = time.monotonic()
        self.number = next(self.server.numbers)
        self.first = True
        time.sleep(self.server.rtt_s * self.server.handshake_rtts)

    def _handle(self) -> None:
        began = self.opened if self.first else time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        service, operation = classify(self.command, self.path, dict(self.headers.items()), body)
        status, headers, answer = self._forward(body)
        time.sleep(self.server.rtt_s)
        self.send_response(status)
        for key, value in headers:
            if key.lower() not in HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer)))
        self._headers_buffer.append(b"\r\n")  # end_headers(), sent with the body at once
        self.wfile.write(b"".join(self._headers_buffer) + answer)
        self._headers_buffer = []
        self.wfile.flush()
        self.server.note(Seen(self.number, began, time.monotonic(),
                              1 + (self.server.handshake_rtts if self.first else 0),
                              f"{service}:{operation}"))
        self.first = False

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self.server.upstream, timeout=60)
        try:
            connection.putrequest(self.command, self.path, skip_host=True,
                                  skip_accept_encoding=True)
            for key, value in self.headers.items():
                if key.lower() not in HOP_BY_HOP:
                    connection.putheader(key, value)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, upstream: tuple[str, int], rtt_s: float, handshake_rtts: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream, self.rtt_s, self.handshake_rtts = upstream, rtt_s, handshake_rtts
        self.numbers = itertools.count()
        self.lock = threading.Lock()
        self.seen: list[Seen] = []

    def note(self, seen: Seen) -> None:
        with self.lock:
            self.seen.append(seen)


class LatencyProxy:
    """`url` forwards to `upstream_url` with the latency above; `take()` returns (and forgets)
    the requests seen since the last take."""

    def __init__(self, upstream_url: str, rtt_s: float = 0.060, handshake_rtts: int = 2) -> None:
        parts = urlsplit(upstream_url)
        assert parts.hostname and parts.port, upstream_url
        self._server = _Server((parts.hostname, parts.port), rtt_s, handshake_rtts)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="latency-proxy")
        self._thread.start()

    def take(self) -> list[Seen]:
        with self._server.lock:
            seen, self._server.seen = self._server.seen, []
        return seen

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
