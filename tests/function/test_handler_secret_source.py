"""Alpha Vantage with the key in Secrets Manager (STOCK_ALERT_API_KEY_SECRET): read once per
container, never logged or returned; a refused read is a configuration error naming the code."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from tests.function.conftest import REGION, FakeContext
from tests.function.fake_http import alphavantage

SECRET = "stock-alert/test-stack/api-key"
KEY = "AVKEY-sm-9876"


@pytest.fixture
def secret(topic, env) -> str:
    boto3.client("secretsmanager", region_name=REGION).create_secret(Name=SECRET,
                                                                      SecretString=KEY)
    env.setenv("STOCK_ALERT_API_KEY_SECRET", SECRET)
    return KEY


@pytest.fixture
def reads(env) -> Iterator[list[str]]:
    calls: list[str] = []

    def count(params, **kwargs) -> None:
        calls.append(params["SecretId"])

    events = boto3._get_default_session().events
    events.register("provide-client-params.secrets-manager.GetSecretValue", count)
    yield calls
    events.unregister("provide-client-params.secrets-manager.GetSecretValue", count)


def _three(configure, server) -> None:
    configure([{"symbol": "TSLA"}, {"symbol": "F"}, {"symbol": "GM"}], provider="alphavantage")
    server.script("TSLA", alphavantage("TSLA", 251.30, 243.00))
    server.script("F", alphavantage("F", 12.01, 12.07))
    server.script("GM", alphavantage("GM", 48.20, 48.15))


def test_key_comes_from_secrets_manager_once_per_container(
        fn, topic, server, configure, secret, reads, capsys) -> None:
    _three(configure, server)
    first = fn.handler.handler({}, FakeContext(30_000))
    second = fn.handler.handler({}, FakeContext(30_000))
    assert reads == [SECRET]  # cached for the container
    assert {seen.query["apikey"] for seen in server.requests} == {KEY}
    assert first["published"] is True and second["published"] is True
    assert KEY not in json.dumps([first, second]) + capsys.readouterr().out


def test_a_refused_read_is_a_configuration_error_naming_only_the_code(
        fn, topic, server, configure, secret, capsys) -> None:
    _three(configure, server)

    def refuse(**_: object) -> None:
        # What Secrets Manager answers a role without kms:Decrypt on the secret's customer
        # key: github.com/aws-samples/aws-secrets-manager-rotation-lambdas/issues/53
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "AccessDeniedException",
                                     "Message": "Access to KMS is not allowed"}},
                          "GetSecretValue")

    events = boto3._get_default_session().events
    events.register_first("before-call.secrets-manager.GetSecretValue", refuse)
    try:
        with pytest.raises(fn.handler.ConfigurationError) as raised:
            fn.handler.handler({}, FakeContext(30_000))
    finally:
        events.unregister("before-call.secrets-manager.GetSecretValue", refuse)
    assert topic.notifications() == []
    assert str(raised.value) == ("configuration error: secretsmanager:GetSecretValue "
                                 f"{SECRET} failed: AccessDeniedException; fix: check the "
                                 "function's role can read the key ('stock-alert audit')")
    assert server.requests == [] and KEY not in capsys.readouterr().out


def test_settings_name_the_secret_variable_when_no_source_is_set(fn, env) -> None:
    env.delenv("STOCK_ALERT_API_KEY_PARAMETER", raising=False)
    env.delenv("STOCK_ALERT_API_KEY_SECRET", raising=False)
    env.setenv("STOCK_ALERT_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:x")
    env.setenv("STOCK_ALERT_STOCKS", '[{"symbol": "F"}]')
    env.setenv("STOCK_ALERT_PROVIDER", "alphavantage")
    with pytest.raises(fn.settings.SettingsError, match="STOCK_ALERT_API_KEY_SECRET"):
        fn.settings.load()
