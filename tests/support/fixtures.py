"""pytest fixtures for end-to-end tests of ``stock-alert`` against a moto server on 127.0.0.1.

Load with ``pytest_plugins = ["tests.support.fixtures"]`` in the root ``tests/conftest.py``.

* ``moto_server`` -- base URL of one moto server per test session, reset before each test;
* ``aws_proxy`` -- an :class:`AwsProxy` in front of it (counts calls, injects faults);
* ``aws_env`` -- environment for running the CLI subprocess through the proxy;
* ``boto_session`` -- a boto3 Session whose clients talk to the proxy;
* ``inventory_now`` -- ``() -> dict`` listing what exists (read straight from moto, uncounted);
* ``cli`` -- ``(*args, input=None, timeout=120) -> CompletedProcess`` running ``stock-alert``
  in this process (tests/support/clirunner.py), through the proxy;
* ``cli_subprocess`` -- the same, as a real process of the installed console script (for the
  few tests about the process itself: the script, signals, terminals, memory);
* ``fast_retries`` -- botocore standard-mode retries without backoff sleeps (in-process only).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.support.awsproxy import AwsProxy
from tests.support.clirunner import run_cli_inprocess
from tests.support.faults import no_retry_backoff
from tests.support.inventory import Inventory, inventory, local_session

REGION = "us-east-1"
TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
#: Variables dropped from the inherited environment besides every ``AWS_*`` one.
DROPPED_VARIABLES = frozenset(
    {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "boto_config", "botocore_config"}
)


# ---- helpers usable without pytest --------------------------------------------------------


def cli_path() -> Path:
    """The installed ``stock-alert`` console script of the running interpreter's venv."""
    return Path(sys.executable).parent / "stock-alert"


def run_cli(
    args: Sequence[str],
    env: Mapping[str, str],
    cwd: str | os.PathLike[str],
    input: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run ``stock-alert *args`` as a subprocess; never raises on a non-zero exit status."""
    return subprocess.run(
        [str(cli_path()), *args],
        env=dict(env),
        cwd=cwd,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def cli_environment(endpoint_url: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default ``os.environ``) minus real AWS settings, aimed at ``endpoint_url``."""
    source = os.environ if base is None else base
    env = {
        k: v
        for k, v in source.items()
        if not k.upper().startswith("AWS_") and k.lower() not in DROPPED_VARIABLES
    }
    env.update(TEST_CREDENTIALS)
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint_url,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            # Keep ~/.aws out of it: no profile, no configured endpoints or retry settings.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    return env


def reset_moto(url: str) -> None:
    """Clear all of a moto server's state (``POST /moto-api/reset``)."""
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status != 200:
            raise RuntimeError(f"moto reset failed: HTTP {response.status}")


class EndpointSession(boto3.Session):
    """A boto3 Session whose clients and resources default to one endpoint URL."""

    def __init__(self, endpoint_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.endpoint_url = endpoint_url

    def client(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("endpoint_url", self.endpoint_url)
        return super().client(*args, **kwargs)

    def resource(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("endpoint_url", self.endpoint_url)
        return super().resource(*args, **kwargs)


def endpoint_session(endpoint_url: str) -> EndpointSession:
    """A test-credential Session whose clients talk to ``endpoint_url``."""
    return local_session(REGION, EndpointSession, endpoint_url=endpoint_url)


# ---- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_server_base() -> Iterator[str]:
    """One moto server for the whole session (state NOT reset: use ``moto_server``)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per call
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def moto_server(moto_server_base: str) -> str:
    """Base URL of the session's moto server, with its state reset for this test."""
    reset_moto(moto_server_base)
    return moto_server_base


@pytest.fixture
def aws_proxy(moto_server: str) -> Iterator[AwsProxy]:
    with AwsProxy(moto_server) as proxy:
        yield proxy


@pytest.fixture
def aws_env(aws_proxy: AwsProxy) -> dict[str, str]:
    return cli_environment(aws_proxy.url)


@pytest.fixture
def boto_session(aws_proxy: AwsProxy) -> EndpointSession:
    """Clients from this Session go through the proxy (and are counted)."""
    return endpoint_session(aws_proxy.url)


@pytest.fixture
def inventory_now(moto_server: str) -> Callable[[], Inventory]:
    """Lists what exists, reading moto directly so the proxy's counts are untouched."""
    return lambda: inventory(moto_server, REGION)


@pytest.fixture
def cli(aws_env: dict[str, str], tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``cli("up", "--yes")`` runs ``stock-alert`` in-process in ``tmp_path`` via the proxy."""

    def run(
        *args: str, input: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return run_cli_inprocess(args, aws_env, tmp_path, input=input, timeout=timeout)

    return run


@pytest.fixture
def cli_subprocess(
    aws_env: dict[str, str], tmp_path: Path
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``cli`` as a real subprocess of the installed console script."""

    def run(
        *args: str, input: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return run_cli(args, aws_env, tmp_path, input=input, timeout=timeout)

    return run


@pytest.fixture
def fast_retries() -> Iterator[None]:
    with no_retry_backoff():
        yield


__all__ = [
    "EndpointSession",
    "aws_env",
    "aws_proxy",
    "boto_session",
    "cli",
    "cli_subprocess",
    "cli_environment",
    "cli_path",
    "endpoint_session",
    "fast_retries",
    "inventory_now",
    "moto_server",
    "moto_server_base",
    "reset_moto",
    "run_cli",
]
