"""Where AWS is: the local-emulator test, and the connect/read timeouts for every client."""

from __future__ import annotations

import os
from urllib.parse import urlparse

from provision.errors import InputError

EMULATOR_HINT = (
    "To try stock-alert with no AWS account, start the local emulator with "
    "'stock-alert emulator' and run the export line it prints."
)


def is_loopback(url: str | None) -> bool:
    host = urlparse(url or "").hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


TIMEOUT_ENV = "STOCK_ALERT_TIMEOUT_S"
CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 5.0  # x 4 attempts + botocore's backoff (< 7 s): a dead endpoint ends < 30 s


def client_timeouts() -> tuple[float, float]:
    """(connect, read) timeouts in seconds for every AWS client.

    Control-plane calls (IAM, Lambda, SNS, EventBridge, STS) answer in well under a second, so
    the defaults stay short; STOCK_ALERT_TIMEOUT_S sets the read timeout (1 to 300 s) for a
    slow link or emulator, and caps the connect timeout. InputError when it is not a number.
    """
    raw = os.environ.get(TIMEOUT_ENV, "")
    if not raw:
        return CONNECT_TIMEOUT_S, READ_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 1 <= value <= 300:  # also refuses nan
        raise InputError(f"{TIMEOUT_ENV}={raw[:40]!r} is not a number of seconds from 1 to 300.",
                         hint=f"Set it like 10, or unset it for the default read timeout of "
                         f"{READ_TIMEOUT_S:g} s.")
    return min(CONNECT_TIMEOUT_S, value), value
