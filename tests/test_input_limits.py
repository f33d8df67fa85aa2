"""Hostile config files cost little: each ends fast, small, exit 2, short message, no AWS call.

Each case runs the installed ``stock-alert`` as a child process behind its own counting proxy
and measures that child alone with ``os.wait4``: peak RSS (ru_maxrss) and CPU time. The child
also runs under an address-space limit (RLIMIT_AS) and a kill timer, so a regression fails the
test instead of taking the machine down (before the fix, the billion-laughs file took 229 s and
10.7 GB).

CPU time (user + system) is what the tool spends; wall time is also bounded, more loosely, since
this machine is shared and a loaded scheduler adds wall time the tool does not cause.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.awsproxy import AwsProxy
from tests.support.fixtures import cli_environment, cli_path

CPU_LIMIT_S = 2.0
WALL_LIMIT_S = 8.0
RSS_LIMIT_MB = 200
MESSAGE_LIMIT = 1024
ADDRESS_SPACE = 2 << 30  # the child gets 2 GiB of address space, far above the 200 MB asserted
KILL_AFTER_S = 60
HEAD = "name: t1\nregion: us-east-1\n"


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    cpu_s: float
    wall_s: float
    rss_mb: float


# The command is started from a small launcher process, not from pytest: ru_maxrss counts a
# process's peak over its whole life, and a child forked from this (large) test process starts
# with the parent's resident pages, so wait4 would report pytest's size, not the command's.
_LAUNCHER = """
import json, os, resource, signal, sys
result, limit, kill_after, argv = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
pid = os.fork()
if pid == 0:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.execv(argv[0], argv)
signal.signal(signal.SIGALRM, lambda *_: os.kill(pid, signal.SIGKILL))
signal.alarm(kill_after)
_, status, usage = os.wait4(pid, 0)
with open(result, "w") as out:
    json.dump({"code": os.waitstatus_to_exitcode(status), "maxrss_kb": usage.ru_maxrss,
               "cpu_s": usage.ru_utime + usage.ru_stime}, out)
"""


def run_measured(args: list[str], env: dict[str, str], cwd: Path) -> Measured:
    """Run stock-alert from a small launcher that reaps it with wait4 and reports its own
    rusage (peak RSS and CPU time of the command alone)."""
    out, err, result = cwd / "stdout.txt", cwd / "stderr.txt", cwd / "rusage.json"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        started = time.monotonic()
        subprocess.run([sys.executable, "-S", "-c", _LAUNCHER, str(result), str(ADDRESS_SPACE),
                        str(int(KILL_AFTER_S)), str(cli_path()), *args],
                       env=env, cwd=cwd, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
                       timeout=KILL_AFTER_S + 30, check=False)
        wall = time.monotonic() - started
    usage = json.loads(result.read_text())
    return Measured(usage["code"], out.read_text(), err.read_text(), usage["cpu_s"], wall,
                    usage["maxrss_kb"] / 1024)


def billion_laughs() -> str:
    lines = [HEAD.rstrip("\n"), 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":  # 9 levels of 9 aliases each: 9^9 = 387 million strings
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
        previous = name
    return "\n".join([*lines, "stocks: *i", ""])


def _write(folder: Path, text: str) -> str:
    (folder / "config.yaml").write_text(text, encoding="utf-8")
    return "config.yaml"


def _ten_million_stocks(folder: Path) -> str:
    # 60 MB, written in blocks so that the test itself stays small.
    with (folder / "config.yaml").open("w", encoding="utf-8") as handle:
        handle.write(HEAD + "stocks:\n")
        block = "  - TSLA\n" * 100_000
        for _ in range(70):
            handle.write(block)
    return "config.yaml"


def _fifo(folder: Path) -> str:
    os.mkfifo(folder / "config.fifo")  # no writer ever opens it: a blocking open would hang
    return "config.fifo"


CASES = {
    # name: (make the config, return its path; fragments the message must hold)
    "billion-laughs": (lambda f: _write(f, billion_laughs()),
                       ["more than 10000 values", "aliases"]),
    "deep-nesting-5000": (lambda f: _write(f, HEAD + "stocks: " + "[" * 5000 + "]" * 5000),
                          ["nested more than 8 levels", "line 3"]),
    "dev-zero": (lambda f: "/dev/zero", ["/dev/zero", "character device", "regular file"]),
    "dev-urandom": (lambda f: "/dev/urandom", ["/dev/urandom", "character device"]),
    "fifo": (_fifo, ["config.fifo", "named pipe"]),
    "ten-million-stocks-60MB": (_ten_million_stocks, ["larger than 1024 KiB"]),
    "one-MiB-name": (lambda f: _write(f, "name: " + "a" * 1_000_000 + "\nregion: us-east-1\n"
                                      "stocks: [TSLA]\n"), ["name:", "aaa...", "not a usable"]),
    "400k-stocks-in-1MiB": (lambda f: _write(f, HEAD + "stocks: [" + ",".join(["T"] * 400_000)
                                             + "]\n"), ["more than 10000 values", "25 stocks"]),
    "long-unknown-key": (lambda f: _write(f, HEAD + "stocks: [T]\n? " + "k" * 500_000
                                          + "\n: 1\n"),
                         ["kkk...", "unknown key"]),
}


@pytest.mark.server
@pytest.mark.parametrize("name", list(CASES))
def test_hostile_config_is_cheap_and_refused(
        name: str, moto_server_base: str, tmp_path: Path) -> None:
    make, fragments = CASES[name]
    path = make(tmp_path)
    with AwsProxy(moto_server_base) as proxy:
        env = cli_environment(proxy.url)
        measured = run_measured(["plan", "-c", path], env, tmp_path)
        calls = proxy.calls
    assert measured.returncode == 2, (measured.returncode, measured.stderr[:2000])
    assert measured.stdout == ""
    assert "Traceback" not in measured.stderr
    assert len(measured.stderr.encode()) < MESSAGE_LIMIT, len(measured.stderr)
    (line,) = measured.stderr.strip().splitlines()
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    assert measured.cpu_s < CPU_LIMIT_S, measured
    assert measured.wall_s < WALL_LIMIT_S, measured
    assert measured.rss_mb < RSS_LIMIT_MB, measured
    assert calls == []
