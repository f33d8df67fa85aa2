"""The bad inputs added by the input-hardening work (parts A, C, D, F, G of its brief), run by
tests/test_cli_input.py's end-to-end suite with the cases it already had: exit 2, one short
paragraph, zero AWS calls through the counting proxy.
"""

from __future__ import annotations

from typing import Any

from tests.test_input_limits import billion_laughs

BASE = "name: t1\nregion: us-east-1\nstocks: [TSLA, F, GM]\n"
FIFO = "<named pipe>"  # config.yaml is made a FIFO that no one ever writes to

# (name, config text, extra args, fragments the error line must (``!``: not) contain)
NEW_CONFIGS: list[tuple[Any, ...]] = [
    # A. resources: refused before they cost time or memory (measured in test_input_limits)
    ("billion-laughs", billion_laughs(), [], ["more than 10000 values", "aliases"]),
    ("deep-nesting", BASE + "x: " + "[" * 5000 + "]" * 5000 + "\n", [],
     ["nested more than 8 levels", "line 4"]),
    ("dev-zero", None, ["-c", "/dev/zero"], ["/dev/zero", "character device"]),
    ("dev-urandom", None, ["-c", "/dev/urandom"], ["/dev/urandom", "character device"]),
    ("fifo", FIFO, [], ["config.yaml", "named pipe", "regular file"]),
    ("over-1-MiB", BASE + "# " + "x" * (1 << 20) + "\n", [], ["larger than 1024 KiB"]),
    ("huge-value-is-excerpted", BASE.replace("t1", "a" * 100_000), [],
     ["name: 'aaa", "...", "!" + "a" * 100]),
    # C. values that used to pass validation and then failed at AWS, or did the wrong thing
    ("name-trailing-newline", BASE.replace("t1", '"t1\\n"'), [], ["name", "'t1\\n'"]),
    ("sms-trailing-newline", BASE + 'notify: {sms: ["+15555550100", "+15555550101\\n"]}\n',
     [], ["notify.sms[1]", "E.164"]),
    ("sms-fullwidth-digit", BASE + 'notify: {sms: ["+1555555\uff10100"]}\n', [],
     ["notify.sms[0]", "ASCII digits"]),
    ("cron-arabic-indic-digit", BASE + 'schedule: "cron(\u0660 14 ? * MON-FRI *)"\n', [],
     ["schedule", "minutes"]),
    ("tag-keys-differ-in-case", BASE + "tags: {Managed-By: me}\n", [],
     ["tags", "'Managed-By'", "letter case"]),
    ("timeout-yes", BASE + "function: {timeout_s: yes}\n", [],
     ["function.timeout_s", "whole number"]),
    ("above-inf", BASE.replace("[TSLA, F, GM]", "[{symbol: GM, above: .inf}]"), [],
     ["stocks[0].above"]),
    ("email-double-dot", BASE + "notify: {email: [a..b@x.com]}\n", [],
     ["notify.email[0]", "'a..b@x.com'"]),
    ("email-twice-in-case", BASE + "notify: {email: [me@x.com, ME@x.com]}\n", [],
     ["notify.email[1]", "notify.email[0]", "twice"]),
    ("cron-never-fires", BASE + 'schedule: "cron(0 14 31 2 ? *)"\n', [],
     ["schedule", "never fires"]),
    ("rate-10e20-days", BASE + 'schedule: "rate(100000000000000000000 days)"\n', [],
     ["schedule", "365 days"]),
    ("ssm-reserved-prefix",
     BASE + "quotes: {provider: alphavantage, api_key_parameter: /ssm/key}\n", [],
     ["quotes.api_key_parameter", "'aws' or 'ssm'"]),
    # issue 23: the market-time schedule, checked before any AWS call like every other key
    ("market-time-zone-misspelt",
     BASE + 'schedule: {at: "16:30", timezone: America/NewYork}\n', [],
     ["schedule.timezone", "'America/NewYork'", "IANA", "America/New_York"]),
    ("market-time-unquoted-yaml-time", BASE + "schedule: {at: 16:30, timezone: UTC}\n", [],
     ["schedule.at", "990", 'at: "16:30"', "!market-time"]),
    ("market-time-bad-days",
     BASE + 'schedule: {at: "16:30", timezone: UTC, days: WEEKDAYS}\n', [],
     ["schedule.days", "'WEEKDAYS'", "MON-FRI"]),
    ("market-time-no-zone", BASE + 'schedule: {at: "16:30"}\n', [],
     ["schedule.timezone", "required"]),
    # D. 25 stocks with long non-ASCII names: over Lambda's 4 KB for all variables
    ("environment-over-4KB", BASE.replace("[TSLA, F, GM]", "[" + ", ".join(
        f"{{symbol: S{i}, name: '{chr(0x4E00 + i) * 40}'}}" for i in range(25)) + "]"), [],
     ["environment would be", "limit of 4096 bytes", "stocks[].name"]),
    # G. our own words, limits named, the nearest key suggested
    ("misspelt-key", BASE + "notfy: {sms: []}\n", [], ["notfy", "did you mean `notify`?"]),
    ("stocks-26", BASE.replace("[TSLA, F, GM]", "[" + ", ".join(f"S{i}" for i in range(26))
                               + "]"), [], ["stocks", "at most 25 items", "!Tuple should"]),
    ("name-empty-string", BASE.replace("[TSLA, F, GM]", "[{symbol: F, name: ''}]"), [],
     ["stocks[0].name", "must not be empty", "!String should"]),
    # issue 23: the chain of quote sources and alert.when
    ("providers-unknown-source", BASE + "quotes: {providers: [yahoo, google]}\n", [],
     ["quotes.providers[1]", "'google' is not allowed", "'yahoo', 'stooq' or 'alphavantage'"]),
    ("providers-twice", BASE + "quotes: {providers: [yahoo, stooq, yahoo]}\n", [],
     ["quotes.providers[2]", "listed twice", "quotes.providers[0]", "list it once"]),
    ("provider-and-providers", BASE + "quotes: {provider: yahoo, providers: [stooq]}\n", [],
     ["quotes.provider (yahoo)", "quotes.providers ([stooq])", "both set",
      "delete quotes.provider"]),
    ("providers-not-a-list", BASE + "quotes: {providers: yahoo}\n", [],
     ["quotes.providers", "expected a YAML list"]),
    ("providers-empty", BASE + "quotes: {providers: []}\n", [],
     ["quotes.providers", "at least 1"]),
    ("alphavantage-in-chain-without-key",
     BASE + "quotes: {providers: [yahoo, alphavantage], api_key_parameter: null}\n", [],
     ["provider alphavantage needs an API key", "quotes.api_key_parameter", "secret set"]),
    ("alert-when-unknown", BASE + "alert: {when: always}\n", [],
     ["alert.when", "'always' is not allowed", "'crossed' or 'beyond'"]),
]


def _env(name: str, args: tuple[str, ...], fragments: tuple[str, ...],
         env: dict[str, str]) -> dict[str, Any]:
    return {"name": name, "args": args, "fragments": fragments, "env": env}


# Environment variables checked in target.prepare (F): keyword arguments of Case.
NEW_ENVIRONMENTS: list[dict[str, Any]] = [
    _env("AWS_ENDPOINT_URL-no-host", ("up",), ("AWS_ENDPOINT_URL", "'http://'", "no host"),
         env={"AWS_ENDPOINT_URL": "http://"}),
    _env("AWS_ENDPOINT_URL-ipv6-unclosed", ("plan",), ("AWS_ENDPOINT_URL", "'http://[::1'", "["),
         env={"AWS_ENDPOINT_URL": "http://[::1"}),
    _env("AWS_ENDPOINT_URL-port-99999", ("status",), ("AWS_ENDPOINT_URL", "99999", "65535"),
         env={"AWS_ENDPOINT_URL": "http://127.0.0.1:99999"}),
    _env("AWS_ENDPOINT_URL_STS-bad", ("down", "--yes"), ("AWS_ENDPOINT_URL_STS", "'http://'"),
         env={"AWS_ENDPOINT_URL_STS": "http://"}),
    _env("AWS_MAX_ATTEMPTS-abc", ("up",), ("AWS_MAX_ATTEMPTS", "'abc'", "1 to 20"),
         env={"AWS_MAX_ATTEMPTS": "abc"}),
    _env("AWS_RETRY_MODE-bogus", ("plan",), ("AWS_RETRY_MODE", "'bogus'", "standard"),
         env={"AWS_RETRY_MODE": "bogus"}),
    _env("timeout-not-a-number", ("status",), ("STOCK_ALERT_TIMEOUT_S", "'abc'", "1 to 300"),
         env={"STOCK_ALERT_TIMEOUT_S": "abc"}),
    _env("timeout-zero", ("up",), ("STOCK_ALERT_TIMEOUT_S", "'0'"),
         env={"STOCK_ALERT_TIMEOUT_S": "0"}),
]
