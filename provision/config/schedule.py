"""EventBridge schedule expressions: parsed as EventBridge documents them, and proved to fire.

Syntax per https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html:
six fields (Minutes Hours Day-of-month Month Day-of-week Year), "?" in exactly one of the two
day fields, L and W in day-of-month (L, LW, 3W), L and # in day-of-week (L, 5L, 3#2; a "#"
item must be the field's only item), ranges, lists and "/" steps. Only ASCII digits count:
str.isdigit() and \\d also accept "５" and "٠", which AWS rejects.

A cron that parses can still never fire (cron(0 14 31 2 ? *): 31 February): the search below
walks forward day by day over at most FIRE_SEARCH_YEARS years and refuses such an expression.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from provision.config.validators import clip, shown

FIRE_SEARCH_YEARS = 50
RATE_MAX = {"minute": 525_600, "hour": 8_760, "day": 365}  # one year, whichever the unit
_MONTHS = tuple("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())
_DAYS = tuple("SUN MON TUE WED THU FRI SAT".split())
_RATE = re.compile(r"rate\(([0-9]+) (minute|minutes|hour|hours|day|days)\)\Z", re.ASCII)
_NUMBER = re.compile(r"[0-9]{1,4}\Z", re.ASCII)
_W = re.compile(r"([0-9]{1,2})W\Z", re.ASCII)
_LAST_DOW = re.compile(r"([0-9]|[A-Z]{3})L\Z", re.ASCII)
_NTH_DOW = re.compile(r"([0-9]|[A-Z]{3})#([1-5])\Z", re.ASCII)

SCHEDULE_HELP = (
    'use "cron(Minutes Hours Day-of-month Month Day-of-week Year)" with "?" in one day field, '
    'e.g. "cron(30 21 ? * MON-FRI *)", or "rate(N unit)", e.g. "rate(15 minutes)"'
)
DayTest = Callable[[dt.date], bool]


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()

    def value(self, token: str) -> int:
        if token in self.names:
            return self.names.index(token) + self.low
        if _NUMBER.match(token) and self.low <= int(token) <= self.high:
            return int(token)
        raise ValueError(self.help(token))

    def help(self, token: str) -> str:
        names = f" or {self.names[0]}-{self.names[-1]}" if self.names else ""
        return (f"cron {self.name} item {shown(token)} is invalid: use {self.low}-{self.high}"
                f"{names}, '*', ranges a-b, lists a,b and steps */n or a/n")

    def values(self, text: str) -> set[int]:
        """The set an item list denotes; ranges may wrap (FRI-MON), as in Quartz cron."""
        out: set[int] = set()
        for item in text.split(","):
            base, slash, step_text = item.partition("/")
            if slash and not (_NUMBER.match(step_text) and int(step_text) >= 1):
                raise ValueError(self.help(item))
            step = int(step_text) if slash else 1
            if base == "*":
                start, end = self.low, self.high
            else:
                first, dash, last = base.partition("-")
                start = self.value(first)
                end = self.value(last) if dash else (self.high if slash else start)
            span = (end - start) % (self.high - self.low + 1)
            out.update(self.low + (start - self.low + k) % (self.high - self.low + 1)
                       for k in range(0, span + 1, step))
        return out


_MINUTE, _HOUR = _Field("minutes", 0, 59), _Field("hours", 0, 23)
_DOM, _MONTH = _Field("day-of-month", 1, 31), _Field("month", 1, 12, _MONTHS)
_DOW, _YEAR = _Field("day-of-week", 1, 7, _DAYS), _Field("year", 1970, 2199)


def check_schedule(expr: str) -> str:
    """Validate an EventBridge schedule expression; return it without outer blanks."""
    expr = expr.strip()
    if expr.startswith("rate("):
        _check_rate(expr)
    elif expr.startswith("cron(") and expr.endswith(")"):
        check_cron(expr[5:-1])
    else:
        raise ValueError(f"{shown(expr)} is neither cron(...) nor rate(...); {SCHEDULE_HELP}")
    return expr


def _check_rate(expr: str) -> None:
    match = _RATE.match(expr)
    if not match:
        raise ValueError(f"{shown(expr)} is not a valid rate expression; {SCHEDULE_HELP}")
    digits, unit = match.group(1), match.group(2)
    singular = unit.rstrip("s")
    value = int(digits) if len(digits) <= 7 else RATE_MAX[singular] + 1  # 10^20: no int()
    if not 1 <= value <= RATE_MAX[singular]:
        raise ValueError(f"{shown(expr)}: the rate must be a whole number from 1 to "
                         f"{RATE_MAX[singular]} {singular}s (at most one year)")
    if (value == 1) != (unit == singular):
        right = singular if value == 1 else singular + "s"
        raise ValueError(f"{shown(expr)}: EventBridge wants rate({value} {right})")


def check_cron(body: str, today: dt.date | None = None) -> None:
    fields = body.upper().split()
    if len(fields) != 6:
        raise ValueError(f"cron({shown(body)[1:-1]}) has {len(fields)} fields, EventBridge needs "
                         f"6 (it has a Year field and no seconds); {SCHEDULE_HELP}")
    minute, hour, dom, month, dow, year = fields
    body = clip(body, 80)
    if (dom == "?") == (dow == "?"):
        raise ValueError(
            f"cron({body}): exactly one of day-of-month ({dom}) and day-of-week ({dow}) must be "
            '"?", e.g. "cron(30 21 ? * MON-FRI *)" or "cron(30 21 1 * ? *)"')
    _MINUTE.values(minute)
    _HOUR.values(hour)
    day_test = _dom_test(dom) if dow == "?" else _dow_test(dow)
    if not _fires(day_test, _MONTH.values(month), _YEAR.values(year), today):
        raise ValueError(
            f"cron({body}) never fires: no date from today to {FIRE_SEARCH_YEARS} years ahead "
            f"matches day-of-month {dom}, month {month}, day-of-week {dow} and year {year}; "
            "pick days that occur (31 February does not) in years to come")


def _fires(day_test: DayTest, months: set[int], years: set[int],
           today: dt.date | None) -> bool:
    start = today or dt.datetime.now(dt.UTC).date()
    for year in sorted(y for y in years if start.year <= y <= start.year + FIRE_SEARCH_YEARS):
        for month in sorted(months):
            for day in range(1, calendar.monthrange(year, month)[1] + 1):
                date = dt.date(year, month, day)
                if date >= start and day_test(date):
                    return True
    return False


def _last_day(date: dt.date) -> int:
    return calendar.monthrange(date.year, date.month)[1]


def _weekday_near(date: dt.date, target: int) -> bool:
    """Quartz/EventBridge nW: the weekday nearest day n, never leaving the month."""
    last = _last_day(date)
    if target > last:
        return False
    weekday = dt.date(date.year, date.month, target).weekday()  # Mon 0 .. Sun 6
    shift = {5: -1 if target > 1 else 2, 6: 1 if target < last else -2}.get(weekday, 0)
    return date.day == target + shift


def _dom_test(text: str) -> DayTest:
    tests: list[DayTest] = []
    for item in text.split(","):
        if item == "L":
            tests.append(lambda d: d.day == _last_day(d))
        elif item == "LW":
            tests.append(lambda d: d.weekday() < 5 and all(
                dt.date(d.year, d.month, n).weekday() >= 5 for n in range(d.day + 1,
                                                                           _last_day(d) + 1)))
        elif match := _W.match(item):
            target = _DOM.value(match.group(1))
            tests.append(lambda d, t=target: _weekday_near(d, t))  # type: ignore[misc]
        else:
            days = _DOM.values(item)
            tests.append(lambda d, s=days: d.day in s)  # type: ignore[misc]
    return lambda d: any(test(d) for test in tests)


def _eb_weekday(date: dt.date) -> int:
    return date.isoweekday() % 7 + 1  # EventBridge: 1 = SUN .. 7 = SAT


def _dow_test(text: str) -> DayTest:
    if "#" in text and "," in text:
        raise ValueError(f"cron day-of-week {shown(text)}: an item with '#' must be the only "
                         "one (EventBridge reads 3#1,6#3 as two expressions)")
    if match := _NTH_DOW.match(text):
        wanted, nth = _DOW.value(match.group(1)), int(match.group(2))
        return lambda d: _eb_weekday(d) == wanted and (d.day - 1) // 7 + 1 == nth
    tests: list[DayTest] = []
    for item in text.split(","):
        if item == "L":
            tests.append(lambda d: _eb_weekday(d) == 7)
        elif match := _LAST_DOW.match(item):
            wanted = _DOW.value(match.group(1))
            tests.append(lambda d, w=wanted: _eb_weekday(d) == w  # type: ignore[misc]
                         and d.day + 7 > _last_day(d))
        else:
            days = _DOW.values(item)
            tests.append(lambda d, s=days: _eb_weekday(d) in s)  # type: ignore[misc]
    return lambda d: any(test(d) for test in tests)
