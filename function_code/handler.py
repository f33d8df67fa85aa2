"""Lambda entry point (``handler.handler``): fetch quotes, evaluate rules, publish ONE message.

Publishing policy:
- summary mode always publishes, also when no quote could be fetched: the message then names
  every symbol that failed and why, so subscribers notice a broken feed.
- threshold mode publishes only when a rule fired; otherwise nothing is sent and the result's
  reason is "no rule fired" ("no quote fetched" when nothing could be fetched).
- a run in which EVERY quote failed is a function error: after the above, an "error" log line
  lists each symbol with its reason and QuotesUnavailable is raised (its message names them too),
  so Lambda's Errors metric, retries and alarms see it.
- a configuration error (bad environment, a missing or unreadable API key, no topic) publishes
  nothing: an "error" log line says what is wrong and ConfigurationError is raised with the same
  text and the fix, so Lambda counts an error (its Errors metric, the stack's on-failure
  destination and alarm all see it) and `invoke` exits 1.
- a failed sns:Publish is logged and re-raised, so the invocation counts as an error.

The result holds the exact texts published (``message``: sms, email_subject, email), which carry
prices only, never a subscriber's address or number; None when nothing was published.
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


class ConfigurationError(Exception):
    """The function cannot run as deployed; the message names the cause and the fix."""


# What to do about a failed key read, by AWS's error code; anything else: check the role.
KEY_FIXES = {
    "ParameterNotFound": "store the API key with 'stock-alert secret set'",
    "ResourceNotFoundException": "store the API key with 'stock-alert secret set'",
}
SETTINGS_FIX = "run 'stock-alert up' to redeploy the function's settings"


def _fix(exc: Exception) -> str:
    if isinstance(exc, settings.SettingsError):
        return SETTINGS_FIX
    text = str(exc)
    if " is empty" in text or "has no string value" in text:
        return "store the API key with 'stock-alert secret set'"
    code = text.rsplit(": ", 1)[-1]
    return KEY_FIXES.get(code, "check the function's role can read the key "
                               "('stock-alert audit')")


class QuotesUnavailable(Exception):
    """No quote at all could be fetched; ``result`` is what the handler would have returned."""

    def __init__(self, failures: list[Failure], outcome: dict[str, Any]) -> None:
        listed = ", ".join(f"{f.symbol} ({f.reason})" for f in failures)
        super().__init__(f"no quote fetched for any of {len(failures)} symbols: {listed}")
        self.failures = failures
        self.result = outcome


def make_provider(config: settings.Settings) -> quotes.Provider:
    """The configured provider; Alpha Vantage reads its key from SSM or Secrets Manager
    (cached per container)."""
    if config.provider == "alphavantage":
        if config.api_key_secret:
            return quotes.AlphaVantage(config.base_url, aws.secret_value(config.api_key_secret))
        return quotes.AlphaVantage(config.base_url, aws.api_key(str(config.api_key_parameter)))
    return quotes.Yahoo(config.base_url)


def result(
    stack: str,
    results: list[Quote | Failure],
    fired: list[rules.Fired],
    message_id: str | None = None,
    reason: str | None = None,
    message: dict[str, str] | None = None,
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
        "message": message,
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


def compose(
    config: settings.Settings, results: list[Quote | Failure], fired: list[rules.Fired]
) -> dict[str, str]:
    """The texts to publish: {"sms", "email_subject", "email"}."""
    # The SMS leads with the fired rules only in threshold mode; a summary SMS is the quotes line
    # (the e-mail lists fired rules in both modes).
    return {
        "sms": messages.sms(results, fired if config.alert.mode == "threshold" else []),
        "email_subject": messages.subject(results, fired, config.alert.mode),
        "email": messages.email(config.stack, config.alert.mode, config.provider, results, fired),
    }


def _publish(config: settings.Settings, message: dict[str, str]) -> str:
    sms, subject = message["sms"], message["email_subject"]
    try:
        message_id = aws.publish(config.topic_arn, subject, messages.payload(sms, message["email"]))
    except aws.AwsError as exc:
        log.event("error", stack=config.stack, error=str(exc))
        raise
    log.event(
        "published", stack=config.stack, message_id=message_id, subject=subject, sms_length=len(sms)
    )
    return message_id


def _deliver(
    config: settings.Settings, results: list[Quote | Failure], fired: list[rules.Fired]
) -> dict[str, Any]:
    """Publish (or not, see the module docstring) and return the result."""
    if config.alert.mode == "threshold" and not fired:
        fetched = any(isinstance(r, Quote) for r in results)
        reason = "no rule fired" if fetched else "no quote fetched"
        log.event("not_published", stack=config.stack, reason=reason)
        return result(config.stack, results, fired, reason=reason)
    message = compose(config, results, fired)
    message_id = _publish(config, message)
    return result(config.stack, results, fired, message_id=message_id, message=message)


def _unavailable(stack: str, results: list[Quote | Failure], outcome: dict[str, Any]) -> Exception:
    """The error for a run that fetched nothing, logged with each symbol and its reason."""
    failures = [r for r in results if isinstance(r, Failure)]
    error = QuotesUnavailable(failures, outcome)
    log.event(
        "error",
        stack=stack,
        error=str(error),
        failed=[f.to_dict() for f in failures],
        published=outcome["published"],
    )
    return error


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Run once; see the module docstring for when a message is published."""
    stack = os.environ.get("STOCK_ALERT_STACK", "").strip() or "stock-alert"
    try:
        config = settings.load()
        results = _fetch(config, context)
    except (settings.SettingsError, aws.AwsError) as exc:
        error = ConfigurationError(f"configuration error: {exc}; fix: {_fix(exc)}")
        log.event("error", stack=stack, error=str(error))
        raise error from None
    fetched = [r for r in results if isinstance(r, Quote)]
    fired = rules.evaluate(fetched, config.stocks, config.alert)
    for rule in fired:
        log.event("rule_fired", stack=stack, symbol=rule.symbol, rule=rule.rule, detail=rule.detail)
    outcome = _deliver(config, results, fired)
    if not fetched:
        raise _unavailable(stack, results, outcome)
    return outcome
