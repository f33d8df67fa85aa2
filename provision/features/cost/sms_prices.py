"""The SMS price table shipped with stock-alert (a Python module so it ships in the wheel).

Prices are USD per outbound SMS message part (one part is up to 160 GSM characters), for
transactional messages, by destination country calling code. They are approximate figures
written down by hand from the AWS End User Messaging SMS pricing page as it stood around AS_OF.
They were NOT re-checked against the live page when this table was made (the build machines
have no web access), so the output calls them approximate and unverified: check the page for
the current price. In the US and Canada carriers add pass-through fees, and sending needs an
origination identity (e.g. a toll-free number) that has its own monthly fee; neither is included.
"""

from __future__ import annotations

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
