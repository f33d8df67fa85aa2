"""The JSON Schema and the pydantic model accept and reject the same documents, with the gaps
named: the schema may accept what only Python can reject, never the other way round."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import ValidationError
from typer.testing import CliRunner

from provision.cli import app
from provision.config.model import Config, load_config
from provision.config.schema import config_schema
from provision.errors import ConfigError
from tests.support.configs import EXAMPLE_CONFIG, MINIMAL, write_config
from tests.test_config import BAD

VALIDATOR = jsonschema.Draft202012Validator(config_schema())
BASE = {"name": "t1", "stocks": ["TSLA"]}


def _model_ok(doc: Any) -> bool:
    try:
        Config.model_validate(doc)
    except ValidationError:
        return False
    return True


def _doc(**changes: Any) -> dict[str, Any]:
    return {**BASE, **changes}


GOOD = [
    BASE,
    yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8")),
    _doc(stocks=["tsla", {"symbol": "brk.b", "name": "Berkshire", "above": 500, "below": 1}]),
    _doc(schedule="rate(1 hour)"), _doc(schedule="  cron(0/5 9-17 ? * MON-FRI 2027)  "),
    _doc(schedule="cron(0 10 LW * ? *)"), _doc(schedule="cron(0 8 ? * 2#1 *)"),
    _doc(region=None), _doc(region="eu-west-1"),
    _doc(notify={"email": ["a@b.co"], "sms": ["+15555550100", "+447700900123"]}),
    _doc(function={"memory_mb": 10240, "timeout_s": 900, "log_retention_days": 3653}),
    _doc(quotes={"provider": "alphavantage", "api_key_parameter": "/x/key"}),
    _doc(quotes={"providers": ["stooq", "alphavantage", "yahoo"], "api_key_secret": "x/key"}),
    _doc(quotes={"providers": ["stooq"]}), _doc(quotes={"providers": None, "provider": "stooq"}),
    _doc(quotes={"provider": None, "providers": ["yahoo"]}),
    _doc(alert={"when": "beyond"}), _doc(alert={"when": "crossed", "mode": "threshold"}),
    _doc(alert={"mode": "threshold", "change_percent": None},
         stocks=[{"symbol": "F", "above": 20}]),
    _doc(tags={"team": "a b.c:d/e=f+g-h@i"}), _doc(enabled=False),
    _doc(quotes={"base_url": "https://quotes.example.com/v1?x=1"}),
    # numbers as JSON types: a whole number is a price, and change_percent takes a fraction
    _doc(stocks=[{"symbol": "F", "above": 1, "below": 0.5}]), _doc(alert={"change_percent": 2.5}),
]

# Rejected by both (a corpus of its own; tests/test_config.py's BAD cases come on top).
BAD_BOTH = [
    {}, _doc(stocks=[]), _doc(colour="blue"), _doc(name=5), _doc(name="bad_name!"),
    _doc(name="a" * 56), _doc(name="ends-"), _doc(region="mars-1"),
    _doc(schedule="every day"), _doc(schedule="cron(0 14 * * MON-FRI)"),
    _doc(notify={"sms": ["555-0100"]}), _doc(notify={"email": ["not-an-email"]}),
    _doc(notify={"email": ["a@b.co", "a@b.co"]}), _doc(notify={"fax": ["1"]}),
    _doc(function={"runtime": "python2.7"}), _doc(function={"memory_mb": 64}),
    _doc(function={"log_retention_days": 10}), _doc(function={"memory_mb": "lots"}),
    _doc(enabled="maybe"), _doc(enabled=2), _doc(tags={"managed-by": "me"}),
    _doc(tags={"aws:x": "y"}), _doc(tags={"k": 1}), _doc(quotes={"provider": "google"}),
    _doc(quotes={"base_url": "ftp://x"}), _doc(quotes={"base_url": "https://a b"}),
    _doc(tags={"stock-alert:applied": "x"}), _doc(stocks=["TSLA", ""]), _doc(stocks=[5]),
    _doc(stocks=[{"symbol": "F", "above": -1}]), _doc(stocks=[{"name": "no symbol"}]),
    _doc(alert={"mode": "loud"}), ["just", "a", "list"],
    _doc(quotes={"providers": ["yahoo", "yahoo"]}), _doc(quotes={"providers": []}),
    _doc(quotes={"providers": ["google"]}), _doc(quotes={"providers": "yahoo"}),
    _doc(quotes={"provider": "yahoo", "providers": ["stooq"]}), _doc(alert={"when": "always"}),
    # the model is strict: numbers and booleans written as text (or as the other type) are
    # refused, and so does the schema (these were accepted while the model was lax)
    _doc(function={"memory_mb": "128"}), _doc(function={"memory_mb": " +1_28 "}),
    _doc(function={"memory_mb": "64"}), _doc(function={"timeout_s": "1e1"}),
    _doc(function={"log_retention_days": "14"}), _doc(function={"memory_mb": True}),
    _doc(enabled="yes"), _doc(enabled="OFF"), _doc(enabled="t"), _doc(enabled=1),
    _doc(enabled=0), _doc(stocks=[{"symbol": "F", "above": "1e2"}]),
    _doc(stocks=[{"symbol": "F", "above": True}]), _doc(stocks=[{"symbol": "F", "above": "inf"}]),
    _doc(stocks=[{"symbol": "F", "above": "nan"}]), _doc(alert={"change_percent": "2.5"}),
]

# Accepted by the schema, rejected by the model: each needs Python the schema cannot express.
SCHEMA_LOOSER = {
    "cross-field: below must be lower than above (Stock model_validator)":
        _doc(stocks=[{"symbol": "F", "above": 10, "below": 12}]),
    "cross-field: alphavantage needs a key source, null asks for none (Quotes model_validator)":
        _doc(quotes={"provider": "alphavantage", "api_key_parameter": None}),
    "cross-field: the same for alphavantage anywhere in the chain (Quotes model_validator)":
        _doc(quotes={"providers": ["yahoo", "alphavantage"], "api_key_secret": None}),
    "cross-field: at most one of api_key_parameter and api_key_secret (Quotes model_validator)":
        _doc(quotes={"api_key_parameter": "/x/key", "api_key_secret": "x/key"}),
    "cross-field: threshold needs change_percent or a price rule (Config model_validator)":
        _doc(alert={"mode": "threshold", "change_percent": None}),
    "tickers are normalised (strip, upper) before the check, so the schema only asks for text":
        _doc(stocks=["BAD TICKER!"]),
    "duplicate tickers are found after upper-casing (tsla == TSLA)": _doc(stocks=["TSLA", "tsla"]),
    "cron field values are checked in Python (minute 61); the schema checks 6 fields":
        _doc(schedule="cron(61 14 ? * MON-FRI *)"),
    "cron needs exactly one '?' in day-of-month/day-of-week: checked in Python":
        _doc(schedule="cron(0 14 * * MON-FRI *)"),
    "rate wants singular for 1 and plural otherwise, and N >= 1: checked in Python":
        _doc(schedule="rate(1 hours)"),
    "a '#' item in cron day-of-week must be the only item (6L,2#1): checked in Python":
        _doc(schedule="cron(0 8 ? * 6L,2#1 *)"),
    "JSON Schema's integer is any number with no fraction, so 30.0 passes; the strict model "
    "wants 30": _doc(function={"timeout_s": 30.0}),
    "the same for an enum of whole numbers: 14.0 equals 14 to the schema":
        _doc(function={"log_retention_days": 14.0}),
    "JSON has no infinity; YAML's .inf passes exclusiveMinimum 0, the model wants a finite price":
        _doc(stocks=[{"symbol": "F", "above": float("inf")}]),
    "YAML's .nan fails no comparison, so no bound rejects it; the model wants a finite price":
        _doc(stocks=[{"symbol": "F", "above": float("nan")}]),
    "tag keys reserved by stock-alert are refused in any letter case only by the model":
        _doc(tags={"Managed-By": "me"}),
}


@pytest.mark.parametrize("doc", GOOD, ids=[f"good{i}" for i in range(len(GOOD))])
def test_both_accept(doc: Any) -> None:
    assert _model_ok(doc)
    assert VALIDATOR.is_valid(doc), [e.message for e in VALIDATOR.iter_errors(doc)]


@pytest.mark.parametrize("doc", BAD_BOTH, ids=[f"bad{i}" for i in range(len(BAD_BOTH))])
def test_both_reject(doc: Any) -> None:
    assert not _model_ok(doc)
    assert not VALIDATOR.is_valid(doc)


@pytest.mark.parametrize("doc", list(SCHEMA_LOOSER.values()), ids=list(SCHEMA_LOOSER))
def test_schema_looser_only_where_stated(doc: Any) -> None:
    assert VALIDATOR.is_valid(doc) and not _model_ok(doc)


def _parsed(tmp_path: Path, text: str) -> Any:
    """The document as load_config reads it, or None if it fails before the model (YAML)."""
    path = write_config(tmp_path, text)
    try:
        load_config(path)
    except ConfigError as exc:
        if "not valid YAML" in str(exc) or "appears twice" in str(exc):
            return None
    return yaml.safe_load(text)


# test_config.BAD cases the schema accepts (the model rejects them), keyed by the case's text
# (as test_config.py writes it), not its place in the list, so that an edit there cannot shift
# them onto other cases: a text no longer in BAD fails test_looser_bad_cases_are_in_bad.
LOOSER_BAD_CASES = {
    MINIMAL.replace("[TSLA, F, GM]", "[TSLA, 'BAD TICKER!']"):
        "tickers are normalised (strip, upper) in Python before the check",
    MINIMAL.replace("[TSLA, F, GM]", "[TSLA, tsla]"): "duplicates only after upper-casing",
    MINIMAL + 'schedule: "cron(0 14 * * MON-FRI *)"\n': "cron without '?' (checked in Python)",
    MINIMAL + 'schedule: "rate(5 minute)"\n': "rate's unit and number (checked in Python)",
    MINIMAL + "quotes: {provider: alphavantage, api_key_parameter: null}\n":
        "alphavantage without a key (cross-field)",
    MINIMAL + "alert: {mode: threshold, change_percent: null}\n":
        "threshold without a rule (cross-field)",
    MINIMAL.replace("[TSLA, F, GM]", "[{symbol: F, above: 10, below: 12}]"):
        "below >= above (cross-field)",
}


def test_looser_bad_cases_are_in_bad() -> None:
    texts = [text for text, _ in BAD]
    assert [text for text in LOOSER_BAD_CASES if text not in texts] == []


@pytest.mark.parametrize("case", BAD, ids=[f"test_config.BAD[{i}]" for i in range(len(BAD))])
def test_config_bad_cases(tmp_path: Path, case: tuple[str, list[str]]) -> None:
    doc = _parsed(tmp_path, case[0])
    if doc is None:  # invalid YAML or a duplicate key: the YAML reader's job, not the schema's
        return
    assert not _model_ok(doc)
    assert VALIDATOR.is_valid(doc) == (case[0] in LOOSER_BAD_CASES), case[0]


# Odd values, as YAML can produce them: whatever the strict model accepts, the schema must too.
_ODD = [128, 129, 900, 10240, 0, -0, 128.0, 128.5, -0.0, 2**70, 10**400, True, False, None,
        float("inf"), float("nan"), 5e-324, 1e308, "128", " 128 ", "1e2", "inf", ""]
_FIELDS = [("function", "memory_mb"), ("function", "timeout_s"),
           ("function", "log_retention_days"), ("alert", "change_percent"), (None, "enabled")]


@pytest.mark.parametrize("value", _ODD, ids=[repr(x)[:12] for x in _ODD])
@pytest.mark.parametrize(("section", "field"), _FIELDS, ids=[f for _, f in _FIELDS])
def test_schema_never_rejects_what_the_model_accepts(section: str | None, field: str,
                                                     value: Any) -> None:
    doc = _doc(**({section: {field: value}} if section else {field: value}))
    if _model_ok(doc):
        assert VALIDATOR.is_valid(doc), value
    if isinstance(value, str) or (isinstance(value, bool) and field != "enabled"):
        assert not _model_ok(doc) and not VALIDATOR.is_valid(doc), value  # strict, both


@pytest.mark.parametrize("value", _ODD, ids=[repr(x)[:12] for x in _ODD])
def test_schema_never_rejects_a_price_the_model_accepts(value: Any) -> None:
    doc = _doc(stocks=[{"symbol": "F", "above": value}])
    if _model_ok(doc):
        assert VALIDATOR.is_valid(doc), value


def test_cli_prints_the_same_schema() -> None:
    result = CliRunner().invoke(app, ["config", "schema"])
    assert result.exit_code == 0
    printed = json.loads(result.output)
    assert printed == config_schema()
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(printed["properties"]) == set(Config.model_fields)  # no key the model lacks


def test_every_key_says_what_it_does() -> None:
    """The config reference (docs/reference/config.md) is generated from these descriptions:
    a key added to the model without one, or a description left for a key that is gone,
    fails here."""
    from provision.config.descriptions import DESCRIPTIONS
    from provision.config.schema import properties

    found = dict(properties(config_schema()))
    assert "function.memory_mb" in found and "stocks[].above" in found  # nested keys walked
    assert sorted(set(found) - set(DESCRIPTIONS)) == []  # keys nobody described
    assert sorted(set(DESCRIPTIONS) - set(found)) == []  # descriptions of no key
    assert [p for p, node in found.items() if not node.get("description")] == []


def test_config_check_prints_defaults_and_rejects_bad(tmp_path: Path) -> None:
    path = write_config(tmp_path, "name: x\nstocks: [tsla]\n")
    human = CliRunner().invoke(app, ["config", "check", "-c", str(path)])
    assert human.exit_code == 0, human.output
    effective = yaml.safe_load(human.stdout)  # stderr warns: this config notifies no one
    assert effective["stocks"] == [{"symbol": "TSLA", "name": None, "above": None, "below": None}]
    assert effective["function"]["memory_mb"] == 128 and effective["alert"]["mode"] == "summary"
    as_json = CliRunner().invoke(app, ["config", "check", "-c", str(path), "--output", "json"])
    assert json.loads(as_json.stdout)["config"] == effective
    bad = write_config(tmp_path, "name: x\nstocks: [tsla]\nschedule: nope\n", "bad.yaml")
    result = CliRunner().invoke(app, ["config", "check", "-c", str(bad)])
    assert result.exit_code == 2 and "schedule" in result.output
    assert "Traceback" not in result.output
