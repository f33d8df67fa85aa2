"""quotes.api_key_secret, quotes.api_key_kms_key and the default key source: each wrong value
exits 2 with one paragraph naming the key and the fix, before any AWS call."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from provision.config.model import load_config
from provision.core import policies
from provision.core.stack import Stack
from provision.errors import ConfigError
from tests.support.awsproxy import AwsProxy
from tests.support.configs import MINIMAL, write_config

Cli = Callable[..., subprocess.CompletedProcess[str]]
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:t1/api-key-AbC123"

BAD = {
    "both-sources": (
        "quotes: {api_key_parameter: /t1/key, api_key_secret: t1/key}",
        ["quotes.api_key_parameter ('/t1/key')", "quotes.api_key_secret ('t1/key')",
         "both set", "delete the other"]),
    "alphavantage-with-null": (
        "quotes: {provider: alphavantage, api_key_parameter: null}",
        ["needs an API key", "quotes.api_key_parameter", "quotes.api_key_secret",
         "/stock-alert/{name}/api-key", "stock-alert secret set"]),
    "secret-bad-characters": (
        "quotes: {api_key_secret: 'my key!'}",
        ["quotes.api_key_secret", "'my key!'", "/_+=.@-"]),
    "secret-six-char-suffix": (
        "quotes: {api_key_secret: prod/api-key-abcdef}",
        ["quotes.api_key_secret", "random suffix", "full ARN"]),
    "secret-partial-arn": (
        "quotes: {api_key_secret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x'}",
        ["quotes.api_key_secret", "not a Secrets Manager secret ARN", "describe-secret"]),
    "kms-alias": (
        "quotes: {api_key_kms_key: alias/stock-alert}",
        ["quotes.api_key_kms_key", "'alias/stock-alert'", "not a KMS key ARN",
         "aws kms describe-key"]),
    "kms-bare-id": (
        "quotes: {api_key_kms_key: 1234abcd-12ab-34cd-56ef-1234567890ab}",
        ["quotes.api_key_kms_key", "full ARN"]),
    "kms-other-region": (
        "quotes: {api_key_kms_key: '" + KEY_ARN.replace("us-east-1", "eu-west-1") + "'}",
        ["quotes.api_key_kms_key", "is in eu-west-1", "stack is in us-east-1",
         "own region"]),
    "kms-wrong-type": ("quotes: {api_key_kms_key: 5}", ["quotes.api_key_kms_key", "text"]),
}


@pytest.mark.parametrize("name", list(BAD))
def test_wrong_values_name_the_key_and_the_fix(tmp_path: Path, name: str) -> None:
    text, words = BAD[name]
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(tmp_path, MINIMAL + text + "\n"))
    message = " ".join(str(caught.value).split())
    for word in words:
        assert word in message, (word, message)
    assert "\n" not in str(caught.value).strip() and "pydantic" not in message


def test_exit_2_and_no_aws_call(cli: Cli, tmp_path: Path, aws_proxy: AwsProxy) -> None:
    write_config(tmp_path, MINIMAL + BAD["both-sources"][0] + "\n")
    for args in (("up",), ("secret", "set"), ("down", "--yes", "--delete-secret")):
        result = cli(*args, input="k")
        assert result.returncode == 2, (args, result.stderr)
        assert "quotes.api_key_secret" in result.stderr and "Traceback" not in result.stderr
    assert aws_proxy.calls == []


def _stack(tmp_path: Path, quotes: str) -> Stack:
    return Stack(load_config(write_config(tmp_path, MINIMAL + f"quotes: {quotes}\n")),
                 "123456789012", "us-east-1")


def test_alphavantage_without_a_source_reads_the_default_parameter(tmp_path: Path) -> None:
    stack = _stack(tmp_path, "{provider: alphavantage}")
    assert stack.config.quotes.api_key_parameter == "/stock-alert/t1/api-key"
    assert stack.function_environment["STOCK_ALERT_API_KEY_PARAMETER"] == \
        "/stock-alert/t1/api-key"
    [statement] = policies.inline_policies(stack)["t1-read-api-key"]["Statement"]
    assert statement["Resource"] == [
        "arn:aws:ssm:us-east-1:123456789012:parameter/stock-alert/t1/api-key"]


@pytest.mark.parametrize(("secret", "resource"), [
    ("t1/api-key", "arn:aws:secretsmanager:us-east-1:123456789012:secret:t1/api-key-??????"),
    (SECRET_ARN, SECRET_ARN),
])
def test_secret_source_grants_exactly_that_secret(tmp_path: Path, secret: str,
                                                   resource: str) -> None:
    stack = _stack(tmp_path, f"{{provider: alphavantage, api_key_secret: '{secret}'}}")
    assert stack.config.quotes.api_key_parameter is None  # no default beside a secret
    doc = policies.inline_policies(stack)["t1-read-api-key"]
    assert doc["Statement"] == [{"Sid": "ReadOwnApiKey", "Effect": "Allow",
                                 "Action": ["secretsmanager:GetSecretValue"],
                                 "Resource": [resource]}]
    env = stack.function_environment
    assert env["STOCK_ALERT_API_KEY_SECRET"] == secret
    assert "STOCK_ALERT_API_KEY_PARAMETER" not in env


@pytest.mark.parametrize(("quotes", "service"), [
    ("{provider: alphavantage}", "ssm"),
    ("{provider: alphavantage, api_key_secret: t1/api-key}", "secretsmanager"),
])
def test_customer_key_adds_exactly_decrypt_through_that_service(
        tmp_path: Path, quotes: str, service: str) -> None:
    stack = _stack(tmp_path, quotes[:-1] + f", api_key_kms_key: '{KEY_ARN}'}}")
    statements = policies.inline_policies(stack)["t1-read-api-key"]["Statement"]
    assert statements[-1] == {
        "Sid": "DecryptOwnApiKey", "Effect": "Allow", "Action": ["kms:Decrypt"],
        "Resource": [KEY_ARN],
        "Condition": {"StringEquals": {"kms:ViaService": f"{service}.us-east-1.amazonaws.com"}}}
    assert len(statements) == 2


def test_no_kms_grant_without_a_key_source(tmp_path: Path) -> None:
    stack = _stack(tmp_path, f"{{api_key_kms_key: '{KEY_ARN}'}}")  # yahoo: nothing to decrypt
    assert "t1-read-api-key" not in policies.inline_policies(stack)
