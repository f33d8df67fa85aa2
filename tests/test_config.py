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
    assert config.quotes.chain == ("yahoo", "stooq")
    assert config.alert.mode == "summary" and config.alert.when == "crossed"


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
    # without either key alphavantage reads the default /stock-alert/<name>/api-key; an explicit
    # null asks for no key at all (tests/test_config_secrets.py)
    (MINIMAL + "quotes: {provider: alphavantage, api_key_parameter: null}\n",
     ["quotes", "api_key_parameter", "api_key_secret"]),
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
