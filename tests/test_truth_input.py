"""Issue 21, item 10: input that used to reach "Unexpected error" (exit 1) or do harm is exit 2,
one paragraph naming what is wrong, before any AWS call (counted by the proxy)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.awsproxy import AwsProxy
from tests.support.configs import MINIMAL
from tests.support.fixtures import cli_environment, run_cli

BASE = "name: t1\nregion: us-east-1\nstocks: [TSLA, F, GM]\n"


def _run(moto: str, folder: Path, args: list[str], files: dict[str, str | bytes],
         stdout: int | None = None, stdin: bytes | None = None,
         ) -> tuple[int, str, int]:
    """(exit code, stderr, API calls); ./config.yaml is MINIMAL unless `files` says else."""
    for name, content in {"config.yaml": MINIMAL, **files}.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    with AwsProxy(moto) as proxy:
        env = cli_environment(proxy.url)
        if stdout is None and stdin is None:
            result = run_cli(args, env, folder, timeout=60)
            return result.returncode, result.stderr, len(proxy.calls)
        from tests.support.fixtures import cli_path

        proc = subprocess.run([str(cli_path()), *args], env=env, cwd=folder, input=stdin,
                              stdout=stdout if stdout is not None else subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60, check=False)
        return proc.returncode, proc.stderr.decode(), len(proxy.calls)


def _rejected(outcome: tuple[int, str, int], *fragments: str) -> None:
    code, stderr, calls = outcome
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Unexpected error" not in stderr and "Traceback" not in stderr
    assert calls == 0


CONFIG_CASES = [
    ("control-characters", b"\x00\x01\x02name: t1\n", ["control character (0x00)", "line 1"]),
    ("complex-key-list", BASE + "? [a]\n: b\n", ["the key at line 4 is a list"]),
    ("complex-key-mapping", BASE + "? {a: 1}\n: b\n", ["the key at line 4 is a mapping"]),
]


@pytest.mark.parametrize("name,text,fragments", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_bad_yaml_in_the_config(moto_server_base: str, tmp_path: Path, name: str,
                                text: str | bytes, fragments: list[str]) -> None:
    _rejected(_run(moto_server_base, tmp_path, ["plan"], {"config.yaml": text}), *fragments)


PARTICIPANT_CASES = [
    ("yaml-complex-key", "p.yaml", "- ? [a]\n  : b\n", ["the key at line 1 is a list"]),
    ("csv-field-over-limit", "p.csv", "id\n" + "a" * 131_073 + "\n",
     ["cannot be read as CSV", "longer than 131,072 characters"]),
    ("csv-id-twice", "p.csv", "id,id\nana,bob\n", ["the header names id twice"]),
    ("oversize", "p.csv", "id\n" + "p\n" * 600_000,
     ["participants file", "larger than 1024 KiB", "500 participants", "!stocks"]),
    ("yaml-underscore-number-id", "p.yaml", "- {id: 1_000}\n", ["id '1_000'"]),
]


@pytest.mark.parametrize("name,file,text,fragments", PARTICIPANT_CASES,
                         ids=[c[0] for c in PARTICIPANT_CASES])
def test_bad_participants(moto_server_base: str, tmp_path: Path, name: str, file: str,
                          text: str, fragments: list[str]) -> None:
    code, stderr, calls = _run(moto_server_base, tmp_path, ["plan", "--participants", file],
                               {file: text})
    _rejected((code, stderr, calls), *[f for f in fragments if not f.startswith("!")])
    assert all(f[1:] not in stderr for f in fragments if f.startswith("!"))


def test_participant_ids_are_kept_as_written_and_a_bom_is_accepted(tmp_path: Path) -> None:
    from provision.config.participants import read

    octal = tmp_path / "p.yaml"
    octal.write_text("- {id: 0x10}\n- {id: 017}\n- {id: '42'}\n- {id: 7}\n", encoding="utf-8")
    assert [p.id for p in read(octal)] == ["0x10", "017", "42", "7"]  # not 16, 15
    excel = tmp_path / "p.csv"
    excel.write_bytes(b"\xef\xbb\xbfid,email\r\nana,ana@example.com\r\n")  # Excel "CSV UTF-8"
    assert [(p.id, p.email) for p in read(excel)] == [("ana", "ana@example.com")]


FLAG_CASES = [
    ("sweep-older-than-huge", ["sweep", "--older-than", "999999999d", "--yes"],
     ["--older-than '999999999d'", "3653 days"]),
    ("logs-since-huge", ["logs", "--since", "99999999d"], ["--since '99999999d'", "3653 days"]),
    ("since-arabic-indic", ["logs", "--since", "\u0661\u0662h"], ["is not a duration"]),
    ("account-arabic-indic", ["deployer-policy", "--account", "\u0661" * 12],
     ["is not an AWS account ID"]),
    ("regions-empty", ["plan", "--regions", ""], ["--regions ''", "names no Region"]),
    ("roles-over-cap", ["plan", "--assume-role-file", "roles.txt"],
     ["101 roles", "more than 100"]),
    ("fleet-over-cap", ["plan", "--count", "500", "--regions", "us-east-1,us-west-2,eu-west-1,"
                        "eu-central-1,ap-south-1"], ["2,500 stacks", "more than the 2,000"]),
]


@pytest.mark.parametrize("name,args,fragments", FLAG_CASES, ids=[c[0] for c in FLAG_CASES])
def test_bad_flags(moto_server_base: str, tmp_path: Path, name: str, args: list[str],
                   fragments: list[str]) -> None:
    roles = "".join(f"arn:aws:iam::{i:012d}:role/r\n" for i in range(1, 102))
    _rejected(_run(moto_server_base, tmp_path, args, {"roles.txt": roles}), *fragments)


def test_output_json_to_dev_full_is_exit_2_before_any_call(moto_server_base: str,
                                                           tmp_path: Path) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    with open("/dev/full", "wb") as full:
        for args in (["status", "--output", "json"], ["config", "check", "--output", "json"]):
            _rejected(_run(moto_server_base, tmp_path, args, {}, stdout=full.fileno()),
                      "--output json", "/dev/full")
        # human output to /dev/full: no traceback and no "Unexpected error" either
        code, stderr, _ = _run(moto_server_base, tmp_path, ["cost"], {}, stdout=full.fileno())
    assert code == 1 and "could not be written to stdout (No space left on device)" in stderr
    assert "Traceback" not in stderr and "Unexpected" not in stderr and "Exception" not in stderr


def test_secret_set_never_cuts_a_key(moto_server_base: str, tmp_path: Path) -> None:
    config = {"config.yaml": MINIMAL + "quotes: {provider: alphavantage}\n"}
    padded = b"k" * 4096 + b" " * 10 + b"tail"  # the end past 4,096 bytes was dropped before
    _rejected(_run(moto_server_base, tmp_path, ["secret", "set", "--stdin"], config,
                   stdin=padded), "longer than 4096 bytes")
    accents = ("\u00e9" * 2050).encode()  # 4,100 bytes of valid UTF-8, not "not UTF-8"
    outcome = _run(moto_server_base, tmp_path, ["secret", "set", "--stdin"], config,
                   stdin=accents)
    _rejected(outcome, "longer than 4096 bytes")
    assert "not UTF-8" not in outcome[1]


def test_secret_set_overwrite_says_the_parameter_is_not_the_stacks(
        moto_server: str, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    from tests.support.fixtures import endpoint_session

    endpoint_session(moto_server).client("ssm").put_parameter(
        Name="/stock-alert/t1/api-key", Value="theirs", Type="SecureString")
    (tmp_path / "config.yaml").write_text(MINIMAL + "quotes: {provider: alphavantage}\n")
    refused = cli("secret", "set", "--stdin", input="mine-123\n")
    assert refused.returncode == 1
    assert "already holds a key that is not tagged as this stack's" in refused.stderr
    done = cli("secret", "set", "--stdin", "--overwrite", input="mine-123\n")
    assert done.returncode == 0, done.stderr
    assert "is not tagged as stack 't1''s (it was made outside stock-alert)" in " ".join(
        done.stderr.split())
