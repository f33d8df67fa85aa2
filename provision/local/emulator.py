"""A local AWS emulator (moto's server) on 127.0.0.1, for trying stock-alert with no account."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from provision.errors import InputError

INSTALL_HINT = "Install it with: pip install 'stock-alert[emulator]'"


def start(port: int = 0) -> tuple[Any, str]:
    """Start moto's threaded server on 127.0.0.1; return (server, endpoint URL)."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        raise InputError("The local emulator needs moto, which is not installed.",
                         hint=INSTALL_HINT) from None
    if port:
        _check_free(port)
    # One line per request on stderr helps nobody here; --debug turns them back on.
    if not logging.getLogger("provision").isEnabledFor(logging.DEBUG):
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, real_port = server.get_host_and_port()
    return server, f"http://{host}:{real_port}"


def _check_free(port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise InputError(f"Port {port} on 127.0.0.1 is already in use.",
                             hint="Pick another with --port, or --port 0 for any free one.") \
                from None


def export_line(url: str, region: str = "us-east-1") -> str:
    return (f"export AWS_ENDPOINT_URL={url} AWS_ACCESS_KEY_ID=testing "
            f"AWS_SECRET_ACCESS_KEY=testing AWS_REGION={region}")


def serve(port: int, echo: Callable[[str], None], stop: threading.Event | None = None) -> None:
    """Run in the foreground until Ctrl-C (or until `stop` is set)."""
    server, url = start(port)
    echo(f"Local AWS emulator listening on {url} (state is kept in memory only).")
    echo("In another shell, run:")
    echo(f"  {export_line(url)}")
    echo("  stock-alert up && stock-alert status && stock-alert down --yes")
    echo("Press Ctrl-C to stop.")
    stop = stop or threading.Event()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        echo("Stopping the emulator.")
    finally:
        server.stop()


def published_messages(account: str, region: str, topic_arn: str) -> list[dict[str, str]]:
    """The per-protocol texts of every publish to the topic, from the in-process emulator.

    moto has no public API for what SNS delivered, so this one function reads its in-memory
    backend; everything else about the emulator's state is read through public AWS calls.
    """
    import json

    from moto.sns.models import sns_backends

    topic = sns_backends[account][region].topics.get(topic_arn)
    out = []
    for _id, message, subject, _attrs, _group in (topic.sent_notifications if topic else []):
        parts = json.loads(message)
        out.append({"sms": parts.get("sms", parts["default"]),
                    "email": parts.get("email", parts["default"]), "subject": subject or ""})
    return out
