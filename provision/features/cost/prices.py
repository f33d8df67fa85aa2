"""Price lookups: SMS by E.164 country code, and the free-tier and unit prices of the services.

Free-tier figures are the "always free" tier that does not expire after 12 months; they are per
account, so they assume this stack is the account's only user of each service.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from provision.features.cost import sms_prices

# Lambda (x86, us-east-1): https://aws.amazon.com/lambda/pricing/
LAMBDA_FREE_REQUESTS = 1_000_000
LAMBDA_FREE_GB_SECONDS = 400_000
LAMBDA_USD_PER_REQUEST = 0.20 / 1_000_000
LAMBDA_USD_PER_GB_SECOND = 0.0000166667
# SNS: https://aws.amazon.com/sns/pricing/
SNS_FREE_PUBLISHES = 1_000_000
SNS_USD_PER_PUBLISH = 0.50 / 1_000_000
SNS_FREE_EMAILS = 1_000
SNS_USD_PER_EMAIL = 2.00 / 100_000
# EventBridge Scheduler (a market-time schedule): https://aws.amazon.com/eventbridge/pricing/,
# the price list's "Scheduled Invocation" (us-east-1): the first 14 million a month free, then
# $1.00 per million.
SCHEDULER_FREE_INVOCATIONS = 14_000_000
SCHEDULER_USD_PER_INVOCATION = 1.00 / 1_000_000
# CloudWatch Logs: https://aws.amazon.com/cloudwatch/pricing/
LOGS_FREE_GB = 5.0
LOGS_USD_PER_GB = 0.50
# CloudWatch alarms (same page): 10 standard-resolution alarm metrics a month always free.
ALARMS_FREE = 10
ALARM_USD_PER_MONTH = 0.10
LOG_BYTES_PER_RUN = 2_048  # assumption: a run logs a few lines (about 2 KB)
STALE_AFTER_DAYS = 365


@dataclass(frozen=True)
class SmsPrice:
    number: str
    country: str | None  # None: the calling code is not in the table
    usd_per_message: float | None


def sms_price(number: str) -> SmsPrice:
    """The table's price for an E.164 number: longest matching calling code (1 to 3 digits)."""
    digits = number.lstrip("+")
    for size in (3, 2, 1):
        found = sms_prices.PRICES.get(digits[:size])
        if found:
            return SmsPrice(number, found[0], found[1])
    return SmsPrice(number, None, None)


def table_age_days(today: dt.date) -> int:
    return (today - dt.date.fromisoformat(sms_prices.AS_OF)).days


def table_is_stale(today: dt.date) -> bool:
    return table_age_days(today) > STALE_AFTER_DAYS
