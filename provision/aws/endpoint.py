"""Where AWS is and how each client talks to it: the local-emulator test, the connect/read
timeouts, and the retry settings of every client."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlparse

from provision import __version__
from provision.errors import InputError

EMULATOR_HINT = (
    "To try stock-alert with no AWS account, start the local emulator with "
    "'stock-alert emulator' and run the export line it prints."
)


# Clients whose service model takes ~100 ms of CPU to load (EC2's: a 2.5 MB JSON document, as
# much as all the other clients of a run together): made after the others, so the other
# reads are already waiting on the network while it loads.
HEAVY_CLIENTS = frozenset({"ec2"})

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


def client_config(mode: str | None = None) -> Any:
    """botocore's Config for every client: standard retries (4 attempts in all unless
    AWS_MAX_ATTEMPTS says otherwise), the timeouts above, and our user agent."""
    from botocore.config import Config

    retries: dict[str, Any] = {"mode": os.environ.get("AWS_RETRY_MODE") or mode or "standard"}
    if not os.environ.get("AWS_MAX_ATTEMPTS"):
        retries["total_max_attempts"] = 4
    connect, read = client_timeouts()
    return Config(
        retries=retries,  # type: ignore[arg-type]
        connect_timeout=connect,
        read_timeout=read,
        user_agent_extra=f"stock-alert/{__version__}",
    )


def single_attempt(read_timeout_s: float) -> Any:
    """For a call that must be sent at most once (Invoke): no SDK retry, its own read timeout."""
    from botocore.config import Config

    return Config(retries={"total_max_attempts": 1}, read_timeout=read_timeout_s)
