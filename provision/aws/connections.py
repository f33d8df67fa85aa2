"""Connections opened before the calls that will use them.

A call that must wait for another answer first (the topic's reads wait for STS to name the
account) would then open its connection: TCP's and TLS's handshakes, two more round trips on
the command's longest chain. Opened while the first answer is awaited, its calls find them
ready in the client's pool, as botocore's own next call would after a first one.

botocore has no public call for this: it reaches into the client's urllib3 pool the way
botocore's URLLib3Session.send does. Best effort: anything unexpected (another botocore, an
unreachable endpoint) leaves the calls to open their own connections, as before.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger("provision.aws.connections")


def open_ahead(client: Any, count: int) -> list[threading.Thread]:
    """Open `count` connections to the client's endpoint, each in a daemon thread (started,
    returned); they join the pool botocore's calls take their connections from."""
    try:
        session = client._endpoint.http_session
        url = client.meta.endpoint_url
        manager = session._get_connection_manager(url, session._proxy_config.proxy_url_for(url))
        pool = manager.connection_from_url(url)
        session._setup_ssl_cert(pool, url, session._verify)
        # All taken from the pool first, so that no two threads connect the same one.
        taken = [pool._get_conn() for _ in range(count)]
    except Exception as exc:  # noqa: BLE001 - an optimisation: never a reason to fail
        log.debug("not opening connections ahead: %r", exc)
        return []

    def connect(connection: Any) -> None:
        try:
            connection.connect()
        except Exception as exc:  # noqa: BLE001 - the call will connect (and report) itself
            log.debug("opening a connection ahead to %s failed: %r", url, exc)
            connection.close()
        pool._put_conn(connection)

    threads = [threading.Thread(target=connect, args=(connection,), daemon=True,
                                name="connect-ahead") for connection in taken]
    for thread in threads:
        thread.start()
    return threads


def when_done(threads: list[threading.Thread], ready: threading.Event) -> None:
    """Set `ready` once every thread has ended (at once when there are none), without
    waiting here: a read then takes a connection opened ahead rather than open another."""
    def wait() -> None:
        for thread in threads:
            thread.join()
        ready.set()

    if threads:
        threading.Thread(target=wait, daemon=True, name="connections-ready").start()
    else:
        ready.set()
