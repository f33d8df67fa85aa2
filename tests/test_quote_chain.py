"""quotes.providers on the provisioning side: the chain reaches the function's environment, and a
keyed source (alphavantage) anywhere in the chain is treated exactly as `provider: alphavantage`
always was: one read grant for its key, the same operator permissions, export, key warning in
`up`, key row in `status` and finding in `audit`. Then the deployed function, run locally
against the quote server, falls back from a refusing Yahoo to Alpha Vantage with that key."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from provision.cli import app
from provision.config.model import Config, load_config
from provision.core import policies
from provision.core.stack import Stack
from provision.features.export import cloudformation as cf
from provision.features.security import deployer, grants
from provision.local.quote_server import QuoteServer
from tests.support.configs import MINIMAL, write_config

Cli = Callable[..., subprocess.CompletedProcess[str]]
ACCOUNT = "123456789012"
ALONE = "{provider: alphavantage}"
CHAINS = ["{providers: [yahoo, alphavantage]}", "{providers: [stooq, alphavantage, yahoo]}",
          "{providers: [alphavantage, stooq]}"]
READS = {"ssm:GetParameter", "secretsmanager:GetSecretValue"}


def _stack(quotes: str, tmp_path: Path) -> Stack:
    tmp_path.mkdir(exist_ok=True)
    config = load_config(write_config(tmp_path, MINIMAL + f"quotes: {quotes}\n"))
    return Stack(config, ACCOUNT, "us-east-1")


def _reads(stack: Stack) -> list[tuple[str, str]]:
    return [(action, resource) for doc in policies.inline_policies(stack).values()
            for _, action, resource in policies.pairs(doc) if action in READS]


@pytest.mark.parametrize("quotes", CHAINS)
def test_a_keyed_source_anywhere_in_the_chain_is_granted_as_provider_alphavantage(
        quotes: str, tmp_path: Path) -> None:
    chain, alone = _stack(quotes, tmp_path / "chain"), _stack(ALONE, tmp_path / "alone")

    assert _reads(chain) == [
        ("ssm:GetParameter", f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/stock-alert/t1/api-key")]
    assert policies.inline_policies(chain) == policies.inline_policies(alone)
    assert deployer.policy(chain) == deployer.policy(alone)
    assert grants.rows(policies.inline_policies(chain), chain) == grants.rows(
        policies.inline_policies(alone), alone)
    env = chain.function_environment
    assert env["STOCK_ALERT_PROVIDER"] == ",".join(yaml.safe_load(quotes)["providers"])
    assert env["STOCK_ALERT_API_KEY_PARAMETER"] == "/stock-alert/t1/api-key"
    assert {k: v for k, v in env.items() if k != "STOCK_ALERT_PROVIDER"} == {
        k: v for k, v in alone.function_environment.items() if k != "STOCK_ALERT_PROVIDER"}


def test_export_of_a_chain_differs_from_provider_alphavantage_only_in_the_chain(
        tmp_path: Path) -> None:
    def exported(quotes: str) -> dict[str, Any]:
        text = MINIMAL + f"quotes: {quotes}\n"
        return cf.template(Config.model_validate(yaml.safe_load(text)))

    chain, alone = exported(CHAINS[0]), exported(ALONE)
    variables = chain["Resources"]["Function"]["Properties"]["Environment"]["Variables"]
    assert variables.pop("STOCK_ALERT_PROVIDER") == "yahoo,alphavantage"
    alone["Resources"]["Function"]["Properties"]["Environment"]["Variables"].pop(
        "STOCK_ALERT_PROVIDER")
    assert chain == alone


def test_a_chain_without_a_keyed_source_reads_no_key(tmp_path: Path) -> None:
    stack = _stack("{providers: [stooq, yahoo]}", tmp_path)
    assert _reads(stack) == []
    assert stack.config.quotes.api_key_parameter is None
    assert stack.function_environment["STOCK_ALERT_PROVIDER"] == "stooq,yahoo"
    assert "STOCK_ALERT_API_KEY_PARAMETER" not in stack.function_environment


def test_the_default_chain_and_the_older_single_provider(tmp_path: Path) -> None:
    assert _stack("{}", tmp_path / "a").function_environment["STOCK_ALERT_PROVIDER"] == \
        "yahoo,stooq"
    single = _stack("{provider: stooq}", tmp_path / "b")
    assert single.config.quotes.chain == ("stooq",)
    assert single.function_environment["STOCK_ALERT_PROVIDER"] == "stooq"


def test_config_schema_shows_the_new_keys() -> None:
    result = CliRunner().invoke(app, ["config", "schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    quotes = schema["$defs"]["Quotes"]["properties"]
    assert quotes["providers"]["default"] == ["yahoo", "stooq"]
    assert quotes["providers"]["anyOf"][0]["items"]["enum"] == ["yahoo", "stooq", "alphavantage"]
    assert quotes["provider"]["deprecated"] is True
    assert schema["$defs"]["Alert"]["properties"]["when"]["enum"] == ["crossed", "beyond"]


def test_init_writes_the_chain_and_when(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["init", "--stock", "TSLA", "--mode", "threshold"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "config.yaml").read_text(encoding="utf-8")
    assert "  providers: [yahoo, stooq]" in text and "  when: crossed" in text
    config = load_config(tmp_path / "config.yaml")
    assert config.quotes.chain == ("yahoo", "stooq") and config.alert.when == "crossed"


# against the moto server, through the CLI ------------------------------------------------------
PARAMETER = "/t1/av-key"


def _chain_config(tmp_path: Path, url: str) -> None:
    write_config(tmp_path, MINIMAL + "quotes: {providers: [yahoo, alphavantage], "
                 f'api_key_parameter: {PARAMETER}, base_url: "{url}"}}\n')


def test_keyed_fallback_source_is_warned_shown_audited_then_serves(
        cli: Cli, tmp_path: Path) -> None:
    with QuoteServer(api_key="secret-key-123", refuse={"yahoo": 429}) as quotes:
        _chain_config(tmp_path, quotes.url)
        up = cli("up")
        assert up.returncode == 0, up.stderr
        assert (f"warning: the API key is not stored yet in SSM parameter {PARAMETER}: the "
                "function fails on every run until you run 'stock-alert secret set'."
                in " ".join(up.stderr.split()))
        status = json.loads(cli("status", "--output", "json").stdout)
        [row] = [r for r in status["resources"] if r["kind"] == "api-key"]
        assert row["state"] == "missing" and row["name"] == PARAMETER
        audit = json.loads(cli("audit", "--output", "json").stdout)
        assert [f["rule"] for f in audit["findings"]] == ["api-key-missing"]
        failed = cli("invoke", "--local")  # fails though the chain starts with a keyless source
        assert failed.returncode == 1
        assert f"ssm:GetParameter {PARAMETER} failed: ParameterNotFound" in " ".join(
            failed.stderr.split())
        assert quotes.hits == 0  # the key is read before any quote is asked for

        assert cli("secret", "set", "--stdin", input="secret-key-123\n").returncode == 0
        run = cli("invoke", "--local", "--output", "json")
        assert run.returncode == 0, run.stderr
        result = json.loads(run.stdout)["result"]
        assert [q["source"] for q in result["quotes"]] == ["alphavantage"] * 3
        assert quotes.asked("yahoo") == 3 and quotes.asked("alphavantage") == 3
        assert "Quotes from Alpha Vantage (TSLA, F, GM)" in result["message"]["email"]
        permissions = json.loads(cli("permissions", "--output", "json").stdout)
        reads = [g for g in permissions["grants"] if g["action"] in READS]
        assert [g["resource"] for g in reads] == [
            f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/t1/av-key"]


# emulator --refuse --------------------------------------------------------------------------------
def test_emulator_bad_refusal_is_input_error_naming_it(cli: Cli) -> None:
    from tests.support.cli_helpers import one_paragraph

    result = cli("emulator", "--port", "0", "--refuse", "yahoo=soon")
    assert result.returncode == 2
    line = one_paragraph(result.stderr)
    assert "--refuse 'yahoo=soon'" in line and "--refuse stooq=quota" in line
    assert result.stdout == ""


def test_emulator_greeting_says_which_source_refuses() -> None:
    from provision.local import emulator

    lines: list[str] = []
    emulator._greet("http://127.0.0.1:1", lines.append, "http://127.0.0.1:2", {},
                    emulator.parse_refusals(["yahoo", "stooq=quota"]))
    assert "  stooq refuses every request with its used-up daily quota: the next source in " \
           "quotes.providers answers" in lines
    assert any(line.startswith("  yahoo refuses every request with HTTP 429") for line in lines)
    assert "Stooq's CSV quote" in lines[1]


def test_secret_set_for_a_chain_without_a_keyed_source_says_what_to_add(
        cli: Cli, tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL)  # the default chain: yahoo, stooq, no key read
    result = cli("secret", "set", "--stdin", input="k-123\n")
    assert result.returncode == 0, result.stderr
    assert ("note: the config does not read it yet; add 'quotes: {api_key_parameter: "
            "/stock-alert/t1/api-key}' (and alphavantage, the source that needs it, to "
            "quotes.providers), then run 'up'.") in " ".join(result.stderr.split())
