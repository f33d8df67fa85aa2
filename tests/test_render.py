"""Pure: plan changes in config terms (provision.output.diff_text), and the tables'
captions and cells.

Tables of (change) -> lines; no AWS. The end-to-end side is tests/test_truthful_cli.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from provision.core.pipelines import StatusRow
from provision.core.plan import Action, Change, Op, Plan
from provision.output import diff_text, render

STOCKS = "STOCK_ALERT_STOCKS"
ALERT = "STOCK_ALERT_ALERT"


def env(stocks: list[dict[str, Any]] | None = None, alert: dict[str, Any] | None = None,
        **extra: str) -> dict[str, str]:
    out = {"STOCK_ALERT_STACK": "t1", "STOCK_ALERT_PROVIDER": "yahoo",
           "STOCK_ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:t1-alerts",
           STOCKS: json.dumps(stocks if stocks is not None else [
               {"symbol": "F", "name": None, "above": None, "below": None},
               {"symbol": "GM", "name": None, "above": None, "below": None}]),
           ALERT: json.dumps(alert or {"mode": "summary", "change_percent": 2.0})}
    out.update(extra)
    return out


def stock(symbol: str, name: str | None = None, above: float | None = None,
          below: float | None = None) -> dict[str, Any]:
    return {"symbol": symbol, "name": name, "above": above, "below": below}


BASE = env()
ENVIRONMENT_CASES = [
    ("a stock added with a rule, one removed: each named, nothing cut",
     env([stock("F"), stock("TSLA", above=300.0)]),
     ["stocks: +TSLA (above 300)", "stocks: -GM"]),
    ("a threshold moved", env([stock("F", below=10.5), stock("GM")]),
     ["stocks.F.below: none -> 10.5"]),
    ("a name given", env([stock("F", name="Ford"), stock("GM")]), ["stocks.F.name: none -> Ford"]),
    ("reordered", env([stock("GM"), stock("F")]), ["stocks order: F, GM -> GM, F"]),
    ("alert percent", env(alert={"mode": "summary", "change_percent": 4.0}),
     ["alert.change_percent: 2.0 -> 4.0"]),
    ("alert mode and percent", env(alert={"mode": "threshold", "change_percent": None}),
     ["alert.change_percent: 2.0 -> none", "alert.mode: summary -> threshold"]),
    ("base url set", env(STOCK_ALERT_QUOTES_BASE_URL="http://127.0.0.1:8765"),
     ["quotes.base_url: (provider default) -> http://127.0.0.1:8765"]),
    ("provider and key", env(STOCK_ALERT_PROVIDER="alphavantage",
                             STOCK_ALERT_API_KEY_PARAMETER="/t1/key"),
     ["quotes.providers: yahoo -> alphavantage",
      "quotes.api_key_parameter: (not set) -> /t1/key"]),
    ("a source added to the chain", env(STOCK_ALERT_PROVIDER="yahoo,stooq"),
     ["quotes.providers: yahoo -> yahoo,stooq"]),
    ("a variable we never set appears", {**BASE, "DEBUG": "1"}, ["env DEBUG: (not set) -> 1"]),
    ("JSON edited by hand into garbage: shown raw, whole", {**BASE, STOCKS: "[oops"},
     [f"env {STOCKS}: {BASE[STOCKS]} -> [oops"]),
    ("nothing differs", dict(BASE), []),
]


@pytest.mark.parametrize(("new", "expected"), [c[1:] for c in ENVIRONMENT_CASES],
                         ids=[c[0] for c in ENVIRONMENT_CASES])
def test_environment_changes_in_config_terms(new: dict[str, str], expected: list[str]) -> None:
    assert diff_text.environment_lines(BASE, new) == expected


def test_a_long_stock_list_shows_every_item() -> None:
    many = [stock(f"T{i:02d}", name=f"Company number {i}") for i in range(25)]
    [line] = diff_text.environment_lines(None, env(many), created=True)[:1]
    assert all(f"T{i:02d} (Company number {i})" in line for i in range(25))
    assert "…" not in line


def test_created_environment_shows_values_not_derived_names() -> None:
    lines = diff_text.environment_lines(None, env([stock("TSLA", "Tesla", 300.0, 200.0)],
                                                  STOCK_ALERT_QUOTES_BASE_URL="http://q"),
                                        created=True)
    assert lines == ["stocks: TSLA (Tesla, above 300, below 200)",
                     "alert: mode summary, change_percent 2.0", "quotes.providers: yahoo",
                     "quotes.base_url: http://q"]


DOC = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": ["arn:ssm:p"]}]}
WIDER = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["ssm:*"], "Resource": ["*"]}]}
CHANGE_CASES = [
    ("policy added", Change("policy", None, json.dumps(DOC), item="t1-read-api-key"), False,
     ["policy t1-read-api-key: added (Allow ssm:GetParameter on arn:ssm:p)"]),
    ("policy removed", Change("policy", json.dumps(DOC), None, item="t1-old"), False,
     ["policy t1-old: removed"]),
    ("policy widened by hand", Change("policy", json.dumps(WIDER), json.dumps(DOC), item="p"),
     False, ["policy p: +Allow ssm:GetParameter on arn:ssm:p", "policy p: -Allow ssm:* on *"]),
    ("policy on create", Change("policy", None, json.dumps(DOC), item="p"), True,
     ["policy p: Allow ssm:GetParameter on arn:ssm:p"]),
    ("trust on create", Change("trust_policy", None, json.dumps({"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
         "Action": "sts:AssumeRole"}]})), True,
     ["trust_policy: Allow sts:AssumeRole by lambda.amazonaws.com"]),
    ("subscriber added", Change("email", None, "subscribe", item="a@x.com"), False,
     ["+ email a@x.com"]),
    ("subscriber removed", Change("sms", "arn:sub", None, item="+15555550100"), False,
     ["- sms +15555550100"]),
    ("schedule", Change("schedule", "cron(0 14 ? * MON-FRI *)", "cron(30 21 ? * MON-FRI *)"),
     False, ["schedule: cron(0 14 ? * MON-FRI *) -> cron(30 21 ? * MON-FRI *)"]),
    ("schedule on create", Change("schedule", None, "cron(30 21 ? * MON-FRI *)"), True,
     ["schedule: cron(30 21 ? * MON-FRI *)"]),
    ("retention on create", Change("retention_days", None, 14), True, ["retention_days: 14"]),
    ("tags", Change("tags", {"a": "1", "b": "2"}, {"a": "9", "c": "3"}), False,
     ["tags: +c=3", "tags: -b", "tags: a: 1 -> 9"]),
    ("managed policy attached by hand", Change("managed_policies", ["arn:x", "arn:y"], []),
     False, ["managed_policies: detach arn:x", "managed_policies: detach arn:y"]),
    ("topic encryption", Change("attribute", None, "alias/aws/sns", item="KmsMasterKeyId"), True,
     ["encryption: alias/aws/sns"]),
    ("permission changed", Change("permission", {"source_arn": "a", "action": "x"},
                                  {"source_arn": "b", "action": "x"}), False,
     ["permission.source_arn: a -> b"]),
    ("code", Change("code", "A" * 44, "B" * 44), False,
     [f"code: sha256 {'A' * 12} -> sha256 {'B' * 12}"]),
]


@pytest.mark.parametrize(("change", "created", "expected"), [c[1:] for c in CHANGE_CASES],
                         ids=[c[0] for c in CHANGE_CASES])
def test_change_lines(change: Change, created: bool, expected: list[str]) -> None:
    assert diff_text.describe_change(change, created) == expected


def _action(kind: str, op: Op, reason: str = "", changes: tuple[Change, ...] = (),
            ) -> Action[Any, Any]:
    return Action(kind=kind, name=f"{kind}-name", op=op, wanted=None, changes=changes,
                  reason=reason)


def _plain(table: Any) -> str:
    from rich.console import Console

    out = Console(width=200, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    out.print(table)
    return out.export_text()


def test_plan_caption_counts_every_op() -> None:
    plan = Plan("t1", "us-east-1", "123456789012", (
        _action("role", Op.CREATE, "missing", (Change("retention_days", None, 14),)),
        _action("log-group", Op.CREATE, "missing"),
        _action("topic", Op.UPDATE, "drifted", (Change("email", None, "subscribe", "a@x"),)),
        _action("function", Op.NOOP, "in sync"),
        _action("schedule", Op.CONFLICT, "exists but is not tagged as made by this stack")))
    assert render.plan_counts(plan) == ("Plan: 2 to create, 1 to update, 0 to delete, "
                                        "1 unchanged, 1 conflict (not owned by this stack).")
    text = _plain(render.plan_table(plan, "plan"))
    assert " ".join(text.split()).endswith(render.plan_counts(plan))
    assert "retention_days: 14" in text and "+ email a@x" in text


def test_second_down_says_absent_not_no_change() -> None:
    plan = Plan("t1", "us-east-1", "123456789012", (
        _action("role", Op.NOOP, "absent"),
        _action("schedule", Op.NOOP, "absent (the permission goes with the function)")))
    text = _plain(render.plan_table(plan, "down"))
    assert "no change" not in text
    assert text.count("absent") == 3 + 1  # two cells, one reason, one caption count
    assert "the permission goes with the function" in text
    assert render.plan_counts(plan).endswith("0 unchanged, 2 absent.")


def _row(state: str, **attributes: Any) -> StatusRow:
    return StatusRow("topic", "t1-alerts", True, state, (), attributes)


def test_status_caption_and_emulator_note() -> None:
    subs = [{"protocol": "email", "endpoint": "a@x.com", "state": "confirmed"}]
    rows = [_row("in sync", subscriptions=subs), _row("drifted"), _row("missing"),
            _row("in sync")]
    plan = Plan("t1", "us-east-1", "123456789012", ())
    assert render.status_counts(rows) == "2 in sync, 1 drifted, 1 missing."
    on_emulator = _plain(render.status_table(plan, rows, emulator=True))
    on_aws = _plain(render.status_table(plan, rows, emulator=False))
    assert "2 in sync, 1 drifted, 1 missing." in on_aws
    flat = " ".join(on_emulator.replace("│", " ").split())
    assert "on real AWS they stay pending confirmation" in flat
    assert "real AWS" not in on_aws


def test_status_lists_every_item_whole() -> None:
    targets = [f"arn:aws:lambda:us-east-1:123456789012:function:fn-{i}" for i in range(5)]
    text = _plain(render.status_table(Plan("t1", "r", "a", ()), [_row("in sync", targets=targets)],
                                      emulator=False))
    flat = "".join(text.replace("│", " ").split())
    assert all(t in flat for t in targets) and "…" not in text
