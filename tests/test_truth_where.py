"""Issue 21, item 6: every command that talks to AWS names the account, and the endpoint when
it is not AWS's own, not only plan/up/down/status: invoke, logs, audit, permissions,
secret set, sweep and the fleet runs of the stack commands, on a terminal and in JSON."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from provision.local.quote_server import QuoteServer
from provision.output import render
from tests.support.configs import MINIMAL, write_config

Cli = Callable[..., subprocess.CompletedProcess[str]]
ACCOUNT = "123456789012"


@pytest.fixture
def deployed(cli: Cli, tmp_path: Path) -> Iterator[None]:
    with QuoteServer() as quotes:
        write_config(tmp_path, MINIMAL + f'quotes: {{base_url: "{quotes.url}"}}\n')
        assert cli("up").returncode == 0
        yield


COMMANDS: list[tuple[tuple[str, ...], str | None]] = [
    (("invoke", "--local"), None), (("audit",), None), (("permissions",), None),
    (("secret", "set", "--overwrite"), "a-key-0123456789")]


@pytest.mark.usefixtures("deployed")
@pytest.mark.parametrize("args,stdin", COMMANDS)
def test_json_documents_name_the_account_and_the_endpoint(
        cli: Cli, aws_env: dict[str, str], args: tuple[str, ...], stdin: str | None) -> None:
    result = cli(*args, "-o", "json", input=stdin)
    doc = json.loads(result.stdout)
    assert doc["endpoint"] == aws_env["AWS_ENDPOINT_URL"], (args, result.stderr)
    assert doc["account"] == ACCOUNT, args


@pytest.mark.usefixtures("deployed")
@pytest.mark.parametrize("args,stdin", [*COMMANDS, (("logs",), None)])
def test_human_output_names_the_account_and_the_endpoint(
        cli: Cli, aws_env: dict[str, str], args: tuple[str, ...], stdin: str | None) -> None:
    result = cli(*args, input=stdin)
    where = (f"stack t1 in us-east-1 (account {ACCOUNT}, endpoint "
             f"{aws_env['AWS_ENDPOINT_URL']}, not AWS)")
    assert where in " ".join(result.stderr.split()), (args, result.stderr)


@pytest.mark.usefixtures("deployed")
def test_sweep_names_the_endpoint_beside_each_account(cli: Cli, aws_env: dict[str, str]) -> None:
    url = aws_env["AWS_ENDPOINT_URL"]
    doc = json.loads(cli("sweep", "--dry-run", "-o", "json").stdout)
    assert doc["endpoint"] == url and doc["regions"][0]["account"] == ACCOUNT
    human = " ".join(cli("sweep", "--dry-run").stdout.split())
    assert f"by stack (endpoint {url}, not AWS)" in human
    assert f"nothing was deleted (endpoint {url}, not AWS)" in human


@pytest.mark.parametrize("verb", ["plan", "status"])
def test_fleet_runs_name_the_endpoint(cli: Cli, aws_env: dict[str, str], tmp_path: Path,
                                      verb: str) -> None:
    write_config(tmp_path, MINIMAL)
    url = aws_env["AWS_ENDPOINT_URL"]
    doc = json.loads(cli(verb, "--count", "2", "-o", "json").stdout)
    assert doc["endpoint"] == url and {s["account"] for s in doc["stacks"]} == {ACCOUNT}
    human = " ".join(cli(verb, "--count", "2").stdout.split())
    assert f"2 stack(s), 0 failed (endpoint {url}, not AWS)" in human


def test_on_aws_itself_no_endpoint_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    assert render.stack_place("t1", "us-east-1", ACCOUNT) == \
        f"stack t1 in us-east-1 (account {ACCOUNT})"
    assert render.endpoint_note() == "" and render.where_fields(ACCOUNT) == {
        "account": ACCOUNT, "endpoint": None}
