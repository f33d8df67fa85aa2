"""Run the shell examples of a documentation page, as a reader would type them, and check that
each prints what the page shows.

A page's examples are its ```console blocks: a line starting with `$ ` is a command (a
trailing backslash continues it; `cat > FILE <<'EOF'` takes the lines up to `EOF` as the
file), the lines after it up to the next command are what it prints. Each shown line must
appear in the command's output (stdout and stderr), compared with runs of whitespace as one
space; `...` in a line stands for any text, and a line that is only `...` for lines left out.

What runs how:
- `stock-alert ARGS` (or `.venv/bin/stock-alert`): in this process (tests/support/clirunner.py),
  in the page's folder, with the environment the page's `export` lines built; it must exit 0;
- `stock-alert emulator ...`: the real console script, on free ports, until the page is done;
  the page's 127.0.0.1:4566 and :8765 then mean the ports it took (in files written, exports
  and the output compared);
- `export K=V ...`, `cat > FILE <<'EOF'`: done as a shell does;
- `python3 -m venv .venv`, `pip install -e '.[X]'`, `source .venv/bin/activate`: the set-up a
  fresh machine needs, not repeated here (the test run is already installed); each extra named
  must exist in pyproject.toml.
Anything else fails the test, so a new kind of example needs support here first.
"""

from __future__ import annotations

import os
import re
import select
import shlex
import signal
import subprocess
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.clirunner import run_cli_inprocess
from tests.support.fixtures import cli_path

REPO = Path(__file__).resolve().parents[2]
EMULATOR_URL = "http://127.0.0.1:4566"  # what the pages say
QUOTES_URL = "http://127.0.0.1:8765"
WIDTH = "120"  # the terminal width the pages' tables were taken at
_HEREDOC = re.compile(r"^cat > (\S+) <<'?(\w+)'?$")


@dataclass
class Step:
    command: str
    where: str  # page:line
    body: list[str] = field(default_factory=list)  # a here-document's lines
    shown: list[str] = field(default_factory=list)  # what the page says it prints


def steps(page: Path) -> list[Step]:
    """The commands of `page`'s console blocks, in order."""
    found: list[Step] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    block, i = False, 0
    while i < len(lines):
        line, i = lines[i], i + 1
        if line.strip().startswith("```"):
            block = line.strip() == "```console"
            continue
        if not block:
            continue
        if line.startswith("$ "):
            command, start = line[2:], i
            while command.endswith("\\") and i < len(lines):
                command, i = command[:-1] + lines[i].strip(), i + 1
            step = Step(command.strip(), f"{page.name}:{start}")
            heredoc = _HEREDOC.match(step.command)
            while heredoc and i < len(lines) and lines[i] != heredoc.group(2):
                step.body.append(lines[i])
                i += 1
            i += 1 if heredoc else 0
            found.append(step)
        elif found:
            found[-1].shown.append(line)
    return found


def shown_in(shown: list[str], output: str) -> list[str]:
    """The shown lines that `output` lacks (empty: it prints what the page shows)."""
    actual = [" ".join(line.split()) for line in output.splitlines()]
    missing = []
    for line in shown:
        wanted = " ".join(line.split())
        if not wanted or wanted == "...":
            continue
        pattern = ".*".join(re.escape(part) for part in wanted.split("..."))
        if not any(re.search(pattern, have) for have in actual):
            missing.append(line)
    return missing


class Reader:
    """Types a page's commands in a folder of its own, against `aws_url` unless the page
    starts its own emulator."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = {**env, "COLUMNS": WIDTH}
        self.urls: dict[str, str] = {}  # as the page says -> as it is here
        self.emulator: subprocess.Popen[bytes] | None = None
        self.extras = set(tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
            "optional-dependencies"])

    def close(self) -> None:
        if self.emulator is not None and self.emulator.poll() is None:
            self.emulator.send_signal(signal.SIGINT)
            try:
                self.emulator.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.emulator.kill()
                self.emulator.wait()

    def here(self, text: str) -> str:
        for page, actual in self.urls.items():
            text = text.replace(page, actual)
        return text

    def as_page(self, text: str) -> str:
        for page, actual in self.urls.items():
            text = text.replace(actual, page)
        return text

    def run(self, step: Step) -> None:
        """Run one command (each part of an && chain); AssertionError when it fails or
        prints other than the page shows."""
        output = ""
        for part in step.command.split(" && "):
            output += self._part(part.strip(), step)
        missing = shown_in(step.shown, self.as_page(output))
        assert not missing, (f"{step.where}: `{step.command}` printed\n{output}\n"
                             f"without the page's lines\n" + "\n".join(missing))

    def _part(self, part: str, step: Step) -> str:
        words = shlex.split(part)
        if _HEREDOC.match(part):
            text = "\n".join(step.body) + "\n"
            (self.folder / words[2]).write_text(self.here(text), encoding="utf-8")
            return ""
        if words[0] == "export":
            for item in words[1:]:
                key, _, value = item.partition("=")
                self.env[key] = self.here(value)
            return ""
        if words[0].endswith("stock-alert"):
            return self._stock_alert(words[1:], step)
        self._set_up(words, step)
        return ""

    def _set_up(self, words: list[str], step: Step) -> None:
        """The install steps: checked, not repeated."""
        if words[:3] == ["python3", "-m", "venv"] or words[:1] in (["source"], ["."]):
            return
        if words[0].endswith("pip") and "install" in words:
            extras = [x for w in words for x in re.findall(r"^\.\[(.+)\]$", w)]
            named = {e for group in extras for e in group.split(",")}
            assert named and named <= self.extras, (step.where, named, self.extras)
            return
        raise AssertionError(f"{step.where}: the docs test cannot run {words!r}; teach "
                             "tests/support/doc_examples.py or leave it out of ```console")

    def _stock_alert(self, args: list[str], step: Step) -> str:
        if args[:1] == ["emulator"]:
            return self._start_emulator(args, step)
        ran = run_cli_inprocess(args, self.env, self.folder)
        assert ran.returncode == 0, (f"{step.where}: stock-alert {' '.join(args)} exited "
                                     f"{ran.returncode}\n{ran.stdout}\n{ran.stderr}")
        return ran.stdout + ran.stderr

    def _start_emulator(self, args: list[str], step: Step) -> str:
        """The console script itself, on free ports; its output up to 'Press Ctrl-C'."""
        env = {k: v for k, v in self.env.items() if not k.startswith("AWS_ENDPOINT_URL")}
        self.emulator = subprocess.Popen(
            [str(cli_path()), *args, "--port", "0", "--quotes-port", "0"], env=env,
            cwd=self.folder, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        output = _read_until(self.emulator, "Press Ctrl-C to stop.", deadline=90)
        for name, page_url in (("Local AWS emulator listening on", EMULATOR_URL),
                               ("Local quote server on", QUOTES_URL)):
            found = re.search(re.escape(name) + r" (http://127\.0\.0\.1:\d+)", output)
            if found:
                self.urls[page_url] = found.group(1)
        assert EMULATOR_URL in self.urls, f"{step.where}: no emulator URL in\n{output}"
        return output


def _read_until(process: subprocess.Popen[bytes], last: str, deadline: float) -> str:
    """What the process printed until `last` (read from the pipe's descriptor itself: a
    buffered reader would hold lines that select() no longer reports)."""
    assert process.stdout is not None
    fd, data, stop = process.stdout.fileno(), b"", time.monotonic() + deadline
    while last.encode() not in data and time.monotonic() < stop:
        ready, _, _ = select.select([fd], [], [], 1.0)
        chunk = os.read(fd, 65536) if ready else b""
        if ready and not chunk:
            break  # the process closed its output: it ended
        data += chunk
    output = data.decode("utf-8", "replace")
    assert last in output, f"the emulator did not start:\n{output}"
    return output
