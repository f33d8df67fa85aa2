"""Pure: values that used to pass validation but were wrong at AWS or at run time (C), the
schedules EventBridge documents and the default schedule (E)."""

from __future__ import annotations

from pathlib import Path

import pytest

from provision.config.model import load_config
from provision.errors import ConfigError
from tests.support.configs import write_config

BASE = "name: t1\nregion: us-east-1\nstocks: [TSLA]\n"

# C. Values that passed validation but were wrong (each id names the case).
WRONG = {
    "name-trailing-newline": ('name: "t1\\n"\nregion: us-east-1\nstocks: [TSLA]\n',
                              ["name", "not a usable stack name"]),
    "sms-trailing-newline": (BASE + 'notify: {sms: ["+15555550100\\n"]}\n',
                             ["notify.sms[0]", "E.164"]),
    "email-trailing-newline": (BASE + 'notify: {email: ["a@x.com\\n"]}\n', ["notify.email[0]"]),
    "tag-value-trailing-newline": (BASE + 'tags: {team: "ops\\n"}\n', ["tags", "line breaks"]),
    "ssm-trailing-newline": (BASE + 'quotes: {provider: alphavantage, '
                             'api_key_parameter: "/sa/key\\n"}\n', ["quotes.api_key_parameter"]),
    "sms-fullwidth-digit": (BASE + 'notify: {sms: ["+1555555\uff10100"]}\n',
                            ["notify.sms[0]", "ASCII digits"]),
    "rate-fullwidth-digit": (BASE + 'schedule: "rate(\uff15 minutes)"\n', ["schedule", "rate"]),
    "cron-arabic-indic-digit": (BASE + 'schedule: "cron(\u0660 14 ? * MON-FRI *)"\n',
                                ["schedule", "minutes"]),
    "tag-keys-differ-in-case": (BASE + "tags: {Owner: a, owner: b}\n",
                                ["tags", "'Owner'", "'owner'", "letter case"]),
    "tag-key-reserved-other-case": (BASE + "tags: {Managed-By: me}\n", ["tags", "managed-by"]),
    "timeout-yes": (BASE + "function: {timeout_s: yes}\n", ["function.timeout_s", "whole number"]),
    "memory-float": (BASE + "function: {memory_mb: 256.0}\n", ["function.memory_mb"]),
    "enabled-one": (BASE + "enabled: 1\n", ["enabled", "true or false"]),
    "above-inf": (BASE.replace("[TSLA]", "[{symbol: TSLA, above: .inf}]"),
                  ["stocks[0].above", "finite"]),
    "below-nan": (BASE.replace("[TSLA]", "[{symbol: TSLA, below: .nan}]"),
                  ["stocks[0].below", "finite"]),
    "change-percent-true": (BASE + "alert: {change_percent: true}\n", ["alert.change_percent"]),
    "email-double-dot": (BASE + "notify: {email: [a..b@x.com]}\n", ["notify.email[0]", "dots"]),
    "email-label-hyphen": (BASE + "notify: {email: [ok@x.com, a@-x.com]}\n",
                           ["notify.email[1]", "'-'"]),
    "email-local-65": (BASE + f"notify: {{email: [{'a' * 65}@x.com]}}\n",
                       ["notify.email[0]", "64"]),
    "email-label-64": (BASE + f"notify: {{email: [a@{'b' * 64}.com]}}\n",
                       ["notify.email[0]", "63"]),
    "email-over-254": (BASE + f"notify: {{email: [a@{'.'.join(['b' * 60] * 4)}.{'c' * 9}]}}\n",
                       ["notify.email[0]", "254"]),
    "email-twice-in-case": (BASE + "notify: {email: [you@x.com, You@X.com]}\n",
                            ["notify.email[1]", "twice", "notify.email[0]"]),
    "cron-31-february": (BASE + 'schedule: "cron(0 14 31 2 ? *)"\n', ["schedule", "never fires"]),
    "cron-year-passed": (BASE + 'schedule: "cron(0 14 1 1 ? 2001)"\n', ["never fires"]),
    "cron-hash-in-list": (BASE + 'schedule: "cron(0 14 ? * 3#1,6#3 *)"\n', ["'#'"]),
    "rate-10e20-days": (BASE + 'schedule: "rate(100000000000000000000 days)"\n', ["schedule"]),
    "rate-366-days": (BASE + 'schedule: "rate(366 days)"\n', ["schedule", "365"]),
    "ssm-aws-prefix": (BASE + "quotes: {provider: alphavantage, api_key_parameter: /AWS/key}\n",
                       ["'aws' or 'ssm'"]),
    "ssm-ssm-prefix": (BASE + "quotes: {provider: alphavantage, api_key_parameter: SsmKey}\n",
                       ["'aws' or 'ssm'"]),
    "ssm-16-levels": (BASE + "quotes: {provider: alphavantage, api_key_parameter: "
                      + "/a" * 16 + "}\n", ["15 levels"]),
    "ssm-path-no-slash": (BASE + "quotes: {provider: alphavantage, api_key_parameter: a/b}\n",
                          ["must start with '/'"]),
    "ssm-too-long": (BASE + "quotes: {provider: alphavantage, api_key_parameter: /"
                     + "k" * 1011 + "}\n", ["1011"]),
    "base-url-newline": (BASE + 'quotes: {base_url: "https://q.example.com\\n"}\n',
                         ["quotes.base_url", "http(s) URL"]),
    "stock-name-newline": (BASE.replace("[TSLA]", '[{symbol: TSLA, name: "Tesla\\n"}]'),
                           ["stocks[0].name", "line break"]),
}


@pytest.mark.parametrize("name", list(WRONG))
def test_wrong_values_are_refused(tmp_path: Path, name: str) -> None:
    text, words = WRONG[name]
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, text))
    message = str(caught.value)
    assert len(message.encode()) < 1024
    for word in words:
        assert word in message, f"{word!r} missing from: {message}"


@pytest.mark.parametrize("schedule", [
    "cron(0 14 ? * L *)",  # wrongly refused before: L alone is the last day of the week
    "cron(0 14 L * ? *)", "cron(0 14 LW * ? *)", "cron(0 14 15W * ? *)",
    "cron(0 14 ? * 6L *)", "cron(0 14 ? * FRIL *)", "cron(0 14 ? * 3#2 *)",
    "cron(0 14 29 2 ? *)",  # fires in leap years only: still fires
    "cron(0/15 * ? * MON-FRI *)", "cron(0 22 ? * FRI-MON *)", "cron(0 0 1 */3 ? 2030-2040/5)",
    "rate(1 day)", "rate(365 days)", "rate(525600 minutes)",
])
def test_valid_schedules_are_accepted(tmp_path: Path, schedule: str) -> None:
    config = load_config(write_config(tmp_path, BASE + f'schedule: "{schedule}"\n'))
    assert config.schedule == schedule


def test_valid_edge_values_are_accepted(tmp_path: Path) -> None:
    local = "a" * 64
    text = BASE + (f"notify: {{email: [{local}@x.com, first.last+tag@sub.example.co.uk]}}\n"
                   "tags: {Owner: a, team: \u00e9quipe 1}\n"
                   "quotes: {provider: alphavantage, api_key_parameter: "
                   + "/a" * 14 + "/key}\n")
    config = load_config(write_config(tmp_path, text))
    assert config.notify.email[0] == f"{local}@x.com"
    assert config.tags == {"Owner": "a", "team": "\u00e9quipe 1"}


@pytest.mark.parametrize("day", ["2025-01-15", "2025-03-10", "2025-07-15", "2025-11-03"])
def test_default_schedule_fires_after_the_new_york_close(day: str) -> None:
    """EST (winter) and EDT (summer), including the Mondays right after each clock change."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from provision.config.model import DEFAULT_SCHEDULE

    minute, hour = (int(f) for f in DEFAULT_SCHEDULE.removeprefix("cron(").split()[:2])
    fire = dt.datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=dt.UTC)
    local = fire.astimezone(ZoneInfo("America/New_York"))
    assert local.date() == fire.date()  # still the same trading day in New York
    assert dt.time(16, 0) < local.time() <= dt.time(18, 0), local
