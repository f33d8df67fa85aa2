"""Shell completion through Typer's own protocol: the printed script, run by a real bash, and
the zsh and fish protocols (those shells are not installed here) driven as their scripts do."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.support.fixtures import cli_path

pytestmark = pytest.mark.process

BIN = str(cli_path().parent)


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **extra}


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(cli_path()), *args], env=_env(**env), capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
@pytest.mark.parametrize(("words", "expected"), [
    ("stock-alert co", ["completion", "config", "cost"]),
    ("stock-alert config ch", ["check"]),
    ("stock-alert completion ", ["bash", "fish", "zsh"]),
    ("stock-alert plan --out", ["--output"]),
])
def test_bash_completes_with_the_printed_script(words: str, expected: list[str]) -> None:
    script = _run(["completion", "bash"])
    assert script.returncode == 0 and "complete -o default -F" in script.stdout
    cword = len(words.split()) - 1 + words.endswith(" ")  # an empty last word when it ends in " "
    array = " ".join(words.split()) + (" ''" if words.endswith(" ") else "")
    driver = (f"{script.stdout}\nCOMP_WORDS=({array}); COMP_CWORD={cword}; "
              "_stock_alert_completion stock-alert; printf '%s\\n' \"${COMPREPLY[@]}\"")
    done = subprocess.run(["bash", "--norc", "-c", driver], env=_env(), capture_output=True,
                          text=True, timeout=60, check=False)
    assert sorted(done.stdout.split()) == expected, done.stderr


def test_zsh_protocol() -> None:
    result = _run([], _STOCK_ALERT_COMPLETE="complete_zsh",
                  _TYPER_COMPLETE_ARGS="stock-alert config ")
    assert result.returncode == 0
    assert '"check":"Validate' in result.stdout and '"schema":"Print' in result.stdout


def test_fish_protocol() -> None:
    result = _run([], _STOCK_ALERT_COMPLETE="complete_fish",
                  _TYPER_COMPLETE_FISH_ACTION="get-args", _TYPER_COMPLETE_ARGS="stock-alert co")
    assert result.returncode == 0
    assert sorted(line.split("\t")[0] for line in result.stdout.splitlines()) == [
        "completion", "config", "cost"]


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_scripts_name_the_command_and_variable(shell: str) -> None:
    script = _run(["completion", shell]).stdout
    assert "_STOCK_ALERT_COMPLETE=complete_" + shell in script and "stock-alert" in script


def test_unknown_shell_is_exit_2() -> None:
    result = _run(["completion", "tcsh"])
    assert result.returncode == 2 and "tcsh" in result.stderr
