"""Fixtures for the Lambda handler tests: the flat modules imported fresh per test, a moto SNS
topic with an SMS and an e-mail subscriber, a scriptable quote server, and a network guard that
allows only loopback connections."""

from __future__ import annotations

import importlib
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.function.fake_http import ScriptedServer

FUNCTION_DIR = Path(__file__).resolve().parents[2] / "function_code"
MODULES = ("aws", "handler", "log", "market", "messages", "quotes", "rules", "settings", "sources",
           "transport")
# The function's clock in these tests: ten minutes after the scripted quotes' market time
# (fake_http: regularMarketTime 1_700_000_000, Tuesday 2023-11-14 22:13:20 UTC, 17:13 in New
# York), so they are from today's session. A test that needs another day sets fn.market.now.
NOW = 1_700_000_600
REGION = "us-east-1"
PHONE = "+15555550123"
EMAIL = "investor@example.com"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_SESSION: Any = None


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that opens a connection or resolves a name other than loopback."""
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOOPBACK:
            raise AssertionError(f"test tried to reach {address!r}")
        real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in LOOPBACK and host is not None:
            raise AssertionError(f"test tried to resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A clean environment: fake credentials, no proxies, no profiles, no STOCK_ALERT_*."""
    for name in list(os.environ):
        if name.startswith(("STOCK_ALERT_", "AWS_")) or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("STOCK_ALERT_HTTP_TIMEOUT_S", "0.3")
    import boto3

    global _SESSION
    if _SESSION is None:  # one session for the suite: loading service models is slow
        _SESSION = boto3.Session(region_name=REGION)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", _SESSION)
    return monkeypatch


@pytest.fixture
def fn(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    """The flat function modules, imported fresh (empty caches); ``fn.sleeps`` records backoff
    sleeps, which return at once; the function's clock (``fn.market.now``) reads NOW."""
    for name in MODULES:
        sys.modules.pop(name, None)
    monkeypatch.syspath_prepend(str(FUNCTION_DIR))
    modules = SimpleNamespace(**{name: importlib.import_module(name) for name in MODULES})
    modules.sleeps = []
    modules.quotes.sleep = modules.sleeps.append
    modules.market.now = lambda: NOW
    yield modules
    for name in MODULES:
        sys.modules.pop(name, None)


@dataclass
class Topic:
    arn: str

    def notifications(self) -> list[dict[str, Any]]:
        """What moto recorded for each publish: subject, parsed JSON message, attributes."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sns.models import sns_backends

        topic = sns_backends[DEFAULT_ACCOUNT_ID][REGION].topics[self.arn]
        return [
            {"id": mid, "message": json.loads(msg), "subject": subject, "attributes": attrs}
            for mid, msg, subject, attrs, _group in topic.sent_notifications
        ]

    def only(self) -> dict[str, Any]:
        sent = self.notifications()
        assert len(sent) == 1, f"expected exactly one publish, got {len(sent)}"
        return sent[0]


@pytest.fixture
def topic(env: pytest.MonkeyPatch) -> Iterator[Topic]:
    """A moto SNS topic with an SMS and an e-mail subscription; STOCK_ALERT_TOPIC_ARN set."""
    import boto3
    from moto import mock_aws

    with mock_aws(config={"core": {"reset_boto3_session": False}}):  # keep the shared session
        sns = boto3.client("sns", region_name=REGION)
        arn = sns.create_topic(Name="stock-alert-test")["TopicArn"]
        sns.subscribe(TopicArn=arn, Protocol="sms", Endpoint=PHONE)
        sns.subscribe(TopicArn=arn, Protocol="email", Endpoint=EMAIL)
        env.setenv("STOCK_ALERT_TOPIC_ARN", arn)
        env.setenv("STOCK_ALERT_STACK", "test-stack")
        yield Topic(arn)


@pytest.fixture
def server(env: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    """A scriptable quote server; STOCK_ALERT_QUOTES_BASE_URL points at it."""
    scripted = ScriptedServer().start()
    env.setenv("STOCK_ALERT_QUOTES_BASE_URL", scripted.url)
    yield scripted
    scripted.stop()


class Configure:
    """Sets STOCK_ALERT_STOCKS, _ALERT (with ``when``, when given), _PROVIDER (one source or a
    comma-separated chain) and _API_KEY_PARAMETER."""

    def __init__(self, env: pytest.MonkeyPatch) -> None:
        self.env = env

    def __call__(
        self,
        stocks: list[dict[str, Any]],
        mode: str = "summary",
        change_percent: float | None = None,
        provider: str = "yahoo",
        parameter: str | None = None,
        when: str | None = None,
    ) -> None:
        full = [{"name": None, "above": None, "below": None, **stock} for stock in stocks]
        alert: dict[str, Any] = {"mode": mode, "change_percent": change_percent}
        if when is not None:
            alert["when"] = when
        self.env.setenv("STOCK_ALERT_STOCKS", json.dumps(full))
        self.env.setenv("STOCK_ALERT_ALERT", json.dumps(alert))
        self.env.setenv("STOCK_ALERT_PROVIDER", provider)
        if parameter:
            self.env.setenv("STOCK_ALERT_API_KEY_PARAMETER", parameter)


@pytest.fixture
def configure(env: pytest.MonkeyPatch) -> Configure:
    return Configure(env)


class FakeContext:
    """Stands in for the Lambda context: a real deadline on the monotonic clock."""

    def __init__(self, remaining_ms: float) -> None:
        self.deadline = time.monotonic() + remaining_ms / 1000.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def log_lines(out: str) -> list[dict[str, Any]]:
    """Parse captured stdout; every line must be one JSON object with an "event"."""
    records = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert all("event" in r for r in records), records
    return records


def events(out: str, name: str) -> list[dict[str, Any]]:
    return [r for r in log_lines(out) if r["event"] == name]
