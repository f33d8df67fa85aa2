"""A local AWS emulator (moto's server) on 127.0.0.1, for trying stock-alert with no account."""

from __future__ import annotations

import logging
import shutil
import socket
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from provision.errors import InputError

EXTRA = "'stock-alert[emulator]'"


def install_hint() -> str:
    """How to add the emulator to the installation this command runs from, not just any pip."""
    script = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    pip = script.parent / "pip" if script else None
    if script and "pipx" in script.parts:
        return f"It was installed with pipx; run: pipx install --force {EXTRA}"
    if pip and pip.exists():
        return f"Install it into the environment {script} runs from: {pip} install {EXTRA}"
    return f"Install it with: {sys.executable} -m pip install {EXTRA} (pip install {EXTRA})"


def command() -> str:
    """How to type this command again: 'stock-alert' when that is what PATH finds."""
    script = sys.argv[0] if sys.argv else ""
    if Path(script).name != "stock-alert":
        return "stock-alert"
    found = shutil.which("stock-alert")
    same = found is not None and Path(found).resolve() == Path(script).resolve()
    return "stock-alert" if same else script


def start(port: int = 0) -> tuple[Any, str]:
    """Start moto's threaded server on 127.0.0.1; return (server, endpoint URL)."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        raise InputError("The local emulator needs moto, which is not installed.",
                         hint=install_hint()) from None
    if port:
        _check_free(port)
    _log_to_file()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, real_port = server.get_host_and_port()
    return server, f"http://{host}:{real_port}"


def log_path() -> Path:
    """Where the emulator's server writes its log: one file per stock-alert process."""
    import os
    import tempfile

    return Path(tempfile.gettempdir()) / f"stock-alert-emulator-{os.getpid()}.log"


def _log_to_file() -> None:
    """The server's own log (a line per request, and the traceback of any API moto lacks)
    goes to log_path(), never to the user's terminal; --debug adds every request."""
    handler = logging.FileHandler(log_path(), encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    debug = logging.getLogger("provision").isEnabledFor(logging.DEBUG)
    for name in ("werkzeug", "moto"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
        logger.setLevel(logging.DEBUG if debug else logging.WARNING)


def _check_free(port: int, option: str = "--port") -> None:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise InputError(f"Port {port} on 127.0.0.1 is already in use.",
                             hint=f"Pick another with {option}, or {option} 0 for any free "
                             "one.") from None


MARK = "STOCK_ALERT_EMULATOR"  # = the endpoint, when it is this built-in emulator


def export_line(url: str, region: str = "us-east-1") -> str:
    return (f"export AWS_ENDPOINT_URL={url} AWS_ACCESS_KEY_ID=testing "
            f"AWS_SECRET_ACCESS_KEY=testing AWS_REGION={region} {MARK}={url}")


def is_builtin(endpoint: str | None) -> bool:
    """The endpoint is this built-in emulator (moto), as its export line marks it: what it
    does (e-mail subscriptions confirmed at once) is not what another local endpoint does."""
    import os

    return bool(endpoint) and os.environ.get(MARK) == endpoint


def parse_prices(values: Sequence[str]) -> dict[str, tuple[float, float]]:
    """--price values -> symbol -> (price, previous close); InputError naming a bad one."""
    from provision.local.quote_server import parse_price

    prices = {}
    for value in values:
        try:
            symbol, price, previous = parse_price(value)
        except ValueError as exc:
            raise InputError(f"{exc}.", hint="Give each as SYMBOL=PRICE[:CHANGE%], e.g. "
                             "--price TSLA=310:+4% (price 310, up 4% on the day) or "
                             "--price F=11.5:-2.5%.") from None
        prices[symbol] = (price, previous)
    return prices


def parse_refusals(values: Sequence[str]) -> dict[str, int | str]:
    """--refuse values -> source -> HTTP status or "quota"; InputError naming a bad one."""
    from provision.local.quote_server import parse_refusal

    refusals: dict[str, int | str] = {}
    for value in values:
        try:
            source, how = parse_refusal(value)
        except ValueError as exc:
            raise InputError(f"{exc}.", hint="Give each as SOURCE[=STATUS|quota], e.g. "
                             "--refuse yahoo (HTTP 429) or --refuse stooq=quota.") from None
        refusals[source] = how
    return refusals


def serve(port: int, echo: Callable[[str], None], stop: threading.Event | None = None,
          quotes_port: int | None = None, prices: dict[str, tuple[float, float]] | None = None,
          refuse: dict[str, int | str] | None = None) -> None:
    """Run in the foreground until Ctrl-C (or until `stop` is set). quotes_port not None also
    starts the local quote server there (0: any free port), answering `prices` as fixed and
    refusing every request of the sources in `refuse`."""
    from provision.local.quote_server import QuoteServer

    if quotes_port:
        _check_free(quotes_port, "--quotes-port")
    server, url = start(port)
    quotes = None
    try:
        if quotes_port is not None:
            quotes = QuoteServer(port=quotes_port, prices=prices, refuse=refuse).start()
        _greet(url, echo, quotes.url if quotes else None, prices or {}, refuse)
        stop = stop or threading.Event()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        echo("Stopping the emulator.")
    finally:
        if quotes is not None:
            quotes.stop()
        server.stop()


def _greet(url: str, echo: Callable[[str], None], quotes_url: str | None,
           prices: dict[str, tuple[float, float]],
           refuse: dict[str, int | str] | None = None) -> None:
    name = command()
    echo(f"Local AWS emulator listening on {url} (state is kept in memory only; its log: "
         f"{log_path()}).")
    if quotes_url:
        echo(f"Local quote server on {quotes_url} (answers like Yahoo's chart API, Stooq's CSV "
             "quote and Alpha Vantage's GLOBAL_QUOTE). In config.yaml, add base_url under the "
             "existing 'quotes:' block (or add the block if there is none), then run 'up':")
        echo("  quotes:")
        echo(f'    base_url: "{quotes_url}"')
        for symbol, (price, previous) in sorted(prices.items()):
            echo(f"  {symbol}: fixed at {price:g}, {(price / previous - 1) * 100:+.2f}% on the "
                 f"day (previous close {previous:g})")
        for source, how in sorted((refuse or {}).items()):
            answer = "its used-up daily quota" if how == "quota" else f"HTTP {how}"
            echo(f"  {source} refuses every request with {answer}: the next source in "
                 "quotes.providers answers")
        echo("  Other tickers follow a random walk; any ticker containing UNKNOWN is unknown.")
    echo("In another shell, run:")
    echo(f"  {export_line(url)}")
    echo(f"  {name} up && {name} status && {name} down --yes")
    echo("Press Ctrl-C to stop.")


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
