"""Message formatting: one SMS segment, GSM-7 only, subject limits, the aligned e-mail table."""

from __future__ import annotations

import pytest


def quote(fn, symbol: str, price: float, previous: float | None, name: str | None = None):
    return fn.quotes.make_quote(fn.settings.Stock(symbol, name), price, previous, "USD", None)


def test_septets_count_gsm7_extension_characters_twice(fn):
    assert fn.messages.septets("TSLA 1.00") == 9
    assert fn.messages.septets(" | ") == 4
    assert fn.messages.septets("€^") == 4


def test_non_gsm_characters_are_replaced(fn):
    assert fn.messages.gsm7("Société Générale ✓ 株") == "Société Générale ? ?"
    assert fn.messages.gsm7("Garçon") == "Gar?on"  # only the capital Ç is GSM-7


def test_many_tickers_fit_one_segment_with_a_more_marker(fn):
    results = [quote(fn, f"SYM{i:02d}", 100 + i, 99.0) for i in range(20)]

    sms = fn.messages.sms(results, [])

    assert fn.messages.septets(sms) <= fn.messages.SMS_LIMIT <= 160 - 12
    assert sms.startswith("SYM00 100.00 +1.0% | SYM01 101.00 +2.0% | ")
    kept = sms.count("SYM")
    assert sms.endswith(f" | +{20 - kept} more")
    assert 3 <= kept < 20


def test_three_tickers_with_a_fired_rule_fit_the_limit(fn):
    results = [
        quote(fn, "GOOGL", 1234.56, 1200.0),
        quote(fn, "BRK-B", 456.78, 460.0),
        quote(fn, "MSFT", 987.65, 980.0),
    ]
    fired = fn.rules.evaluate(
        results,
        tuple(fn.settings.Stock(q.symbol, None, 1.0) for q in results),
        fn.settings.Alert("threshold", 0.5),
    )

    sms = fn.messages.sms(results, fired)

    assert fn.messages.septets(sms) <= fn.messages.SMS_LIMIT
    assert sms.count("|") == 3 and "+N more" not in sms


def test_long_alert_list_collapses_to_a_count(fn):
    results = [quote(fn, f"LONGSYMBOL{i}", 10.0, 5.0) for i in range(12)]
    stocks = tuple(fn.settings.Stock(q.symbol, None, 1.0) for q in results)
    fired = fn.rules.evaluate(results, stocks, fn.settings.Alert("threshold", 1.0, "beyond"))

    sms = fn.messages.sms(results, fired)

    assert sms.startswith("ALERT 24 rules | LONGSYMBOL0 10.00 +100.0% | ")
    assert fn.messages.septets(sms) <= fn.messages.SMS_LIMIT


def test_subject_stays_under_100_ascii_characters(fn):
    results = [quote(fn, f"TICKER{i}", 10.0 + i, 10.0) for i in range(30)]

    subject = fn.messages.subject(results, [], "summary")

    assert len(subject) < 100 and subject.isascii()
    assert subject.startswith("stock-alert: TICKER0 +0.0%, TICKER1 +10.0%, ")
    assert subject.endswith(" more")


def test_prices_below_one_keep_four_decimals(fn):
    penny = quote(fn, "PENNY", 0.1234, 0.1200, name="A very long company name, incorporated")

    assert fn.messages.sms([penny], []) == "PENNY 0.1234 +2.8%"
    rows = fn.messages.table([penny])
    assert rows[1].split() == [
        "PENNY",
        "A",
        "very",
        "long",
        "company",
        "n...",
        "0.1234",
        "+0.0034",
        "+2.83%",
        "n/a",  # no market time
    ]


def test_table_columns_are_aligned(fn):
    from dataclasses import replace

    failed = fn.quotes.Failure("GM", "timeout")
    rows = fn.messages.table(
        [
            replace(quote(fn, "TSLA", 251.3, 243.0, "Tesla"), source="yahoo"),
            failed,
            replace(quote(fn, "BRK-A", 620000.0, 615000.0, "Berkshire"), source="stooq"),
        ]
    )
    start = rows[0].index("SOURCE")  # the last column, left-aligned
    assert rows[1][start:] == "yahoo" and rows[3][start:] == "stooq" and len(rows[2]) < start
    # right-aligned numbers and market times end together
    assert len({len(row[:start].rstrip()) for row in rows}) == 1
    assert rows[2].startswith("GM ") and rows[2].endswith("n/a")


@pytest.mark.parametrize(
    ("price", "previous", "expected"),
    [
        (251.3, 243.0, "TSLA 251.30 +3.4%"),
        (100.0, 100.0, "TSLA 100.00 +0.0%"),
        (99.5, 100.0, "TSLA 99.50 -0.5%"),
        (12.0, None, "TSLA 12.00 n/a"),
    ],
)
def test_sms_ticker_format(fn, price, previous, expected):
    assert fn.messages.sms([quote(fn, "TSLA", price, previous)], []) == expected


def test_truncate(fn):
    truncate, septets = fn.messages.truncate, fn.messages.septets
    assert truncate("short", 10) == "short"
    assert truncate("exactly ten", 11) == "exactly ten"
    assert truncate("a long sentence here", 10) == "a long..."
    assert truncate("a|b|c|d|e|f", 8, septets) == "a|b..."  # "|" counts twice
    assert truncate("abc", 1) == "..."  # never loops, even for a silly limit


def test_failed_symbols_are_named_at_the_end_and_survive_a_cut(fn):
    results = [quote(fn, f"SYM{i:02d}", 100 + i, 99.0) for i in range(20)]
    results.insert(3, fn.quotes.Failure("GM", "timeout"))
    results.append(fn.quotes.Failure("F", "HTTP 500"))

    sms = fn.messages.sms(results, [])

    assert sms.startswith("SYM00 100.00 +1.0% | SYM01 101.00 +2.0% | SYM02 ")
    assert sms.endswith(" more | failed: GM, F")
    assert fn.messages.septets(sms) <= fn.messages.SMS_LIMIT


def test_many_failed_symbols_take_at_most_half_the_sms(fn):
    results = [quote(fn, "TSLA", 251.3, 243.0)]
    results += [fn.quotes.Failure(f"LONGSYMBOL{i}", "timeout") for i in range(15)]

    sms = fn.messages.sms(results, [])

    assert sms.startswith("TSLA 251.30 +3.4% | failed: LONGSYMBOL0, LONGSYMBOL1, ")
    failed = sms.split(" | ", 1)[1]
    assert failed.endswith(" more") and fn.messages.septets(failed) <= fn.messages.SMS_LIMIT // 2


def test_daily_quota_is_said_in_sms_subject_and_email(fn):
    used_up = fn.quotes.DAILY_QUOTA
    skipped = fn.quotes.NOT_REQUESTED + used_up
    results = [
        quote(fn, "TSLA", 251.3, 243.0),
        fn.quotes.Failure("F", f"alphavantage: {used_up}", (("alphavantage", used_up),)),
        fn.quotes.Failure("GM", f"alphavantage: {skipped}", (("alphavantage", skipped),)),
    ]

    assert fn.messages.sms(results, []) == (
        "TSLA 251.30 +3.4% | failed: F, GM (daily quota used up)"
    )
    email = fn.messages.email("s", "summary", ["alphavantage"], results, [])
    assert ("Not fetched:\n  F: alphavantage: daily quota used up\n"
            "  GM: alphavantage: not requested: daily quota used up") in email
    assert "The Alpha Vantage daily request quota is used up: the symbols after it" in email

    nothing = results[1:]
    assert fn.messages.sms(nothing, []) == (
        "stock-alert: no quote fetched, daily quota used up (F, GM)"
    )
    assert fn.messages.subject(nothing, [], "summary") == (
        "stock-alert: could not fetch any quote (daily quota used up)"
    )


def test_other_failures_do_not_mention_a_quota(fn):
    results = [quote(fn, "TSLA", 251.3, 243.0), fn.quotes.Failure("F", "rate limited")]

    assert fn.messages.sms(results, []) == "TSLA 251.30 +3.4% | failed: F"
    assert "quota" not in fn.messages.email("s", "summary", ["alphavantage"], results, [])


@pytest.mark.parametrize(
    ("market_time", "shown"),
    [
        ("2026-11-27T21:00:00Z", "2026-11-27 21:00 UTC"),
        ("2026-11-27", "2026-11-27"),
        (None, "n/a"),
    ],
)
def test_market_time_display(fn, market_time, shown):
    assert fn.messages.market_time(market_time) == shown


def test_email_shows_each_quote_market_time_so_a_stale_one_stands_out(fn):
    stock = fn.settings.Stock
    fresh = fn.quotes.make_quote(stock("TSLA"), 251.3, 243.0, None, None, "2026-11-27")
    stale = fn.quotes.make_quote(stock("F"), 12.01, 12.07, None, None, "2026-11-20")
    now = 1_795_824_000.0  # 2026-11-28 00:00 UTC

    email = fn.messages.email("s", "summary", ["alphavantage"], [fresh, stale], [], now=now)

    assert email.startswith("stock-alert summary for stack s at 2026-11-28 00:00 UTC\n")
    lines = email.splitlines()
    assert lines[2].endswith("MARKET TIME  SOURCE")
    assert lines[3].startswith("TSLA") and lines[3].endswith("2026-11-27")
    assert lines[4].startswith("F ") and lines[4].endswith("2026-11-20")
    assert fn.messages.sms([fresh, stale], []) == "TSLA 251.30 +3.4% | F 12.01 -0.5%"


def test_a_long_alert_and_many_failures_both_fit(fn):
    results = [quote(fn, f"SYMB{i}", 103.0, 100.0) for i in range(5)]
    stocks = tuple(fn.settings.Stock(q.symbol) for q in results)
    fired = fn.rules.evaluate(results, stocks, fn.settings.Alert("threshold", 1.0))
    results += [fn.quotes.Failure(f"LONGSYMBOL{i}", "timeout") for i in range(15)]

    sms = fn.messages.sms(results, fired)

    alert = "ALERT SYMB0 +3.0%, SYMB1 +3.0%, SYMB2 +3.0%, SYMB3 +3.0%, SYMB4 +3.0%"
    assert sms.startswith(alert + " | ")
    assert " | failed: LONGSYMBOL0, " in sms and sms.endswith(" more")
    assert fn.messages.septets(sms) <= fn.messages.SMS_LIMIT
