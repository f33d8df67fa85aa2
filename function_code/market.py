"""Market days: which trading day a quote is from, and whether that is today's session.

A quote is from the current session when its trading day is today's date in the market's own
time zone. A run on a weekend, a market holiday or before the open gets the last session's
quote: threshold mode then sends nothing, and summary mode says the market was closed.

The market's zone comes from the quote when the source gives it (Yahoo's ``gmtoffset``, the
exchange's UTC offset in seconds). Sources that give only a date (Alpha Vantage, Stooq) serve US
tickers here, so their day is compared with today's date in New York, from the US rule for
daylight saving time (since 2007: from 2:00 on the second Sunday of March to 2:00 on the first
Sunday of November). No time-zone database is needed: the Lambda runtime does not promise one.

Standard library only; ``now`` is the clock (tests replace it).
"""

from __future__ import annotations

import calendar
import time

now = time.time  # tests replace it
DAY_S = 86_400
EST_S = -5 * 3600
EDT_S = -4 * 3600


def _sunday(year: int, month: int, nth: int) -> int:
    """The day of the month of the ``nth`` Sunday."""
    first = calendar.weekday(year, month, 1)  # Monday 0 .. Sunday 6
    return 1 + (6 - first) % 7 + 7 * (nth - 1)


def us_eastern_offset(epoch: float) -> int:
    """New York's UTC offset in seconds at ``epoch``: -4 h in daylight saving time, else -5 h."""
    year = time.gmtime(epoch).tm_year
    starts = calendar.timegm((year, 3, _sunday(year, 3, 2), 7, 0, 0))  # 2:00 EST
    ends = calendar.timegm((year, 11, _sunday(year, 11, 1), 6, 0, 0))  # 2:00 EDT
    return EDT_S if starts <= epoch < ends else EST_S


def day(epoch: float, offset_s: int | None) -> str:
    """The date at ``epoch`` in a zone of ``offset_s`` (None: New York), as YYYY-MM-DD."""
    offset = us_eastern_offset(epoch) if offset_s is None else offset_s
    return time.strftime("%Y-%m-%d", time.gmtime(epoch + offset))


def days_between(earlier: str, later: str) -> int:
    """Whole days from one YYYY-MM-DD date to another."""
    def epoch(text: str) -> int:
        return calendar.timegm(time.strptime(text, "%Y-%m-%d"))

    return (epoch(later) - epoch(earlier)) // DAY_S


def is_current(session_date: str | None, offset_s: int | None, at: float) -> bool:
    """Whether a quote of trading day ``session_date`` is from today's session (an unknown
    day counts as current: nothing says otherwise)."""
    return session_date is None or session_date >= day(at, offset_s)
