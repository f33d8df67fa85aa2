"""Bad input (config, flags, environment): exit 2, one paragraph, no traceback, ZERO API calls.

Every case runs ``stock-alert`` (in-process, with the case's own environment and folder)
through its own counting proxy, so "zero API calls" is measured, not assumed. The module runs
every case once, up front, and each test then checks its own outcome. The commands rotate over
plan/up/status/down, showing each one checks its input before any call. The console script as
a real process is covered by test_cli_process.py.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.input_cases import FIFO, NEW_CONFIGS, NEW_ENVIRONMENTS
from tests.support.awsproxy import AwsProxy, Call
from tests.support.clirunner import run_cli_inprocess
from tests.support.configs import MINIMAL
from tests.support.fixtures import cli_environment

BASE = "name: t1\nregion: us-east-1\nstocks: [TSLA, F, GM]\n"
NO_REGION = "name: t1\nstocks: [TSLA]\n"
COMMANDS = [("up",), ("plan",), ("status",), ("down", "--yes")]
EMPTY_FILE = "<empty file>"
MESSAGE_LIMIT = 1024



@dataclass(frozen=True)
class Case:
    """One bad input: what to run and what the single error line must (``!``: not) contain."""

    name: str
    args: tuple[str, ...]
    fragments: tuple[str, ...]
    config: str | bytes | None = MINIMAL  # written to ./config.yaml unless None
    env: dict[str, str] = field(default_factory=dict)  # EMPTY_FILE: path of an empty file
    usage_error: str | None = None  # set for click's own usage errors
    bug: str | None = None

    def param(self):  # type: ignore[no-untyped-def]
        marks = [pytest.mark.xfail(strict=True, reason=self.bug)] if self.bug else []
        return pytest.param(self, id=self.name, marks=marks)


def _configs() -> list[Case]:
    raw: list[tuple] = [  # (name, config text, extra args, fragments[, bug])
        ("unknown-key", BASE + "colour: blue\n", [], ["colour", "unknown key"]),
        ("cron-5-fields", BASE + 'schedule: "cron(0 14 * * ?)"\n', [],
         ["schedule", "cron(0 14 * * ?)", "5 fields", "needs 6"]),
        ("cron-no-question-mark", BASE + 'schedule: "cron(0 14 * * MON-FRI *)"\n', [],
         ["schedule", '"?"']),
        ("rate-plural-for-one", BASE + 'schedule: "rate(1 hours)"\n', [],
         ["schedule", "rate(1 hour)"]),
        ("phone-not-e164", BASE + 'notify: {sms: ["555-0100"]}\n', [],
         ["notify.sms", "'555-0100'"]),
        ("email-invalid", BASE + "notify: {email: [not-an-email]}\n", [],
         ["notify.email", "'not-an-email'"]),
        ("runtime-python2", BASE + "function: {runtime: python2.7}\n", [],
         ["function.runtime", "'python2.7'", "python3.12"]),
        ("name-56-chars", BASE.replace("t1", "a" * 56), [], ["name", "a" * 56, "55"]),
        ("name-bad-characters", BASE.replace("t1", '"bad name!"'), [], ["name", "'bad name!'"]),
        ("name-trailing-dash", BASE.replace("t1", "t1-"), [], ["name", "'t1-'"]),
        ("stocks-empty", BASE.replace("[TSLA, F, GM]", "[]"), [], ["stocks", "at least 1"]),
        ("stock-on-is-boolean", BASE.replace("F, GM", "ON"), [], ["stocks[1].symbol", "quote"]),
        ("region-unknown", BASE.replace("us-east-1", "mars-1"), [], ["region", "'mars-1'"]),
        ("memory-64", BASE + "function: {memory_mb: 64}\n", [],
         ["function.memory_mb", "128", "64"]),
        ("retention-13", BASE + "function: {log_retention_days: 13}\n", [],
         ["function.log_retention_days", "13"]),
        ("tag-reserved", BASE + "tags: {managed-by: me}\n", [], ["tags", "'managed-by'"]),
        ("alphavantage-without-key",
         BASE + "quotes: {provider: alphavantage, api_key_parameter: null}\n", [],
         ["quotes", "api_key_parameter"]),
        ("yaml-syntax-error", "name: t1\nstocks: [TSLA\n", [], ["not valid YAML", "line 3"]),
        ("duplicate-key", "name: t1\nname: t2\nstocks: [TSLA]\n", [],
         ["'name' appears twice", "line 2"]),
        ("not-a-mapping", "- name\n- t1\n", [], ["must be a YAML mapping"]),
        ("empty-file", "", [], ["must be a YAML mapping"]),
        ("file-missing", None, ["-c", "missing.yaml"], ["missing.yaml", "not found"]),
        ("directory", None, ["-c", "."], ["cannot read config file", "Is a directory"]),
        ("not-utf8", "name: t1\nstocks: [TSL\xc4]\n".encode("latin-1"), [],
         ["cannot read config file", "not UTF-8", "0xc4", "line 2", "Save the file as UTF-8",
          "!permissions"]),
        ("price-bounds-reversed",
         BASE.replace("[TSLA, F, GM]", "[{symbol: GM, above: 30, below: 40}]"), [],
         ["stocks[0]", "below (40.0) must be lower than above (30.0)", "!at least 1 item"]),
        *NEW_CONFIGS,
    ]
    return [
        Case(name, (*COMMANDS[i % len(COMMANDS)], *args), tuple(fragments), text,
             bug=bug[0] if bug else None)
        for i, (name, text, args, fragments, *bug) in enumerate(raw)
    ]


CONFIGS = _configs()
ENVIRONMENTS = [
    Case("AWS_REGION-unknown", ("up",), ("AWS_REGION", "'nowhere-1'"), NO_REGION,
         {"AWS_REGION": "nowhere-1"}),
    Case("AWS_ENDPOINT_URL-ftp", ("plan",), ("AWS_ENDPOINT_URL", "'ftp://x'"),
         env={"AWS_ENDPOINT_URL": "ftp://x"}),
    *[Case(**kwargs) for kwargs in NEW_ENVIRONMENTS],
    Case("deadline-not-a-number", ("up",), ("STOCK_ALERT_RETRY_DEADLINE_S", "'abc'"),
         env={"STOCK_ALERT_RETRY_DEADLINE_S": "abc"}),
    Case("deadline-zero", ("status",), ("STOCK_ALERT_RETRY_DEADLINE_S", "'0'"),
         env={"STOCK_ALERT_RETRY_DEADLINE_S": "0"}),
    Case("STOCK_ALERT_CONFIG-missing", ("up",), ("elsewhere.yaml", "not found"), None,
         {"STOCK_ALERT_CONFIG": "elsewhere.yaml"}),
    Case("AWS_PROFILE-missing", ("up",), ("AWS profile", "'does-not-exist'"),
         env={"AWS_PROFILE": "does-not-exist", "AWS_CONFIG_FILE": EMPTY_FILE}),
    Case("AWS_PROFILE-missing-no-region", ("plan",), ("AWS profile", "'does-not-exist'"),
         NO_REGION, {"AWS_PROFILE": "does-not-exist", "AWS_CONFIG_FILE": EMPTY_FILE}),
]
FLAGS = [
    Case("region-mars", ("up", "--region", "mars-1"), ("--region", "'mars-1'")),
    Case("profile-missing", ("plan", "--profile", "does-not-exist"),
         ("AWS profile", "'does-not-exist'"),
         env={"AWS_CONFIG_FILE": EMPTY_FILE}),
    Case("output-xml", ("up", "--output", "xml"), ("'xml'",),
         usage_error="Invalid value for '--output'"),
    Case("unknown-option", ("up", "--bogus"), (), usage_error="No such option: --bogus"),
    Case("extra-argument", ("status", "extra-argument"), (),
         usage_error="Got unexpected extra argument"),
    Case("port-out-of-range", ("emulator", "--port", "70000"), ("65535",),
         usage_error="Invalid value for '--port'"),
    Case("unknown-command", ("launch",), (), usage_error="No such command 'launch'"),
]


@dataclass(frozen=True)
class Outcome:
    result: subprocess.CompletedProcess[str]
    calls: list[Call]


def _run_case(case: Case, proxy: AwsProxy, folder: Path) -> Outcome:
    if case.config == FIFO:
        os.mkfifo(folder / "config.yaml")
    elif isinstance(case.config, bytes):
        (folder / "config.yaml").write_bytes(case.config)
    elif case.config is not None:
        (folder / "config.yaml").write_text(case.config, encoding="utf-8")
    (folder / "empty-aws-config").write_text("")
    base = {k: v for k, v in os.environ.items() if not k.startswith("STOCK_ALERT_")}
    env = cli_environment(proxy.url, base)
    for key, value in case.env.items():
        env[key] = str(folder / "empty-aws-config") if value == EMPTY_FILE else value
    proxy.reset_calls()
    result = run_cli_inprocess(case.args, env, folder)
    return Outcome(result, list(proxy.calls))


@pytest.fixture(scope="module")
def outcomes(moto_server_base: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every case of this module, run once, one after another (the environment and the working
    directory are the process's own, so in-process runs cannot overlap), each case's calls
    counted by the one proxy from zero."""
    cases = [*CONFIGS, *ENVIRONMENTS, *FLAGS]
    with AwsProxy(moto_server_base) as proxy:
        return {c.name: _run_case(c, proxy, tmp_path_factory.mktemp(c.name)) for c in cases}


def _check_rejected(case: Case, outcome: Outcome) -> None:
    """Exit 2, nothing on stdout, exactly one error paragraph naming the input, no AWS call."""
    result = outcome.result
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    if case.usage_error is None:  # the tool's own check: one "error:" line and nothing else
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    else:  # click's usage errors: "Usage: ...", "Try '... --help'", then one "Error:" line
        assert result.stderr.startswith("Usage: stock-alert"), result.stderr
        lines = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
        assert len(lines) == 1 and case.usage_error in lines[0], result.stderr
    for fragment in case.fragments:
        if fragment.startswith("!"):
            assert fragment[1:] not in lines[0], lines[0]
        else:
            assert fragment in lines[0], (fragment, lines[0])
    assert len(lines[0].encode()) < MESSAGE_LIMIT, len(lines[0].encode())
    assert outcome.calls == []


@pytest.mark.parametrize("case", [c.param() for c in CONFIGS])
def test_bad_config_is_rejected_before_any_aws_call(
    case: Case, outcomes: dict[str, Outcome]
) -> None:
    _check_rejected(case, outcomes[case.name])


@pytest.mark.parametrize("case", [c.param() for c in ENVIRONMENTS])
def test_bad_environment_is_rejected_before_any_aws_call(
    case: Case, outcomes: dict[str, Outcome]
) -> None:
    _check_rejected(case, outcomes[case.name])


@pytest.mark.parametrize("case", [c.param() for c in FLAGS])
def test_bad_flags_are_rejected_before_any_aws_call(
    case: Case, outcomes: dict[str, Outcome]
) -> None:
    _check_rejected(case, outcomes[case.name])


def test_no_credentials_and_no_endpoint_points_to_the_emulator(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(MINIMAL)
    env = cli_environment("http://127.0.0.1:9")
    for key in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN"):
        env.pop(key)
    env.update({"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                "AWS_EC2_METADATA_DISABLED": "true", "HOME": str(tmp_path)})
    assert not any(k.startswith("AWS_ENDPOINT_URL") for k in env)
    started = time.monotonic()
    result = run_cli_inprocess(["plan"], env, tmp_path)
    elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "No AWS credentials found" in line and "stock-alert emulator" in line
    assert elapsed < 10


def test_help(cli, aws_proxy: AwsProxy) -> None:
    top = cli("--help")
    assert top.returncode == 0
    for command in ("plan", "up", "down", "status", "emulator"):
        assert f"  {command} " in top.stdout, command

    up = cli("up", "--help")
    assert up.returncode == 0
    for option in ("--config", "-c", "--profile", "--region", "--output", "--debug"):
        assert option in up.stdout, option
    assert "safe to run" in up.stdout

    down = cli("down", "--help")
    assert down.returncode == 0 and "--yes" in down.stdout

    bare = cli()  # no arguments: the help, as a usage error on stderr
    assert bare.returncode == 2
    assert bare.stdout == ""
    assert bare.stderr.startswith("Usage: stock-alert [OPTIONS] COMMAND [ARGS]...")
    assert "  up " in bare.stderr and "  down " in bare.stderr
    assert aws_proxy.calls == []
