"""The environment contract: parsing, defaults, and configuration errors reported by the handler."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.function.conftest import FUNCTION_DIR, FakeContext, events

TOPIC = "arn:aws:sns:us-east-1:123456789012:t"
STOCKS = json.dumps([{"symbol": "tsla", "name": "Tesla", "above": 300, "below": 200.5}])


def test_full_contract_is_parsed(fn):
    env = {
        "STOCK_ALERT_STACK": "prod",
        "STOCK_ALERT_TOPIC_ARN": TOPIC,
        "STOCK_ALERT_STOCKS": STOCKS,
        "STOCK_ALERT_ALERT": '{"mode": "threshold", "change_percent": 3}',
        "STOCK_ALERT_PROVIDER": "alphavantage",
        "STOCK_ALERT_API_KEY_PARAMETER": "/p/key",
        "STOCK_ALERT_QUOTES_BASE_URL": "http://127.0.0.1:9/",
        "STOCK_ALERT_HTTP_TIMEOUT_S": "1.5",
    }
    config = fn.settings.load(env)
    assert config.stack == "prod" and config.topic_arn == TOPIC
    assert config.stocks == (fn.settings.Stock("TSLA", "Tesla", 300.0, 200.5),)
    assert config.alert == fn.settings.Alert("threshold", 3.0, "crossed")
    assert config.providers == ("alphavantage",) and config.api_key_parameter == "/p/key"
    assert config.base_url == "http://127.0.0.1:9" and config.http_timeout_s == 1.5
    assert config.url_for("alphavantage") == "http://127.0.0.1:9"  # the override: every source


def test_defaults(fn):
    config = fn.settings.load({"STOCK_ALERT_TOPIC_ARN": TOPIC, "STOCK_ALERT_STOCKS": STOCKS})
    assert config.providers == ("yahoo", "stooq")
    assert config.base_url is None
    assert config.url_for("yahoo") == "https://query1.finance.yahoo.com"
    assert config.url_for("stooq") == "https://stooq.com"
    assert config.alert == fn.settings.Alert("summary", None, "crossed")
    assert config.http_timeout_s == 3.0 and config.api_key_parameter is None
    av = fn.settings.load(
        {
            "STOCK_ALERT_TOPIC_ARN": TOPIC,
            "STOCK_ALERT_STOCKS": STOCKS,
            "STOCK_ALERT_PROVIDER": "alphavantage",
            "STOCK_ALERT_API_KEY_PARAMETER": "/k",
        }
    )
    assert av.url_for("alphavantage") == "https://www.alphavantage.co"


def test_chain_and_when_are_parsed(fn):
    env = {"STOCK_ALERT_TOPIC_ARN": TOPIC, "STOCK_ALERT_STOCKS": STOCKS,
           "STOCK_ALERT_PROVIDER": " Stooq, yahoo ,alphavantage",
           "STOCK_ALERT_API_KEY_SECRET": "t/api-key",
           "STOCK_ALERT_ALERT": '{"mode": "threshold", "when": "beyond"}'}
    config = fn.settings.load(env)
    assert config.providers == ("stooq", "yahoo", "alphavantage")
    assert config.alert.when == "beyond" and config.api_key_secret == "t/api-key"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"STOCK_ALERT_TOPIC_ARN": ""}, "STOCK_ALERT_TOPIC_ARN is not set"),
        ({"STOCK_ALERT_STOCKS": "[{"}, "STOCK_ALERT_STOCKS is not valid JSON"),
        ({"STOCK_ALERT_STOCKS": "[]"}, "STOCK_ALERT_STOCKS must be a non-empty JSON list"),
        ({"STOCK_ALERT_STOCKS": '[{"name": "x"}]'}, "needs a string 'symbol'"),
        ({"STOCK_ALERT_STOCKS": '[{"symbol": "F", "above": "3"}]'}, "F.above must be a number"),
        ({"STOCK_ALERT_ALERT": '{"mode": "often"}'}, "mode must be 'summary' or 'threshold'"),
        ({"STOCK_ALERT_ALERT": '{"change_percent": -1}'}, "change_percent must be positive"),
        ({"STOCK_ALERT_PROVIDER": "google"}, "STOCK_ALERT_PROVIDER must list sources among "
         "yahoo, stooq, alphavantage (comma-separated), not 'google'"),
        ({"STOCK_ALERT_PROVIDER": "yahoo,stooq,yahoo"}, "STOCK_ALERT_PROVIDER names a source "
         "twice"),
        ({"STOCK_ALERT_PROVIDER": "yahoo,alphavantage"}, "provider alphavantage needs "
         "STOCK_ALERT_API_KEY_PARAMETER"),
        ({"STOCK_ALERT_ALERT": '{"when": "always"}'}, "when must be 'crossed' or 'beyond'"),
        ({"STOCK_ALERT_QUOTES_BASE_URL": "file:///etc"}, "must start with http"),
        ({"STOCK_ALERT_HTTP_TIMEOUT_S": "soon"}, "STOCK_ALERT_HTTP_TIMEOUT_S must be a number"),
    ],
)
def test_bad_environment_is_reported_not_published(
    fn, topic, configure, env, capsys, overrides, message
):
    configure([{"symbol": "TSLA"}])
    for name, value in overrides.items():
        env.setenv(name, value)

    with pytest.raises(fn.handler.ConfigurationError) as raised:
        fn.handler.handler({}, FakeContext(30_000))

    assert str(raised.value).startswith("configuration error: ")
    assert message in str(raised.value)
    assert message in events(capsys.readouterr().out, "error")[0]["error"]
    assert topic.notifications() == []


@pytest.mark.process
def test_handler_import_is_stdlib_only():
    """Importing the handler (cold start) must not pull in boto3, even with site disabled."""
    code = (
        f"import sys; sys.path.insert(0, {str(FUNCTION_DIR)!r}); import handler; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
