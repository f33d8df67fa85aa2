"""One HTTP GET (JSON or text), with short timeouts, and the invocation's time budget.

Retry policy lives in quotes.py; this module only classifies outcomes: FetchError.retries says
how many retries that kind of failure deserves (0 = do not retry), and FetchError.stop_run that
the provider will refuse every further request of this run (a used-up daily quota).

A request is given a timeout no longer than the budget it runs in, and the whole answer must
arrive within it: the socket's timeout bounds each wait, and the body is read in chunks with the
clock checked between them, so a server that trickles bytes cannot hold a request past it.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.client import HTTPException

TYPE_CHECKING = False  # typing costs ~20 ms to import at cold start; only the checker needs it
if TYPE_CHECKING:
    from typing import Any

USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36"
)
MAX_BODY_BYTES = 1_000_000
CHUNK_BYTES = 16_384
HTTP_RETRIES = 2  # retries (not attempts) for 429, 5xx, timeouts and dropped connections
MIN_REQUEST_S = 0.2  # never start a request with less time than this left in the budget
SAFETY_MARGIN_S = 1.5  # kept free at the end of the invocation
PUBLISH_RESERVE_S = 1.0  # what importing boto3 and one sns:Publish need
DEFAULT_REMAINING_S = 60.0  # budget when invoked without a Lambda context


class FetchError(Exception):
    """A failed fetch with a short, secret-free reason."""

    def __init__(
        self,
        reason: str,
        retries: int = 0,
        retry_after: float | None = None,
        stop_run: bool = False,
        detail: str | None = None,
    ):
        super().__init__(reason)
        self.reason = reason
        self.retries = retries
        self.retry_after = retry_after
        self.stop_run = stop_run  # ask for no further symbol in this run
        self.detail = detail  # the provider's own words, for the log only


class Budget:
    """Time left for fetching: the Lambda's remaining time minus a reserve for publishing."""

    def __init__(self, remaining_ms: Callable[[], float], reserve_s: float,
                 until: float | None = None) -> None:
        self._remaining_ms = remaining_ms
        self.reserve_s = reserve_s
        self._until = until  # a share's own end, on the monotonic clock

    @classmethod
    def from_context(cls, context: Any) -> Budget:
        """From the Lambda context's remaining time (60 s without a context)."""
        reserve = SAFETY_MARGIN_S + PUBLISH_RESERVE_S
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if callable(remaining):
            return cls(remaining, reserve)
        deadline = time.monotonic() + DEFAULT_REMAINING_S
        return cls(lambda: (deadline - time.monotonic()) * 1000.0, reserve)

    def left(self) -> float:
        """Seconds still available for fetching (may be negative)."""
        left = float(self._remaining_ms()) / 1000.0 - self.reserve_s
        if self._until is not None:
            left = min(left, self._until - time.monotonic())
        return left

    def share(self, parts: int) -> Budget:
        """One of ``parts`` equal shares of the time left, starting now: a source of a chain
        gets the time left divided by the sources still to ask, so it cannot use theirs."""
        until = time.monotonic() + max(0.0, self.left()) / max(1, parts)
        if self._until is not None:
            until = min(until, self._until)
        return Budget(self._remaining_ms, self.reserve_s, until)

    def allows(self, seconds: float = 0.0) -> bool:
        """Whether ``seconds`` of waiting plus a minimal request still fit."""
        return self.left() >= seconds + MIN_REQUEST_S

    def timeout(self, cap: float) -> float:
        """A request timeout no longer than ``cap`` and than the time left."""
        return max(MIN_REQUEST_S, min(cap, self.left()))


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None  # HTTP-date form: fall back to our own backoff
    return seconds if seconds is not None and seconds >= 0 else None


def _read(response: Any, deadline: float) -> bytes:
    """The body, at most MAX_BODY_BYTES + 1 bytes, read before ``deadline`` (monotonic):
    read1 returns what one read of the socket gives, so the clock is checked as bytes come."""
    parts: list[bytes] = []
    size = 0
    while size <= MAX_BODY_BYTES:
        chunk = response.read1(min(CHUNK_BYTES, MAX_BODY_BYTES + 1 - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
        if time.monotonic() > deadline:
            raise TimeoutError
    return b"".join(parts)


def _open(url: str, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    deadline = time.monotonic() + timeout
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), _read(response, deadline)
    except urllib.error.HTTPError as exc:
        status = int(exc.code)
        if status == 429 or status >= 500:
            wait = _retry_after(exc.headers.get("Retry-After") if exc.headers else None)
            raise FetchError(f"HTTP {status}", HTTP_RETRIES, wait) from None
        return status, exc.read(MAX_BODY_BYTES + 1)
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise FetchError("timeout", HTTP_RETRIES) from None
        raise FetchError("connection error", HTTP_RETRIES) from None
    except TimeoutError:
        raise FetchError("timeout", HTTP_RETRIES) from None
    except (OSError, HTTPException):
        raise FetchError("connection error", HTTP_RETRIES) from None


def get(url: str, timeout: float, accept: str) -> tuple[int, bytes]:
    """GET ``url``; return (status, body). Raise FetchError for a failure without an answer,
    a 429 or 5xx (retryable), or a body over MAX_BODY_BYTES."""
    status, body = _open(url, {"User-Agent": USER_AGENT, "Accept": accept}, timeout)
    if len(body) > MAX_BODY_BYTES:
        raise FetchError("response too large")
    return status, body


def get_json(url: str, timeout: float) -> tuple[int, Any]:
    """GET ``url``; return (status, parsed JSON). Raise FetchError for anything else."""
    status, body = get(url, timeout, "application/json")
    try:
        return status, json.loads(body)
    except ValueError:
        raise FetchError("malformed JSON" if status == 200 else f"HTTP {status}") from None


def get_text(url: str, timeout: float) -> tuple[int, str]:
    """GET ``url``; return (status, body as text). Raise FetchError for anything else."""
    status, body = get(url, timeout, "text/csv, text/plain")
    try:
        return status, body.decode("utf-8")
    except UnicodeDecodeError:
        raise FetchError("malformed text" if status == 200 else f"HTTP {status}") from None
