"""invoke, invoke --local, logs and demo: the installed command against a moto server."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from provision.local.quote_server import QuoteServer
from tests.support.awsproxy import AwsProxy
from tests.support.configs import MINIMAL, write_config
from tests.support.fixtures import endpoint_session

Cli = Callable[..., subprocess.CompletedProcess[str]]
TOPIC = "arn:aws:sns:us-east-1:123456789012:t1-alerts"


@pytest.fixture
def quotes() -> Iterator[QuoteServer]:
    with QuoteServer() as server:
        yield server


@pytest.fixture
def deployed(cli: Cli, tmp_path: Path, quotes: QuoteServer) -> Path:
    config = write_config(tmp_path, MINIMAL + f'quotes: {{base_url: "{quotes.url}"}}\n')
    result = cli("up")
    assert result.returncode == 0, result.stderr
    return config


def _sent(topic: str = TOPIC) -> list[dict[str, str]]:
    from provision.local.emulator import published_messages

    return published_messages("123456789012", "us-east-1", topic)


def test_invoke_local_publishes_through_the_emulator(
        deployed: Path, cli: Cli, aws_proxy: AwsProxy) -> None:
    aws_proxy.reset_calls()
    result = cli("invoke", "--local", "--output", "json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["local"] is True and payload["exit_code"] == 0
    assert payload["result"]["published"] is True
    assert [q["symbol"] for q in payload["result"]["quotes"]] == ["TSLA", "F", "GM"]
    events = [json.loads(line)["event"] for line in payload["log"]]
    assert "published" in events
    [message] = _sent()
    assert message["sms"].startswith("TSLA ") and " | F " in message["sms"]
    assert len(message["sms"]) <= 160
    # The subprocess published with the deployed environment, through the same endpoint.
    assert aws_proxy.count("sns", "Publish") == 1
    assert "+15555550100" not in result.stdout and "you@example.com" not in result.stdout
    assert payload["settings_from"] == "deployed" and payload["config_differs"] == []
    assert payload["in_cloudwatch"] is False and result.stderr == ""


def test_invoke_local_prints_what_it_published(deployed: Path, cli: Cli) -> None:
    result = cli("invoke", "--local")
    assert result.returncode == 0, result.stderr
    [message] = _sent()
    out = result.stdout
    flat = " ".join(out.split())
    assert "with the deployed function's settings" in flat and "not in CloudWatch" in flat
    assert f"SMS ({len(message['sms'])} characters):\n  {message['sms']}" in out
    assert f"E-mail subject: {message['subject']}\n{message['email']}" in out


def test_invoke_local_says_when_config_differs_and_from_config_uses_it(
        deployed: Path, cli: Cli, quotes: QuoteServer, aws_proxy: AwsProxy) -> None:
    with QuoteServer(prices={"TSLA": (310.0, 300.0)}) as other:
        deployed.write_text(MINIMAL + f'quotes: {{base_url: "{other.url}"}}\n'
                            "alert: {change_percent: 4.0}\n", encoding="utf-8")
        before = quotes.hits
        as_deployed = cli("invoke", "--local")
        assert as_deployed.returncode == 0, as_deployed.stderr
        assert ("note: config differs from the deployed function in: alert.change_percent, "
                "quotes.base_url; run 'up' first, or pass --from-config") in as_deployed.stderr
        assert quotes.hits == before + 3 and other.hits == 0  # it really used the deployed URL

        aws_proxy.reset_calls()
        from_config = cli("invoke", "--local", "--from-config", "--output", "json")
        assert from_config.returncode == 0, from_config.stderr
        assert other.hits == 3 and quotes.hits == before + 3
        assert "ran with the config's settings, which differ from the deployed function in: " \
            "alert.change_percent, quotes.base_url" in from_config.stderr
        payload = json.loads(from_config.stdout)
        assert payload["settings_from"] == "config"
        assert payload["result"]["quotes"][0]["price"] == 310.0
        assert aws_proxy.writes() == [c for c in aws_proxy.writes() if c.key == "sns:Publish"]


def test_from_config_needs_local(cli: Cli, tmp_path: Path, aws_proxy: AwsProxy) -> None:
    write_config(tmp_path, MINIMAL)
    result = cli("invoke", "--from-config")
    assert result.returncode == 2 and "--from-config works with --local only" in result.stderr
    assert aws_proxy.calls == []


def test_invoke_local_when_every_quote_failed_exits_1_with_the_reason(
        cli: Cli, tmp_path: Path) -> None:
    with QuoteServer(unknown={"TSLA", "F", "GM"}) as gone:
        write_config(tmp_path, MINIMAL + f'quotes: {{base_url: "{gone.url}"}}\n')
        assert cli("up").returncode == 0
        human = cli("invoke", "--local")
        as_json = cli("invoke", "--local", "--output", "json")
    unknown = "yahoo: unknown symbol; stooq: no data"  # every source of the default chain
    reason = (f"QuotesUnavailable: no quote fetched for any of 3 symbols: TSLA ({unknown}), "
              f"F ({unknown}), GM ({unknown})")
    assert human.returncode == 1
    assert f"error: The function failed on this machine: {reason}" in human.stderr
    assert f"The function failed: {reason}" in " ".join(human.stdout.split())
    assert "Traceback" in human.stdout  # the log tail: what the function wrote, as Lambda would
    assert as_json.returncode == 1
    payload = json.loads(as_json.stdout)  # one document: the run, failed
    assert payload["failed"] is True and payload["error_message"] == reason
    assert payload["result"] is None and payload["exit_code"] == 1
    assert f"error: The function failed on this machine: {reason}" in as_json.stderr


def test_logs_help_says_local_runs_are_not_in_cloudwatch(cli: Cli) -> None:
    for command in ("logs", "invoke"):
        text = " ".join(cli(command, "--help").stdout.split())
        assert "local runs are not in CloudWatch" in text, command


def test_invoke_local_without_a_deployment_says_run_up(cli: Cli, tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL)
    result = cli("invoke", "--local")
    assert result.returncode == 1
    assert "not deployed" in result.stderr and "stock-alert up" in result.stderr
    assert "Traceback" not in result.stderr


def test_invoke_remote_on_the_emulator_points_to_local(deployed: Path, cli: Cli) -> None:
    result = cli("invoke")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "needs Docker" in result.stderr and "invoke --local" in result.stderr
    # The reason is the whole first line of moto's error, never cut mid-word ("No such fil").
    reason = result.stderr.split("(", 1)[1].rsplit(")", 1)[0]
    assert "No such file or directory" in reason, reason


def test_logs_prints_events_oldest_first(deployed: Path, cli: Cli, moto_server: str) -> None:
    logs = endpoint_session(moto_server).client("logs")
    logs.create_log_stream(logGroupName="/aws/lambda/t1", logStreamName="s1")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName="/aws/lambda/t1", logStreamName="s1", logEvents=[
        {"timestamp": now - 3000, "message": '{"event": "quotes_fetched"}'},
        {"timestamp": now - 1000, "message": '{"event": "published"}'},
    ])
    logs.put_log_events(logGroupName="/aws/lambda/t1", logStreamName="s1", logEvents=[
        {"timestamp": now - 7200_000, "message": "too old"}])
    result = cli("logs", "--since", "1h")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == [
        '{"event": "quotes_fetched"}', '{"event": "published"}']


def test_logs_follow_prints_new_events_until_interrupted(
        deployed: Path, aws_env: dict[str, str], tmp_path: Path, moto_server: str) -> None:
    import signal

    from tests.support.fixtures import cli_path

    logs = endpoint_session(moto_server).client("logs")
    logs.create_log_stream(logGroupName="/aws/lambda/t1", logStreamName="s1")
    proc = subprocess.Popen([str(cli_path()), "logs", "--follow", "--since", "5m"], env=aws_env,
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    def put(message: str) -> None:
        logs.put_log_events(logGroupName="/aws/lambda/t1", logStreamName="s1", logEvents=[
            {"timestamp": int(time.time() * 1000), "message": message}])

    try:
        put("first")
        assert proc.stdout is not None
        assert proc.stdout.readline().rstrip().endswith("first")  # it is running and reading
        put("arrived later")  # only a follower that keeps polling can print this
        assert proc.stdout.readline().rstrip().endswith("arrived later")
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_logs_bad_since_is_input_error_without_calls(
        cli: Cli, tmp_path: Path, aws_proxy: AwsProxy) -> None:
    write_config(tmp_path, MINIMAL)
    result = cli("logs", "--since", "yesterday")
    assert result.returncode == 2
    assert "--since 'yesterday'" in result.stderr and "30m" in result.stderr
    assert aws_proxy.calls == []


def test_logs_without_log_group(cli: Cli, tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL)
    result = cli("logs")
    assert result.returncode == 1 and "does not exist" in result.stderr


@pytest.mark.process
def test_demo_runs_the_whole_story(tmp_path: Path) -> None:
    from tests.support.fixtures import cli_environment, run_cli

    env = cli_environment("http://127.0.0.1:9")  # demo must ignore it and use its own
    started = time.monotonic()
    result = run_cli(["demo"], env, tmp_path, timeout=120)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    shown = out + result.stderr  # a failure below shows what the demo said
    for step in ("stock-alert up", "must change nothing", "stock-alert status",
                 "invoke --local", "What SNS accepted", "down --yes", "nothing is left"):
        assert step in out, shown
    assert "FAILED" not in out, shown
    assert "Demo complete: every step checked out." in out, shown
    flat = " ".join(out.replace("│", " ").split())
    # moto confirms e-mail subscriptions at once; SNS keeps them "pending confirmation" until
    # the link is clicked (SNS Subscribe, ReturnSubscriptionArn: "pending confirmation"):
    # both the status table and the demo say so.
    assert "on real AWS they stay pending confirmation" in flat
    assert "On real AWS, 'up' makes SNS send a confirmation e-mail" in flat
    # issue 23: Yahoo refuses, Stooq answers and is named; TSLA's crossing leads the SMS
    sms = next((line.strip() for line in out.splitlines() if line.strip().startswith("ALERT ")),
               shown)
    assert sms == "ALERT TSLA crossed>300 | TSLA 301.50 +1.5% | F 12.01 -0.5% | GM 48.20 +0.1%"
    assert "TSLA: crossed above 300.00: previous close 297.00, now 301.50" in out
    assert "Quotes from Stooq (TSLA, F, GM)" in out
    assert out.count('"event":"source_failed"') == 3 and '"reason":"HTTP 429"' in flat
    assert "ok Yahoo refused each symbol (HTTP 429); Stooq, next in the chain, served" in flat
    print(f"demo took {elapsed:.1f} s")


def test_alphavantage_key_from_ssm_end_to_end(cli: Cli, tmp_path: Path, moto_server: str,
                                              aws_proxy: AwsProxy) -> None:
    with QuoteServer(api_key="secret-key-123") as quotes:  # refuses any other key
        _alphavantage(cli, tmp_path, moto_server, aws_proxy, quotes)


def _alphavantage(cli: Cli, tmp_path: Path, moto_server: str, aws_proxy: AwsProxy,
                  quotes: QuoteServer) -> None:
    session = endpoint_session(moto_server)
    session.client("ssm").put_parameter(Name="/t1/av-key", Value="secret-key-123",
                                        Type="SecureString")
    write_config(tmp_path, MINIMAL + "quotes: {provider: alphavantage, api_key_parameter: "
                 f'/t1/av-key, base_url: "{quotes.url}"}}\n')
    assert cli("up").returncode == 0
    iam = session.client("iam")
    assert sorted(iam.list_role_policies(RoleName="t1-us-east-1-role")["PolicyNames"]) == [
        "t1-invoke-notifier", "t1-publish-alerts", "t1-read-api-key", "t1-write-logs"]
    doc = iam.get_role_policy(RoleName="t1-us-east-1-role",
                              PolicyName="t1-read-api-key")["PolicyDocument"]
    assert doc["Statement"][0]["Action"] == ["ssm:GetParameter"]
    assert doc["Statement"][0]["Resource"] == [
        "arn:aws:ssm:us-east-1:123456789012:parameter/t1/av-key"]
    aws_proxy.reset_calls()
    result = cli("invoke", "--local", "--output", "json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["result"]["published"] is True
    assert len(payload["result"]["quotes"]) == 3
    assert aws_proxy.count("ssm", "GetParameter") == 1  # read once, cached for the container
    assert "secret-key-123" not in result.stdout + result.stderr
