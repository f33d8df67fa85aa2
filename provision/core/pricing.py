"""What one priced item of the monthly estimate is. Each kind prices its own resource
(Kind.cost); features/cost/estimate.py only sums and words the lines.

Prices are us-east-1 list prices in USD; free tiers are the "always free" ones, per account.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    """One priced item: what, how many per month, and USD per month (None: unknown price)."""

    item: str
    quantity: float
    unit: str
    usd: float | None
    note: str


def beyond_free(quantity: float, free: float, usd_each: float) -> float:
    """USD for what exceeds a monthly free tier."""
    return max(0, quantity - free) * usd_each
