"""`stock-alert secret set` and `down --delete-secret`: the installed command against a moto
server, through the counting proxy. The key never shows: every test that stores one searches
everything the command printed for it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from provision.local.quote_server import QuoteServer
from tests.support.awsproxy import AwsProxy
from tests.support.configs import MINIMAL, write_config
from tests.support.fixtures import endpoint_session
from tests.support.inventory import Inventory, is_empty

Cli = Callable[..., subprocess.CompletedProcess[str]]
KEY = "av-Key-7Q2x9ZpL"
PARAMETER = "/stock-alert/t1/api-key"
OURS = {"managed-by": "stock-alert", "stock-alert:stack": "t1"}


def _printed(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def _parameter_tags(moto_server: str, name: str = PARAMETER) -> dict[str, str]:
    ssm = endpoint_session(moto_server).client("ssm")
    listed = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)
    return {t["Key"]: t["Value"] for t in listed["TagList"]}


def test_set_stores_a_tagged_securestring_at_the_default_path(
        cli: Cli, tmp_path: Path, moto_server: str, aws_proxy: AwsProxy) -> None:
    write_config(tmp_path, MINIMAL + "quotes: {provider: alphavantage}\n")
    result = cli("secret", "set", input=KEY + "\n")
    assert result.returncode == 0, result.stderr
    assert f"Stored the API key in SSM parameter {PARAMETER} (created, version 1)" in result.stdout
    assert KEY not in _printed(result)
    ssm = endpoint_session(moto_server).client("ssm")
    stored = ssm.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]
    assert stored["Type"] == "SecureString" and stored["Value"] == KEY
    assert _parameter_tags(moto_server) == OURS
    # one read (attempts of it, on a busy machine), one write: the tags go with the create;
    # the caller's identity, for the account the command names (issue 21, item 6)
    assert {c.key for c in aws_proxy.calls} == {"ssm:ListTagsForResource", "ssm:PutParameter",
                                                "sts:GetCallerIdentity"}
    assert [c.key for c in aws_proxy.writes()] == ["ssm:PutParameter"]


def test_an_existing_key_is_replaced_only_with_overwrite(
        cli: Cli, tmp_path: Path, moto_server: str, aws_proxy: AwsProxy) -> None:
    write_config(tmp_path, MINIMAL + "quotes: {provider: alphavantage}\n")
    assert cli("secret", "set", input=KEY).returncode == 0
    refused = cli("secret", "set", input="other-key")
    assert refused.returncode == 1
    assert "already holds a key; nothing was changed. Pass --overwrite" in refused.stderr
    ssm = endpoint_session(moto_server).client("ssm")
    assert ssm.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]["Value"] == KEY
    aws_proxy.reset_calls()
    replaced = cli("secret", "set", "--overwrite", "--output", "json", input="other-key")
    assert replaced.returncode == 0, replaced.stderr
    doc = json.loads(replaced.stdout)
    assert doc == {"command": "secret set", "store": "ssm", "name": PARAMETER,
                   "action": "overwritten", "arn": PARAMETER, "version": "2", "kms_key": None,
                   "configured": True, "account": "123456789012",
                   "endpoint": aws_proxy.url}
    stored = ssm.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]
    assert stored["Value"] == "other-key" and stored["Version"] == 2
    assert _parameter_tags(moto_server) == OURS
    # PutParameter with Overwrite carries no Tags (moto refuses both together, as AWS does),
    # and the tags were already right: no tag call.
    assert [c.key for c in aws_proxy.writes()] == ["ssm:PutParameter"]


@pytest.mark.parametrize(("stdin", "words"), [
    ("", ["from stdin is empty", "secret set < key.txt"]),
    ("  \n\n", ["from stdin is empty"]),
    ("two words\n", ["spaces, line breaks or control characters"]),
    ("line1\nline2\n", ["spaces, line breaks or control characters"]),
    ("k" * 5000, ["longer than 4096 bytes"]),
])
def test_a_bad_key_is_refused_before_any_aws_call(
        cli: Cli, tmp_path: Path, aws_proxy: AwsProxy, stdin: str, words: list[str]) -> None:
    write_config(tmp_path, MINIMAL + "quotes: {provider: alphavantage}\n")
    result = cli("secret", "set", input=stdin)
    assert result.returncode == 2, result.stderr
    flat = " ".join(result.stderr.split())
    for word in words:
        assert word in flat, (word, flat)
    assert "Traceback" not in result.stderr and aws_proxy.calls == []


def test_store_must_agree_with_the_config(cli: Cli, tmp_path: Path, aws_proxy: AwsProxy) -> None:
    write_config(tmp_path, MINIMAL + "quotes: {provider: alphavantage}\n")
    result = cli("secret", "set", "--store", "secretsmanager", input=KEY)
    assert result.returncode == 2
    flat = " ".join(result.stderr.split())
    assert "--store secretsmanager disagrees with the config: quotes.api_key_parameter" in flat
    assert "quotes.api_key_secret" in flat and aws_proxy.calls == []


def test_no_option_takes_the_key(cli: Cli, tmp_path: Path, aws_proxy: AwsProxy) -> None:
    write_config(tmp_path, MINIMAL + "quotes: {provider: alphavantage}\n")
    result = cli("secret", "set", KEY)
    assert result.returncode == 2 and aws_proxy.calls == []
    helped = cli("secret", "set", "--help")
    assert "--value" not in helped.stdout and "hidden prompt" in " ".join(helped.stdout.split())


def test_without_a_key_source_it_says_what_to_add(
        cli: Cli, tmp_path: Path, moto_server: str) -> None:
    write_config(tmp_path, MINIMAL)  # yahoo: no key configured
    result = cli("secret", "set", "--store", "secretsmanager", input=KEY)
    assert result.returncode == 0, result.stderr
    assert "Secrets Manager secret stock-alert/t1/api-key (created" in result.stdout
    assert "add 'quotes: {api_key_secret: stock-alert/t1/api-key}'" in result.stderr
    # down looks in both stores' default places, since the config names neither
    gone = cli("down", "--yes", "--delete-secret")
    assert gone.returncode == 0, gone.stderr
    assert "Deleted the API key in Secrets Manager secret stock-alert/t1/api-key." in gone.stderr
    sm = endpoint_session(moto_server).client("secretsmanager")
    assert sm.list_secrets(IncludePlannedDeletion=True)["SecretList"] == []
    again = cli("down", "--yes", "--delete-secret")
    assert ("No API key to delete: SSM parameter /stock-alert/t1/api-key or Secrets Manager "
            "secret stock-alert/t1/api-key does not exist.") in " ".join(again.stderr.split())


def test_down_keeps_the_key_unless_asked_and_never_deletes_a_foreign_one(
        cli: Cli, tmp_path: Path, moto_server: str) -> None:
    write_config(tmp_path, MINIMAL + "quotes: {provider: alphavantage}\n")
    assert cli("secret", "set", input=KEY).returncode == 0
    ssm = endpoint_session(moto_server).client("ssm")
    kept = cli("down", "--yes")
    assert kept.returncode == 0, kept.stderr
    assert (f"the API key in SSM parameter {PARAMETER} was kept; 'stock-alert down "
            "--delete-secret' deletes it") in " ".join(kept.stderr.split())
    assert ssm.get_parameter(Name=PARAMETER)["Parameter"]["Name"] == PARAMETER
    gone = cli("down", "--yes", "--delete-secret")
    assert gone.returncode == 0, gone.stderr
    assert f"Deleted the API key in SSM parameter {PARAMETER}." in gone.stderr
    assert ssm.describe_parameters()["Parameters"] == []
    # someone's own parameter at that name: left alone
    ssm.put_parameter(Name=PARAMETER, Value="theirs", Type="SecureString")
    again = cli("down", "--yes", "--delete-secret")
    assert again.returncode == 0, again.stderr
    assert "Left SSM parameter" in again.stderr and "not tagged as this stack's" in again.stderr
    assert ssm.get_parameter(Name=PARAMETER, WithDecryption=True)["Parameter"]["Value"] == \
        "theirs"


def test_secrets_manager_end_to_end_with_invoke_local(
        cli: Cli, tmp_path: Path, moto_server: str, aws_proxy: AwsProxy,
        inventory_now: Callable[[], Inventory]) -> None:
    session = endpoint_session(moto_server)
    with QuoteServer(api_key=KEY) as quotes:  # refuses any other key
        write_config(tmp_path, MINIMAL + "quotes: {provider: alphavantage, api_key_secret: "
                     f't1/api-key, base_url: "{quotes.url}"}}\n')
        stored = cli("secret", "set", "--debug", input=KEY)
        assert stored.returncode == 0, stored.stderr
        assert "AWS call secrets-manager.CreateSecret" in stored.stderr  # --debug was on
        described = session.client("secretsmanager").describe_secret(SecretId="t1/api-key")
        assert {t["Key"]: t["Value"] for t in described["Tags"]} == OURS
        up = cli("up", "--debug")
        assert up.returncode == 0, up.stderr
        aws_proxy.reset_calls()
        assert cli("up").returncode == 0 and aws_proxy.writes() == []  # no-op up: no writes
        ran = cli("invoke", "--local", "--output", "json", "--debug")
        assert ran.returncode == 0, ran.stderr
        payload = json.loads(ran.stdout)
        assert payload["result"]["published"] is True and len(payload["result"]["quotes"]) == 3
        assert quotes.hits == 3  # every request carried exactly the stored key
        assert aws_proxy.count("secretsmanager", "GetSecretValue") == 1  # cached per container
        status = cli("status", "--output", "json", "--debug")
        permissions = cli("permissions", "--output", "json")
        audit = cli("audit")
        assert audit.returncode == 0, audit.stdout + audit.stderr  # nothing to report
    fn = session.client("lambda").get_function(FunctionName="t1")["Configuration"]
    env = fn["Environment"]["Variables"]
    assert env["STOCK_ALERT_API_KEY_SECRET"] == "t1/api-key"
    assert "STOCK_ALERT_API_KEY_PARAMETER" not in env
    rows = json.loads(permissions.stdout)["grants"]
    secret_row = next(r for r in rows if r["action"] == "secretsmanager:GetSecretValue")
    assert secret_row["resource"] == (
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:t1/api-key-??????")
    assert "6 random characters" in secret_row["why"]
    everything = "".join(_printed(r) for r in (stored, up, ran, status, permissions, audit))
    assert KEY not in everything + json.dumps(fn)
    gone = cli("down", "--yes", "--delete-secret")
    assert gone.returncode == 0, gone.stderr
    listed = session.client("secretsmanager").list_secrets(IncludePlannedDeletion=True)
    assert listed["SecretList"] == []  # forced: no recovery window keeps the name blocked
    assert is_empty(inventory_now())  # and down left nothing of the stack
