"""Pure: our own words for every pydantic error type the model can raise, never pydantic's (G)."""

from __future__ import annotations

from pathlib import Path

import pytest

from provision.config.model import load_config
from provision.errors import ConfigError
from tests.support.configs import write_config

BASE = "name: t1\nregion: us-east-1\nstocks: [TSLA]\n"

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
                            ["quotes.zzz", "the keys here are api_key_kms_key, api_key_parameter, "
                             "api_key_secret, base_url"]),
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
