"""`stock-alert init`: flags without a terminal, questions on a real pty, never a half config."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from provision.cli import app
from provision.config.model import load_config
from tests.support.terminal import run_on_pty

FLAGS = ["--stock", "tsla", "--stock", "F,GM", "--email", "a@b.co", "--sms", "+15555550100",
         "--name", "demo1", "--schedule", "rate(1 hour)", "--mode", "threshold"]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _init(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["init", *args])
    return result.exit_code, " ".join(result.output.split())


def test_flags_write_a_valid_commented_config_and_its_schema(here: Path) -> None:
    code, output = _init(*FLAGS)
    assert code == 0, output
    text = (here / "config.yaml").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=./stock-alert.schema.json"
    config = load_config(here / "config.yaml")
    assert [s.symbol for s in config.stocks] == ["TSLA", "F", "GM"]
    assert (config.name, config.schedule, config.alert.mode) == ("demo1", "rate(1 hour)",
                                                                 "threshold")
    assert config.notify.email == ("a@b.co",) and config.notify.sms == ("+15555550100",)
    schema = json.loads((here / "stock-alert.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(yaml.safe_load(text), schema)  # the editor would show no error
    assert "# " in text.split("function:")[1]  # the defaults are written out, with comments
    assert oct((here / "config.yaml").stat().st_mode & 0o777) != "0o600"


@pytest.mark.parametrize(("args", "flag", "words"), [
    (["--stock", "BAD TICKER!"], "--stock", ["ticker"]),
    (["--stock", "T", "--sms", "555-0100"], "--sms", ["E.164", "'555-0100'"]),
    (["--stock", "T", "--email", "nope"], "--email", ["'nope'"]),
    (["--stock", "T", "--schedule", "cron(0 14 * * MON-FRI)"], "--schedule", ["6"]),
    (["--stock", "T", "--name", "bad_name!"], "--name", ["'bad_name!'"]),
    (["--stock", "T", "--mode", "loud"], "--mode", ["'loud'", "summary", "threshold"]),
    (["--stock", "T", "--stock", "t"], "--stock", ["twice"]),
    (["--email", "a@b.co"], "--stock", ["required", "terminal"]),
])
def test_bad_flag_is_exit_2_naming_it_and_writes_nothing(
        here: Path, args: list[str], flag: str, words: list[str]) -> None:
    code, output = _init(*args)
    assert code == 2
    assert output.startswith(f"error: {flag}"), output
    assert all(w in output for w in words), output
    assert "nothing was written" in output and "Traceback" not in output
    assert list(here.iterdir()) == []


def test_never_overwrites_without_force(here: Path) -> None:
    (here / "config.yaml").write_text("mine\n", encoding="utf-8")
    code, output = _init("--stock", "T")
    assert code == 2 and "already exists" in output and "--force" in output
    assert (here / "config.yaml").read_text(encoding="utf-8") == "mine\n"
    assert not (here / "stock-alert.schema.json").exists()
    code, _ = _init("--stock", "T", "--force")
    assert code == 0 and load_config(here / "config.yaml").stocks[0].symbol == "T"


def test_second_config_in_the_same_folder_shares_the_schema(here: Path) -> None:
    assert _init("--stock", "T")[0] == 0
    code, output = _init("other.yaml", "--stock", "F")
    assert code == 0, output
    assert load_config(here / "other.yaml").stocks[0].symbol == "F"


def test_a_crash_while_writing_leaves_the_old_file_and_no_debris(
        here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (here / "config.yaml").write_text("name: old\nstocks: [T]\n", encoding="utf-8")
    real_replace = os.replace

    def crash(src: str, dst: str) -> None:
        if str(dst).endswith("config.yaml"):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash)
    code, output = _init("--stock", "T", "--force")
    assert code == 1 and "No space left" in output
    assert (here / "config.yaml").read_text(encoding="utf-8") == "name: old\nstocks: [T]\n"
    assert [p.name for p in here.iterdir()] == ["config.yaml"]  # no temp file, no schema yet


def _converse(args: list[str], cwd: Path, script: list[tuple[str, str]],
              timeout: float = 60) -> tuple[int, str]:
    """Run stock-alert on a pty; each time the next expected text appears, type its answer."""
    steps, seen = list(script), [0]

    def respond(output: bytes) -> str | None:
        if steps and steps[0][0].encode() in output[seen[0]:]:
            seen[0] = output.index(steps[0][0].encode(), seen[0]) + 1
            return steps.pop(0)[1]
        return None

    code, output = run_on_pty(args, os.environ, cwd, respond, timeout)
    assert not steps, f"never asked {steps[0][0]!r}: {output}"
    return code, output



def test_terminal_asks_checks_each_answer_and_asks_again(tmp_path: Path) -> None:
    code, output = _converse(["init"], tmp_path, [
        ("Stack name", "bad_name!"), ("Stack name", "mine"),
        ("Ticker symbols", "tsla, BAD!"), ("Ticker symbols", "tsla, f"),
        ("E-mail addresses", "nope"), ("E-mail addresses", "a@b.co"),
        ("Phone numbers", "555-0100"), ("Phone numbers", ""),
        ("Schedule", "every day"), ("Schedule", ""),  # empty: the default
        ("Alert mode", "loud"), ("Alert mode", "threshold"),
    ])
    assert code == 0, output
    flat = " ".join(output.split())
    assert "'bad_name!' is not a usable stack name" in flat
    assert "'BAD!' is not a ticker symbol" in flat
    assert "'nope' is not a deliverable e-mail address" in flat
    assert "'555-0100' is not an E.164 phone number" in flat and "'loud' is not allowed" in flat
    assert flat.count("Try again.") == 6
    config = load_config(tmp_path / "config.yaml")
    assert (config.name, [s.symbol for s in config.stocks]) == ("mine", ["TSLA", "F"])
    assert config.notify == type(config.notify)(email=("a@b.co",), sms=())
    # the default answer: the market-time form, half an hour after the New York close (issue 23)
    assert (config.expression, config.alert.mode) == ("cron(30 16 ? * MON-FRI *)", "threshold")
    assert config.market_time is not None and config.market_time.timezone == "America/New_York"


def test_terminal_with_flags_asks_only_for_the_rest(tmp_path: Path) -> None:
    code, output = _converse(["init", "--stock", "T", "--name", "given", "--email", "a@b.co",
                              "--sms", "+15555550100", "--schedule", "rate(1 day)"],
                             tmp_path, [("Alert mode", "")])
    assert code == 0, output
    assert "Stack name" not in output and "Ticker" not in output
    assert load_config(tmp_path / "config.yaml").name == "given"
