"""Message texts: one SMS segment, an ASCII e-mail subject and a plain-text e-mail body.

Symbols that could not be fetched are named in every text: at the end of the SMS ("failed: GM"),
always kept when the quotes must be cut; with every source's reason in the e-mail. A used-up
daily quota is said in both. The e-mail shows each quote's own market time and the source that
served it, so a stale quote or a fallback stands out. When no quote is from today's session
(a weekend, a holiday, before the open), every text says the market was closed and gives the
last session's date.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence

from quotes import Failure, Quote, daily_quota_used_up, quota_sources
from rules import Fired
from sources import NAMES

# SNS prepends the topic's display name and "> " to SMS sent through a topic: keep 12 septets
# free for a display name of up to 10 characters, so the whole SMS fits one 160-septet segment.
SMS_LIMIT = 160 - 12
FAILED_LIMIT = SMS_LIMIT // 2  # the "failed: ..." part never takes more than half the SMS
SEP = " | "
MORE_RESERVE = 2 * 4 + len("+999 more")  # two separators and a "+N more" after the alert
SUBJECT_LIMIT = 99  # SNS: ASCII, under 100 characters
NAME_WIDTH = 24
_GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = "^{}\\[~]|€"  # two septets each
QUOTA_NOTE = (
    "The {source} daily request quota is used up: the symbols after it were not requested\n"
    "from it in this run. Fewer stocks or a less frequent schedule keep within the quota."
)

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


def _nothing_fetched(results: Sequence[Result]) -> str:
    if daily_quota_used_up(results):
        symbols = ", ".join(r.symbol for r in results)
        return f"stock-alert: no quote fetched, daily quota used up ({symbols})"
    reasons = ", ".join(f"{r.symbol} ({r.reason})" for r in results if isinstance(r, Failure))
    return f"stock-alert: no quote fetched: {reasons}"


def closed_note(results: Sequence[Result], earlier: Sequence[Quote]) -> str:
    """``Market closed, last session 2026-11-25`` when every quote is from an earlier
    session than today's, else ""."""
    fetched = [r for r in results if isinstance(r, Quote)]
    if not fetched or len(earlier) < len(fetched):
        return ""
    days = [q.session_date for q in earlier if q.session_date]
    return f"Market closed, last session {max(days)}" if days else "Market closed"


def failed_part(results: Sequence[Result], limit: int = FAILED_LIMIT) -> str:
    """``failed: GM, F`` (plus `` (daily quota used up)``), or "" when nothing failed."""
    failures = [r for r in results if isinstance(r, Failure)]
    if not failures:
        return ""
    head, tail = "failed: ", " (daily quota used up)" if daily_quota_used_up(failures) else ""
    room = limit - septets(head + tail)
    return head + fit([gsm7(f.symbol) for f in failures], room, ", ", septets) + tail


def _alert(fired: Sequence[Fired]) -> str:
    alert = gsm7("ALERT " + ", ".join(f.short for f in fired))
    return alert if septets(alert) <= SMS_LIMIT // 2 else f"ALERT {len(fired)} rules"


def sms(results: Sequence[Result], fired: Sequence[Fired], earlier: Sequence[Quote] = ()) -> str:
    """E.g. ``TSLA 251.30 +3.4% | F 12.01 -0.5% | failed: GM``, led by ``ALERT ...`` if rules
    fired, or by ``Market closed, last session DATE``. Quotes beyond one segment become
    ``+N more``; the failed part is always kept."""
    if not any(isinstance(r, Quote) for r in results):
        return truncate(gsm7(_nothing_fetched(results)), SMS_LIMIT, septets)
    parts = [gsm7(_ticker(r)) for r in results if isinstance(r, Quote)]
    room = FAILED_LIMIT
    lead = _alert(fired) if fired else closed_note(results, earlier)
    if lead:  # the lead is never cut: the failed part gives way to it
        parts.insert(0, lead)
        room = min(room, SMS_LIMIT - septets(parts[0]) - MORE_RESERVE)
    failed = failed_part(results, room)
    if not failed:
        return fit(parts, SMS_LIMIT, SEP, septets)
    return fit(parts, SMS_LIMIT - septets(SEP + failed), SEP, septets) + SEP + failed


def subject(results: Sequence[Result], fired: Sequence[Fired], mode: str,
            earlier: Sequence[Quote] = ()) -> str:
    """``stock-alert: TSLA +3.4%, F -0.5%`` or ``stock-alert: 2 alerts fired (TSLA, F)``, or
    ``stock-alert: Market closed, last session 2026-11-25: TSLA +3.4%, ...``."""
    if mode == "threshold" and fired:
        head = f"stock-alert: {len(fired)} alert{'s' if len(fired) != 1 else ''} fired"
        symbols = ", ".join(dict.fromkeys(f.symbol for f in fired))
        text = ascii_text(f"{head} ({symbols})")
        return text if len(text) <= SUBJECT_LIMIT else head
    if not any(isinstance(r, Quote) for r in results):
        quota = " (daily quota used up)" if daily_quota_used_up(results) else ""
        return f"stock-alert: could not fetch any quote{quota}"
    items = [
        ascii_text(
            _ticker(r) if isinstance(r, Failure) else f"{r.symbol} {percent(r.change_percent)}"
        )
        for r in results
    ]
    closed = closed_note(results, earlier)
    head = f"stock-alert: {closed}: " if closed else "stock-alert: "
    return head + fit(items, SUBJECT_LIMIT - len(head), ", ")


def market_time(text: str | None) -> str:
    """``2026-11-27T21:00:00Z`` -> ``2026-11-27 21:00 UTC``; a date stays as is; None -> n/a."""
    if not text:
        return "n/a"
    if len(text) == 20 and text[10] == "T" and text.endswith("Z"):
        return f"{text[:10]} {text[11:16]} UTC"
    return text


def _row(result: Result) -> tuple[str, ...]:
    if isinstance(result, Failure):
        return (result.symbol, "", "n/a", "n/a", "n/a", "n/a", "")
    digits = 2 if result.price >= 1 else 4
    change = "n/a" if result.change is None else f"{result.change:+.{digits}f}"
    name = truncate(result.name or "", NAME_WIDTH)
    return (
        result.symbol,
        name,
        price(result.price),
        change,
        percent(result.change_percent, 2),
        market_time(result.market_time),
        result.source or "",
    )


def table(results: Sequence[Result]) -> list[str]:
    """Aligned rows: text columns left-aligned, numbers (and market times) right-aligned."""
    head = ("SYMBOL", "NAME", "PRICE", "CHANGE", "CHANGE %", "MARKET TIME", "SOURCE")
    rows = [head, *(_row(r) for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = []
    for row in rows:
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [cell.rjust(w) if 1 < i < 6 else cell.ljust(w) for i, (cell, w) in pairs]
        lines.append("  ".join(cells).rstrip())
    return lines


def sources_line(results: Sequence[Result], chain: Sequence[str]) -> str:
    """``Quotes from Yahoo Finance (TSLA, F) and Stooq (GM)``, the sources in chain order."""
    served = {name: [r.symbol for r in results if isinstance(r, Quote) and r.source == name]
              for name in chain}
    parts = [f"{NAMES.get(n, n)} ({', '.join(s)})" for n, s in served.items() if s]
    if not parts:
        return "Sources asked, in order: " + ", ".join(NAMES.get(n, n) for n in chain)
    return "Quotes from " + ", ".join(parts[:-1]) + (" and " if parts[:-1] else "") + parts[-1]


def _earlier_lines(results: Sequence[Result], earlier: Sequence[Quote]) -> list[str]:
    closed = closed_note(results, earlier)
    if closed:
        return ["", f"{closed}: no quote is from a session of today in the market's time",
                "zone (a weekend, a holiday, or before the open), so no rule is checked."]
    if not earlier:
        return []
    listed = ", ".join(f"{q.symbol} ({q.session_date})" for q in earlier)
    return ["", f"From an earlier session (no rule checked): {listed}"]


def email(
    stack: str,
    mode: str,
    chain: Sequence[str],
    results: Sequence[Result],
    fired: Sequence[Fired],
    now: float | None = None,
    earlier: Sequence[Quote] = (),
) -> str:
    """The plain-text e-mail body: table, market closed, fired rules, failures, sources."""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(now))
    lines = [f"stock-alert {mode} for stack {stack} at {stamp}", "", *table(results)]
    lines += _earlier_lines(results, earlier)
    if fired:
        lines += ["", "Alerts fired:", *(f"  {f.symbol}: {f.detail}" for f in fired)]
    failures = [r for r in results if isinstance(r, Failure)]
    if failures:
        lines += ["", "Not fetched:", *(f"  {f.symbol}: {f.reason}" for f in failures)]
    for source in quota_sources(failures):
        lines += ["", *QUOTA_NOTE.format(source=NAMES.get(source, source)).splitlines()]
    lines += [
        "",
        f"{sources_line(results, chain)}; change is against the previous close;",
        "market time is when the provider priced each quote: an earlier session's means stale.",
        "",
    ]
    return "\n".join(lines)


def payload(sms_text: str, email_text: str) -> str:
    """The MessageStructure=json document: one text per protocol."""
    return json.dumps({"default": email_text, "sms": sms_text, "email": email_text})
