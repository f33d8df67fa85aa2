"""A monthly cost estimate for a Config: runs, messages, and USD per channel and service.

Each kind prices its own resource (Kind.cost); this module counts the runs, sums the lines and
words the report, its assumptions and warnings."""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from provision.config.model import NO_SUBSCRIBERS
from provision.core.pricing import Line
from provision.core.stack import Stack
from provision.features.cost.firing import Firings, count_month, next_month
from provision.kinds import KINDS, sms_prices

if TYPE_CHECKING:
    from provision.config.model import Config


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
    zone: str = "UTC"  # where the month is counted: a market-time schedule's own zone

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
            "basis": f"the next full calendar month, {self.zone}",
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
               f"month, {self.zone}). An estimate, not a quote.",
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


def monthly(config: Config) -> Estimate:
    """The estimate for the next full calendar month after today (UTC)."""
    return estimate(config, dt.datetime.now(dt.UTC).date())


def estimate(config: Config, today: dt.date) -> Estimate:
    year, month = next_month(today)
    market = config.market_time
    zone = market.timezone if market else None
    firings = count_month(config.expression, year, month, zone)
    runs = firings.runs if config.enabled else 0
    threshold = config.alert.mode == "threshold"
    lines = _lines(config, runs)
    # runs are "at most" when a rate's period does not divide the month: so are messages
    qualifier = "at most" if threshold or not firings.exact else "exactly"
    return Estimate(f"{year:04d}-{month:02d}", f"{calendar.month_name[month]} {year}", firings,
                    config.enabled, runs, runs, qualifier, lines,
                    _assumptions(config, threshold), _warnings(config, lines, today),
                    len(config.notify.email) + len(config.notify.sms), zone or "UTC")


def _lines(config: Config, runs: int) -> tuple[Line, ...]:
    """Every kind's lines (Kind.cost), each kind's together: the kinds that cost the most
    first (an unknown price first of all), then the registry's order. The stack carries names
    only: no priced item needs an ARN."""
    stack = Stack(config, "", config.region or "us-east-1")
    by_kind = [kind.cost(stack, runs) for kind in KINDS]
    return tuple(line for lines in sorted(by_kind, key=_most_first) for line in lines)


def _most_first(lines: tuple[Line, ...]) -> float:
    if any(line.usd is None for line in lines):
        return -math.inf
    return -sum(line.usd or 0.0 for line in lines)


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
    if sms_prices.table_is_stale(today):
        out.append(f"The SMS price table is from {sms_prices.AS_OF}, more than a year ago; "
                   f"check {sms_prices.SOURCE_URL} for current prices.")
    if not sms_prices.VERIFIED:
        out.append("The SMS prices are approximate figures that have not been checked against "
                   "AWS's current price list.")
    return tuple(out)
