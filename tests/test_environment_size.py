"""Pure: the Lambda environment's 4 KB limit is checked in prepare, before any AWS call.

Lambda measures all variables together as one JSON object and quotes it when it refuses:
"Lambda was unable to configure your environment variables because the environment variables
you have provided exceeded the 4KB limit. String measured: {...}"
(https://github.com/github-aws-runners/terraform-aws-github-runner/issues/3594; LocalStack's
emulation measures len(json.dumps(env, separators=(",", ":")).encode()) the same way).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from provision.core.stack import ENVIRONMENT_LIMIT, Stack, environment_size
from provision.core.target import Options, prepare
from provision.errors import InputError
from tests.support.configs import write_config


def test_size_is_the_compact_json_of_all_variables() -> None:
    # {"A":"\u00e9"} -> 14 bytes; {"B":"\"x\""} -> 13 bytes: escapes count.
    assert environment_size({"A": "\u00e9"}) == len('{"A":"\\u00e9"}') == 14
    assert environment_size({"B": '"x"'}) == len('{"B":"\\"x\\""}') == 13
    # A stock name's non-ASCII character is JSON inside JSON: \u00e9 becomes \\u00e9, 7 bytes.
    assert environment_size({"S": '"\\u00e9"'}) - environment_size({"S": '""'}) == 7


def _config(tmp_path: Path, last_name_length: int) -> Path:
    """Sized so that some last-name length from 1 to 40 makes the environment exactly 4096
    bytes (S0's shorter name leaves room for the quote chain and alert.when, issue 23)."""
    accented = "\u00e9" * 21
    names = [f"{{symbol: S{i}, name: '{accented[:15] if i == 0 else accented}'}}"
             for i in range(18)]
    names.append(f"{{symbol: LAST, name: '{'x' * last_name_length}'}}")
    text = f"name: t1\nregion: us-east-1\nstocks: [{', '.join(names)}]\n"
    return write_config(tmp_path, text, name=f"c{last_name_length}.yaml")


def _size(path: Path) -> int:
    from provision.config.model import load_config

    return environment_size(Stack(load_config(path), "0" * 12, "us-east-1").function_environment)


def test_boundary_4096_passes_and_4097_fails(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    length = next(n for n in range(1, 41) if _size(_config(tmp_path, n)) == ENVIRONMENT_LIMIT)
    at_limit = prepare(Options(_config(tmp_path, length)))  # exactly 4096: accepted
    assert environment_size(
        Stack(at_limit.config, "123456789012", "us-east-1").function_environment) == 4096
    with pytest.raises(InputError) as caught:
        prepare(Options(_config(tmp_path, length + 1)))  # 4097: refused
    assert caught.value.exit_code == 2
    message = str(caught.value)
    for words in ("4097 bytes", "4096 bytes", "stocks[].name", "save at least 1 bytes"):
        assert words in message, (words, message)


def test_partition_counts_in_the_topic_arn(tmp_path: Path) -> None:
    path = _config(tmp_path, 10)
    config_size = _size(path)
    from provision.config.model import load_config

    gov = Stack(load_config(path), "0" * 12, "us-gov-west-1", "aws-us-gov")
    assert environment_size(gov.function_environment) > config_size
