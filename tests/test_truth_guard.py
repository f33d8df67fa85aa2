"""Issue 21, item 6: guard the real account.

Every table and JSON document of the stack commands names the endpoint when it is not AWS's
own; a first 'up' on a terminal asks before creating anything (--yes does not ask, and without
a terminal 'up' does not ask, as scripts expect); the emulator's test key with no endpoint is
answered with what to set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.awsproxy import AwsProxy
from tests.support.configs import MINIMAL, write_config
from tests.support.fixtures import run_cli
from tests.support.terminal import at_the_question, run_on_pty


def test_first_up_on_a_terminal_asks_and_no_creates_nothing(
        aws_env: dict[str, str], tmp_path: Path, aws_proxy: AwsProxy) -> None:
    write_config(tmp_path, MINIMAL)
    code, output = run_on_pty(["up"], aws_env, tmp_path, at_the_question("n"))
    flat = " ".join(output.split())
    assert code == 0, output
    assert (f"Nothing of stack t1 exists in stack t1 in us-east-1 (account 123456789012, "
            f"endpoint {aws_env['AWS_ENDPOINT_URL']}, not AWS); create it in us-east-1?"
            in flat)
    assert "Cancelled; nothing was created." in flat
    assert aws_proxy.writes() == []


def test_first_up_answered_yes_creates_and_a_second_up_does_not_ask(
        aws_env: dict[str, str], tmp_path: Path, aws_proxy: AwsProxy) -> None:
    write_config(tmp_path, MINIMAL)
    code, output = run_on_pty(["up"], aws_env, tmp_path, at_the_question("y"))
    assert code == 0, output
    assert "Done: 7 created." in output
    code, output = run_on_pty(["up"], aws_env, tmp_path, at_the_question("n"))
    assert code == 0 and "[y/N]" not in output  # the account has seen the stack


def test_yes_and_scripts_are_not_asked(aws_env: dict[str, str], tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL)
    code, output = run_on_pty(["up", "--yes"], aws_env, tmp_path, at_the_question("n"))
    assert code == 0 and "[y/N]" not in output and "Done: 7 created." in output
    write_config(tmp_path, MINIMAL.replace("name: t1", "name: t2"))
    scripted = run_cli(["up"], aws_env, tmp_path)  # no terminal: no question, as before
    assert scripted.returncode == 0 and "[y/N]" not in scripted.stderr


def test_tables_and_documents_name_the_endpoint(aws_env: dict[str, str],
                                                tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL)
    url = aws_env["AWS_ENDPOINT_URL"]
    plan = run_cli(["plan"], aws_env, tmp_path)
    assert f"(account 123456789012, endpoint {url}, not AWS)" in plan.stdout
    for args in (["plan", "-o", "json"], ["up", "-o", "json"], ["status", "-o", "json"],
                 ["down", "--yes", "-o", "json"]):
        doc = json.loads(run_cli(args, aws_env, tmp_path).stdout)
        assert doc["endpoint"] == url and doc["account"] == "123456789012", args


@pytest.mark.parametrize("key,endpoint,expected", [
    ("testing", None, True), ("testing", "http://127.0.0.1:5000", False),
    ("AKIAEXAMPLE", None, False)])
def test_the_emulators_test_key_without_an_endpoint_is_named(
        monkeypatch: pytest.MonkeyPatch, key: str, endpoint: str | None,
        expected: bool) -> None:
    from botocore.exceptions import ClientError, EndpointConnectionError

    from provision.aws.errors import translate, transport_error

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    if endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    else:
        monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    unreachable = transport_error(EndpointConnectionError(
        endpoint_url="https://sts.amazonaws.com/"), endpoint, "sts", "get_caller_identity")
    refused = translate(ClientError({"Error": {"Code": "InvalidClientTokenId", "Message":
                                               "The security token included in the request "
                                               "is invalid."}}, "GetCallerIdentity"),
                        "sts", "get_caller_identity")
    for err in (unreachable, refused):
        assert ("set AWS_ENDPOINT_URL" in err.hint) is expected, err.hint
