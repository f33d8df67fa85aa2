"""Issue 21, items 3, 4, 5, 7, 9 and 11: every message matches what the tool did.

Against the moto server through the installed command (the demo with its own emulator)."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from provision.config.model import load_config
from provision.features.cost.estimate import estimate
from tests.support.configs import MINIMAL, write_config
from tests.support.fixtures import cli_environment, endpoint_session, run_cli
from tests.support.terminal import at_the_question, run_on_pty

Cli = Callable[..., subprocess.CompletedProcess[str]]
NOBODY = MINIMAL.replace("  email: [you@example.com]\n", "").replace(
    '  sms: ["+15555550100"]\n', "").replace("notify:\n", "notify: {email: [], sms: []}\n")


# ---- item 3: the demo shows no server traceback and says where the server's log is --------

def test_demo_holds_no_traceback_and_names_the_emulators_log(tmp_path: Path) -> None:
    env = cli_environment("http://127.0.0.1:9")
    result = run_cli(["demo"], env, tmp_path, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    both = result.stdout + result.stderr
    assert "Traceback" not in both and "NotImplementedError" not in both
    flat = " ".join(both.replace("│", " ").split())
    assert "sns:GetSMSSandboxAccountStatus is not available on the emulator" in flat
    assert "read permissions" not in flat  # not a permission problem
    line = next(x for x in result.stdout.splitlines() if "The emulator's own log" in x)
    log = Path(line.rsplit(": ", 1)[1].strip())
    # the traceback is there instead, for whoever wants it
    assert "get_sms_sandbox_account_status" in log.read_text(encoding="utf-8")
    log.unlink()


def test_the_sms_note_blames_permissions_only_for_a_refusal() -> None:
    from provision.kinds.sms_delivery import Delivery, Read, verdict

    refused = verdict("+15555550100", Read(False), Read(error="x: AccessDenied", denied=True),
                      Read())
    failed = verdict("+15555550100", Read(False), Read(error="x: InternalFailure"), Read())
    assert refused.delivery is failed.delivery is Delivery.UNKNOWN
    assert "read permissions" in refused.note and "read permissions" not in failed.note


# ---- item 4: down speaks of the key only when it exists -----------------------------------

def test_down_mentions_the_key_only_if_it_exists(cli: Cli, tmp_path: Path,
                                                moto_server: str) -> None:
    write_config(tmp_path, MINIMAL + "quotes: {provider: alphavantage}\n")
    assert cli("up").returncode == 0
    never = cli("down", "--yes")
    assert never.returncode == 0, never.stderr
    assert "API key" not in never.stderr
    assert cli("up").returncode == 0
    assert cli("secret", "set", "--stdin", input="key-123\n").returncode == 0
    kept = cli("down", "--yes")
    assert "note: the API key in SSM parameter /stock-alert/t1/api-key was kept" in kept.stderr


# ---- item 5: the emulator's paste-in line goes under the existing quotes: block -----------

def test_emulator_paste_in_is_base_url_under_quotes(tmp_path: Path) -> None:
    from provision.local import emulator

    lines: list[str] = []
    emulator._greet("http://127.0.0.1:1", lines.append, "http://127.0.0.1:2", {})
    text = "\n".join(lines)
    assert "add base_url under the existing 'quotes:' block" in text
    block = "\n".join(x[2:] for x in lines if x.startswith("  quotes:")
                      or x.startswith("    base_url"))
    assert "{" not in block  # not a flow mapping that would make a second quotes: key
    config = write_config(tmp_path, MINIMAL + "quotes:\n  provider: yahoo\n" + "\n".join(
        x[2:] for x in lines if x.startswith("    base_url")) + "\n")
    assert load_config(config).quotes.base_url == "http://127.0.0.1:2"


# ---- item 7: no subscribers -------------------------------------------------------------

def test_no_subscribers_is_said_by_plan_up_config_check_and_cost(cli: Cli,
                                                                tmp_path: Path) -> None:
    write_config(tmp_path, NOBODY)
    for args in (("config", "check"), ("plan",), ("up",)):
        result = cli(*args)
        assert result.returncode == 0, result.stderr
        assert "warning: no subscribers: alerts go nowhere" in result.stderr, args
    cost = cli("cost")
    assert "Messages per subscriber" not in cost.stdout
    assert "No subscribers: alerts go nowhere: no message is sent." in cost.stdout
    doc = json.loads(cli("cost", "--output", "json").stdout)
    assert doc["subscribers"] == 0 and doc["messages_per_subscriber"] is None
    write_config(tmp_path, MINIMAL)
    assert "no subscribers" not in cli("plan").stderr


# ---- item 9: cost qualifiers agree; no placeholder; Ctrl-C at a prompt ---------------------

def test_cost_qualifiers_agree_and_the_alarm_line_names_the_alarm(tmp_path: Path) -> None:
    rate = load_config(write_config(tmp_path, MINIMAL + 'schedule: "rate(7 minutes)"\n'))
    est = estimate(rate, dt.date(2026, 12, 5))
    assert not est.firings.exact and est.messages_qualifier == "at most"
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    keyed = load_config(write_config(tmp_path, MINIMAL.replace(
        "notify:\n", f"notify:\n  kms_key: {key}\n"), "k.yaml"))
    items = [line.item for line in estimate(keyed, dt.date(2026, 12, 5)).lines]
    assert "CloudWatch alarm (t1-errors)" in items and not any("<" in i for i in items)


def test_ctrl_c_at_a_prompt_is_exit_130_like_any_interrupt(aws_env: dict[str, str],
                                                           tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL)
    assert run_cli(["up"], aws_env, tmp_path).returncode == 0
    code, text = run_on_pty(["down"], aws_env, tmp_path, at_the_question(signal.SIGINT),
                            timeout=120)  # Ctrl-C at the question
    assert "[y/N]" in text, text
    assert code == 130, text
    assert "error: Interrupted." in text and "Aborted!" not in text


# ---- item 11: status --exit-code ---------------------------------------------------------

def test_status_exit_code_is_0_in_sync_and_3_otherwise(cli: Cli, tmp_path: Path,
                                                      moto_server: str) -> None:
    write_config(tmp_path, MINIMAL)
    assert cli("status", "--exit-code").returncode == 3  # nothing deployed: missing
    assert cli("status").returncode == 0  # without the flag: as before
    assert cli("up").returncode == 0
    assert cli("status", "--exit-code").returncode == 0
    assert cli("status", "--exit-code", "--output", "json").returncode == 0
    endpoint_session(moto_server).client("lambda").update_function_configuration(
        FunctionName="t1", Timeout=99)
    drifted = cli("status", "--exit-code", "--output", "json")
    assert drifted.returncode == 3
    assert json.loads(drifted.stdout)["command"] == "status"  # the document is still whole
