"""The SMS price table shipped with stock-alert (a Python module so it ships in the wheel), and
its lookup: the topic's SMS lines of `stock-alert cost` (Topic.cost).

Prices are USD per outbound SMS message part (one part is up to 160 GSM characters), for
transactional messages, by destination country calling code. They are approximate figures
written down by hand from the AWS End User Messaging SMS pricing page as it stood around AS_OF.
They were NOT re-checked against the live page when this table was made (the build machines
have no web access), so the output calls them approximate and unverified: check the page for
the current price. In the US and Canada carriers add pass-through fees, and sending needs an
origination identity (e.g. a toll-free number) that has its own monthly fee; neither is included.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from provision.core.pricing import Line

SOURCE_URL = "https://aws.amazon.com/end-user-messaging/pricing/"
AS_OF = "2024-06-01"  # roughly when the figures stood on SOURCE_URL (not verified since)
VERIFIED = False  # True once someone has checked every price against SOURCE_URL
CURRENCY = "USD"

# calling code -> (countries, USD per message part)
PRICES: dict[str, tuple[str, float]] = {
    "1": ("US/CA", 0.00581),
    "44": ("UK", 0.0463),
    "49": ("DE", 0.0956),
    "33": ("FR", 0.0731),
    "91": ("IN", 0.00278),
    "61": ("AU", 0.0410),
    "81": ("JP", 0.0745),
}
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
        found = PRICES.get(digits[:size])
        if found:
            return SmsPrice(number, found[0], found[1])
    return SmsPrice(number, None, None)


def sms_line(number: str, runs: int) -> Line:
    """One message a run to `number`, priced by its country."""
    price = sms_price(number)
    if price.usd_per_message is None:
        return Line(f"SMS to {number}", runs, "messages", None,
                    "unknown country: price not in table")
    return Line(f"SMS to {number}", runs, "messages", runs * price.usd_per_message,
                f"{price.country}, ${price.usd_per_message} per message")


def table_age_days(today: dt.date) -> int:
    return (today - dt.date.fromisoformat(AS_OF)).days


def table_is_stale(today: dt.date) -> bool:
    return table_age_days(today) > STALE_AFTER_DAYS
