"""A monthly cost estimate for a Config: runs, messages, and USD per channel and service."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from provision.features.cost import prices, sms_prices
from provision.features.cost.firing import Firings, count_month, next_month

if TYPE_CHECKING:
    from provision.config.model import Config


@dataclass(frozen=True)
class Line:
    """One priced item: what, how many per month, and USD per month (None: unknown price)."""

    item: str
    quantity: float
    unit: str
    usd: float | None
    note: str


@dataclass(frozen=True)
class Estimate:
    month: str
    month_name: str
    firings: Firings
    enabled: bool
    runs: int
    messages_per_subscriber: int
    messages_qualifier: str  # "exactly", or "at most" (threshold mode, or runs not exact)
    lines: tuple[Line, ...]
    assumptions: tuple[str, ...]
    warnings: tuple[str, ...]
    subscribers: int = 0  # e-mail addresses and phone numbers in the config

    @property
    def total_usd(self) -> float:
        return sum(line.usd or 0.0 for line in self.lines)

    @property
    def complete(self) -> bool:
        return all(line.usd is not None for line in self.lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": True,
            "currency": "USD",
            "month": self.month,
            "basis": "the next full calendar month, UTC",
            "schedule": self.firings.expression,
            "enabled": self.enabled,
            "runs": self.runs,
            "runs_exact": self.firings.exact,
            "runs_note": self.firings.note,
            "subscribers": self.subscribers,
            # no subscriber, no message: the count would describe nobody
            "messages_per_subscriber": self.messages_per_subscriber if self.subscribers else None,
            "messages_qualifier": self.messages_qualifier,
            "lines": [asdict(line) for line in self.lines],
            "total_usd": round(self.total_usd, 4),
            "total_is_lower_bound": not self.complete,
            "price_table": {"source": sms_prices.SOURCE_URL, "as_of": sms_prices.AS_OF,
                            "verified": sms_prices.VERIFIED},
            "assumptions": list(self.assumptions),
            "warnings": list(self.warnings),
        }


    def report(self, stack: str) -> list[str]:
        """The human report: runs, messages, each priced line, the total, what it assumes."""
        out = [f"Cost estimate for stack {stack}, {self.month_name} (the next full calendar "
               "month, UTC). An estimate, not a quote.",
               f"Schedule {self.firings.expression}: {self.runs} runs ({self.firings.note})"
               + ("" if self.enabled else "; paused (enabled: false)") + ".",
               (f"Messages per subscriber: {self.messages_qualifier} "
                f"{self.messages_per_subscriber}." if self.subscribers else
                f"{NO_SUBSCRIBERS[0].upper()}{NO_SUBSCRIBERS[1:]}: no message is sent."),
               ""]
        for line in self.lines:
            usd = "unknown" if line.usd is None else f"${line.usd:,.2f}"
            out.append(f"  {line.item:<32} {line.quantity:>12,g} {line.unit:<11} {usd:>9}"
                       f"  {line.note}")
        lower = "" if self.complete else " at least"
        out += ["", f"Total:{lower} about ${self.total_usd:,.2f} a month.", "Assumptions:"]
        out += [f"  - {text}" for text in self.assumptions]
        out += [f"Warning: {text}" for text in self.warnings]
        return out

    def summary(self) -> str:
        """One line for 'plan'."""
        lower = "" if self.complete else "at least "
        stale = " The SMS price table is over a year old." if any(
            "more than a year" in w for w in self.warnings) else ""
        return (f"Estimated cost: {lower}about ${self.total_usd:,.2f} a month "
                f"({self.runs} runs in {self.month_name}); an estimate, details: "
                f"'stock-alert cost'.{stale}")


NO_SUBSCRIBERS = "no subscribers: alerts go nowhere"


def no_subscribers(config: Config) -> str | None:
    """The warning plan, up and config check print when the config notifies no one."""
    if config.notify.email or config.notify.sms:
        return None
    return (f"{NO_SUBSCRIBERS} (notify.email and notify.sms are both empty); add an e-mail "
            "address or a phone number to the config")


def monthly(config: Config) -> Estimate:
    """The estimate for the next full calendar month after today (UTC)."""
    return estimate(config, dt.datetime.now(dt.UTC).date())


def estimate(config: Config, today: dt.date) -> Estimate:
    year, month = next_month(today)
    firings = count_month(config.schedule, year, month)
    runs = firings.runs if config.enabled else 0
    threshold = config.alert.mode == "threshold"
    lines = (*_sms_lines(config, runs), _email_line(config, runs), *_service_lines(config, runs))
    # runs are "at most" when a rate's period does not divide the month: so are messages
    qualifier = "at most" if threshold or not firings.exact else "exactly"
    return Estimate(f"{year:04d}-{month:02d}", f"{calendar.month_name[month]} {year}", firings,
                    config.enabled, runs, runs, qualifier, lines,
                    _assumptions(config, threshold), _warnings(config, lines, today),
                    len(config.notify.email) + len(config.notify.sms))


def _sms_lines(config: Config, runs: int) -> list[Line]:
    out = []
    for number in config.notify.sms:
        price = prices.sms_price(number)
        if price.usd_per_message is None:
            out.append(Line(f"SMS to {number}", runs, "messages", None,
                            "unknown country: price not in table"))
        else:
            out.append(Line(f"SMS to {number}", runs, "messages", runs * price.usd_per_message,
                            f"{price.country}, ${price.usd_per_message} per message"))
    return out


def _email_line(config: Config, runs: int) -> Line:
    sent = runs * len(config.notify.email)
    paid = max(0, sent - prices.SNS_FREE_EMAILS)
    return Line("SNS e-mail deliveries", sent, "e-mails", paid * prices.SNS_USD_PER_EMAIL,
                f"first {prices.SNS_FREE_EMAILS:,} a month free, then $2.00 per 100,000")


def _service_lines(config: Config, runs: int) -> list[Line]:
    gb_s = runs * config.function.memory_mb / 1024 * config.function.timeout_s
    log_mb = runs * prices.LOG_BYTES_PER_RUN / 1024**2
    return [
        Line("Lambda requests", runs, "requests",
             max(0, runs - prices.LAMBDA_FREE_REQUESTS) * prices.LAMBDA_USD_PER_REQUEST,
             f"first {prices.LAMBDA_FREE_REQUESTS:,} a month free"),
        Line("Lambda compute (upper bound)", round(gb_s, 1), "GB-seconds",
             max(0.0, gb_s - prices.LAMBDA_FREE_GB_SECONDS) * prices.LAMBDA_USD_PER_GB_SECOND,
             f"every run taking the full timeout; {prices.LAMBDA_FREE_GB_SECONDS:,} free"),
        Line("EventBridge schedule", runs, "events", 0.0,
             "scheduled rules on the default event bus are not charged"),
        Line("SNS publishes", runs, "publishes",
             max(0, runs - prices.SNS_FREE_PUBLISHES) * prices.SNS_USD_PER_PUBLISH,
             f"first {prices.SNS_FREE_PUBLISHES:,} a month free"),
        Line("CloudWatch Logs ingestion", round(log_mb, 3), "MB",
             max(0.0, log_mb / 1024 - prices.LOGS_FREE_GB) * prices.LOGS_USD_PER_GB,
             f"about {prices.LOG_BYTES_PER_RUN} bytes a run; {prices.LOGS_FREE_GB:g} GB free"),
    ] + ([Line(f"CloudWatch alarm ({config.name}-errors)", 1, "alarm", 0.0,
               f"standard-resolution alarm metrics: first {prices.ALARMS_FREE} free, then "
               f"${prices.ALARM_USD_PER_MONTH:.2f} each a month")]
         if config.notify.kms_key else [])  # made only with a customer key (alarm.py)


def _assumptions(config: Config, threshold: bool) -> tuple[str, ...]:
    from provision.core.stack import NOTIFIER_SUFFIX

    out = [
        "An estimate, not a quote: prices are us-east-1 list prices in USD without tax.",
        "Free tiers are per account; this assumes the stack is the account's only user of them.",
        "One SNS publish per run fans out to every subscriber; an SMS of more than 160 GSM "
        "characters is billed as several parts (counted here as one).",
        "SMS to US/CA numbers also needs an origination number (its monthly fee and carrier "
        "fees are not included).",
        "A run that fails for good (after Lambda's 2 retries) starts the notifier "
        f"({config.name}{NOTIFIER_SUFFIX}, 128 MB, about a second) once, which sends one short "
        "message to every subscriber, priced as an alert; failures are not counted here.",
    ]
    if threshold:
        out.append("alert.mode threshold sends only when a rule fires, so messages are at most "
                   "one per run.")
    if not config.enabled:
        out.append("enabled: false pauses the schedule, so nothing runs.")
    if config.notify.kms_key:
        out.append("notify.kms_key: the customer KMS key is yours (about $1 a month, billed "
                   "whether or not this stack uses it); each publish adds KMS requests, within "
                   "KMS's 20,000 free requests a month at this volume.")
    return tuple(out)


def _warnings(config: Config, lines: tuple[Line, ...], today: dt.date) -> tuple[str, ...]:
    out = []
    if any(line.usd is None for line in lines):
        out.append("Some SMS destinations are not in the price table; the total leaves them "
                   f"out. See {sms_prices.SOURCE_URL}.")
    if prices.table_is_stale(today):
        out.append(f"The SMS price table is from {sms_prices.AS_OF}, more than a year ago; "
                   f"check {sms_prices.SOURCE_URL} for current prices.")
    if not sms_prices.VERIFIED:
        out.append("The SMS prices are approximate figures that have not been checked against "
                   "AWS's current price list.")
    return tuple(out)
