"""Shared fixtures. Every test runs with fake credentials and no path to real AWS."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import clirunner, loader, moto_routes

pytest_plugins = ["tests.support.fixtures"]

loader.share()  # one set of parsed service models for every botocore session of this process
clirunner.remember_commands()  # one click command tree per Typer app, not one per invoke
moto_routes.build()  # before any thread sends a first request (tests/support/moto_routes.py)


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
# The in-process lifecycle tests of the fast loop: every kind's read, create, update, drift
# repair and delete against moto in this process (the rest of the in-process tests, fault
# matrices and per-feature lifecycles, run in the whole suite).
FAST_IN_PROCESS = frozenset({"test_stack_moto.py", "test_network_moto.py",
                             "test_hardening_moto.py"})
_USES_MOTO: dict[str, bool] = {}


def _module_uses_moto(item: pytest.Item) -> bool:
    """Whether the test's module brings up moto itself (mock_aws, moto's server or IAM
    enforcement): read once per module from its source."""
    path = str(getattr(item, "path", ""))
    if path not in _USES_MOTO:
        source = Path(path).read_text(encoding="utf-8") if path.endswith(".py") else ""
        _USES_MOTO[path] = "moto" in source
    return _USES_MOTO[path]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs the moto server over HTTP (directly or through a fixture
    such as ``cli`` or ``aws_proxy``) as ``server``, every test that uses moto at all (in
    process or over HTTP) as ``moto``, and the pure tests with the in-process lifecycle tests
    (FAST_IN_PROCESS) as ``fast``: ``pytest -m fast`` is the developers' fast loop (README,
    "Tests"); the whole suite still runs everything."""
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server)
            item.add_marker(pytest.mark.moto)
        elif _module_uses_moto(item):
            item.add_marker(pytest.mark.moto)
            if Path(str(item.path)).name in FAST_IN_PROCESS:
                item.add_marker(pytest.mark.fast)
        elif not item.get_closest_marker("process"):
            item.add_marker(pytest.mark.fast)
