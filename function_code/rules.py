"""Alert rules: |change %| >= alert.change_percent, price >= above, price <= below."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from quotes import Quote
from settings import Alert, Stock

TYPE_CHECKING = False  # typing costs ~20 ms to import at cold start; only the checker needs it
if TYPE_CHECKING:
    from typing import Any


@dataclass(frozen=True)
class Fired:
    symbol: str
    rule: str  # "change_percent" | "above" | "below"
    detail: str  # for the e-mail, e.g. "price 251.30 >= 250.00"
    short: str  # for the SMS, e.g. "TSLA>=250"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["short"]
        return data


def _num(value: float) -> str:
    return f"{value:.2f}" if value >= 1 else f"{value:.4f}"


def _short(value: float) -> str:
    """250.0 -> "250", 12.5 -> "12.5" (no exponent notation)."""
    return f"{value:.4f}".rstrip("0").rstrip(".")


def check(quote: Quote, stock: Stock, alert: Alert) -> list[Fired]:
    """The rules that fire for one quote (change rules need a known previous close)."""
    fired = []
    pct, sym = quote.change_percent, quote.symbol
    if alert.change_percent is not None and pct is not None and abs(pct) >= alert.change_percent:
        fired.append(
            Fired(
                sym,
                "change_percent",
                f"change {pct:+.2f}% beyond +/-{_short(alert.change_percent)}%",
                f"{sym} {pct:+.1f}%",
            )
        )
    if stock.above is not None and quote.price >= stock.above:
        fired.append(
            Fired(
                sym,
                "above",
                f"price {_num(quote.price)} >= {_num(stock.above)}",
                f"{sym}>={_short(stock.above)}",
            )
        )
    if stock.below is not None and quote.price <= stock.below:
        fired.append(
            Fired(
                sym,
                "below",
                f"price {_num(quote.price)} <= {_num(stock.below)}",
                f"{sym}<={_short(stock.below)}",
            )
        )
    return fired


def evaluate(quotes: list[Quote], stocks: tuple[Stock, ...], alert: Alert) -> list[Fired]:
    """All fired rules, in the order of ``quotes``."""
    by_symbol = {stock.symbol: stock for stock in stocks}
    return [fired for q in quotes for fired in check(q, by_symbol[q.symbol], alert)]
