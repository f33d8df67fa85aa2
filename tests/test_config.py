"""Pure: config validation names the key and the fix; good configs load with defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from provision.config.model import NAME_MAX, Config, config_path, load_config
from provision.errors import ConfigError
from tests.support.configs import EXAMPLE_CONFIG, MINIMAL, write_config


def test_example_config_is_valid() -> None:
    config = load_config(EXAMPLE_CONFIG)
    assert config.name == "stock-alert"
    assert [s.symbol for s in config.stocks] == ["TSLA", "F", "GM"]
    assert config.stocks[2].above == 60.0


def test_defaults(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, "name: x\nstocks: [tsla]\n"))
    assert config.stocks[0].symbol == "TSLA"
    assert config.schedule == "cron(30 21 ? * MON-FRI *)"
    assert config.enabled is True
    assert config.function.runtime == "python3.12"
    assert config.function.memory_mb == 128
    assert config.function.log_retention_days == 14
    assert config.notify.email == () and config.notify.sms == ()
    assert config.quotes.provider == "yahoo"
    assert config.alert.mode == "summary"


def test_config_is_frozen(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, MINIMAL))
    with pytest.raises(ValueError):
        config.name = "other"  # type: ignore[misc]


def test_mapping_stocks_accepted(tmp_path: Path) -> None:
    text = "name: x\nstocks:\n  - {symbol: TSLA, name: Tesla, above: 300, below: 200}\n  - F\n"
    config = load_config(write_config(tmp_path, text))
    assert config.stocks[0].name == "Tesla" and config.stocks[0].below == 200


BAD = [
    # (config text, words the message must contain)
    (MINIMAL + "colour: blue\n", ["colour", "unknown key"]),
    (MINIMAL.replace("name: t1", "name: 5"), ["name", "expected text"]),
    (MINIMAL.replace("name: t1", "name: bad_name!"), ["name", "'bad_name!'", "letters"]),
    (MINIMAL.replace("name: t1", "name: " + "a" * (NAME_MAX + 1)), ["name", f"{NAME_MAX}"]),
    (MINIMAL + 'schedule: "cron(0 14 * * MON-FRI)"\n', ["schedule", "6", "Year"]),
    (MINIMAL + 'schedule: "cron(0 14 * * MON-FRI *)"\n', ["schedule", '"?"']),
    (MINIMAL + 'schedule: "every day"\n', ["schedule", "rate("]),
    (MINIMAL + 'schedule: "rate(5 minute)"\n', ["schedule", "rate(5 minutes)"]),
    (MINIMAL.replace('"+15555550100"', '"555-0100"'), ["notify.sms", "'555-0100'", "E.164"]),
    (MINIMAL.replace("you@example.com", "not-an-email"), ["notify.email", "not-an-email"]),
    (MINIMAL.replace("[TSLA, F, GM]", "[]"), ["stocks", "at least 1"]),
    (MINIMAL.replace("[TSLA, F, GM]", '[TSLA, ""]'), ["stocks[1]", "ticker"]),
    (MINIMAL.replace("[TSLA, F, GM]", "[TSLA, 'BAD TICKER!']"), ["stocks[1]", "ticker"]),
    (MINIMAL.replace("[TSLA, F, GM]", "[TSLA, ON]"), ["stocks[1]", "quote it"]),
    (MINIMAL.replace("[TSLA, F, GM]", "[TSLA, tsla]"), ["stocks", "'TSLA'", "twice"]),
    (MINIMAL.replace("region: us-east-1", "region: mars-1"), ["region", "mars-1"]),
    (MINIMAL + "function: {runtime: python2.7}\n", ["function.runtime", "python3.12"]),
    (MINIMAL + "function: {memory_mb: 64}\n", ["function.memory_mb", "128"]),
    (MINIMAL + "function: {timeout_s: 901}\n", ["function.timeout_s", "900"]),
    (MINIMAL + "function: {log_retention_days: 10}\n", ["log_retention_days", "14"]),
    (MINIMAL + "enabled: maybe\n", ["enabled", "true or false"]),
    (MINIMAL + "tags: {managed-by: me}\n", ["tags", "managed-by"]),
    (MINIMAL + "tags: {'aws:x': y}\n", ["tags", "aws:"]),
    (MINIMAL + "quotes: {provider: alphavantage}\n", ["quotes", "api_key_parameter"]),
    (MINIMAL + "quotes: {provider: google}\n", ["quotes.provider", "'google'"]),
    (MINIMAL + "alert: {mode: threshold, change_percent: null}\n", ["threshold", "above/below"]),
    (MINIMAL.replace("[TSLA, F, GM]", "[{symbol: F, above: 10, below: 12}]"), ["below"]),
    (MINIMAL + "notify: {}\n", ["notify", "twice"]),
    ("- just\n- a list\n", ["YAML mapping"]),
    ("name: [unclosed\n", ["not valid YAML", "line"]),
    ("stocks: [TSLA]\n", ["name", "required"]),
]


@pytest.mark.parametrize(("text", "words"), BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_config_names_key_and_fix(tmp_path: Path, text: str, words: list[str]) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert caught.value.exit_code == 2
    assert message.startswith(str(path))
    assert "\n" not in message
    for word in words:
        assert word in message, f"{word!r} missing from: {message}"


def test_missing_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.yaml")
    assert "not found" in str(caught.value) and "--config" in str(caught.value)


def test_unreadable_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL)
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(path)


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path)


def test_config_path_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    assert config_path(None) == Path("config.yaml")
    monkeypatch.setenv("STOCK_ALERT_CONFIG", "/x/env.yaml")
    assert config_path(None) == Path("/x/env.yaml")
    assert config_path("flag.yaml") == Path("flag.yaml")


def test_many_problems_are_numbered_in_one_paragraph(tmp_path: Path) -> None:
    text = "name: a_b\nstocks: []\nschedule: nope\nnotify: {sms: ['1']}\n"
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, text))
    message = str(caught.value)
    assert "4 problems" in message and "(1)" in message and "(4)" in message


def test_model_rejects_unknown_nested_key() -> None:
    with pytest.raises(ValueError, match="extra"):
        Config.model_validate({"name": "x", "stocks": ["T"], "notify": {"fax": ["1"]}})


# C. Values that passed validation but were wrong (each id names the case).
BASE = "name: t1\nregion: us-east-1\nstocks: [TSLA]\n"
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


# G. Our own words for every pydantic error type the model can raise; none of pydantic's.
PYDANTIC_PHRASES = ("Input should", "should have", "after validation", "String should",
                    "Tuple should", "Dictionary should", "Field required", "Extra inputs",
                    "Value error", "valid number", "valid integer", "pattern")
STOCKS_26 = "[" + ", ".join(f"S{i}" for i in range(26)) + "]"
TAGS_41 = "{" + ", ".join(f"k{i}: v" for i in range(41)) + "}"
OWN_WORDS = {  # pydantic error type -> (config, words ours must contain)
    "too_long-stocks": (BASE.replace("[TSLA]", STOCKS_26), ["stocks", "at most 25 items"]),
    "too_long-tags": (BASE + f"tags: {TAGS_41}\n", ["tags", "at most 40 items"]),
    "too_long-sms": (BASE + "notify: {sms: [" + ", ".join(
        f'"+1555555{i:04d}"' for i in range(26)) + "]}\n", ["notify.sms", "at most 25"]),
    "too_short": (BASE.replace("[TSLA]", "[]"), ["stocks", "at least 1 item"]),
    "string_too_long": (BASE.replace("[TSLA]", f"[{{symbol: T, name: {'n' * 41}}}]"),
                        ["stocks[0].name", "at most 40 characters"]),
    "string_too_short": (BASE.replace("[TSLA]", "[{symbol: T, name: ''}]"),
                         ["stocks[0].name", "must not be empty"]),
    "greater_than": (BASE.replace("[TSLA]", "[{symbol: T, above: 0}]"),
                     ["stocks[0].above", "more than 0"]),
    "greater_than_equal": (BASE + "function: {memory_mb: 64}\n", ["at least 128", "got 64"]),
    "less_than_equal": (BASE + "function: {timeout_s: 901}\n", ["at most 900"]),
    "finite_number": (BASE.replace("[TSLA]", "[{symbol: T, below: -.inf}]"), [".inf or .nan"]),
    "literal_error": (BASE + "alert: {mode: sometimes}\n", ["alert.mode", "'sometimes'"]),
    "missing": ("stocks: [T]\n", ["name: is required"]),
    "string_type": (BASE + "tags: {team: yes}\n", ["tags.team", "quote it"]),
    "string_type-key": (BASE + "tags: {1: one}\n", ["tags.1 key", "expected text"]),
    "bool_type": (BASE + "enabled: 'no'\n", ["enabled", "true or false"]),
    "int_type": (BASE + "function: {timeout_s: '30'}\n", ["function.timeout_s", "whole"]),
    "float_type": (BASE + "alert: {change_percent: '3'}\n", ["alert.change_percent", "number"]),
    "tuple_type": (BASE + "notify: {email: you@example.com}\n", ["notify.email", "YAML list"]),
    "dict_type": (BASE + "tags: [a, b]\n", ["tags", "mapping"]),
    "model_type": (BASE + "function: fast\n", ["function", "mapping"]),
    "extra_forbidden-top": (BASE + "notfy: {sms: []}\n", ["notfy", "did you mean `notify`?"]),
    "extra_forbidden-nested": (BASE + "function: {timout_s: 5}\n",
                               ["function.timout_s", "did you mean `timeout_s`?"]),
    "extra_forbidden-in-list": (BASE.replace("[TSLA]", "[{symbol: T, abov: 5}]"),
                                ["stocks[0].abov", "did you mean `above`?"]),
    "extra_forbidden-far": (BASE + "quotes: {zzz: 1}\n",
                            ["quotes.zzz", "the keys here are api_key_parameter, base_url"]),
}


@pytest.mark.parametrize("name", list(OWN_WORDS))
def test_our_own_words_for_every_error_type(tmp_path: Path, name: str) -> None:
    text, words = OWN_WORDS[name]
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, text))
    message = str(caught.value)
    for word in words:
        assert word in message, f"{word!r} missing from: {message}"
    for phrase in PYDANTIC_PHRASES:
        assert phrase not in message, f"pydantic's {phrase!r} leaked into: {message}"


def test_non_utf8_hint_is_about_the_encoding(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(b"name: t1\nstocks: [caf\xe9]\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "not UTF-8" in message and "line 2" in message and "Save the file as UTF-8" in message
    assert "permissions" not in message
