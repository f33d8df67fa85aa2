"""Lambda entry point (``handler.handler``): fetch quotes, evaluate rules, publish ONE message.

Quotes come from the configured chain of sources, asked in order for each symbol (quotes.py);
the message and the log say which source served each quote.

Publishing policy:
- summary mode always publishes, also when no quote could be fetched: the message then names
  every symbol that failed and each source's reason, so subscribers notice a broken feed.
- threshold mode publishes only when a rule fired; otherwise nothing is sent and the result's
  reason is "no rule fired" ("no quote fetched" when nothing could be fetched, "market closed"
  when no quote is from today's session).
- market closed: rules are checked only against quotes from today's session (market.py). When
  no quote is (a weekend, a holiday, before the open), threshold mode sends nothing and summary
  mode says the market was closed, with the last session's date.
- SOME symbols failing (every source failed for them, others were quoted) is not a function
  error: the run succeeds, the failed symbols and each source's reason are named in the message
  when one is published (summary mode always; threshold mode when a rule fired) and always in the
  log (a "quote_failed" line per symbol, and "failed" in "quotes_fetched").
- a run in which EVERY quote failed is a function error: after the above, an "error" log line
  lists each symbol with its reasons and QuotesUnavailable is raised (its message names them
  too), so Lambda's Errors metric, retries and alarms see it.
- a configuration error (bad environment, a missing or unreadable API key of a keyed source
  wherever it stands in the chain, no topic) publishes nothing: an "error" log line says what is
  wrong and ConfigurationError is raised with the same text and the fix, so Lambda counts an
  error (its Errors metric, the stack's on-failure destination and alarm all see it) and
  `invoke` exits 1. The key is read before any quote is fetched: a chain whose keyed source
  cannot work is a broken deployment, said at once, not a fallback that fails the day it is
  needed (and `up` warns of the missing key, as for a chain of one).
- a failed sns:Publish is logged and re-raised, so the invocation counts as an error.

The result holds the exact texts published (``message``: sms, email_subject, email), which carry
prices only, never a subscriber's address or number; None when nothing was published.
"""

from __future__ import annotations

import os
import time

import aws
import log
import market
import messages
import quotes
import rules
import settings
import sources
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


def _api_key(config: settings.Settings) -> str:
    """The keyed source's key, from Secrets Manager or SSM (cached per container)."""
    if config.api_key_secret:
        return aws.secret_value(config.api_key_secret)
    return aws.api_key(str(config.api_key_parameter))


def make_providers(config: settings.Settings) -> list[sources.Provider]:
    """The configured chain. A keyed source's key is read before any quote is fetched, so a
    key that cannot be read fails the run wherever the source stands in the chain."""
    return [sources.build(name, config.url_for(name),
                          _api_key(config) if name in settings.KEYED else None)
            for name in config.providers]


class Run:
    """What one run found: every result, the quotes from an earlier session than today's, and
    the rules that fired (checked against today's quotes only)."""

    def __init__(self, results: list[Quote | Failure], at: float) -> None:
        self.results = results
        self.fetched = [r for r in results if isinstance(r, Quote)]
        self.earlier = [q for q in self.fetched
                        if not market.is_current(q.session_date, q.utc_offset_s, at)]
        self.current = [q for q in self.fetched if q not in self.earlier]
        self.fired: list[rules.Fired] = []

    @property
    def market_closed(self) -> bool:
        return bool(self.fetched) and not self.current

    @property
    def last_session(self) -> str | None:
        days = [q.session_date for q in self.earlier if q.session_date]
        return max(days) if self.market_closed and days else None


def result(
    stack: str,
    run: Run,
    message_id: str | None = None,
    reason: str | None = None,
    message: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON-serialisable summary returned to Lambda."""
    return {
        "stack": stack,
        "quotes": [q.to_dict() for q in run.fetched],
        "failed": [r.to_dict() for r in run.results if isinstance(r, Failure)],
        "rules_fired": [f.to_dict() for f in run.fired],
        "market_closed": run.market_closed,
        "last_session": run.last_session,
        "published": message_id is not None,
        "message_id": message_id,
        "reason": reason,
        "message": message,
    }


def _fetch(config: settings.Settings, context: Any) -> list[Quote | Failure]:
    started = time.monotonic()
    providers = make_providers(config)
    budget = Budget.from_context(context)
    results = quotes.fetch_all(providers, config.stocks, budget, config.http_timeout_s)
    log.event(
        "quotes_fetched",
        stack=config.stack,
        providers=list(config.providers),
        sources={r.symbol: r.source for r in results if isinstance(r, Quote)},
        fetched=[r.symbol for r in results if isinstance(r, Quote)],
        failed=[r.symbol for r in results if isinstance(r, Failure)],
        duration_ms=round((time.monotonic() - started) * 1000),
    )
    return results


def compose(config: settings.Settings, run: Run) -> dict[str, str]:
    """The texts to publish: {"sms", "email_subject", "email"}."""
    # The SMS leads with the fired rules only in threshold mode; a summary SMS is the quotes line
    # (the e-mail lists fired rules in both modes).
    mode, results, fired, earlier = config.alert.mode, run.results, run.fired, run.earlier
    return {
        "sms": messages.sms(results, fired if mode == "threshold" else [], earlier),
        "email_subject": messages.subject(results, fired, mode, earlier),
        "email": messages.email(config.stack, mode, config.providers, results, fired,
                                earlier=earlier),
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


def _quiet_reason(run: Run) -> str:
    if not run.fetched:
        return "no quote fetched"
    return "market closed" if run.market_closed else "no rule fired"


def _deliver(config: settings.Settings, run: Run) -> dict[str, Any]:
    """Publish (or not, see the module docstring) and return the result."""
    if config.alert.mode == "threshold" and not run.fired:
        reason = _quiet_reason(run)
        log.event("not_published", stack=config.stack, reason=reason)
        return result(config.stack, run, reason=reason)
    message = compose(config, run)
    message_id = _publish(config, message)
    return result(config.stack, run, message_id=message_id, message=message)


def _evaluate(config: settings.Settings, run: Run) -> None:
    """The rules that fire on today's quotes, each logged; what could not be checked too."""
    stack = config.stack
    if run.market_closed:
        log.event("market_closed", stack=stack, last_session=run.last_session,
                  symbols=[q.symbol for q in run.earlier])
    run.fired = rules.evaluate(run.current, config.stocks, config.alert)
    for rule in run.fired:
        log.event("rule_fired", stack=stack, symbol=rule.symbol, rule=rule.rule, when=rule.when,
                  detail=rule.detail)
    for symbol in rules.unchecked(run.current, config.stocks, config.alert):
        log.event("rule_not_checked", stack=stack, symbol=symbol,
                  reason="no previous close: a crossing cannot be told")


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
    run = Run(results, market.now())
    _evaluate(config, run)
    outcome = _deliver(config, run)
    if not run.fetched:
        raise _unavailable(stack, results, outcome)
    return outcome
