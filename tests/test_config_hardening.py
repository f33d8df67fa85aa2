"""The hardening keys (notify.kms_key, function.reserved_concurrency, schedule_delivery): wrong
values are refused naming the key and the fix, and through the CLI that is exit 2, one
paragraph, no traceback and not one AWS call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from provision.config.model import load_config
from provision.errors import ConfigError
from tests.support.configs import write_config

BASE = "name: t1\nregion: us-east-1\nstocks: [TSLA]\n"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

WRONG = {
    "kms-key-id-only": (BASE + "notify: {kms_key: 1234abcd-12ab-34cd-56ef-1234567890ab}\n",
                        ["notify.kms_key", "not a KMS key ARN", "arn:aws:kms:"]),
    "kms-alias-name-only": (BASE + "notify: {kms_key: alias/stock-alert}\n",
                            ["notify.kms_key", "full ARN"]),
    "kms-aws-managed": (BASE + "notify: {kms_key: 'arn:aws:kms:us-east-1:123456789012:"
                               "alias/aws/sns'}\n",
                        ["notify.kms_key", "AWS-managed", "leave notify.kms_key out"]),
    "kms-trailing-newline": (BASE + f'notify: {{kms_key: "{KEY}\\n"}}\n', ["notify.kms_key"]),
    "kms-number": (BASE + "notify: {kms_key: 12}\n", ["notify.kms_key"]),
    "concurrency-zero": (BASE + "function: {reserved_concurrency: 0}\n",
                         ["function.reserved_concurrency", "1..900", "null"]),
    "concurrency-too-many": (BASE + "function: {reserved_concurrency: 901}\n",
                             ["function.reserved_concurrency", "1..900"]),
    "concurrency-text": (BASE + "function: {reserved_concurrency: one}\n",
                         ["function.reserved_concurrency", "whole number"]),
    "concurrency-yes": (BASE + "function: {reserved_concurrency: yes}\n",
                        ["function.reserved_concurrency"]),
    "retries-over-185": (BASE + "schedule_delivery: {max_retry_attempts: 186}\n",
                         ["schedule_delivery.max_retry_attempts", "185"]),
    "retries-negative": (BASE + "schedule_delivery: {max_retry_attempts: -1}\n",
                         ["schedule_delivery.max_retry_attempts", "0"]),
    "event-age-under-a-minute": (BASE + "schedule_delivery: {max_event_age_s: 59}\n",
                                 ["schedule_delivery.max_event_age_s", "60"]),
    "event-age-over-a-day": (BASE + "schedule_delivery: {max_event_age_s: 86401}\n",
                             ["schedule_delivery.max_event_age_s", "86400"]),
    "event-age-float": (BASE + "schedule_delivery: {max_event_age_s: 600.0}\n",
                        ["schedule_delivery.max_event_age_s"]),
    "delivery-misspelt": (BASE + "schedule_delivery: {max_retries: 2}\n",
                          ["schedule_delivery.max_retries", "max_retry_attempts"]),
}


@pytest.mark.parametrize("name", sorted(WRONG))
def test_wrong_values_are_refused(tmp_path: Path, name: str) -> None:
    text, words = WRONG[name]
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, text))
    message = str(caught.value)
    assert len(message.encode()) < 1024 and "\n" not in message.strip()
    for word in words:
        assert word in message, f"{word!r} missing from: {message}"


def test_defaults_and_edges_are_accepted(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, BASE))
    assert config.notify.kms_key is None and config.function.reserved_concurrency == 1
    assert config.schedule_delivery.retry_policy() == {"MaximumRetryAttempts": 2,
                                                       "MaximumEventAgeInSeconds": 3600}
    alias = "arn:aws:kms:eu-west-1:123456789012:alias/team/stock-alert_1"
    mrk = "arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"
    for key in (KEY, alias, mrk):
        text = BASE + f"notify: {{kms_key: '{key}'}}\nfunction: {{reserved_concurrency: 900}}\n"
        text += "schedule_delivery: {max_retry_attempts: 0, max_event_age_s: 60}\n"
        config = load_config(write_config(tmp_path, text))
        assert config.notify.kms_key == key and config.function.reserved_concurrency == 900
    unreserved = load_config(write_config(tmp_path, BASE + "function: "
                                          "{reserved_concurrency: null}\n"))
    assert unreserved.function.reserved_concurrency is None


@pytest.mark.parametrize("name", ["kms-aws-managed", "concurrency-zero", "retries-over-185"])
def test_cli_exit_2_without_any_aws_call(name: str, cli: Any, aws_proxy: Any,
                                         tmp_path: Path) -> None:
    write_config(tmp_path, WRONG[name][0])
    for command in ("plan", "up"):
        result = cli(command)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr and WRONG[name][1][0] in result.stderr
        assert [line for line in result.stderr.splitlines() if line.strip()][:1]
    assert aws_proxy.calls == []
