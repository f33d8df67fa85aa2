"""Shared fixtures. Every test runs with fake credentials and no path to real AWS."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import clirunner, loader

pytest_plugins = ["tests.support.fixtures"]

loader.share()  # one set of parsed service models for every botocore session of this process
clirunner.remember_commands()  # one click command tree per Typer app, not one per invoke


def isolated_environment(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """No real AWS: drop the caller's AWS settings, use fake credentials and an empty home."""
    for key in list(os.environ):
        if key.startswith("AWS_") or key.startswith("STOCK_ALERT_"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))


@pytest.fixture(autouse=True)
def _isolated_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Every test: no real AWS (isolated_environment)."""
    isolated_environment(monkeypatch, tmp_path)
    yield


SERVER_FIXTURES = frozenset({"moto_server", "moto_server_base"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the moto server over HTTP (directly or through a fixture
    such as ``cli`` or ``aws_proxy``) as ``server``: ``-m "not server and not process"`` is the
    fast loop of pure and in-process tests (README, "Tests")."""
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server)
