"""Fleet inputs (--count, --participants, --parallel, --regions, --assume-role): every wrong
value exits 2 with one paragraph naming the file, line and field (or the flag) and the fix,
no traceback, and zero AWS calls (counted by the proxy in front of the moto server)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from provision.config.model import Config
from provision.config.participants import read, role_arns, stack_configs
from provision.core.stack import Stack, environment_size
from provision.errors import InputError
from tests.support.awsproxy import AwsProxy
from tests.support.cli_helpers import one_paragraph
from tests.support.configs import MINIMAL, write_config

pytestmark = pytest.mark.server

BASE = Config.model_validate({"name": "ws", "stocks": ["SPY"],
                              "notify": {"email": ["team@example.com"]}})


def test_count_names_and_keeps_the_config_subscribers() -> None:
    configs = stack_configs(BASE, 3, None)
    assert [c.name for c in configs] == ["ws-1", "ws-2", "ws-3"]
    assert {c.notify.email for c in configs} == {("team@example.com",)}


def test_participants_replace_the_subscribers(tmp_path: Path) -> None:
    people = write_config(tmp_path, "id,email,phone\nana,ana@example.com,+15555550101\n"
                          "bo,,\n\n", "p.csv")
    configs = stack_configs(BASE, None, people)
    assert [(c.name, c.notify.email, c.notify.sms) for c in configs] == [
        ("ws-ana", ("ana@example.com",), ("+15555550101",)), ("ws-bo", (), ())]


def test_yaml_participants_with_line_numbers(tmp_path: Path) -> None:
    good = write_config(tmp_path, "participants:\n  - {id: ana, email: ana@example.com}\n"
                        "  - id: 7\n", "p.yaml")
    assert [(p.id, p.line) for p in read(good)] == [("ana", 2), ("7", 3)]
    bad = write_config(tmp_path, "- id: ana\n- id: bo\n  phone: '555-1234'\n", "bad.yaml")
    with pytest.raises(InputError, match=r"bad.yaml: line 2: phone '555-1234' is not an E.164"):
        read(bad)


CASES = {
    "duplicate id, ignoring case": (
        "id\nAna\nana\n", [], r"line 3: id 'ana' is already used on line 2"),
    "bad e-mail": ("id,email\nana,not-an-email\n", [], r"line 2: email 'not-an-email'"),
    "id not usable in a name": ("id\nana b\n", [], r"line 2: id 'ana b' cannot be part"),
    "unknown column": ("id,mail\nana,a@example.com\n", [], r"line 1: the header row"),
    "too many cells": ("id,email\nana,a@example.com,x\n", [], r"line 2: more cells"),
    "name too long": ("id\n" + "x" * 60 + "\n", [], r"line 2: id: the stack name 't1-x+' "
                      r"would be 63 characters, over the 55"),
    "empty file": ("id,email\n", [], r"lists no participants"),
    "parallel zero": ("id\nana\n", ["--parallel", "0"], r"--parallel 0 is not a number"),
    "count and participants": ("id\nana\n", ["--count", "2"], r"--count and --participants"),
    "bad role ARN": ("id\nana\n", ["--assume-role", "arn:aws:iam::12:role/x"],
                     r"--assume-role 'arn:aws:iam::12:role/x': .* is not an IAM role ARN"),
    "regions and region": ("id\nana\n", ["--regions", "us-east-1", "--region", "us-east-1"],
                           r"--regions and --region were both given"),
    "bad region": ("id\nana\n", ["--regions", "us-east-1,mars-1"], r"--regions: "),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("verb", ["up", "plan"])
def test_bad_input_exits_2_naming_it_with_zero_aws_calls(
        case: str, verb: str, cli, aws_proxy: AwsProxy, tmp_path: Path) -> None:
    text, extra, message = CASES[case]
    write_config(tmp_path, MINIMAL)
    write_config(tmp_path, text, "people.csv")
    done = cli(verb, "--participants", "people.csv", *extra)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    paragraph = one_paragraph(done.stderr)
    assert paragraph.startswith("error: ")
    import re
    assert re.search(message, paragraph), paragraph
    assert aws_proxy.calls == []


def test_role_file_names_the_line_and_refuses_one_account_twice(tmp_path: Path) -> None:
    roles = write_config(tmp_path, "# workshop accounts\narn:aws:iam::111111111111:role/d\n\n"
                         "arn:aws:iam::111111111111:role/other  # again\n", "roles.txt")
    with pytest.raises(InputError, match=r"roles.txt: line 4: account 111111111111 is "
                       r"already given by .*roles.txt: line 2"):
        role_arns([], roles)
    assert role_arns(["arn:aws:iam::222222222222:role/path/to/d"], None) == [
        "arn:aws:iam::222222222222:role/path/to/d"]


def _stocks(names: list[str]) -> str:
    return "".join(f"  - {{symbol: S{i}, name: {name}}}\n" for i, name in enumerate(names))


def _environment(names: list[str]) -> int:
    """The function's environment for config 'ws' with these stock names, as 'up' measures it
    (everything else the function reads from its environment counts too)."""
    config = Config.model_validate(yaml.safe_load(
        f"name: ws\nregion: us-east-1\nstocks:\n{_stocks(names)}"))
    return environment_size(Stack(config, "123456789012", "us-east-1").function_environment)


def test_a_stack_name_that_overflows_the_functions_environment_is_refused(
        cli, aws_proxy: AwsProxy, tmp_path: Path) -> None:
    """The config's own environment is exactly Lambda's 4096 bytes; '<name>-1' adds 2 bytes in
    each of the two variables that hold the name (the stack and the topic ARN)."""
    names = ["é" * 40] * 5 + ["x" * 40] * 20
    wide = -(-(4096 - _environment(names)) // 5)  # each é counts 6 bytes (\\uXXXX), an x one
    names[5] = "é" * wide + "x" * (40 - wide)
    names[-1] = "x" * (40 - (_environment(names) - 4096))  # the config's own: exactly 4096
    assert _environment(names) == 4096
    write_config(tmp_path, f"name: ws\nregion: us-east-1\nstocks:\n{_stocks(names)}")
    done = cli("up", "--count", "2")
    assert done.returncode == 2
    assert "environment would be 4100 bytes" in one_paragraph(done.stderr)
    assert aws_proxy.calls == []
