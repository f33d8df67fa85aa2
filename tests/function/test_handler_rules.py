"""Threshold mode and the above/below rules, end to end through the handler and moto's SNS."""

from __future__ import annotations

import pytest

from tests.function.conftest import FakeContext, events
from tests.function.fake_http import Reply, yahoo


def script(server) -> None:
    server.script("TSLA", yahoo("TSLA", 251.30, 243.00))  # +3.42%
    server.script("F", yahoo("F", 12.01, 12.07))  # -0.50%
    server.script("GM", yahoo("GM", 46.40, 48.15))  # -3.63%


def test_threshold_fires_on_change_percent_both_directions(fn, topic, server, configure, capsys):
    configure([{"symbol": "TSLA"}, {"symbol": "F"}, {"symbol": "GM"}], "threshold", 3.0)
    script(server)

    result = fn.handler.handler({}, FakeContext(30_000))

    assert result["published"] is True
    assert [(r["symbol"], r["rule"]) for r in result["rules_fired"]] == [
        ("TSLA", "change_percent"),
        ("GM", "change_percent"),
    ]
    assert result["rules_fired"][0] == {
        "symbol": "TSLA", "rule": "change_percent", "when": None, "previous_close": 243.0,
        "detail": "change +3.42% beyond +/-3% (previous close 243.00)"}
    sent = topic.only()
    assert result["message"] == {
        "sms": sent["message"]["sms"],
        "email_subject": sent["subject"],
        "email": sent["message"]["email"],
    }
    assert sent["subject"] == "stock-alert: 2 alerts fired (TSLA, GM)"
    assert sent["message"]["sms"] == (
        "ALERT TSLA +3.4%, GM -3.6% | TSLA 251.30 +3.4% | F 12.01 -0.5% | GM 46.40 -3.6%"
    )
    assert (
        "Alerts fired:\n  TSLA: change +3.42% beyond +/-3% (previous close 243.00)\n"
        "  GM: change -3.63% beyond"
        in (sent["message"]["email"])
    )
    fired = events(capsys.readouterr().out, "rule_fired")
    assert [(e["symbol"], e["rule"]) for e in fired] == [
        ("TSLA", "change_percent"),
        ("GM", "change_percent"),
    ]


def test_threshold_quiet_day_publishes_nothing(fn, topic, server, configure, capsys):
    configure([{"symbol": "TSLA"}, {"symbol": "F"}, {"symbol": "GM"}], "threshold", 5.0)
    script(server)

    result = fn.handler.handler({}, FakeContext(30_000))

    assert result["published"] is False
    assert result["message_id"] is None and result["reason"] == "no rule fired"
    assert result["message"] is None
    assert len(result["quotes"]) == 3
    assert topic.notifications() == []
    out = capsys.readouterr().out
    assert events(out, "not_published")[0]["reason"] == "no rule fired"
    assert events(out, "published") == []


def test_above_and_below_rules_beyond(fn, topic, server, configure):
    configure(
        [
            {"symbol": "TSLA", "above": 250},
            {"symbol": "F", "below": 12.5},
            {"symbol": "GM", "above": 100, "below": 40},
        ],
        mode="threshold",
        when="beyond",
    )
    script(server)

    result = fn.handler.handler({}, FakeContext(30_000))

    assert result["rules_fired"] == [
        {"symbol": "TSLA", "rule": "above", "when": "beyond", "previous_close": 243.0,
         "detail": "price 251.30 >= 250.00 (previous close 243.00)"},
        {"symbol": "F", "rule": "below", "when": "beyond", "previous_close": 12.07,
         "detail": "price 12.01 <= 12.50 (previous close 12.07)"},
    ]
    sent = topic.only()
    assert sent["subject"] == "stock-alert: 2 alerts fired (TSLA, F)"
    assert sent["message"]["sms"].startswith("ALERT TSLA>=250, F<=12.5 | TSLA 251.30 +3.4% | ")


def test_price_equal_to_a_limit_fires(fn, topic, server, configure):
    configure([{"symbol": "TSLA", "above": 251.3, "below": 251.3}], mode="threshold",
              when="beyond")
    server.script("TSLA", yahoo("TSLA", 251.30, None))

    result = fn.handler.handler({}, FakeContext(30_000))

    assert [r["rule"] for r in result["rules_fired"]] == ["above", "below"]
    assert result["published"] is True


def test_summary_mode_reports_fired_rules_too(fn, topic, server, configure):
    configure([{"symbol": "TSLA", "above": 250}, {"symbol": "F"}], mode="summary")
    script(server)

    result = fn.handler.handler({}, FakeContext(30_000))

    assert [r["rule"] for r in result["rules_fired"]] == ["above"]
    sent = topic.only()
    assert sent["subject"] == "stock-alert: TSLA +3.4%, F -0.5%"
    assert sent["message"]["sms"] == "TSLA 251.30 +3.4% | F 12.01 -0.5%"
    assert ("Alerts fired:\n  TSLA: crossed above 250.00: previous close 243.00, now 251.30"
            in sent["message"]["email"])


def test_threshold_with_nothing_fetched_publishes_nothing_and_fails(
    fn, topic, server, configure, capsys
):
    configure([{"symbol": "TSLA", "above": 1}, {"symbol": "F"}], mode="threshold", change_percent=1)
    server.script("F", Reply(500, "down"))
    # TSLA is not scripted: the server answers 404 without a chart body

    with pytest.raises(fn.handler.QuotesUnavailable) as raised:
        fn.handler.handler({}, FakeContext(30_000))

    assert str(raised.value) == (
        "no quote fetched for any of 2 symbols: TSLA (yahoo: HTTP 404), F (yahoo: HTTP 500)"
    )
    result = raised.value.result
    assert [(f["symbol"], f["reason"]) for f in result["failed"]] == [
        ("TSLA", "yahoo: HTTP 404"), ("F", "yahoo: HTTP 500")]
    assert result["published"] is False and result["reason"] == "no quote fetched"
    assert result["message"] is None
    assert topic.notifications() == []
    out = capsys.readouterr().out
    (error,) = events(out, "error")
    assert error["error"] == str(raised.value) and error["published"] is False
    assert error["failed"] == result["failed"]
    assert events(out, "not_published")[0]["reason"] == "no quote fetched"
