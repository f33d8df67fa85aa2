"""Benchmark of many stacks at once: `up`, `up` again (no-op) and `down` for N = 1, 10 and 50
stacks (`--count N`, default --parallel), against a moto server on 127.0.0.1 behind the counting
proxy, without and with 20% injected throttling (every fifth call of each service answers the
service's real throttling error). Prints a table and writes bench/FLEET-RESULTS.md; it asserts
nothing. From the repo root:
    .venv/bin/python bench/fleet.py [--sizes 1,10,50] [--parallel 8]
Goals (issue 11): 50 stacks take at most 10x the time of one; zero failures under throttling;
the no-op pass makes zero writes for every stack; `down` leaves nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
import types
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from moto.server import ThreadedMotoServer  # noqa: E402

from tests.support.awsproxy import AwsProxy, Rule, throttling  # noqa: E402
from tests.support.fixtures import cli_environment, cli_path, reset_moto  # noqa: E402
from tests.support.inventory import inventory, leftovers  # noqa: E402

CONFIG = """\
name: fleet
region: us-east-1
stocks: [TSLA, F, GM]
notify: {email: [you@example.com], sms: ["+15555550100"]}
"""
SERVICES = ("sts", "iam", "logs", "sns", "lambda", "events")
RESULTS = REPO / "bench" / "FLEET-RESULTS.md"


@dataclass
class Row:
    n: int
    throttled: bool
    phase: str
    seconds: float
    reads: int
    writes: int
    throttles: int
    failed: int
    left: int = 0


def every_fifth(proxy: AwsProxy) -> None:
    def take(self: Rule, available: bool = True) -> bool:
        self.seen += 1
        if available and self.seen % 5 == 0:
            self.applied += 1
            return True
        return False

    for service in SERVICES:
        rule = proxy.inject(throttling(service), service, times=None)
        rule.take = types.MethodType(take, rule)  # type: ignore[method-assign]


def _phase(proxy: AwsProxy, env: dict[str, str], cwd: Path, args: list[str]) -> tuple[
        float, int, int, int, int]:
    proxy.reset_calls()
    started = time.perf_counter()
    done = subprocess.run([str(cli_path()), *args, "-o", "json"], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=3600, check=False)
    seconds = time.perf_counter() - started
    try:
        failed = int(json.loads(done.stdout)["failed"])
    except (ValueError, KeyError):
        failed = -1
        print(done.stderr[-2000:], file=sys.stderr)
    calls = proxy.calls
    throttles = sum(1 for c in calls if c.fault)
    writes = sum(1 for c in calls if c.is_write and not c.fault)
    reads = sum(1 for c in calls if not c.is_write and not c.fault)
    return seconds, reads, writes, throttles, failed


def run(sizes: list[int], parallel: int, mode: str | None = None,
        throttle: tuple[bool, ...] = (False, True)) -> list[Row]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    moto = f"http://{host}:{port}"
    rows: list[Row] = []
    try:
        with AwsProxy(moto) as proxy, tempfile.TemporaryDirectory() as folder:
            cwd = Path(folder)
            (cwd / "config.yaml").write_text(CONFIG)
            env = cli_environment(proxy.url)
            if mode:
                env["AWS_RETRY_MODE"] = mode
            for throttled in throttle:
                for n in sizes:
                    reset_moto(moto)
                    proxy.clear_faults()
                    if throttled:
                        every_fifth(proxy)
                    fleet = ["--count", str(n), "--parallel", str(parallel)]
                    for phase, args in (("up", ["up", *fleet]), ("up again", ["up", *fleet]),
                                        ("down", ["down", *fleet, "--yes"])):
                        figures = _phase(proxy, env, cwd, args)
                        rows.append(Row(n, throttled, phase, *figures))
                        print(_line(rows[-1]), flush=True)
                    rows[-1].left = sum(len(v) for v in leftovers(inventory(moto)).values())
    finally:
        server.stop()
    return rows


def _line(row: Row) -> str:
    return (f"| {row.n:>3} | {'20%' if row.throttled else '0%':>4} | {row.phase:<8} | "
            f"{row.seconds:7.2f} | {row.reads:>5} | {row.writes:>5} | {row.throttles:>5} | "
            f"{row.failed:>3} |")


HEADER = ("|   N | thr. | phase    | wall s  | reads | writes| thrtl | failed |\n"
          "|----:|-----:|----------|--------:|------:|------:|------:|----:|")


def _versions() -> str:
    import botocore
    import moto

    from provision import __version__

    return (f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"botocore {botocore.__version__}, moto {moto.__version__}, "
            f"stock-alert {__version__}")


def _goals(rows: list[Row]) -> list[str]:
    def up(n: int, throttled: bool) -> float:
        return next(r.seconds for r in rows if r.n == n and r.throttled == throttled
                    and r.phase == "up")

    sizes = sorted({r.n for r in rows})
    lines = []
    for throttled in sorted({r.throttled for r in rows}):
        if len(sizes) > 1:
            big, one = up(sizes[-1], throttled), up(sizes[0], throttled)
            lines.append(f"- {'20%' if throttled else 'no'} throttling: {sizes[-1]} stacks took "
                         f"{big / one:.1f}x the time of {sizes[0]} (goal <= 10x).")
    lines.append(f"- failures: {sum(max(r.failed, 0) for r in rows)} (goal 0); unreadable "
                 f"results: {sum(1 for r in rows if r.failed < 0)}.")
    noop = sum(r.writes for r in rows if r.phase == "up again")
    lines.append(f"- writes in the no-op passes: {noop} (goal 0).")
    left = sum(r.left for r in rows if r.phase == "down")
    lines.append(f"- resources left after down: {left} (goal 0).")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,10,50")
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--retry-mode", choices=("standard", "adaptive", "legacy"),
                        help="AWS_RETRY_MODE for the command (default: stock-alert's choice)")
    parser.add_argument("--only-throttled", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(HEADER, flush=True)
    rows = run(sizes, args.parallel, args.retry_mode,
               (True,) if args.only_throttled else (False, True))
    goals = _goals(rows)
    print("\n".join(goals))
    RESULTS.write_text(
        "# Many stacks at once: bench/fleet.py\n\n"
        f"`.venv/bin/python bench/fleet.py --sizes {args.sizes} --parallel {args.parallel}`, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n\n"
        f"Machine and versions: {_versions()}.\n\n"
        "moto server on 127.0.0.1 behind the counting proxy (tests/support/awsproxy.py); "
        "reads and writes are calls that reached moto; `thrtl` counts throttling answers "
        "the proxy sent instead (every fifth call of each service in the 20% rows). Each "
        "`up` is `stock-alert up --count N`; the 2 cores are shared with other work, so "
        "compare ratios rather than absolute times.\n\n"
        f"{HEADER}\n" + "\n".join(_line(r) for r in rows) + "\n\n" + "\n".join(goals) + "\n")
    print(f"wrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
