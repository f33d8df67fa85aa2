"""Exact firing counts of an EventBridge schedule expression over one calendar month.

EventBridge rules evaluate cron expressions in UTC, so there is no daylight-saving gap or
repeat. A cron is counted day by day: a day either matches (year, month, day-of-month or
day-of-week) or not, and a matching day fires once per (hour, minute) pair. That is exact, not
an average.

A market-time schedule (EventBridge Scheduler, ScheduleExpressionTimezone) is counted over the
calendar month of its own zone, on local days and local times. Where that zone changes to or
from daylight saving, Scheduler skips a local time that does not exist that day (spring
forward) and runs a local time that occurs twice only once (fall back) (EventBridge Scheduler
User Guide, "Schedule types", daylight saving time; repost.aws knowledge-center
eventbridge-scheduler-adjust-dst): so is the count here.

rate(N unit) fires every N units from the moment the rule was created, so the count in a month
depends on that phase: it is floor(month/N) or one more. We report the larger (an upper bound)
and say whether it is exact.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass

_MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
_DAYS = "SUN MON TUE WED THU FRI SAT".split()
_RATE = re.compile(r"^rate\((\d+) (minute|hour|day)s?\)$")
_UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440}


@dataclass(frozen=True)
class Firings:
    """How often a schedule runs in one month."""

    expression: str
    month: str  # "YYYY-MM"
    runs: int
    exact: bool  # False for a rate() whose period does not divide the month
    note: str


def next_month(today: dt.date) -> tuple[int, int]:
    """The next full calendar month after `today` (the month we estimate for)."""
    return (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)


def count_month(expression: str, year: int, month: int, zone: str | None = None) -> Firings:
    """Firings of a (valid) EventBridge schedule expression in the given month: of UTC, or
    (`zone`, a cron(...) EventBridge Scheduler evaluates there) of that IANA zone."""
    expr = expression.strip()
    label = f"{year:04d}-{month:02d}"
    if expr.startswith("rate("):
        return _rate(expr, year, month, label)
    if zone is not None:
        return _in_zone(expr, year, month, zone, label)
    fields = expr[5:-1].split()
    per_day = len(_values(fields[0], 0, 59, ())) * len(_values(fields[1], 0, 23, ()))
    days = sum(1 for day in _month_days(year, month) if _day_matches(fields, day))
    return Firings(expr, label, days * per_day, True,
                   f"cron, counted exactly over {calendar.month_name[month]} {year} (UTC)")


def _in_zone(expr: str, year: int, month: int, zone: str, label: str) -> Firings:
    """Local days of the zone's month, each (hour, minute) once if that local time exists."""
    tz = zoneinfo.ZoneInfo(zone)
    fields = expr[5:-1].split()
    times = [(h, m) for h in sorted(_values(fields[1], 0, 23, ()))
             for m in sorted(_values(fields[0], 0, 59, ()))]
    local = [dt.datetime(day.year, day.month, day.day, h, m)
             for day in _month_days(year, month) if _day_matches(fields, day) for h, m in times]
    runs = [t for t in local if exists(t, tz)]
    twice = sum(1 for t in runs if _repeated(t, tz))
    note = f"cron in {zone}, counted exactly over {calendar.month_name[month]} {year} there"
    changes = [day for day in _month_days(year, month) if _offset_changes(day, tz)]
    if changes:
        note += f", across its clock change on {', '.join(f'{d:%a} {d.day}' for d in changes)}"
    if len(local) > len(runs):
        note += (f"; {len(local) - len(runs)} run(s) at a local time that does not exist that "
                 "day skipped, as EventBridge Scheduler skips them")
    if twice:
        note += f"; {twice} run(s) at a local time that happens twice, run once"
    return Firings(expr, label, len(runs), True, note)


def exists(local: dt.datetime, tz: zoneinfo.ZoneInfo) -> bool:
    """Whether a wall-clock time happens in the zone (not in a spring-forward gap)."""
    there = local.replace(tzinfo=tz)
    return there.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None) == local


def _repeated(local: dt.datetime, tz: zoneinfo.ZoneInfo) -> bool:
    """Whether a wall-clock time happens twice (in a fall-back overlap)."""
    return local.replace(tzinfo=tz).utcoffset() != local.replace(tzinfo=tz, fold=1).utcoffset()


def _offset_changes(day: dt.date, tz: zoneinfo.ZoneInfo) -> bool:
    start = dt.datetime(day.year, day.month, day.day, tzinfo=tz)
    end = start.replace(hour=23, minute=59)
    return start.utcoffset() != end.utcoffset()


def _rate(expr: str, year: int, month: int, label: str) -> Firings:
    match = _RATE.match(expr)
    if not match:
        raise ValueError(f"{expr!r} is not a rate expression")
    period = int(match.group(1)) * _UNIT_MINUTES[match.group(2)]
    minutes = calendar.monthrange(year, month)[1] * 1440
    runs, exact = math.ceil(minutes / period), minutes % period == 0
    note = ("rate, exactly" if exact else
            f"rate, at most (between {minutes // period} and {runs} depending on when the rule "
            "was created)")
    return Firings(expr, label, runs, exact, f"{note} over {calendar.month_name[month]} {year}")


def _month_days(year: int, month: int) -> list[dt.date]:
    return [dt.date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]


def _aws_weekday(day: dt.date) -> int:
    """EventBridge numbers days 1 (SUN) to 7 (SAT)."""
    return (day.weekday() + 1) % 7 + 1


def _day_matches(fields: list[str], day: dt.date) -> bool:
    dom, month, dow, year = fields[2], fields[3], fields[4], fields[5]
    if day.year not in _values(year, 1970, 2199, ()):
        return False
    if day.month not in _values(month, 1, 12, _MONTHS):
        return False
    if dom == "?":
        return any(_dow_item(item.upper(), day) for item in dow.split(","))
    return any(_dom_item(item.upper(), day) for item in dom.split(","))


def _dom_item(item: str, day: dt.date) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    if item == "L":
        return day.day == last
    if item == "LW":
        return day == _nearest_weekday(day.replace(day=last))
    if item.endswith("W"):
        wanted = int(item[:-1])
        return wanted <= last and day == _nearest_weekday(day.replace(day=wanted))
    return day.day in _values(item, 1, 31, ())


def _nearest_weekday(day: dt.date) -> dt.date:
    """The weekday nearest `day` without leaving its month (Quartz 'W' semantics)."""
    shifts = {5: (-1, 2), 6: (1, -2)}  # Saturday: Friday, else Monday; Sunday: Monday, else Friday
    if day.weekday() not in shifts:
        return day
    first, second = shifts[day.weekday()]
    moved = day + dt.timedelta(days=first)
    return moved if moved.month == day.month else day + dt.timedelta(days=second)


def _dow_item(item: str, day: dt.date) -> bool:
    if "#" in item:
        weekday, nth = item.split("#")
        return (_aws_weekday(day) == _one(weekday, _DAYS, 1)
                and (day.day - 1) // 7 + 1 == int(nth))
    if item.endswith("L") and len(item) > 1:
        last = calendar.monthrange(day.year, day.month)[1]
        return _aws_weekday(day) == _one(item[:-1], _DAYS, 1) and day.day > last - 7
    return _aws_weekday(day) in _values(item, 1, 7, _DAYS)


def _one(token: str, names: list[str] | tuple[str, ...], first: int) -> int:
    return names.index(token) + first if token in names else int(token)


def _values(field: str, low: int, high: int, names: list[str] | tuple[str, ...]) -> set[int]:
    """The numbers a cron field allows: *, a, a-b (wrapping when a > b), a/n, a-b/n, lists."""
    out: set[int] = set()
    for item in field.upper().split(","):
        out |= _item_values(item, low, high, lambda t: _one(t, names, low if names else 0))
    return out


def _item_values(item: str, low: int, high: int, number: Callable[[str], int]) -> set[int]:
    base, _, step_text = item.partition("/")
    step = int(step_text) if step_text else 1
    if base == "*":
        start, end = low, high
    elif "-" in base:
        start, end = (number(t) for t in base.split("-"))
    else:
        start = number(base)
        end = high if step_text else start
    if end < start:  # a wrapping range such as 22-2 or FRI-MON
        span = list(range(start, high + 1)) + list(range(low, end + 1))
    else:
        span = list(range(start, end + 1))
    return set(span[::step])
