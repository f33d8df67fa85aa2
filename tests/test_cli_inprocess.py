"""The Typer app in-process (CliRunner): help texts, emulator errors, interactive confirmation."""

from __future__ import annotations

import socket
import sys

import pytest
from typer.testing import CliRunner

from provision.cli import app

runner = CliRunner()


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("plan", "up", "down", "status", "invoke", "logs", "emulator", "demo"):
        assert command in result.output


@pytest.mark.parametrize(("command", "words"), [
    ("up", ["--config", "twice", "tags"]),
    ("down", ["--yes", "no local state"]),
    ("plan", ["writes nothing"]),
    ("logs", ["--since", "--follow"]),
    ("invoke", ["--local"]),
])
def test_command_help_teaches(command: str, words: list[str]) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for word in words:
        assert word in text, (word, text)


def test_emulator_without_moto_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "moto.server", None)  # import fails as if not installed
    result = runner.invoke(app, ["emulator", "--port", "0"])
    assert result.exit_code == 2
    assert "pip install 'stock-alert[emulator]'" in " ".join(result.output.split())


def test_emulator_port_in_use_is_input_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["emulator", "--port", str(port)])
    assert result.exit_code == 2
    assert f"Port {port}" in result.output and "--port 0" in result.output


def test_emulator_port_out_of_range() -> None:
    result = runner.invoke(app, ["emulator", "--port", "70000"])
    assert result.exit_code == 2


def test_version() -> None:
    from provision import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"stock-alert {__version__}"
