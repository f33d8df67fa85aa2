"""Lambda entry point (``handler.handler``): fetch quotes, evaluate rules, publish ONE message.

Publishing policy:
- summary mode always publishes, also when no quote could be fetched: the message then names
  every symbol that failed and why, so subscribers notice a broken feed.
- threshold mode publishes only when a rule fired; otherwise nothing is sent and the result's
  reason is "no rule fired" (also when nothing could be fetched; failures are in the log).
- a configuration error (bad environment, unreadable API key) publishes nothing: the result's
  reason and an "error" log line say what is wrong. Retrying would not help, so it does not raise.
- a failed sns:Publish is logged and re-raised, so the invocation counts as an error.
"""

from __future__ import annotations

import os
import time

import aws
import log
import messages
import quotes
import rules
import settings
from quotes import Failure, Quote
from transport import Budget

TYPE_CHECKING = False  # typing costs ~20 ms to import at cold start; only the checker needs it
if TYPE_CHECKING:
    from typing import Any


def make_provider(config: settings.Settings) -> quotes.Provider:
    """The configured provider; Alpha Vantage reads its key from SSM (cached per container)."""
    if config.provider == "alphavantage":
        return quotes.AlphaVantage(config.base_url, aws.api_key(str(config.api_key_parameter)))
    return quotes.Yahoo(config.base_url)


def result(
    stack: str,
    results: list[Quote | Failure],
    fired: list[rules.Fired],
    message_id: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """The JSON-serialisable summary returned to Lambda."""
    return {
        "stack": stack,
        "quotes": [r.to_dict() for r in results if isinstance(r, Quote)],
        "failed": [r.to_dict() for r in results if isinstance(r, Failure)],
        "rules_fired": [f.to_dict() for f in fired],
        "published": message_id is not None,
        "message_id": message_id,
        "reason": reason,
    }


def _fetch(config: settings.Settings, context: Any) -> list[Quote | Failure]:
    started = time.monotonic()
    provider = make_provider(config)
    budget = Budget.from_context(context)
    results = quotes.fetch_all(provider, config.stocks, budget, config.http_timeout_s)
    log.event(
        "quotes_fetched",
        stack=config.stack,
        provider=config.provider,
        fetched=[r.symbol for r in results if isinstance(r, Quote)],
        failed=[r.symbol for r in results if isinstance(r, Failure)],
        duration_ms=round((time.monotonic() - started) * 1000),
    )
    return results


def _publish(
    config: settings.Settings, results: list[Quote | Failure], fired: list[rules.Fired]
) -> str:
    # The SMS leads with the fired rules only in threshold mode; a summary SMS is the quotes line
    # (the e-mail lists fired rules in both modes).
    sms = messages.sms(results, fired if config.alert.mode == "threshold" else [])
    email = messages.email(config.stack, config.alert.mode, config.provider, results, fired)
    subject = messages.subject(results, fired, config.alert.mode)
    try:
        message_id = aws.publish(config.topic_arn, subject, messages.payload(sms, email))
    except aws.AwsError as exc:
        log.event("error", stack=config.stack, error=str(exc))
        raise
    log.event(
        "published", stack=config.stack, message_id=message_id, subject=subject, sms_length=len(sms)
    )
    return message_id


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Run once; see the module docstring for when a message is published."""
    stack = os.environ.get("STOCK_ALERT_STACK", "").strip() or "stock-alert"
    try:
        config = settings.load()
        results = _fetch(config, context)
    except (settings.SettingsError, aws.AwsError) as exc:
        log.event("error", stack=stack, error=str(exc))
        return result(stack, [], [], reason=f"configuration error: {exc}")
    fetched = [r for r in results if isinstance(r, Quote)]
    fired = rules.evaluate(fetched, config.stocks, config.alert)
    for rule in fired:
        log.event("rule_fired", stack=stack, symbol=rule.symbol, rule=rule.rule, detail=rule.detail)
    if config.alert.mode == "threshold" and not fired:
        log.event("not_published", stack=stack, reason="no rule fired")
        return result(stack, results, fired, reason="no rule fired")
    return result(stack, results, fired, message_id=_publish(config, results, fired))
