"""The whole story offline: emulator + local quote server -> up -> status -> invoke --local ->
the exact SMS and e-mail SNS accepted -> down -> nothing left. Every step is checked.

The quote server refuses every Yahoo request (HTTP 429, as Yahoo answers many datacentre
addresses), so the function falls back to Stooq, the next source of quotes.providers, and the
message names it; TSLA is priced across its 300 level since the previous close, so a crossing
alert (alert.when: crossed) fires and leads the SMS."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from provision.core import pipelines
from provision.core.plan import Mode, Op
from provision.core.target import Options, Target, prepare
from provision.features import invoke
from provision.local import emulator
from provision.local.inventory import inventory
from provision.local.quote_server import QuoteServer

DEMO_CONFIG = """\
name: stock-alert-demo
region: us-east-1
schedule: "cron(30 14 ? * MON-FRI *)"
stocks:
  - {{symbol: TSLA, name: Tesla, above: 300}}
  - {{symbol: F, name: Ford, below: 10}}
  - {{symbol: GM, name: General Motors}}
notify:
  email: [demo@example.com]
  sms: ["+15555550100"]
quotes: {{providers: [yahoo, stooq], base_url: "{quotes_url}"}}
alert: {{mode: threshold, change_percent: 3.0, when: crossed}}
tags: {{purpose: demo}}
"""
# What the quote server answers: symbol -> (price, previous close). TSLA crosses 300 since the
# previous close (+1.5%: the crossing fires, the 3% change rule does not); F and GM are quiet.
DEMO_PRICES = {"TSLA": (301.5, 297.0), "F": (12.01, 12.07), "GM": (48.2, 48.15)}
REFUSED = {"yahoo": 429}  # the first source of the chain refuses: Stooq answers
CROSSING = "TSLA: crossed above 300.00: previous close 297.00, now 301.50"
SOURCE_LINE = "Quotes from Stooq (TSLA, F, GM)"
FALLBACK_NOTE = (
    "The local quote server refuses every Yahoo request with HTTP 429 (as Yahoo answers many "
    "datacentre addresses), so the function asks Stooq, the next source in quotes.providers, "
    "for each symbol. TSLA is priced at 301.50 after a previous close of 297.00: it crossed its "
    "300 level, so threshold mode publishes a crossing alert.")


EMAIL_NOTE = (
    "Note: the emulator reports demo@example.com as confirmed at once. On real AWS, 'up' makes "
    "SNS send a confirmation e-mail; the subscription stays 'pending confirmation' (see "
    "'stock-alert status') and gets nothing until the link in that e-mail is clicked. SMS "
    "needs no confirmation, but a new AWS account starts in the SMS sandbox: verify the phone "
    "number in the SNS console first.")


class Reporter(Protocol):
    def step(self, title: str) -> None: ...
    def show(self, what: Any) -> None: ...
    def check(self, ok: bool, message: str) -> bool: ...


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "STOCK_ALERT_"))}
    for key in saved:
        del os.environ[key]
    os.environ.update(values)
    try:
        yield
    finally:
        for key in values:
            os.environ.pop(key, None)
        os.environ.update(saved)


def run(report: Reporter, render_plan: Callable[[Any, str], Any],
        render_status: Callable[[Any, Any], Any]) -> bool:
    """Run every step; True only when each check passed."""
    server, url = emulator.start(0)
    try:
        with QuoteServer(prices=DEMO_PRICES, refuse=REFUSED) as quotes, \
                tempfile.TemporaryDirectory() as tmp, _environment({
            "AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1", emulator.MARK: url,
            "AWS_EC2_METADATA_DISABLED": "true",
        }):
            config = Path(tmp) / "config.yaml"
            config.write_text(DEMO_CONFIG.format(quotes_url=quotes.url), encoding="utf-8")
            report.step(f"Local AWS emulator on {url}, quote server on {quotes.url}")
            report.show(f"The emulator's own log (requests, server errors): "
                        f"{emulator.log_path()}")
            report.show(config.read_text(encoding="utf-8"))
            report.show(FALLBACK_NOTE)
            return _story(report, config, quotes, render_plan, render_status)
    finally:
        server.stop()


def _target(config: Path) -> Target:
    return prepare(Options(config))


def _story(report: Reporter, config: Path, quotes: QuoteServer,
           render_plan: Callable[[Any, str], Any],
           render_status: Callable[[Any, Any], Any]) -> bool:
    report.step("stock-alert up")
    plan, done = pipelines.up(_target(config))
    report.show(render_plan(plan, "up"))
    wanted = [a for a in plan.actions if a.op is not Op.NOOP]  # NOOP: a kind not used here
    ok = report.check(len(done) == len(wanted) and all(a.op is Op.CREATE for a in done),
                      f"created {len(done)} of {len(wanted)} resources")

    report.step("stock-alert up (again: must change nothing)")
    plan, done = pipelines.up(_target(config))
    ok &= report.check(done == [], "second up made no changes")

    report.step("stock-alert status")
    plan, rows = pipelines.status(_target(config))
    report.show(render_status(plan, rows))
    ok &= report.check(all(r.state in ("in sync", "not used") for r in rows),
                       "every resource in sync")
    report.show(EMAIL_NOTE)

    ok &= _invoke(report, config, quotes)
    ok &= _down(report, config, render_plan)
    return bool(ok)


def _invoke(report: Reporter, config: Path, quotes: QuoteServer) -> bool:
    report.step("stock-alert invoke --local")
    run = invoke.invoke_local(_target(config))
    result = run.result or {}
    fallbacks = [line for line in run.log if '"source_failed"' in line]
    report.show("The function's log, where a source failed and the next was asked:\n" +
                "\n".join(fallbacks))
    report.show(json.dumps(result, indent=2))
    served = [(q.get("symbol"), q.get("source")) for q in result.get("quotes", [])]
    ok = report.check(served == [("TSLA", "stooq"), ("F", "stooq"), ("GM", "stooq")]
                      and quotes.asked("yahoo") == 3 and quotes.asked("stooq") == 3,
                      "Yahoo refused each symbol (HTTP 429); Stooq, next in the chain, served "
                      "all 3 quotes")
    fired = [(r.get("symbol"), r.get("rule"), r.get("when")) for r in
             result.get("rules_fired", [])]
    ok &= report.check(fired == [("TSLA", "above", "crossed")] and bool(result.get("published")),
                       "TSLA crossed above 300 since the previous close: one alert, published")
    report.step("What SNS accepted (read back from the emulator)")
    assert run.stack is not None
    sent = emulator.published_messages(run.stack.account, run.stack.region,
                                       run.stack.topic_arn)
    for message in sent:
        report.show(f"SMS ({len(message['sms'])} characters):\n  {message['sms']}")
        report.show(f"E-mail subject: {message['subject']}\n{message['email']}")
    return ok & report.check(
        len(sent) == 1 and sent[0]["sms"].startswith("ALERT TSLA crossed>300 | ")
        and all(s in sent[0]["sms"] for s in ("TSLA", "F", "GM"))
        and CROSSING in sent[0]["email"] and SOURCE_LINE in sent[0]["email"],
        "one message: the crossing alert with its previous close, all three tickers, and "
        "Stooq named as their source")


def _down(report: Reporter, config: Path, render_plan: Callable[[Any, str], Any]) -> bool:
    report.step("stock-alert down --yes")
    target = _target(config)
    plan, _ = pipelines.plan(target, mode=Mode.DOWN)
    done = pipelines.down(target, plan)
    report.show(render_plan(plan, "down"))
    owned = [a for a in plan.actions if a.op is Op.DELETE]
    ok = report.check(len(done) == len(owned) and all(a.op in (Op.DELETE, Op.NOOP)
                                                      for a in plan.actions),
                      f"deleted {len(done)} of {len(owned)} resources")
    report.step("Checking that nothing is left")
    left = inventory(target.aws)
    report.show(json.dumps(left, indent=2))
    return ok & report.check(not any(left.values()), "the emulator holds nothing of the stack")
