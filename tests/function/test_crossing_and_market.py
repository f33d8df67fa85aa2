"""alert.when (crossed, beyond) and market-closed runs: a crossing fires once, on the day the
price got past the level; a weekend, holiday or pre-open run checks no rule, sends nothing in
threshold mode and says the market was closed in summary mode."""

from __future__ import annotations

import calendar

import pytest

from tests.function.conftest import FakeContext, events
from tests.function.fake_http import stooq, yahoo


def epoch(text: str) -> int:
    """'2023-11-18 15:00' (UTC) -> epoch seconds."""
    return calendar.timegm(tuple(map(int, text.replace("-", " ").replace(":", " ").split()))
                           + (0, 0, 0, 0))


# Friday 2023-11-17, 16:00 in New York (EST): the close. Saturday 15:00 UTC: a weekend run.
FRIDAY_CLOSE = epoch("2023-11-17 21:00")
SATURDAY = epoch("2023-11-18 15:00")


def quote(fn, price: float, previous: float | None, symbol: str = "TSLA"):
    return fn.quotes.make_quote(fn.settings.Stock(symbol), price, previous, None, None)


@pytest.mark.parametrize(("previous", "price", "fires"), [
    (243.0, 251.3, True),  # crossed up through 250
    (250.0, 251.3, False),  # the close was already at the level: not this side's news
    (252.0, 251.3, False),  # above both days: beyond, not crossed
    (240.0, 249.9, False),  # below both days
    (243.0, 250.0, True),  # reaching the level counts (as price >= above)
    (None, 251.3, False),  # no previous close: a crossing cannot be told
])
def test_crossed_above(fn, previous, price, fires):
    stock = fn.settings.Stock("TSLA", above=250.0)
    fired = fn.rules.check(quote(fn, price, previous), stock, fn.settings.Alert("threshold"))
    assert bool(fired) is fires
    if fires:
        assert fired[0].to_dict() == {
            "symbol": "TSLA", "rule": "above", "when": "crossed", "previous_close": previous,
            "detail": f"crossed above 250.00: previous close {previous:.2f}, now {price:.2f}"}
        assert fired[0].short == "TSLA crossed>250"


@pytest.mark.parametrize(("previous", "price", "fires"), [
    (12.07, 11.9, True), (12.0, 11.9, False), (11.95, 11.9, False), (12.07, 12.01, False),
])
def test_crossed_below(fn, previous, price, fires):
    stock = fn.settings.Stock("F", below=12.0)
    fired = fn.rules.check(quote(fn, price, previous, "F"), stock, fn.settings.Alert("summary"))
    assert bool(fired) is fires
    if fires:
        assert fired[0].short == "F crossed<12" and fired[0].rule == "below"


def test_beyond_fires_whenever_the_price_is_past_the_level(fn):
    stock = fn.settings.Stock("TSLA", above=250.0)
    alert = fn.settings.Alert("threshold", None, "beyond")
    (fired,) = fn.rules.check(quote(fn, 251.3, 252.0), stock, alert)
    assert fired.detail == "price 251.30 >= 250.00 (previous close 252.00)"
    assert fn.rules.check(quote(fn, 251.3, None), stock, alert)[0].detail.endswith(
        "(previous close n/a)")


def test_crossing_alert_end_to_end_shows_the_rule_and_previous_close(
        fn, topic, server, configure, capsys):
    configure([{"symbol": "TSLA", "above": 250}, {"symbol": "F", "below": 12.5}],
              mode="threshold")  # when: crossed, the default
    server.script("TSLA", yahoo("TSLA", 251.30, 243.00))  # crossed today
    server.script("F", yahoo("F", 12.01, 12.07))  # below 12.5 since before: no news

    result = fn.handler.handler({}, FakeContext(30_000))

    assert [(r["symbol"], r["rule"], r["when"]) for r in result["rules_fired"]] == [
        ("TSLA", "above", "crossed")]
    sent = topic.only()
    assert sent["subject"] == "stock-alert: 1 alert fired (TSLA)"
    assert sent["message"]["sms"].startswith("ALERT TSLA crossed>250 | TSLA 251.30 +3.4% | ")
    assert ("Alerts fired:\n  TSLA: crossed above 250.00: previous close 243.00, now 251.30"
            in sent["message"]["email"])
    fired = events(capsys.readouterr().out, "rule_fired")
    assert [(e["symbol"], e["when"]) for e in fired] == [("TSLA", "crossed")]


def test_a_quiet_day_beyond_the_level_sends_nothing_when_crossed(fn, topic, server, configure):
    configure([{"symbol": "TSLA", "above": 250}], mode="threshold")
    server.script("TSLA", yahoo("TSLA", 258.0, 255.0))  # above for two days running

    result = fn.handler.handler({}, FakeContext(30_000))

    assert result["rules_fired"] == [] and result["reason"] == "no rule fired"
    assert topic.notifications() == []


def test_unknown_previous_close_is_logged_as_not_checked(fn, topic, server, configure, capsys):
    configure([{"symbol": "TSLA", "above": 250}], mode="threshold")
    server.script("TSLA", yahoo("TSLA", 258.0, None))

    result = fn.handler.handler({}, FakeContext(30_000))

    assert result["published"] is False
    (skipped,) = events(capsys.readouterr().out, "rule_not_checked")
    assert skipped["symbol"] == "TSLA" and "no previous close" in skipped["reason"]


@pytest.mark.parametrize(("at", "offset", "expected"), [
    (epoch("2023-03-12 06:59"), None, "2023-03-12"),  # 01:59 EST
    (epoch("2023-03-12 04:59"), None, "2023-03-11"),  # 23:59 EST the day before
    (epoch("2023-11-05 03:59"), None, "2023-11-04"),  # 23:59 EDT
    (epoch("2023-11-05 05:00"), None, "2023-11-05"),  # 01:00 EDT, before the change back
    (epoch("2023-11-15 00:30"), 32_400, "2023-11-15"),  # Tokyo: 09:30 JST
])
def test_market_day(fn, at, offset, expected):
    assert fn.market.day(at, offset) == expected


def test_us_eastern_offset_follows_daylight_saving(fn):
    offset = fn.market.us_eastern_offset
    assert offset(epoch("2023-03-12 06:59")) == -5 * 3600
    assert offset(epoch("2023-03-12 07:00")) == -4 * 3600  # 02:00 EST, second Sunday of March
    assert offset(epoch("2023-11-05 05:59")) == -4 * 3600
    assert offset(epoch("2023-11-05 06:00")) == -5 * 3600  # 02:00 EDT, first Sunday of November
    assert offset(epoch("2026-03-08 07:00")) == -4 * 3600  # 2026: March 8 and November 1
    assert offset(epoch("2026-11-01 06:00")) == -5 * 3600


def test_the_markets_own_offset_decides_its_today(fn):
    """A Tokyo quote from Tuesday's session, read at 09:30 on Wednesday in Tokyo (still
    Tuesday evening in New York): from an earlier session by Tokyo's clock."""
    tuesday_close = epoch("2023-11-14 06:00")
    at = epoch("2023-11-15 00:30")
    assert fn.market.day(tuesday_close, 32_400) == "2023-11-14"
    assert fn.market.is_current("2023-11-14", 32_400, at) is False
    assert fn.market.is_current("2023-11-14", None, at) is True  # New York's Tuesday


def test_weekend_run_in_threshold_mode_sends_nothing(fn, topic, server, configure, capsys):
    fn.market.now = lambda: SATURDAY
    configure([{"symbol": "TSLA", "above": 250}], mode="threshold", change_percent=1.0)
    server.script("TSLA", yahoo("TSLA", 251.30, 243.00, regularMarketTime=FRIDAY_CLOSE))

    result = fn.handler.handler({}, FakeContext(30_000))

    # Friday's crossing and +3.4% would fire: on Saturday they are not news
    assert result["rules_fired"] == [] and result["published"] is False
    assert result["reason"] == "market closed"
    assert result["market_closed"] is True and result["last_session"] == "2023-11-17"
    assert topic.notifications() == []
    out = capsys.readouterr().out
    assert events(out, "market_closed")[0]["last_session"] == "2023-11-17"
    assert events(out, "not_published")[0]["reason"] == "market closed"


def test_holiday_run_in_summary_mode_says_the_market_was_closed(fn, topic, server, configure):
    # Thanksgiving, Thursday 2023-11-23: the quotes are Wednesday's
    fn.market.now = lambda: epoch("2023-11-23 21:30")
    configure([{"symbol": "TSLA", "above": 250}, {"symbol": "F"}], change_percent=1.0,
              provider="yahoo,stooq")
    server.script("TSLA", yahoo("TSLA", 251.30, 243.00, regularMarketTime=epoch(
        "2023-11-22 21:00"), gmtoffset=-18000))
    server.script("F", stooq("F", 12.01, 12.07, day="2023-11-22"), source="stooq")

    result = fn.handler.handler({}, FakeContext(30_000))

    assert result["published"] is True and result["rules_fired"] == []
    assert result["market_closed"] is True and result["last_session"] == "2023-11-22"
    sent = topic.only()
    assert sent["subject"] == (
        "stock-alert: Market closed, last session 2023-11-22: TSLA +3.4%, F -0.5%")
    assert sent["message"]["sms"] == (
        "Market closed, last session 2023-11-22 | TSLA 251.30 +3.4% | F 12.01 -0.5%")
    email = sent["message"]["email"]
    assert ("\nMarket closed, last session 2023-11-22: no quote is from a session of today in "
            "the market's time\nzone (a weekend, a holiday, or before the open), so no rule is "
            "checked.") in email
    assert "Alerts fired" not in email


def test_an_open_market_run_says_nothing_about_closing(fn, topic, server, configure):
    configure([{"symbol": "TSLA"}])
    server.script("TSLA", yahoo("TSLA", 251.30, 243.00))

    result = fn.handler.handler({}, FakeContext(30_000))

    assert result["market_closed"] is False
    assert "closed" not in topic.only()["message"]["email"].lower()


def test_one_quote_from_an_earlier_session_is_listed_and_not_checked(
        fn, topic, server, configure):
    configure([{"symbol": "TSLA", "above": 250}, {"symbol": "HALT", "above": 1}], mode="summary")
    server.script("TSLA", yahoo("TSLA", 251.30, 243.00))
    server.script("HALT", yahoo("HALT", 5.0, 0.9, regularMarketTime=epoch("2023-11-10 21:00")))

    result = fn.handler.handler({}, FakeContext(30_000))

    assert [r["symbol"] for r in result["rules_fired"]] == ["TSLA"]
    assert result["market_closed"] is False
    email = topic.only()["message"]["email"]
    assert "From an earlier session (no rule checked): HALT (2023-11-10)" in email


def test_sanity_checks(fn):
    make = fn.quotes.make_quote
    stock = fn.settings.Stock("TSLA")
    at = epoch("2023-11-14 22:00")
    assert fn.quotes.check(make(stock, 251.3, 243.0, None, None, None, "2023-11-14"), at) is None
    assert fn.quotes.check(make(stock, 24.0, 243.0, None, None), at) == (
        "implausible price 24 against previous close 243")
    assert fn.quotes.check(make(stock, 251.3, None, None, None, None, "2023-11-06"), at) == (
        "stale: last traded 2023-11-06")
    assert fn.quotes.check(make(stock, 251.3, None, None, None, None, "2023-11-07"), at) is None
    assert fn.quotes.check(make(stock, 251.3, None, None, None, None, "2023-11-15"), at) is None
    assert fn.quotes.check(make(stock, 25.0, 243.0, None, None), at) is None  # -89.7%: a crash
