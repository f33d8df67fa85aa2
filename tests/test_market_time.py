"""Pure: the market-time form of `schedule:` (issue 23): validation in our words, the cron it
becomes, init's default, the export, and `cost` counting its runs in its own zone across the
daylight-saving changes, against counts worked out by hand below (not by firing.py's method).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from provision.config import market_time
from provision.config.messages import describe
from provision.config.model import Config, load_config
from provision.config.template import Answers, check, render
from provision.features.cost.estimate import estimate
from provision.features.cost.firing import count_month
from provision.features.export import cloudformation
from provision.kinds.market_schedule import MarketSchedule
from tests.support.configs import MINIMAL, write_config

BASE = {"name": "t1", "stocks": ["SPY"]}


def _config(schedule: Any) -> Config:
    return Config.model_validate({**BASE, "schedule": schedule})


def _error(schedule: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        _config(schedule)
    return describe(caught.value, Config)


@pytest.mark.parametrize(("given", "cron", "zone"), [
    ({"at": "16:30", "timezone": "America/New_York"}, "cron(30 16 ? * MON-FRI *)",
     "America/New_York"),
    ({"at": "9:05", "timezone": "Europe/London", "days": "mon,wed"}, "cron(5 9 ? * MON,WED *)",
     "Europe/London"),
    ({"at": " 00:00 ", "timezone": "Asia/Tokyo", "days": "daily"}, "cron(0 0 ? * * *)",
     "Asia/Tokyo"),
    ({"at": "23:59", "timezone": "UTC", "days": "SAT-SUN"}, "cron(59 23 ? * SAT-SUN *)", "UTC"),
])
def test_the_market_time_form_becomes_a_cron_in_its_zone(
        given: dict[str, str], cron: str, zone: str) -> None:
    config = _config(given)
    assert config.market_time is not None and config.rule_expression is None
    assert (config.expression, config.market_time.timezone) == (cron, zone)


def test_a_cron_string_stays_a_rule_as_before() -> None:
    config = _config("cron(30 21 ? * MON-FRI *)")
    assert (config.market_time, config.rule_expression) == (None, "cron(30 21 ? * MON-FRI *)")
    assert Config.model_validate(BASE).rule_expression == "cron(30 21 ? * MON-FRI *)"


@pytest.mark.parametrize(("given", "fragments"), [
    ({"at": "16:30", "timezone": "America/New York"},
     ["schedule.timezone:", "'America/New York'", "IANA", "did you mean America/New_York?"]),
    ({"at": "16:30", "timezone": "america/new_york"}, ["did you mean America/New_York?"]),
    ({"at": "16:30", "timezone": "Mars/Olympus_Mons"}, ["schedule.timezone:", "Area/City"]),
    ({"at": 990, "timezone": "UTC"}, ["schedule.at:", "number 990", 'at: "16:30"']),
    ({"at": "25:00", "timezone": "UTC"}, ["schedule.at:", "'25:00'", "24-hour HH:MM"]),
    ({"at": "16:30", "timezone": "UTC", "days": "MON-FRY"},
     ["schedule.days:", "'MON-FRY'", "MON-FRI"]),
    ({"at": "16:30"}, ["schedule.timezone: is required"]),
    ({"at": "16:30", "timezone": "UTC", "tz": "x"}, ["schedule.tz: unknown key"]),
    (5, ["schedule: 5 is not a schedule", "cron(...)", "timezone: America/New_York"]),
    ("cron(0 14 * * ?)", ["schedule: cron(0 14 * * ?) has 5 fields"]),
])
def test_a_bad_value_names_the_key_and_the_fix_without_pydantic_words(
        given: Any, fragments: list[str]) -> None:
    message = _error(given)
    assert all(f in message for f in fragments), message
    assert "market-time" not in message and "expression" not in message.split(":")[0]
    assert "Input should" not in message and "Value error" not in message


def test_a_zone_is_checked_without_walking_the_whole_database(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 22: every command that read a market-time config listed all ~600 zones of the
    database (~20 ms) to check one name; a valid name now only loads its own file. The same
    names are accepted as the database lists, and refused ones are still explained."""
    zones = sorted(market_time.iana_zones())

    def walk() -> frozenset[str]:
        raise AssertionError("walked the database for a valid zone")

    monkeypatch.setattr(market_time, "iana_zones", walk)
    for zone in zones:
        if len(zone) <= market_time.ZONE_MAX:
            assert _config({"at": "16:30", "timezone": zone}).market_time is not None, zone
    monkeypatch.undo()
    for wrong in ("America", "posixrules", "../etc/passwd", "/etc/localtime",
                  "America//New_York", "America/New_York/", "zone1970.tab", "tzdata.zi"):
        assert "is not a time zone of the IANA database" in _error(
            {"at": "16:30", "timezone": wrong}), wrong


def test_unquoted_yaml_time_is_explained_from_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL + "schedule: {at: 16:30, timezone: UTC}\n")
    with pytest.raises(Exception) as caught:
        load_config(path)
    assert 'YAML read the unquoted time as the number 990 (base 60); quote it: at: "16:30"' in (
        str(caught.value))


# ---- init ------------------------------------------------------------------------------------


def test_init_writes_the_market_time_form_by_default() -> None:
    text = render(Answers(stocks=("SPY",)))
    line = next(x for x in text.splitlines() if x.startswith("schedule:"))
    assert line == 'schedule: {at: "16:30", timezone: "America/New_York", days: "MON-FRI"}'


@pytest.mark.parametrize(("answer", "expression"), [
    ("16:30 America/New_York", "cron(30 16 ? * MON-FRI *)"),
    ("9:30 Europe/London MON-FRI", "cron(30 9 ? * MON-FRI *)"),
    ("rate(1 hour)", "rate(1 hour)"),
])
def test_init_schedule_answer_in_either_form(answer: str, expression: str,
                                             tmp_path: Path) -> None:
    assert check("schedule", answer) == answer
    path = write_config(tmp_path, render(Answers(stocks=("SPY",), schedule=answer)))
    assert load_config(path).expression == expression


def test_init_refuses_a_schedule_answer_naming_both_forms() -> None:
    with pytest.raises(ValueError, match="'HH:MM ZONE \\[DAYS\\]'"):
        check("schedule", "every weekday at four")
    with pytest.raises(ValueError, match="IANA"):
        check("schedule", "16:30 New_York")


# ---- cost: runs counted in the zone ------------------------------------------------------------
# Worked out by hand from the calendar and the zones' rules (US: second Sunday of March and
# first Sunday of November at 02:00; EU: last Sunday of March at 01:00 UTC):
# - 2027-03-01 is a Monday: weekdays are 1-5, 8-12, 15-19, 22-26, 29-31 = 23. New York springs
#   forward on Sunday 14 March; 16:30 exists every day.
# - 2026-03-01 is a Sunday: Sundays 1, 8, 15, 22, 29. New York springs forward on the 8th at
#   02:00, so 02:30 does not exist that day: 4 runs.
# - 2026-11-01 is a Sunday: Sundays 1, 8, 15, 22, 29. New York falls back on the 1st at 02:00,
#   so 01:30 happens twice that day; Scheduler runs it once: 5 runs (6 instants).
# - London, March 2027: Sundays 7, 14, 21, 28; it springs forward on the 28th at 01:00 (GMT)
#   to 02:00, so 01:30 does not exist that day: 3 runs.
# - Every 30 minutes in New York, November 2026: 30 days of 48 local times = 1440; the repeated
#   hour on the 1st runs once more only as instants, not as local times: 1440.
ZONE_CASES = [
    ("cron(30 16 ? * MON-FRI *)", 2027, 3, "America/New_York", 23, ["Sun 14"]),
    ("cron(30 2 ? * SUN *)", 2026, 3, "America/New_York", 4, ["Sun 8", "1 run(s)",
                                                              "does not exist"]),
    ("cron(30 1 ? * SUN *)", 2026, 11, "America/New_York", 5, ["Sun 1", "happens twice"]),
    ("cron(30 1 ? * SUN *)", 2027, 3, "Europe/London", 3, ["Sun 28", "does not exist"]),
    ("cron(0/30 * * * ? *)", 2026, 11, "America/New_York", 1440, ["Sun 1"]),
]


@pytest.mark.parametrize(("expr", "year", "month", "zone", "runs", "words"), ZONE_CASES)
def test_runs_are_counted_in_the_zone_across_its_clock_change(
        expr: str, year: int, month: int, zone: str, runs: int, words: list[str]) -> None:
    found = count_month(expr, year, month, zone)
    assert (found.runs, found.exact) == (runs, True)
    assert all(w in found.note for w in words), found.note


def test_a_month_without_a_clock_change_says_none() -> None:
    found = count_month("cron(30 16 ? * MON-FRI *)", 2027, 6, "America/New_York")
    assert found.runs == 22 and "clock change" not in found.note  # 2027-06-01 is a Tuesday


def test_cost_of_a_market_time_config_is_counted_and_priced_in_its_zone(
        tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, MINIMAL + 'schedule: {at: "02:30", timezone: '
                                      "America/New_York, days: SUN}\n"))
    est = estimate(config, dt.date(2026, 2, 10))  # next month: March 2026
    assert est.runs == 4 and est.zone == "America/New_York"
    doc = est.to_dict()
    assert doc["basis"] == "the next full calendar month, America/New_York"
    line = next(x for x in est.lines if x.item == "EventBridge Scheduler invocations")
    assert (line.quantity, line.usd) == (4, 0.0)  # within the 14 million free a month
    assert "America/New_York" in est.report("t1")[0]
    assert json.dumps(doc)  # serialisable


def test_cost_of_a_rule_is_still_counted_in_utc(tmp_path: Path) -> None:
    est = estimate(load_config(write_config(tmp_path, MINIMAL)), dt.date(2027, 2, 10))
    assert (est.runs, est.zone) == (23, "UTC")
    assert any(x.item == "EventBridge schedule" for x in est.lines)


# ---- export ------------------------------------------------------------------------------------


def test_export_of_a_market_time_config_has_the_group_schedule_and_role_but_no_rule() -> None:
    config = _config({"at": "16:30", "timezone": "America/New_York"})
    doc = cloudformation.template(config)
    types = {name: body["Type"] for name, body in doc["Resources"].items()}
    assert types["ScheduleGroup"] == "AWS::Scheduler::ScheduleGroup"
    assert types["MarketSchedule"] == "AWS::Scheduler::Schedule"
    assert types["SchedulerRole"] == "AWS::IAM::Role"
    assert "AWS::Events::Rule" not in types.values()
    assert "AWS::Lambda::Permission" not in types.values()
    schedule = doc["Resources"]["MarketSchedule"]["Properties"]
    assert schedule["ScheduleExpression"] == "cron(30 16 ? * MON-FRI *)"
    assert schedule["ScheduleExpressionTimezone"] == "America/New_York"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["Target"]["RoleArn"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
    assert schedule["Target"]["RetryPolicy"] == {"MaximumRetryAttempts": 2,
                                                 "MaximumEventAgeInSeconds": 3600}
    trust = doc["Resources"]["SchedulerRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"aws:SourceAccount": {
        "Fn::Sub": "${AWS::AccountId}"}}}
    assert "Tags" not in schedule  # schedules take none: the group carries them
    assert doc["Resources"]["ScheduleGroup"]["Properties"]["Tags"]


def test_a_rule_config_exports_no_scheduler_resource() -> None:
    doc = cloudformation.template(Config.model_validate(BASE))
    assert not [b for b in doc["Resources"].values() if "Scheduler" in b["Type"]]
    assert MarketSchedule().cloudformation(MarketSchedule().wanted(
        cloudformation.export_stack(Config.model_validate(BASE)))).resources == {}


def test_the_market_time_template_passes_cfn_lint() -> None:
    """cfn-lint knows AWS::Scheduler::*'s properties (a typo in one is an E3002 error)."""
    from cfnlint.api import ManualArgs, lint

    def errors(doc: dict[str, Any]) -> list[str]:
        text = cloudformation.dump(doc, "json")
        return [f"{m.rule.id} {m.message}" for m in lint(
            text, config=ManualArgs(regions=["us-east-1"])) if m.rule.id.startswith("E")]

    doc = cloudformation.template(_config({"at": "16:30", "timezone": "America/New_York"}))
    assert errors(doc) == []
    doc["Resources"]["MarketSchedule"]["Properties"]["Timezone"] = "UTC"
    assert any(e.startswith("E3002") for e in errors(doc))
