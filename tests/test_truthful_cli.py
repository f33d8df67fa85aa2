"""The installed command tells the truth at every step (moto server behind the counting proxy):
plans show what will change in config terms, status and down say what is there, the local
quote server and local runs say what they used."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.awsproxy import AwsProxy
from tests.support.cli_helpers import one_paragraph, writes
from tests.support.configs import MINIMAL, write_config
from tests.support.fixtures import cli_environment, cli_path, run_cli

Cli = Callable[..., subprocess.CompletedProcess[str]]

BEFORE = """\
name: t1
region: us-east-1
schedule: "cron(0 14 ? * MON-FRI *)"
stocks: [F, GM]
notify:
  email: [you@example.com]
  sms: ["+15555550100"]
quotes: {base_url: "http://127.0.0.1:9/a"}
alert: {mode: summary, change_percent: 2.0}
"""
AFTER = """\
name: t1
region: us-east-1
schedule: "cron(30 21 ? * MON-FRI *)"
stocks: [F, {symbol: TSLA, above: 300}]
notify:
  email: [you@example.com, b@example.com]
quotes: {provider: alphavantage, api_key_parameter: /t1/av-key, base_url: "http://127.0.0.1:9/b"}
alert: {mode: summary, change_percent: 4.0}
"""


def flat(out: str) -> str:
    """Table text with borders gone and wrapped cells joined, for phrase checks."""
    return " ".join(out.replace("│", " ").split())


def test_plan_names_every_change_in_config_terms(cli: Cli, tmp_path: Path,
                                                 aws_proxy: AwsProxy) -> None:
    config = write_config(tmp_path, BEFORE)
    assert cli("up").returncode == 0
    config.write_text(AFTER, encoding="utf-8")
    aws_proxy.reset_calls()
    result = cli("plan")
    assert result.returncode == 0, result.stderr
    assert writes(aws_proxy) == []
    out = flat(result.stdout)
    # Each of these used to hide behind an environment diff cut at 100 characters ("…").
    for line in ("stocks: +TSLA (above 300)", "stocks: -GM", "alert.change_percent: 2.0 -> 4.0",
                 "quotes.base_url: http://127.0.0.1:9/a -> http://127.0.0.1:9/b",
                 "quotes.providers: yahoo,stooq -> alphavantage",  # the default chain, then one
                 "quotes.api_key_parameter: (not set) -> /t1/av-key",
                 "schedule: cron(0 14 ? * MON-FRI *) -> cron(30 21 ? * MON-FRI *)",
                 "+ email b@example.com", "- sms +15555550100",
                 "policy t1-read-api-key: added (Allow ssm:GetParameter on "
                 "arn:aws:ssm:us-east-1:123456789012:parameter/t1/av-key)",
                 # the security group (issue 12): absent, this config has no network; the
                 # alarm too, without a customer key (issue 21); the notifier unchanged; and the
                 # market-time schedule and its role, with a cron schedule (issue 23)
                 "Plan: 0 to create, 4 to update, 0 to delete, 3 unchanged, 4 absent."):
        assert line in out, line
    assert "…" not in result.stdout and "STOCK_ALERT_" not in result.stdout


def test_plan_of_a_new_stack_shows_the_values_it_will_create(cli: Cli, tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL.replace("name: t1", 'name: t1\nschedule: '
                                           '"cron(30 21 ? * MON-FRI *)"'))
    result = cli("plan")
    assert result.returncode == 0, result.stderr
    out = flat(result.stdout)
    for line in ("schedule: cron(30 21 ? * MON-FRI *)", "state: ENABLED", "retention_days: 14",
                 "memory_mb: 128", "timeout_s: 30", "runtime: python3.12",
                 "stocks: TSLA, F, GM", "+ email you@example.com", "+ sms +15555550100",
                 "policy t1-publish-alerts: Allow sns:Publish on "
                 "arn:aws:sns:us-east-1:123456789012:t1-alerts",
                 # the security group (issue 12): absent, this config has no network; the
                 # alarm too, without a customer key (issue 21); the notifier is made; and the
                 # market-time schedule and its role, with a cron schedule (issue 23)
                 "log_group: /aws/lambda/t1",
                 "policy t1-invoke-notifier: Allow lambda:InvokeFunction on "
                 "arn:aws:lambda:us-east-1:123456789012:function:t1_notify",
                 "Plan: 7 to create, 0 to update, 0 to delete, 0 unchanged, 4 absent."):
        assert line in out, line


def test_second_down_says_absent(cli: Cli, tmp_path: Path, aws_proxy: AwsProxy) -> None:
    write_config(tmp_path, MINIMAL)
    assert cli("up").returncode == 0
    first = cli("down", "--yes")
    assert first.returncode == 0 and "7 to delete" in flat(first.stdout)
    aws_proxy.reset_calls()
    again = cli("down", "--yes")
    assert again.returncode == 0, again.stderr
    assert writes(aws_proxy) == []
    assert "no change" not in again.stdout  # nothing is there: "absent" is the truth
    rows = [line for line in again.stdout.splitlines() if line.startswith("│ ")]
    # 11 kinds: the security group (issue 12) is absent too (no network in this config), and
    # the market-time schedule and its role (issue 23)
    assert len(rows) == 11 and all("│ absent" in row for row in rows)
    assert "Plan: 0 to create, 0 to update, 0 to delete, 0 unchanged, 11 absent." in flat(
        again.stdout)


def test_status_counts_and_says_email_is_pending_on_real_aws(
        cli: Cli, tmp_path: Path, aws_env: dict[str, str]) -> None:
    from provision.local.emulator import MARK

    write_config(tmp_path, MINIMAL)
    assert cli("up").returncode == 0
    # as the built-in emulator's export line marks its endpoint (issue 21: the note is for it)
    result = run_cli(["status"], {**aws_env, MARK: aws_env["AWS_ENDPOINT_URL"]}, tmp_path)
    assert result.returncode == 0, result.stderr
    out = flat(result.stdout)
    # the security-group row (issue 12) is "not used" for a config without network: not
    # counted as in sync, since nothing exists; nor is the alarm without a customer key; seven
    # kinds with the notifier and the on-failure destination (issue 21)
    assert "7 in sync, 0 drifted, 0 missing." in out
    assert "not used" in out
    # The emulator (moto) reports e-mail subscriptions as confirmed at once; real SNS keeps
    # them "PendingConfirmation" until the recipient clicks the link (SNS Subscribe docs:
    # "the subscription ARN is returned ... as 'pending confirmation'" for e-mail).
    assert "email you@example.com: confirmed" in out
    assert "on real AWS they stay pending confirmation" in out
    doc = json.loads(cli("status", "--output", "json").stdout)
    states = {r["kind"]: r["state"] for r in doc["resources"]}
    assert states.pop("security-group") == "not used"
    assert states.pop("alarm") == "not used"
    # a cron schedule: no market-time schedule, no scheduler's role (issue 23)
    assert states.pop("market-schedule") == states.pop("scheduler-role") == "not used"
    assert set(states.values()) == {"in sync"}


@contextmanager
def emulator_with_quotes(tmp_path: Path, *prices: str) -> Iterator[tuple[str, str, list[str]]]:
    """`stock-alert emulator --quotes` as a user runs it: (AWS endpoint, quotes URL, its lines)."""
    env = cli_environment("http://127.0.0.1:9")
    env.pop("AWS_ENDPOINT_URL")
    args = [str(cli_path()), "emulator", "--port", "0", "--quotes", "--quotes-port", "0"]
    for price in prices:
        args += ["--price", price]
    proc = subprocess.Popen(args, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        seen: list[str] = []
        while not seen or "Ctrl-C" not in seen[-1]:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            seen.append(line.rstrip("\n"))
        export = next(line for line in seen if "export AWS_ENDPOINT_URL=" in line)
        base = next(line for line in seen if 'base_url: "' in line)
        yield (export.split("AWS_ENDPOINT_URL=", 1)[1].split()[0], base.split('"')[1], seen)
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0


@pytest.mark.process
def test_emulator_quotes_with_set_prices_fire_the_rules(tmp_path: Path) -> None:
    # TSLA crosses above 300 and F below 12 since the previous close (alert.when: crossed, the
    # default); GM steady: no rule may fire for it
    prices = ("TSLA=310:+4%", "f=11.5:-5%", "GM=48")
    with emulator_with_quotes(tmp_path, *prices) as (url, quotes, out):
        assert quotes.startswith("http://127.0.0.1:")
        assert "  TSLA: fixed at 310, +4.00% on the day (previous close 298.077)" in out
        assert "  F: fixed at 11.5, -5.00% on the day (previous close 12.1053)" in out
        write_config(tmp_path, f"""\
name: t1
stocks: [{{symbol: TSLA, above: 300}}, {{symbol: F, below: 12}}, GM]
notify: {{email: [you@example.com]}}
quotes: {{base_url: "{quotes}"}}
alert: {{mode: threshold, change_percent: 3}}
""")
        env = cli_environment(url)
        assert run_cli(["up"], env, tmp_path).returncode == 0
        result = run_cli(["invoke", "--local", "--output", "json"], env, tmp_path)
        assert result.returncode == 0, result.stderr
        fired = {(r["symbol"], r["rule"]) for r in json.loads(result.stdout)["result"]
                 ["rules_fired"]}
        assert fired == {("TSLA", "above"), ("TSLA", "change_percent"), ("F", "below"),
                         ("F", "change_percent")}
        assert run_cli(["down", "--yes"], env, tmp_path).returncode == 0


def test_emulator_bad_price_is_input_error_naming_it(cli: Cli, aws_proxy: AwsProxy) -> None:
    result = cli("emulator", "--port", "0", "--price", "TSLA=310:4")
    assert result.returncode == 2
    line = one_paragraph(result.stderr)
    assert "--price 'TSLA=310:4'" in line and "TSLA=310:+4%" in line
    assert result.stdout == "" and aws_proxy.calls == []


def test_remote_function_error_shows_lambdas_error_message(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """In-process: Lambda's answer for an unhandled error, in its wire shape (moto needs Docker
    to run code). The botocore model says of Invoke's FunctionError: "If present, indicates that
    an error occurred during function execution. Details about the error are included in the
    response payload"; the payload is an ErrorObject {errorMessage, errorType, stackTrace}
    (https://docs.aws.amazon.com/lambda/latest/api/API_ErrorObject.html,
    https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html)."""
    import base64
    import io
    from typing import Any

    from botocore.awsrequest import AWSResponse
    from moto import mock_aws

    from provision.core import pipelines
    from provision.features import invoke
    from provision.output import render
    from tests.support.inprocess import target

    class Raw(io.BytesIO):
        def stream(self, **_: Any) -> Any:
            yield self.getvalue()

    message = ("no quote fetched for any of 3 symbols: TSLA (unknown symbol), F (unknown "
               "symbol), GM (unknown symbol)")
    body = json.dumps({"errorMessage": message, "errorType": "QuotesUnavailable",
                       "requestId": "r-1", "stackTrace": ['  File "/var/task/handler.py"']})
    headers = {"X-Amz-Function-Error": "Unhandled", "Content-Type": "application/json",
               "X-Amz-Log-Result": base64.b64encode(b"START\n{\"event\": \"error\"}\n").decode()}
    with mock_aws():
        prepared, _ = target(write_config(tmp_path, MINIMAL))
        pipelines.up(prepared)
        prepared.aws.events.register_first(  # Invoke has a client of its own (call_once)
            "before-send.lambda.Invoke", lambda **_: AWSResponse(
                "https://lambda.us-east-1.amazonaws.com", 200, headers, Raw(body.encode())))
        run = invoke.invoke_remote(prepared)
    assert run.failed and run.error == "Unhandled"
    assert run.error_message == f"QuotesUnavailable: {message}"
    render.print_invoke(run)
    out = " ".join(capsys.readouterr().out.split())
    assert "function error Unhandled" in out and f"The function failed: QuotesUnavailable: " \
        f"{message}" in out


@pytest.mark.process
def test_emulator_without_moto_names_the_pip_of_this_installation(tmp_path: Path) -> None:
    # A 'moto' package without moto.server on PYTHONPATH: the import fails as if the extra
    # were not installed, in the real installed command.
    (tmp_path / "fake" / "moto").mkdir(parents=True)
    (tmp_path / "fake" / "moto" / "__init__.py").write_text("", encoding="utf-8")
    env = {**cli_environment("http://127.0.0.1:9"), "PYTHONPATH": str(tmp_path / "fake")}
    result = run_cli(["emulator", "--port", "0"], env, tmp_path)
    assert result.returncode == 2
    line = " ".join(one_paragraph(result.stderr).split())
    venv_pip = cli_path().parent / "pip"
    assert f"{venv_pip} install 'stock-alert[emulator]'" in line, line
