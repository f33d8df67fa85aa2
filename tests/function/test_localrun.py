"""What `stock-alert invoke --local` sees (local/function_runner.py runs the handler apart):
a run that returns gives exit code 0 and a result; a run in which every quote failed raises, so
the subprocess exits 1 with no result (the CLI maps a missing result to exit code 1) and the
reason is in the JSON log and on stderr."""

from __future__ import annotations

import json
import socket
import time

from provision.local import function_runner as localrun
from tests.function.conftest import FUNCTION_DIR, events
from tests.function.fake_http import yahoo

TOPIC = "arn:aws:sns:us-east-1:123456789012:stock-alert-test"


def function_env(base_url: str) -> dict[str, str]:
    """Threshold mode with a rule that cannot fire: nothing is published, so no AWS is needed."""
    return {
        "STOCK_ALERT_STACK": "test-stack",
        "STOCK_ALERT_TOPIC_ARN": TOPIC,
        "STOCK_ALERT_STOCKS": json.dumps([{"symbol": "TSLA", "above": 1e9}, {"symbol": "F"}]),
        "STOCK_ALERT_ALERT": json.dumps({"mode": "threshold"}),
        "STOCK_ALERT_PROVIDER": "yahoo",
        "STOCK_ALERT_QUOTES_BASE_URL": base_url,
        "STOCK_ALERT_HTTP_TIMEOUT_S": "0.3",
    }


def test_every_quote_failed_exits_1_without_a_result(env):
    with socket.socket() as probe:  # a closed port: connection refused
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"

    outcome = localrun.run(FUNCTION_DIR, function_env(url), {}, "test-fn", 20)

    assert outcome.exit_code == 1 and outcome.result is None
    assert (
        "QuotesUnavailable: no quote fetched for any of 2 symbols: TSLA (yahoo: connection "
        "error), " in (outcome.stderr)
    )
    (error,) = events("\n".join(outcome.log_lines), "error")
    assert [(f["symbol"], f["reason"]) for f in error["failed"]] == [
        ("TSLA", "yahoo: connection error"),
        ("F", "yahoo: connection error"),
    ]


def test_a_run_that_returns_exits_0_with_its_result(env, server):
    now = int(time.time())  # the subprocess runs on the real clock: quotes of today's session
    server.script("TSLA", yahoo("TSLA", 251.30, 243.00, regularMarketTime=now))
    server.script("F", yahoo("F", 12.01, 12.07, regularMarketTime=now))

    outcome = localrun.run(FUNCTION_DIR, function_env(server.url), {}, "test-fn", 20)

    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.result is not None
    assert outcome.result["reason"] == "no rule fired" and outcome.result["message"] is None
