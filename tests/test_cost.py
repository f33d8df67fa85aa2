"""Pure: schedule firings per month are exact (checked by brute force), and the estimate is honest.

The brute force below enumerates every minute of the month in UTC and asks a predicate written
by hand from EventBridge's cron documentation
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html:
six fields, UTC, day-of-week 1-7 = SUN-SAT, L, W, #), independently of
provision/features/cost/firing.py.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provision.config.model import load_config
from provision.features.cost.estimate import estimate
from provision.features.cost.firing import count_month, next_month
from provision.kinds import sms_prices
from provision.kinds.topic import SNS_USD_PER_EMAIL
from tests.support.configs import MINIMAL, write_config

Minute = dt.datetime


def _minutes(year: int, month: int) -> list[Minute]:
    start = dt.datetime(year, month, 1, tzinfo=dt.UTC)
    days = calendar.monthrange(year, month)[1]
    return [start + dt.timedelta(minutes=m) for m in range(days * 1440)]


def _last_day(t: Minute) -> int:
    return calendar.monthrange(t.year, t.month)[1]


def _weekday_nearest(t: Minute, wanted: int) -> int:
    """By hand: the weekday nearest day `wanted` of t's month, staying inside the month."""
    day = dt.date(t.year, t.month, wanted)
    if day.weekday() == 5:
        return wanted - 1 if wanted > 1 else wanted + 2
    if day.weekday() == 6:
        return wanted + 1 if wanted < _last_day(t) else wanted - 2
    return wanted


def _last_weekday(t: Minute) -> int:
    last = _last_day(t)
    return max(d for d in range(last - 2, last + 1)
               if dt.date(t.year, t.month, d).weekday() < 5)


CRON_CASES: list[tuple[str, int, int, Callable[[Minute], bool]]] = [
    # (expression, year, month, predicate on a UTC minute)
    ("cron(0 14 ? * MON-FRI *)", 2026, 12,
     lambda t: t.weekday() < 5 and (t.hour, t.minute) == (14, 0)),
    ("cron(0/15 9-17 ? * MON-FRI *)", 2027, 2,
     lambda t: t.weekday() < 5 and 9 <= t.hour <= 17 and t.minute % 15 == 0),
    ("cron(0 12 L * ? *)", 2028, 2,  # leap year: the 29th
     lambda t: t.day == 29 and (t.hour, t.minute) == (12, 0)),
    ("cron(0 8 ? * 6L *)", 2026, 12,  # the last Friday
     lambda t: t.weekday() == 4 and t.day > _last_day(t) - 7 and (t.hour, t.minute) == (8, 0)),
    ("cron(30 9 ? * 2#1 *)", 2027, 3,  # the first Monday
     lambda t: t.weekday() == 0 and t.day <= 7 and (t.hour, t.minute) == (9, 30)),
    ("cron(0 9 ? * SUN#3,FRIL *)", 2027, 9,  # names: the third Sunday and the last Friday
     lambda t: (t.hour, t.minute) == (9, 0) and (
         (t.weekday() == 6 and 15 <= t.day <= 21)
         or (t.weekday() == 4 and t.day > _last_day(t) - 7))),
    # W and LW are listed with the day they should move to, so a wrong move fires twice
    ("cron(0 10 1W,3 * ? *)", 2027, 5,  # 1 May 2027 is a Saturday: Monday the 3rd
     lambda t: t.day in (_weekday_nearest(t, 1), 3) and (t.hour, t.minute) == (10, 0)),
    ("cron(0 10 15W,16 * ? *)", 2027, 8,  # 15 Aug 2027 is a Sunday: Monday the 16th
     lambda t: t.day in (_weekday_nearest(t, 15), 16) and (t.hour, t.minute) == (10, 0)),
    ("cron(0 10 LW,29 * ? *)", 2027, 10,  # 31 Oct 2027 is a Sunday: Friday the 29th
     lambda t: t.day in (_last_weekday(t), 29) and (t.hour, t.minute) == (10, 0)),
    ("cron(5,35 */2 1-10,20 * ? *)", 2027, 1,
     lambda t: (t.day <= 10 or t.day == 20) and t.hour % 2 == 0 and t.minute in (5, 35)),
    ("cron(0 0 1 JAN-MAR ? 2027)", 2027, 2,  # a specific year, inside it
     lambda t: t.year == 2027 and t.day == 1 and (t.hour, t.minute) == (0, 0)),
    ("cron(0 0 1 JAN-MAR ? 2027)", 2028, 2,  # ... and outside it: never
     lambda t: False),
    ("cron(0 0 * FEB ? 2026-2030/2)", 2028, 2,  # years 2026, 2028, 2030
     lambda t: (t.hour, t.minute) == (0, 0)),
    ("cron(0 9 ? JUN SAT,SUN *)", 2027, 6,
     lambda t: t.weekday() >= 5 and (t.hour, t.minute) == (9, 0)),
    ("cron(0 22-2 ? * FRI-MON *)", 2027, 4,  # wrapping ranges (Quartz semantics, assumed)
     lambda t: t.weekday() in (4, 5, 6, 0) and (t.hour >= 22 or t.hour <= 2) and t.minute == 0),
    # DST is irrelevant: EventBridge cron is UTC, so on 28 March 2027 (Europe's clocks go forward
    # at 01:00 UTC) 01:30 UTC still exists and fires; every day of the month fires once.
    ("cron(30 1 * * ? *)", 2027, 3, lambda t: (t.hour, t.minute) == (1, 30)),
]


@pytest.mark.parametrize(("expr", "year", "month", "fires"), CRON_CASES,
                         ids=[f"{c[0]}@{c[1]}-{c[2]}" for c in CRON_CASES])
def test_cron_firings_match_brute_force(expr: str, year: int, month: int,
                                        fires: Callable[[Minute], bool]) -> None:
    expected = sum(1 for t in _minutes(year, month) if fires(t))
    counted = count_month(expr, year, month)
    assert counted.runs == expected
    assert counted.exact and counted.month == f"{year:04d}-{month:02d}"


def test_dst_month_counts_every_utc_day() -> None:
    assert count_month("cron(30 1 * * ? *)", 2027, 3).runs == 31
    assert count_month("cron(0 * * * ? *)", 2027, 3).runs == 31 * 24  # no hour lost in UTC


@pytest.mark.parametrize(("expr", "period"), [
    ("rate(5 minutes)", 5), ("rate(1 hour)", 60), ("rate(7 minutes)", 7),
    ("rate(3 days)", 3 * 1440), ("rate(1 day)", 1440), ("rate(13 hours)", 13 * 60),
])
@pytest.mark.parametrize(("year", "month"), [(2027, 2), (2026, 12)])
def test_rate_firings_are_the_maximum_over_every_start_phase(
        expr: str, period: int, year: int, month: int) -> None:
    """A rate fires every `period` minutes from the rule's creation; try every phase."""
    minutes = calendar.monthrange(year, month)[1] * 1440
    per_phase = [sum(1 for _ in range(phase, minutes, period)) for phase in range(period)]
    counted = count_month(expr, year, month)
    assert counted.runs == max(per_phase)
    assert counted.exact == (min(per_phase) == max(per_phase))
    assert ("at most" in counted.note) != counted.exact


def test_next_month_rolls_over_the_year() -> None:
    assert next_month(dt.date(2026, 12, 31)) == (2027, 1)
    assert next_month(dt.date(2026, 11, 29)) == (2026, 12)


def _config(tmp_path: Path, extra: str = "", sms: str = '"+15555550100"') -> object:
    return load_config(write_config(tmp_path, MINIMAL.replace('"+15555550100"', sms) + extra))


def test_estimate_prices_sms_by_country_and_says_it_is_an_estimate(tmp_path: Path) -> None:
    config = _config(tmp_path, sms='"+15555550100", "+447700900123", "+4915112345678", '
                                   '"+33612345678", "+919812345678", "+61412345678", '
                                   '"+819012345678", "+2348012345678"')
    est = estimate(config, dt.date(2026, 11, 29))  # type: ignore[arg-type]
    assert (est.month, est.runs, est.messages_qualifier) == ("2026-12", 23, "exactly")
    sms = {line.item.removeprefix("SMS to "): line for line in est.lines if "SMS" in line.item}
    for number, code in [("+15555550100", "1"), ("+447700900123", "44"), ("+4915112345678", "49"),
                         ("+33612345678", "33"), ("+919812345678", "91"),
                         ("+61412345678", "61"), ("+819012345678", "81")]:
        assert sms[number].usd == pytest.approx(23 * sms_prices.PRICES[code][1])
    assert sms["+2348012345678"].usd is None  # Nigeria is not in the table
    assert "unknown country: price not in table" in sms["+2348012345678"].note
    assert not est.complete and est.to_dict()["total_is_lower_bound"] is True
    report = "\n".join(est.report("t1"))
    assert "An estimate, not a quote" in report and "Total: at least about $" in report


def test_threshold_mode_says_at_most_and_disabled_runs_nothing(tmp_path: Path) -> None:
    est = estimate(_config(tmp_path, "alert: {mode: threshold}\n"),  # type: ignore[arg-type]
                   dt.date(2026, 11, 1))
    assert est.messages_qualifier == "at most"
    assert any("at most one per run" in a for a in est.assumptions)
    paused = estimate(_config(tmp_path, "enabled: false\n"),  # type: ignore[arg-type]
                      dt.date(2026, 11, 1))
    assert paused.runs == 0 and paused.total_usd == 0


def test_free_tier_is_applied_and_overage_is_charged(tmp_path: Path) -> None:
    """rate(1 minute) with 2 e-mails: 2 * 44,640 deliveries in a 31-day month, 1,000 free."""
    text = MINIMAL.split("notify:")[0] + 'schedule: "rate(1 minute)"\n' \
        + "notify: {email: [a@b.co, c@d.co]}\n"
    config = load_config(write_config(tmp_path, text))
    est = estimate(config, dt.date(2026, 12, 5))  # January 2027: 31 days
    email = next(line for line in est.lines if "e-mail" in line.item)
    assert email.quantity == 2 * 44_640
    assert email.usd == pytest.approx((2 * 44_640 - 1_000) * SNS_USD_PER_EMAIL)
    assert all(line.usd == 0 for line in est.lines if line.item.startswith("Lambda requests"))


def test_stale_price_table_is_flagged_by_date(tmp_path: Path) -> None:
    config = _config(tmp_path)
    as_of = dt.date.fromisoformat(sms_prices.AS_OF)
    fresh = estimate(config, as_of + dt.timedelta(days=30))  # type: ignore[arg-type]
    stale = estimate(config, as_of + dt.timedelta(days=400))  # type: ignore[arg-type]
    assert not any("more than a year" in w for w in fresh.warnings)
    assert any("more than a year" in w and sms_prices.AS_OF in w for w in stale.warnings)
    assert "over a year old" in stale.summary() and "over a year old" not in fresh.summary()


@pytest.mark.server
def test_plan_shows_the_cost_line_and_json_key(cli: Any, tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL)
    human = cli("plan")
    assert human.returncode == 0, human.stderr
    assert "Estimated cost: about $" in human.stdout and "an estimate" in human.stdout
    as_json = json.loads(cli("plan", "--output", "json").stdout)
    assert as_json["cost"]["estimate"] is True and as_json["cost"]["runs"] > 0
    assert as_json["cost"]["lines"][0]["item"] == "SMS to +15555550100"


def test_cost_command_json_and_bad_config(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from provision.cli import app

    path = write_config(tmp_path, MINIMAL)
    result = CliRunner().invoke(app, ["cost", "-c", str(path), "--output", "json"])
    assert result.exit_code == 0
    payload = json.loads(result.output)
    assert payload["command"] == "cost" and payload["estimate"] is True
    assert payload["basis"] == "the next full calendar month, UTC"
    bad = write_config(tmp_path, MINIMAL + "schedule: nope\n", "bad.yaml")
    failed = CliRunner().invoke(app, ["cost", "-c", str(bad)])
    assert failed.exit_code == 2 and "schedule" in failed.output


def test_the_failure_assumption_names_the_notifier_not_a_raw_record(tmp_path: Path) -> None:
    """Issue 21: a failed run reaches the subscribers as the notifier's one short message."""
    est = estimate(_config(tmp_path, ""), dt.date(2026, 11, 1))  # type: ignore[arg-type]
    [line] = [a for a in est.assumptions if "fails for good" in a]
    assert "the notifier (t1_notify, 128 MB" in line and "one short message" in line
