"""Structured JSON log lines on stdout (Lambda ships stdout to CloudWatch Logs).

One line per event: ``{"event": "quotes_fetched", ...}``. Known secrets (the API key) are
scrubbed from every line, and ``redact`` strips ``apikey=`` values from URLs.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time

TYPE_CHECKING = False  # typing costs ~20 ms to import at cold start; only the checker needs it
if TYPE_CHECKING:
    from typing import Any

_LOCK = threading.Lock()
_SECRETS: set[str] = set()
_APIKEY_RE = re.compile(r"(apikey=)[^&\s\"']*", re.IGNORECASE)


def add_secret(value: str) -> None:
    """Register a value that must never appear in any log line."""
    if value:
        _SECRETS.add(value)


def redact(text: str) -> str:
    """Remove API keys (query parameter or registered secret) from ``text``."""
    text = _APIKEY_RE.sub(r"\1***", text)
    for secret in _SECRETS:
        text = text.replace(secret, "***")
    return text


def event(name: str, **fields: Any) -> None:
    """Print one JSON log line for event ``name``."""
    record = {"event": name, "ts": round(time.time(), 3), **fields}
    line = redact(json.dumps(record, default=str, separators=(",", ":")))
    with _LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
