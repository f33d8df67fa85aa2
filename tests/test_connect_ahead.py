"""Connections opened while STS is asked (issue 22): the topic's reads take the account from
STS's answer, so they would open their connections only then, two more round trips each (TCP
and TLS). The engine opens them while it waits. Against the moto server over HTTP (real
sockets); which thread opened each connection is in urllib3's own log."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from provision.aws import client as client_module
from provision.aws.connections import open_ahead
from provision.core import pipelines
from tests.support.configs import MINIMAL, write_config
from tests.support.fixtures import cli_environment
from tests.support.inprocess import target

pytestmark = pytest.mark.server
TOPIC_READS = ("read-topic", "read-tags", "read-subscriptions")  # gather's thread names


class Opened(logging.Handler):
    """The name of the thread that made each new connection in urllib3's pool. (A thread that
    takes a pooled connection the server has closed meanwhile logs "Resetting dropped
    connection" and connects it again: moto's server closes some idle ones, which real
    AWS does only after many seconds. It still took the connection from the pool, so that
    is not counted; `said` keeps both kinds of line, for the failure message.)"""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.threads: list[str] = []
        self.said: list[str] = []

    def forget(self) -> None:
        del self.threads[:], self.said[:]

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Starting new HTTP"):
            self.threads.append(record.threadName or "")
        if message.startswith(("Starting new HTTP", "Resetting dropped")):
            self.said.append(f"{record.threadName}: {message}")


@pytest.fixture
def opened() -> Any:
    logger = logging.getLogger("urllib3.connectionpool")
    handler, level = Opened(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_the_topics_reads_find_their_connections_open(
        moto_server: str, opened: Opened, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in cli_environment(moto_server).items():
        monkeypatch.setenv(key, value)
    config = write_config(tmp_path, MINIMAL)
    pipelines.up(target(config)[0])
    opened.forget()
    the_plan, _ = pipelines.plan(target(config)[0])
    assert not the_plan.has_writes
    # taken from the pool as the topic's client is made, for attributes, tags, subscriptions
    assert opened.threads.count("prewarm-clients") == 3
    assert not set(opened.threads) & set(TOPIC_READS), "\n".join(opened.said)


def test_a_read_waits_for_the_connections_still_being_opened(
        moto_server: str, opened: Opened, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The topic's client is made before its connections are opened: a read that found the
    client then took none of them and opened its own (seen once in CI, on a loaded machine).
    Here the opening is held up until STS has answered, so the reads come in that window."""
    for key, value in cli_environment(moto_server).items():
        monkeypatch.setenv(key, value)
    config = write_config(tmp_path, MINIMAL)
    pipelines.up(target(config)[0])
    prepared, _ = target(config)
    real = client_module.open_ahead
    answered = threading.Event()
    prepared.aws.events.register("after-call.sts.GetCallerIdentity",
                                 lambda **_: answered.set())

    def late(client: Any, count: int) -> list[Any]:
        if client.meta.service_model.service_name == "sns":
            answered.wait(10)  # the topic's reads may start from here on
            time.sleep(0.3)
        return real(client, count)

    monkeypatch.setattr(client_module, "open_ahead", late)
    opened.forget()
    the_plan, _ = pipelines.plan(prepared)
    assert not the_plan.has_writes
    assert opened.threads.count("prewarm-clients") == 3
    assert not set(opened.threads) & set(TOPIC_READS), "\n".join(opened.said)


def test_each_connection_opened_ahead_is_its_own(moto_server: str, opened: Opened) -> None:
    """Three connections, each taken from the pool before any thread connects one (a thread
    that took one another had put back would connect it twice, leaving two)."""
    session = botocore.session.Session()
    client = session.create_client("sns", region_name="us-east-1", endpoint_url=moto_server,
                                   aws_access_key_id="testing", aws_secret_access_key="testing")
    threads = open_ahead(client, 3)
    for thread in threads:
        thread.join(timeout=30)
    assert len(threads) == 3 and opened.threads == ["MainThread"] * 3
    pool = client._endpoint.http_session._get_connection_manager(  # noqa: SLF001
        moto_server, None).connection_from_url(moto_server)
    idle = [c for c in pool.pool.queue if c is not None]
    assert len({id(c) for c in idle}) == 3 and all(c.sock is not None for c in idle)


def test_a_client_it_cannot_reach_into_is_left_alone(opened: Opened) -> None:
    assert open_ahead(object(), 3) == [] and opened.threads == []


def test_an_aws_that_knows_its_account_opens_none_ahead(
        moto_server: str, opened: Opened, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fleet's stacks share one Aws: once STS has answered, nothing waits for it, and more
    connections for every stack would overflow the client's pool."""
    for key, value in cli_environment(moto_server).items():
        monkeypatch.setenv(key, value)
    prepared, _ = target(write_config(tmp_path, MINIMAL))
    pipelines.plan(prepared)
    opened.forget()
    pipelines.plan(prepared)
    assert "prewarm-clients" not in opened.threads
