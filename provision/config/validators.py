"""Pure checks for values AWS (and moto) accept too loosely; each raises ValueError with a fix."""

from __future__ import annotations

import re
import reprlib

_CRON_FIELDS = (
    # name, low, high, names, allows '?', extra tokens
    ("minutes", 0, 59, (), False),
    ("hours", 0, 23, (), False),
    ("day-of-month", 1, 31, (), True),
    ("month", 1, 12, tuple("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()), False),
    ("day-of-week", 1, 7, tuple("SUN MON TUE WED THU FRI SAT".split()), True),
    ("year", 1970, 2199, (), False),
)
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
)
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_TICKER = re.compile(r"^[A-Z0-9^][A-Z0-9.\-=^]{0,11}$")
_TAG_CHARS = re.compile(r"^[\w .:/=+\-@]*$", re.UNICODE)
_SSM_NAME = re.compile(r"^/?[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$")

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 80
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 3
_REPR.maxlevel = 2


def shown(value: object, limit: int = 100) -> str:
    """A short excerpt of a value for a message: never the whole of a huge input."""
    return clip(_REPR.repr(value), limit)


def clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


SCHEDULE_HELP = (
    'use an EventBridge expression: "cron(Minutes Hours Day-of-month Month Day-of-week Year)" '
    'with six fields and "?" in day-of-month or day-of-week, e.g. "cron(0 14 ? * MON-FRI *)", '
    'or "rate(N unit)", e.g. "rate(1 hour)" or "rate(15 minutes)"'
)


def check_schedule(expr: str) -> str:
    """Validate an EventBridge schedule expression; return it unchanged."""
    expr = expr.strip()
    if expr.startswith("rate("):
        _check_rate(expr)
    elif expr.startswith("cron(") and expr.endswith(")"):
        _check_cron(expr[5:-1])
    else:
        raise ValueError(f"{shown(expr)} is neither cron(...) nor rate(...); {SCHEDULE_HELP}")
    return expr


def _check_rate(expr: str) -> None:
    match = _RATE.match(expr)
    if not match:
        raise ValueError(f"{shown(expr)} is not a valid rate expression; {SCHEDULE_HELP}")
    value, unit = int(match.group(1)), match.group(2)
    if value < 1:
        raise ValueError(f"{shown(expr)}: the rate must be a positive whole number")
    if (value == 1) != (not unit.endswith("s")):
        right = unit.rstrip("s") if value == 1 else unit.rstrip("s") + "s"
        raise ValueError(f"{shown(expr)}: EventBridge wants rate({value} {right})")


def _check_cron(body: str) -> None:
    fields = body.split()
    if len(fields) != 6:
        raise ValueError(
            f"cron({body}) has {len(fields)} fields, EventBridge needs 6 (it has a Year field "
            f"and no seconds); {SCHEDULE_HELP}"
        )
    for value, spec in zip(fields, _CRON_FIELDS, strict=True):
        _check_cron_field(value, *spec)
    dom, dow = fields[2], fields[4]
    if (dom == "?") == (dow == "?"):
        raise ValueError(
            f"cron({body}): exactly one of day-of-month ({dom}) and day-of-week ({dow}) must be "
            '"?", e.g. "cron(0 14 ? * MON-FRI *)" or "cron(0 14 1 * ? *)"'
        )


def _check_cron_field(
    value: str, name: str, low: int, high: int, names: tuple[str, ...], question: bool
) -> None:
    if value == "?" and question:
        return
    for item in value.split(","):
        if not _cron_item_ok(item.upper(), low, high, names, name):
            raise ValueError(
                f"cron {name} field {shown(value)} is invalid: use numbers {low}-{high}"
                + (f" or names {names[0]}-{names[-1]}" if names else "")
                + ", '*', ranges 'a-b', lists 'a,b' and steps '*/n'"
                + ("; '?' is allowed here" if question else "")
            )


def _cron_item_ok(item: str, low: int, high: int, names: tuple[str, ...], name: str) -> bool:
    if name == "day-of-month" and re.fullmatch(r"L|LW|(\d{1,2})W", item):
        return item in ("L", "LW") or low <= int(item[:-1]) <= high
    if name == "day-of-week" and re.fullmatch(r"(\d|[A-Z]{3})(#[1-5]|L)", item):
        return _cron_value_ok(item[:-2] if "#" in item else item[:-1], low, high, names)
    base, _, step = item.partition("/")
    if step and not (step.isdigit() and int(step) >= 1):
        return False
    if base == "*":
        return True
    start, _, end = base.partition("-")
    if not _cron_value_ok(start, low, high, names):
        return False
    return not end or _cron_value_ok(end, low, high, names)


def _cron_value_ok(token: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    if token in names:
        return True
    return token.isdigit() and low <= int(token) <= high


def check_email(value: str) -> str:
    if not _EMAIL.match(value) or len(value) > 254:
        raise ValueError(f"{shown(value)} is not an e-mail address; write it like you@example.com")
    return value


def check_phone(value: str) -> str:
    if not _E164.match(value):
        raise ValueError(
            f"{shown(value)} is not an E.164 phone number; write '+', the country code and the "
            'number, digits only (7 to 15), e.g. "+15555550100"'
        )
    return value


def check_ticker(value: str) -> str:
    symbol = value.strip().upper()
    if not _TICKER.match(symbol):
        raise ValueError(
            f"{shown(value)} is not a ticker symbol; use 1 to 12 letters, digits or . - = ^, "
            'e.g. "TSLA", "BRK.B" or "^GSPC"'
        )
    return symbol


def check_ssm_name(value: str) -> str:
    if not _SSM_NAME.match(value) or len(value) > 1011:
        raise ValueError(
            f"{shown(value)} is not an SSM parameter name; use letters, digits, '_', '.', '-' and "
            "'/' separators, e.g. /stock-alert/alphavantage-key"
        )
    return value


def check_tag(key: str, value: str, reserved: tuple[str, ...]) -> None:
    if not key or len(key) > 128 or key.lower().startswith("aws:") or key in reserved:
        raise ValueError(
            f"tag key {shown(key)} is not allowed: keys are 1 to 128 characters, may not start "
            "with "
            f"'aws:' and may not be one of {', '.join(reserved)} (stock-alert sets those itself)"
        )
    if len(value) > 256 or not _TAG_CHARS.match(key) or not _TAG_CHARS.match(value):
        raise ValueError(
            f"tag {shown(key)}={shown(value)} is not allowed: values are at most 256 characters of "
            "letters, "
            "digits, spaces and _ . : / = + - @"
        )
