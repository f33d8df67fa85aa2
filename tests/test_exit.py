"""How the console script starts and ends (issue 22): it builds only the command it runs, and
at exit, though its final garbage collections skip what is alive (gc.freeze), every stream and
logging handler is still flushed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from provision.cli import app, only
from tests.support.configs import MINIMAL, write_config
from tests.support.fixtures import cli_path

runner = CliRunner()
COMMANDS = [c.name or typer.main.get_command_name(c.callback.__name__)
            for c in app.registered_commands if c.callback is not None]

# Loaded into the console script's interpreter (PYTHONPATH): botocore's debug log goes to a
# MemoryHandler that writes its file only when flushed (logging.shutdown, at exit); an atexit
# handler, registered before any of the tool's, writes to stdout and stderr without a flush.
SITECUSTOMIZE = '''\
import atexit, logging, logging.handlers, os, sys

_file = logging.FileHandler(os.environ["EXIT_LOG"], delay=True)
_held = logging.handlers.MemoryHandler(10**9, flushLevel=logging.CRITICAL + 1, target=_file)
logging.getLogger("botocore").addHandler(_held)
logging.getLogger("botocore").setLevel(logging.DEBUG)
atexit.register(lambda: (sys.stdout.write("last words\\n"), sys.stderr.write("last err\\n")))
'''


@pytest.mark.parametrize("name", COMMANDS)
def test_a_command_alone_helps_and_fails_as_in_the_whole_app(name: str) -> None:
    alone = only([name, "--help"])
    assert len(typer.main.get_command(alone).commands) == 1  # type: ignore[attr-defined]
    for args in ([name, "--help"], [name, "--no-such-option"]):
        mine = runner.invoke(alone, args, prog_name="stock-alert")
        whole = runner.invoke(app, args, prog_name="stock-alert")
        assert (mine.exit_code, mine.output) == (whole.exit_code, whole.output)


@pytest.mark.parametrize("argv", [[], ["--help"], ["--version"], ["secret", "--help"],
                                  ["upp"], ["--debug", "up"]])
def test_anything_but_a_command_name_first_gets_the_whole_app(argv: list[str]) -> None:
    assert only(argv) is app


@pytest.mark.server
@pytest.mark.process
def test_at_exit_every_stream_and_handler_is_flushed(
        aws_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    log = tmp_path / "botocore.log"
    write_config(tmp_path, MINIMAL)
    env: dict[str, Any] = {**aws_env, "PYTHONPATH": str(tmp_path / "site"), "EXIT_LOG": str(log)}
    done = subprocess.run([str(cli_path()), "plan", "--output", "json"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    document, _, rest = done.stdout.rpartition("}\n")
    assert json.loads(document + "}")["command"] == "plan"  # the whole document
    assert rest == "last words\n" and done.stderr.endswith("last err\n")
    text = log.read_text(encoding="utf-8")  # written only when the handler was flushed
    assert "GetCallerIdentity" in text and "DescribeLogGroups" in text


MODULES_AT_EXIT = '''\
import atexit, os, sys, threading

class Watch:  # notes which thread imports rich's table first
    def find_spec(self, name, path=None, target=None):
        if name == "rich.table":
            print("rich.table by", threading.current_thread().name, file=sys.stderr)
        return None

sys.meta_path.insert(0, Watch())
atexit.register(lambda: open(os.environ["MODULES_LOG"], "w").write("\\n".join(sys.modules)))
'''


@pytest.mark.server
@pytest.mark.process
@pytest.mark.parametrize("output", ["human", "json"])
def test_up_imports_nothing_only_other_commands_use(
        aws_env: dict[str, str], tmp_path: Path, output: str) -> None:
    """up warns when no one is notified; the warning lived with the cost estimate, so every
    up (this one notifies someone) imported the estimate and its calendar counting (~10 ms)
    to look at two fields. (plan shows the estimate: it needs them.)"""
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "sitecustomize.py").write_text(MODULES_AT_EXIT, encoding="utf-8")
    modules = tmp_path / "modules.txt"
    write_config(tmp_path, MINIMAL)
    env: dict[str, Any] = {**aws_env, "PYTHONPATH": str(tmp_path / "site"),
                           "MODULES_LOG": str(modules)}
    done = subprocess.run([str(cli_path()), "up", "--output", output], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    loaded = set(modules.read_text(encoding="utf-8").split())
    assert "provision.core.engine" in loaded  # the list is the command's
    assert not {m for m in loaded if m.startswith("provision.features.")}, sorted(loaded)
    # human output's tables are imported while the reads are under way (render.preload);
    # JSON output never imports rich
    if output == "human":
        assert "rich.table by preload-rich" in done.stderr, done.stderr
    else:
        assert not {m for m in loaded if m.split(".")[0] == "rich"}
