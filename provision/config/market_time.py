"""`schedule:` in a market's own time: `{at: "16:30", timezone: America/New_York, days: MON-FRI}`.

EventBridge rules evaluate cron(...) in UTC only, so a fixed UTC time is an hour later (or
earlier) in a market's local time for half the year. EventBridge Scheduler evaluates the cron
in a named IANA zone (ScheduleExpressionTimezone) and follows its daylight-saving changes
itself: the time-zone form becomes such a schedule (kinds/market_schedule.py), the cron(...)
and rate(...) strings stay EventBridge rules (kinds/schedule.py).

Pure validation: the zone is checked against the IANA database Python's `zoneinfo` reads (the
system's, or the `tzdata` package), so a misspelt zone is exit 2 before any AWS call.
"""

from __future__ import annotations

import difflib
import functools
import re
import zoneinfo
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Tag,
    field_validator,
)

from provision.config.schedule import check_schedule
from provision.config.validators import shown

# The two forms of `schedule:` (pydantic's union tags; messages.py leaves them out of a key's
# name, so an error reads "schedule.timezone", not "schedule.market-time.timezone").
EXPRESSION = "expression"
MARKET_TIME = "market-time"
FORMS = (EXPRESSION, MARKET_TIME)

_TIME = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", re.ASCII)
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_DAY_ITEM = re.compile(r"([A-Z]{3})(?:-([A-Z]{3}))?", re.ASCII)
ZONE_MAX = 50  # EventBridge Scheduler: ScheduleExpressionTimezone is 1 to 50 characters
EXAMPLE = '{at: "16:30", timezone: America/New_York, days: MON-FRI}'


@functools.cache
def iana_zones() -> frozenset[str]:
    """The IANA zone names this machine knows (read once: it walks the database)."""
    return frozenset(zoneinfo.available_timezones())


def _loads(value: str) -> bool:
    """Whether zoneinfo loads `value` as a zone: the test available_timezones() applies to each
    file of the database (a TZif file; posixrules left out), for one name: ~0.2 ms against
    the ~20 ms walk of the whole database that every command reading the config paid. zoneinfo
    refuses keys that are not normalised relative paths ('..', '/etc/localtime', 'a//b')."""
    if value == "posixrules":
        return False
    try:
        zoneinfo.ZoneInfo(value)
    except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return False
    return True


def check_timezone(value: str) -> str:
    if len(value) <= ZONE_MAX and _loads(value):
        return value
    zones = iana_zones()  # only to word the error
    if not zones:
        raise ValueError("this machine has no IANA time zone database for zoneinfo to check "
                         f"{shown(value)} against; install it (pip install tzdata) and run the "
                         "command again")
    if value in zones and len(value) <= ZONE_MAX:
        return value
    folded = {z.casefold(): z for z in zones}
    close = ([folded[value.casefold()]] if value.casefold() in folded else
             difflib.get_close_matches(value.replace(" ", "_"), sorted(zones), n=1, cutoff=0.75))
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise ValueError(f"{shown(value)} is not a time zone of the IANA database{hint}; write the "
                     "market's zone as Area/City, e.g. America/New_York, Europe/London or "
                     "Asia/Tokyo (the TZ identifier column of the IANA list)")


def _at_text(value: Any) -> Any:
    """YAML 1.1 reads an unquoted 16:30 as the base-60 number 990: say so, with the fix."""
    if isinstance(value, int) and not isinstance(value, bool):
        hours, minutes = divmod(value, 60)
        raise ValueError(f"YAML read the unquoted time as the number {value} (base 60); quote "
                         f'it: at: "{hours}:{minutes:02d}"')
    return value


def check_days(value: str) -> str:
    """EventBridge's day-of-week field, names only: MON-FRI, MON,WED,FRI, SAT-SUN or '*'."""
    text = value.upper().replace(" ", "")
    if text in ("*", "DAILY"):
        return "*"
    items = text.split(",")
    for item in items:
        match = _DAY_ITEM.fullmatch(item)
        if not match or not {match.group(1), match.group(2) or match.group(1)} <= set(_DAYS):
            raise ValueError(f"{shown(value)} is not a list of weekdays; write day names "
                             "SUN MON TUE WED THU FRI SAT, ranges and commas, e.g. MON-FRI, "
                             "MON,WED,FRI or '*' (every day)")
    return ",".join(items)


class MarketTime(BaseModel):
    """Once a day at `at`, local time in `timezone`, on `days`."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)

    at: Annotated[str, BeforeValidator(_at_text)]
    timezone: str
    days: str = "MON-FRI"

    @field_validator("at")
    @classmethod
    def _at(cls, value: str) -> str:
        match = _TIME.fullmatch(value.strip())
        if not match:
            raise ValueError(f"{shown(value)} is not a time of day; write 24-hour HH:MM in "
                             'quotes, e.g. at: "16:30"')
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("days")
    @classmethod
    def _days(cls, value: str) -> str:
        return check_days(value)

    @property
    def hour(self) -> int:
        return int(self.at[:2])

    @property
    def minute(self) -> int:
        return int(self.at[3:])

    @property
    def expression(self) -> str:
        """The cron(...) EventBridge Scheduler evaluates in `timezone`."""
        return f"cron({self.minute} {self.hour} ? * {self.days} *)"

    def __str__(self) -> str:
        days = "every day" if self.days == "*" else self.days
        return f"{self.at} {self.timezone}, {days}"


def _expression_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(f"{shown(value)} is not a schedule; write cron(...) or rate(...) in "
                         f"quotes, or the market's local time as a mapping: {EXAMPLE}")
    return value


def _form(value: Any) -> str:
    return MARKET_TIME if isinstance(value, dict | MarketTime) else EXPRESSION


Expression = Annotated[str, BeforeValidator(_expression_text), AfterValidator(check_schedule)]
# `schedule:` is either form; the discriminator picks one, so an error names that form's keys
# only (a smart union would also report every way the value fails to be the other form).
Schedule = Annotated[Annotated[Expression, Tag(EXPRESSION)]
                     | Annotated[MarketTime, Tag(MARKET_TIME)], Discriminator(_form)]

