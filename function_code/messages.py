"""Message texts: one SMS segment, an ASCII e-mail subject and a plain-text e-mail body."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence

from quotes import Failure, Quote
from rules import Fired

# SNS prepends the topic's display name and "> " to SMS sent through a topic: keep 12 septets
# free for a display name of up to 10 characters, so the whole SMS fits one 160-septet segment.
SMS_LIMIT = 160 - 12
SUBJECT_LIMIT = 99  # SNS: ASCII, under 100 characters
NAME_WIDTH = 24
PROVIDERS = {"yahoo": "Yahoo Finance", "alphavantage": "Alpha Vantage"}
_GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = "^{}\\[~]|€"  # two septets each

Result = Quote | Failure  # a union type alias (runtime object: types.UnionType)


def septets(text: str) -> int:
    """Length of ``text`` in GSM-7 septets (extension characters count twice)."""
    return sum(2 if char in _GSM_EXTENDED else 1 for char in text)


def gsm7(text: str) -> str:
    """Replace characters outside the GSM-7 alphabet with '?'."""
    return "".join(c if c in _GSM_BASIC or c in _GSM_EXTENDED else "?" for c in text)


def ascii_text(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii").replace("\n", " ")


def price(value: float) -> str:
    return f"{value:.2f}" if value >= 1 else f"{value:.4f}"


def percent(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:+.{digits}f}%"


def truncate(text: str, limit: int, measure: Callable[[str], int] = len) -> str:
    """``text`` cut to ``limit`` (as measured), ending in "..." when cut."""
    if measure(text) <= limit:
        return text
    while text and measure(text + "...") > limit:
        text = text[:-1]
    return text.rstrip() + "..."


def fit(parts: Sequence[str], limit: int, sep: str, measure: Callable[[str], int] = len) -> str:
    """Join as many leading parts as fit in ``limit``, then "+N more" for the rest."""
    kept: list[str] = []
    for index, part in enumerate(parts):
        rest = len(parts) - index - 1
        trial = sep.join([*kept, part]) + (f"{sep}+{rest} more" if rest else "")
        if measure(trial) > limit:
            break
        kept.append(part)
    dropped = len(parts) - len(kept)
    return sep.join([*kept, f"+{dropped} more"] if dropped else kept)


def _ticker(result: Result) -> str:
    if isinstance(result, Failure):
        return f"{result.symbol} n/a"
    return f"{result.symbol} {price(result.price)} {percent(result.change_percent)}"


def sms(results: Sequence[Result], fired: Sequence[Fired]) -> str:
    """E.g. ``TSLA 251.30 +3.4% | F 12.01 -0.5% | GM n/a``, led by ``ALERT ...`` if rules fired."""
    if not any(isinstance(r, Quote) for r in results):
        reasons = ", ".join(f"{r.symbol} {r.reason}" for r in results if isinstance(r, Failure))
        return truncate(gsm7(f"stock-alert: no quote fetched ({reasons})"), SMS_LIMIT, septets)
    parts = [gsm7(_ticker(r)) for r in results]
    if fired:
        alert = gsm7("ALERT " + ", ".join(f.short for f in fired))
        parts.insert(0, alert if septets(alert) <= SMS_LIMIT // 2 else f"ALERT {len(fired)} rules")
    return fit(parts, SMS_LIMIT, " | ", septets)


def subject(results: Sequence[Result], fired: Sequence[Fired], mode: str) -> str:
    """``stock-alert: TSLA +3.4%, F -0.5%`` or ``stock-alert: 2 alerts fired (TSLA, F)``."""
    if mode == "threshold" and fired:
        head = f"stock-alert: {len(fired)} alert{'s' if len(fired) != 1 else ''} fired"
        symbols = ", ".join(dict.fromkeys(f.symbol for f in fired))
        text = ascii_text(f"{head} ({symbols})")
        return text if len(text) <= SUBJECT_LIMIT else head
    if not any(isinstance(r, Quote) for r in results):
        return "stock-alert: could not fetch any quote"
    items = [
        ascii_text(
            _ticker(r) if isinstance(r, Failure) else f"{r.symbol} {percent(r.change_percent)}"
        )
        for r in results
    ]
    head = "stock-alert: "
    return head + fit(items, SUBJECT_LIMIT - len(head), ", ")


def _row(result: Result) -> tuple[str, ...]:
    if isinstance(result, Failure):
        return (result.symbol, "", "n/a", "n/a", "n/a")
    digits = 2 if result.price >= 1 else 4
    change = "n/a" if result.change is None else f"{result.change:+.{digits}f}"
    name = truncate(result.name or "", NAME_WIDTH)
    return (result.symbol, name, price(result.price), change, percent(result.change_percent, 2))


def table(results: Sequence[Result]) -> list[str]:
    """Aligned rows: text columns left-aligned, numbers right-aligned."""
    rows = [("SYMBOL", "NAME", "PRICE", "CHANGE", "CHANGE %"), *(_row(r) for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = []
    for row in rows:
        cells = [row[i].ljust(widths[i]) if i < 2 else row[i].rjust(widths[i]) for i in range(5)]
        lines.append("  ".join(cells).rstrip())
    return lines


def email(
    stack: str,
    mode: str,
    provider: str,
    results: Sequence[Result],
    fired: Sequence[Fired],
    now: float | None = None,
) -> str:
    """The plain-text e-mail body: table, fired rules, failures, source."""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(now))
    lines = [f"stock-alert {mode} for stack {stack} at {stamp}", "", *table(results)]
    if fired:
        lines += ["", "Alerts fired:", *(f"  {f.symbol}: {f.detail}" for f in fired)]
    failures = [r for r in results if isinstance(r, Failure)]
    if failures:
        lines += ["", "Not fetched:", *(f"  {f.symbol}: {f.reason}" for f in failures)]
    source = PROVIDERS.get(provider, provider)
    lines += ["", f"Quotes from {source}; change is against the previous close.", ""]
    return "\n".join(lines)


def payload(sms_text: str, email_text: str) -> str:
    """The MessageStructure=json document: one text per protocol."""
    return json.dumps({"default": email_text, "sms": sms_text, "email": email_text})
