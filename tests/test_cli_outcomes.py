"""How commands end, for people and scripts: one JSON document on failure too, plan's exit code
with conflicts, "no" at down's prompt, and Ctrl-C while every read is being throttled.

The installed command against a moto server, through the counting proxy.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.awsproxy import AwsProxy, Error, throttling
from tests.support.cli_helpers import Cli, direct, one_paragraph, writes
from tests.support.configs import MINIMAL, write_config
from tests.support.fixtures import cli_path

pytestmark = [pytest.mark.server, pytest.mark.timeout(90)]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, MINIMAL)


def _document(stdout: str) -> dict:
    """Exactly one JSON document on stdout."""
    document = json.loads(stdout)
    assert isinstance(document, dict)
    return document


def test_bad_input_with_json_output_is_an_input_error_document(
        cli: Cli, aws_proxy: AwsProxy, tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL.replace("name: t1", "name: 1bad"))
    result = cli("up", "--output", "json")
    assert result.returncode == 2
    document = _document(result.stdout)
    assert document["command"] == "up" and document["exit_code"] == 2
    assert document["error"]["kind"] == "input"
    assert "'1bad'" in document["error"]["message"] and document["error"]["hint"] is not None
    assert aws_proxy.calls == []


def test_aws_refusal_with_json_output_is_an_aws_error_document(
        cli: Cli, aws_proxy: AwsProxy, config: Path) -> None:
    aws_proxy.inject(Error(403, "AccessDenied", "User: u is not authorized to perform: "
                           "iam:GetRole"), "iam", "GetRole", times=None)
    result = cli("status", "--output", "json")
    assert result.returncode == 1
    document = _document(result.stdout)
    assert document["command"] == "status" and document["exit_code"] == 1
    assert document["error"]["kind"] == "aws"
    assert "AccessDenied" in document["error"]["message"]
    assert "permission" in document["error"]["hint"]
    assert "AccessDenied" in one_paragraph(result.stderr)  # people read stderr


def test_plan_with_a_conflict_exits_1_and_its_document_says_why(
        cli: Cli, aws_proxy: AwsProxy, moto_server: str, config: Path) -> None:
    direct(moto_server, "iam").create_role(RoleName="t1-us-east-1-role",
                                           AssumeRolePolicyDocument="{}")
    human = cli("plan")
    assert human.returncode == 1
    assert "conflict" in human.stdout and "t1-us-east-1-role" in one_paragraph(human.stderr)
    result = cli("plan", "--output", "json")
    assert result.returncode == 1
    document = _document(result.stdout)
    assert document["error"]["kind"] == "conflict" and document["exit_code"] == 1
    assert [a["op"] for a in document["actions"] if a["kind"] == "role"] == ["conflict"]
    assert writes(aws_proxy) == []


def test_up_refused_by_a_conflict_prints_one_conflict_document(
        cli: Cli, aws_proxy: AwsProxy, moto_server: str, config: Path) -> None:
    direct(moto_server, "sns").create_topic(Name="t1-alerts")
    result = cli("up", "--output", "json")
    assert result.returncode == 1
    document = _document(result.stdout)
    assert document["error"]["kind"] == "conflict" and "t1-alerts" in document["error"]["message"]
    assert writes(aws_proxy) == []


@pytest.mark.parametrize("output", ["human", "json"])
def test_ctrl_c_while_reads_are_throttled_ends_at_once(
        aws_env: dict[str, str], aws_proxy: AwsProxy, config: Path, output: str) -> None:
    """Every read answers Throttling, so each reader thread would retry for the whole 300 s
    deadline; a real SIGINT must still end the command at once, with exit 130."""
    for service in ("sts", "iam", "logs", "sns", "lambda", "events"):
        aws_proxy.inject(throttling(service), service, None, times=None, skip=1
                         if service == "sts" else 0)
    proc = subprocess.Popen([str(cli_path()), "status", "--output", output], env=aws_env,
                            cwd=config.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 30
        while aws_proxy.count("iam", "GetRole") < 2:  # the readers are retrying
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
        took = time.monotonic() - sent
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    print(f"SIGINT to exit: {took:.3f} s")
    # Without the fix the readers go on retrying until the 300 s deadline (communicate's 15 s
    # timeout fires first). It takes ~0.2 s on an idle machine; the bound is loose so that
    # a loaded machine (parallel workers) does not make it fail when the behaviour is right.
    assert took < 5.0, took
    assert "Interrupted" in err and "Traceback" not in err
    if output == "json":
        document = _document(out)
        assert document["error"]["kind"] == "interrupted" and document["exit_code"] == 130
    else:
        assert out == ""


def test_an_endpoint_that_is_not_aws_is_a_plain_error(tmp_path: Path, config: Path) -> None:
    """Something answers on AWS_ENDPOINT_URL, but not as AWS does (a web server, a proxy's
    error page): exit 1 with a message naming the endpoint, not a parser traceback."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.support.fixtures import cli_environment, run_cli

    class Page(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = b"<!doctype html><html><title>It works!</title></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        result = run_cli(["status", "--output", "json"], cli_environment(url), config.parent,
                         timeout=60)
    finally:
        server.shutdown()
    assert result.returncode == 1, result.stderr
    message = one_paragraph(result.stderr)
    assert url in message and "not an AWS answer" in message
    assert "Unexpected error" not in message and "Traceback" not in result.stderr
    assert _document(result.stdout)["error"]["kind"] == "aws"
