"""Alert rules: |change %| >= alert.change_percent, and each stock's above/below price.

``alert.when`` says when a price rule fires:
- ``crossed`` (the default): the previous close was on the other side of the level and the
  price is now on this side (above: previous close < level <= price; below: previous close >
  level >= price). A price that stays beyond the level fires once, on the day it got there.
  Without a previous close a crossing cannot be told, so the rule does not fire (``unchecked``).
- ``beyond``: whenever the price is at or beyond the level (price >= above, price <= below).

The change rule compares with the previous close too, so it fires at most on each day's move.
Every fired rule carries the previous close, shown with the rule in the message.
"""

from __future__ import annotations

from dataclasses import dataclass

from quotes import Quote
from settings import Alert, Stock

TYPE_CHECKING = False  # typing costs ~20 ms to import at cold start; only the checker needs it
if TYPE_CHECKING:
    from typing import Any


@dataclass(frozen=True)
class Fired:
    symbol: str
    rule: str  # "change_percent" | "above" | "below"
    detail: str  # for the e-mail, e.g. "crossed above 250.00: previous close 243.00, now 251.30"
    short: str  # for the SMS, e.g. "TSLA crossed>250"
    when: str | None = None  # above/below: "crossed" or "beyond"
    previous_close: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "rule": self.rule, "when": self.when,
                "detail": self.detail, "previous_close": self.previous_close}


def _num(value: float) -> str:
    return f"{value:.2f}" if value >= 1 else f"{value:.4f}"


def _short(value: float) -> str:
    """250.0 -> "250", 12.5 -> "12.5" (no exponent notation)."""
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _previous(quote: Quote) -> str:
    return "n/a" if quote.previous_close is None else _num(quote.previous_close)


def _change(quote: Quote, alert: Alert) -> Fired | None:
    pct, limit = quote.change_percent, alert.change_percent
    if limit is None or pct is None or abs(pct) < limit:
        return None
    return Fired(quote.symbol, "change_percent",
                 f"change {pct:+.2f}% beyond +/-{_short(limit)}% "
                 f"(previous close {_previous(quote)})",
                 f"{quote.symbol} {pct:+.1f}%", None, quote.previous_close)


def _price(quote: Quote, rule: str, level: float | None, when: str) -> Fired | None:
    """The above/below rule at ``level``, as ``when`` says."""
    if level is None:
        return None
    sign = 1 if rule == "above" else -1  # compare as "above" on mirrored numbers
    price, previous = sign * quote.price, quote.previous_close
    if price < sign * level:
        return None
    sym, word = quote.symbol, (">" if rule == "above" else "<")
    if when == "beyond":
        return Fired(sym, rule, f"price {_num(quote.price)} {word}= {_num(level)} "
                     f"(previous close {_previous(quote)})",
                     f"{sym}{word}={_short(level)}", when, previous)
    if previous is None or sign * previous >= sign * level:
        return None
    return Fired(sym, rule, f"crossed {rule} {_num(level)}: previous close {_num(previous)}, "
                 f"now {_num(quote.price)}", f"{sym} crossed{word}{_short(level)}", when,
                 previous)


def check(quote: Quote, stock: Stock, alert: Alert) -> list[Fired]:
    """The rules that fire for one quote."""
    found = [_change(quote, alert), _price(quote, "above", stock.above, alert.when),
             _price(quote, "below", stock.below, alert.when)]
    return [fired for fired in found if fired is not None]


def evaluate(quotes: list[Quote], stocks: tuple[Stock, ...], alert: Alert) -> list[Fired]:
    """All fired rules, in the order of ``quotes``."""
    by_symbol = {stock.symbol: stock for stock in stocks}
    return [fired for q in quotes for fired in check(q, by_symbol[q.symbol], alert)]


def unchecked(quotes: list[Quote], stocks: tuple[Stock, ...], alert: Alert) -> list[str]:
    """Symbols whose crossing rules could not be checked: no previous close in the quote."""
    by_symbol = {stock.symbol: stock for stock in stocks}
    return [q.symbol for q in quotes if alert.when == "crossed" and q.previous_close is None
            and (by_symbol[q.symbol].above is not None or by_symbol[q.symbol].below is not None)]
