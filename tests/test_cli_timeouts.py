"""End to end: an endpoint that accepts connections and never answers ends the command soon.

Before: botocore's 30 s read timeout x 4 attempts kept stock-alert silent for 121 s. Now a 5 s
read timeout (STOCK_ALERT_TIMEOUT_S) x 4 attempts plus botocore's backoff ends it in about 22 s
with an error naming the endpoint.

One real-time run proves the wait ends and what it says, with STOCK_ALERT_TIMEOUT_S=1 (about
5 s). The default's bound follows from the clients' own settings, checked without waiting 22 s:
every client the tool makes carries the default read timeout and attempt count.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path

import pytest

from provision.aws.client import Aws
from provision.aws.endpoint import READ_TIMEOUT_S
from tests.support.configs import MINIMAL
from tests.support.fixtures import cli_environment, run_cli

pytestmark = pytest.mark.process

BACKOFF_CAP_S = 7.0  # botocore standard mode: at most 3 backoffs of at most 2 s (+ jitter)


class _SilentListener:
    """127.0.0.1 listener that accepts every connection and never answers."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                self.held.append(self.sock.accept()[0])

    def close(self) -> None:
        for conn in [self.sock, *self.held]:
            conn.close()


def test_by_default_a_silent_endpoint_is_given_up_on_within_30_seconds() -> None:
    client = Aws("us-east-1", endpoint_url="http://127.0.0.1:9").client("sts")
    config = client.meta.config
    attempts = config.retries["total_max_attempts"]
    assert config.read_timeout == READ_TIMEOUT_S
    assert attempts * config.read_timeout + BACKOFF_CAP_S < 30.0, (attempts, config)


@pytest.mark.parametrize(("timeout_env", "within"), [("1", 12.0)])
def test_endpoint_that_never_answers_ends_soon_with_a_clear_error(
        tmp_path: Path, timeout_env: str | None, within: float) -> None:
    # Before: botocore's 30 s read timeout x 4 attempts kept the tool silent for 121 s.
    listener = _SilentListener()
    try:
        (tmp_path / "config.yaml").write_text(MINIMAL)
        env = cli_environment(listener.url)
        if timeout_env:
            env["STOCK_ALERT_TIMEOUT_S"] = timeout_env
        started = time.monotonic()
        result = run_cli(["plan"], env, tmp_path, timeout=90)
        elapsed = time.monotonic() - started
    finally:
        listener.close()
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "Unexpected error" not in result.stderr
    *progress, line = result.stderr.strip().splitlines()
    # while it waits, each attempt that got no answer is said as it happens
    assert progress and all("no answer from " + listener.url in p for p in progress), progress
    assert listener.url in line and "sent no answer within" in line, line
    assert "STOCK_ALERT_TIMEOUT_S" in line
    assert len(listener.held) >= 2  # botocore did retry, each attempt bounded
    assert elapsed < within, elapsed
