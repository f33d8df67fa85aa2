"""The commented config.yaml that `stock-alert init` writes, and its answers checked one by one.

Each answer is checked by validating a small config that differs from a known-good one only in
that answer, with the same pydantic model (and so the same validators) as every other command.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from provision.config import model

SCHEMA_FILE = "stock-alert.schema.json"
DEFAULT_NAME = "stock-alert"
# The answer init offers: the market-time form, in the words --schedule takes (parse_schedule).
DEFAULT_SCHEDULE = " ".join(model.MARKET_CLOSE.values())
MODES = ("summary", "threshold")
_GOOD = {"name": DEFAULT_NAME, "stocks": ["SPY"]}


@dataclass(frozen=True)
class Answers:
    name: str = DEFAULT_NAME
    stocks: tuple[str, ...] = ()
    email: tuple[str, ...] = ()
    sms: tuple[str, ...] = ()
    schedule: str = DEFAULT_SCHEDULE
    mode: str = "summary"


def parse_schedule(text: str) -> str | dict[str, str]:
    """What --schedule (or the schedule question) means: cron(...)/rate(...) as written, or
    'HH:MM ZONE [DAYS]' (e.g. '16:30 America/New_York MON-FRI') as the market-time mapping."""
    text = text.strip()
    if text.startswith(("cron(", "rate(")):
        return text
    words = text.split()
    keys = ("at", "timezone", "days")
    if not 2 <= len(words) <= 3:
        raise ValueError(f"{text!r} is neither cron(...)/rate(...) nor 'HH:MM ZONE [DAYS]'; "
                         f"write e.g. '{DEFAULT_SCHEDULE}' (the market's local time) or "
                         "'cron(30 21 ? * MON-FRI *)' (UTC)")
    return dict(zip(keys, words, strict=False))


def split_list(text: str) -> tuple[str, ...]:
    """'TSLA, F GM' -> ('TSLA', 'F', 'GM'): commas or spaces separate the items."""
    return tuple(item for item in text.replace(",", " ").split() if item)


def check(key: str, value: Any) -> Any:
    """The value as the model reads it, or ValueError with the model's own message."""
    from provision.config.messages import describe

    doc: dict[str, Any] = dict(_GOOD)
    if key in ("email", "sms"):
        doc["notify"] = {key: list(value)}
    elif key == "mode":
        doc["alert"] = {"mode": value}
    elif key == "schedule":
        doc["schedule"] = parse_schedule(value)
    else:
        doc[key] = list(value) if isinstance(value, tuple) else value
    try:
        config = model.Config.model_validate(doc)
    except ValidationError as exc:
        raise ValueError(describe(exc)) from None
    if key == "stocks":
        return tuple(s.symbol for s in config.stocks)
    return value


def _list(items: tuple[str, ...]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def _schedule_line(text: str) -> str:
    """The schedule key, in the form the answer has, with what it means."""
    parsed = parse_schedule(text)
    if isinstance(parsed, str):
        return (f"schedule: {json.dumps(parsed)}   # EventBridge rule: cron (6 fields, UTC) or "
                "rate(...)")
    market = model.Config.model_validate(dict(_GOOD, schedule=parsed)).market_time
    assert market is not None
    return (f"schedule: {{at: {json.dumps(market.at)}, timezone: {json.dumps(market.timezone)}, "
            f"days: "
            f"{json.dumps(market.days)}}}\n"
            "# ^ the market's local time: EventBridge Scheduler follows its daylight-saving "
            "changes.\n#   Or an EventBridge rule in UTC: \"cron(30 21 ? * MON-FRI *)\" or "
            "\"rate(1 hour)\".")


def render(answers: Answers) -> str:
    """The config text: every key commented, the answers filled in, JSON-quoted (valid YAML)."""
    return f"""\
# yaml-language-server: $schema=./{SCHEMA_FILE}
# stock-alert config, written by 'stock-alert init'. Editors with the YAML language server
# complete keys and flag mistakes from {SCHEMA_FILE} (regenerate it with
# 'stock-alert config schema > {SCHEMA_FILE}'). Check this file without touching AWS:
# 'stock-alert config check'. Estimate what it costs: 'stock-alert cost'.

name: {json.dumps(answers.name)}   # stack name: prefix of every AWS name
# region: us-east-1          # optional; else --region, AWS_REGION or your profile's region
{_schedule_line(answers.schedule)}
enabled: true                # false keeps everything but pauses the schedule

# Ticker symbols. A mapping adds a display name and price alerts:
#   - {{symbol: GM, name: General Motors, above: 60.0, below: 35.0}}
stocks: {_list(answers.stocks)}

notify:                      # each entry becomes an SNS subscription
  email: {_list(answers.email)}   # AWS sends a confirmation link first
  sms: {_list(answers.sms)}   # E.164: '+', country code, number

function:
  runtime: python3.12        # python3.10 .. python3.14
  memory_mb: 128             # 128 .. 10240
  timeout_s: 30              # 1 .. 900
  log_retention_days: 14     # 1, 3, 5, 7, 14, 30, 60, 90, ... (what CloudWatch accepts)

quotes:
  providers: [yahoo, stooq]  # asked in this order for each symbol; the next one when a source
                             # refuses, errs, times out or answers an implausible quote.
                             # yahoo, stooq: no key | alphavantage: needs an API key
  # api_key_parameter: /stock-alert/alphavantage-key   # SSM SecureString holding the key

alert:
  mode: {answers.mode}             # summary: always send; threshold: only when a rule fires
  change_percent: 3.0        # threshold rule: |daily change| >= this many percent
  when: crossed              # above/below rules: crossed fires once, when the price passes the
                             # level since the previous close | beyond fires on every run past it

tags: {{}}                     # extra tags on every resource, e.g. {{project: demo}}
"""
