"""Read the function's log events, once or following new ones, without gaps or repeats.

CloudWatch Logs can ingest an event late, with a timestamp older than the newest one already
seen (concurrent invocations, delayed delivery). So each poll re-reads an overlap window before
the newest timestamp and drops events already printed, by eventId.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

from provision.core.pipelines import connect
from provision.core.target import Target
from provision.errors import StockAlertError
from provision.kinds.log_group import events

_DURATION = re.compile(r"^([0-9]+)([smhd])\Z")
MAX_SINCE_S = 3653 * 86400  # ten years: the longest log retention CloudWatch Logs offers
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
FOLLOW_INTERVAL_S = 2.0
OVERLAP_MS = 5 * 60 * 1000  # re-read this much before the newest event seen

Event = dict[str, Any]


def parse_since(text: str) -> int:
    """'90s', '30m', '1h', '2d' -> seconds; InputError otherwise."""
    from provision.errors import InputError

    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise InputError(f"--since {text!r} is not a duration.",
                         hint="Write a whole number and a unit: 90s, 30m, 1h or 2d.")
    seconds = int(match.group(1)) * _UNIT_S[match.group(2)]
    if seconds > MAX_SINCE_S:
        raise InputError(f"--since {text!r} reaches back more than 3653 days (ten years), the "
                         "longest CloudWatch Logs keeps events.",
                         hint="Pass at most --since 3653d.")
    return seconds


class Tail:
    """Which events were already shown; remembers only those inside the overlap window."""

    def __init__(self, start_ms: int) -> None:
        self.start_ms = start_ms
        self.newest_ms = start_ms
        self.shown: dict[str, int] = {}  # eventId -> timestamp

    def fresh(self, found: list[Event]) -> list[Event]:
        new = [e for e in found if e.get("eventId") not in self.shown]
        for event in new:
            self.shown[event.get("eventId", "")] = event["timestamp"]
            self.newest_ms = max(self.newest_ms, event["timestamp"])
        horizon = self.next_start()
        self.shown = {i: t for i, t in self.shown.items() if t >= horizon}
        return new

    def next_start(self) -> int:
        return max(self.start_ms, self.newest_ms - OVERLAP_MS)


def stream(target: Target, since_s: int, follow: bool, emit: Callable[[Event], None],
           stop: threading.Event | None = None, interval_s: float = FOLLOW_INTERVAL_S) -> None:
    """emit() each event once, oldest first; with follow, poll until `stop` is set."""
    stack = connect(target, with_code=False)
    if not _exists(target, stack.log_group_name):
        raise StockAlertError(f"Log group {stack.log_group_name} does not exist.",
                              hint="Run 'stock-alert up' first.")
    tail = Tail(int((time.time() - since_s) * 1000))
    stop = stop or threading.Event()
    while True:
        for event in tail.fresh(events(target.aws, stack.log_group_name, tail.next_start())):
            emit(event)
        if not follow or stop.wait(interval_s):
            return


def _exists(target: Target, name: str) -> bool:
    return any(g["logGroupName"] == name
               for page in target.aws.pages("logs", "describe_log_groups",
                                            logGroupNamePrefix=name)
               for g in page.get("logGroups", []))
