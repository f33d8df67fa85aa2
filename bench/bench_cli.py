"""Benchmark of the stock-alert command: start-up, and up/plan/down against a local moto server.

Prints figures (wall time, API calls, peak memory); it asserts nothing. Run from the repo root:
    .venv/bin/python bench/bench_cli.py
Targets (DESIGN.md): --help stays fast because boto3/rich/pydantic load only when a command needs
them; an unchanged up makes zero write calls; a fresh up writes once per thing it creates.
"""

from __future__ import annotations

import logging
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from moto.server import ThreadedMotoServer  # noqa: E402

from tests.support.awsproxy import AwsProxy  # noqa: E402
from tests.support.fixtures import cli_environment, cli_path  # noqa: E402

CONFIG = """\
name: bench
region: us-east-1
stocks: [TSLA, F, GM]
notify: {email: [you@example.com], sms: ["+15555550100"]}
"""
RUNS = 5


def _timed(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int]:
    """(seconds, peak RSS in KiB) of one run of the command."""
    started = time.perf_counter()
    proc = subprocess.Popen([str(cli_path()), *args], env=env, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL)
    _, _, usage = __import__("os").wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.stderr.close()  # type: ignore[union-attr]
    return elapsed, usage.ru_maxrss


def startup(env: dict[str, str], cwd: Path) -> None:
    times = [_timed(["--help"], env, cwd)[0] for _ in range(RUNS)]
    print(f"stock-alert --help: median {statistics.median(times) * 1000:.0f} ms over {RUNS}")


def scenario(env: dict[str, str], cwd: Path, proxy: AwsProxy) -> None:
    steps = [("up (fresh)", ["up"]), ("up (unchanged)", ["up"]), ("plan", ["plan"]),
             ("status", ["status"]), ("down", ["down", "--yes"]),
             ("down (nothing left)", ["down", "--yes"])]
    print(f"{'step':<22}{'seconds':>9}{'calls':>7}{'writes':>8}{'peak MiB':>10}")
    for label, args in steps:
        proxy.reset_calls()
        seconds, rss = _timed(args, env, cwd)
        print(f"{label:<22}{seconds:>9.2f}{len(proxy.calls):>7}{len(proxy.writes()):>8}"
              f"{rss / 1024:>10.0f}")


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        with AwsProxy(f"http://{host}:{port}") as proxy, tempfile.TemporaryDirectory() as tmp:
            cwd = Path(tmp)
            (cwd / "config.yaml").write_text(CONFIG, encoding="utf-8")
            env = cli_environment(proxy.url)
            startup(env, cwd)
            scenario(env, cwd, proxy)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
