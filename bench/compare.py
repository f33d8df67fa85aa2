"""stock-alert against a bare-botocore floor (and AWS Chalice), on a local moto server.

Prints figures and writes bench/RESULTS.md; it asserts nothing. One command, from the repo root:
    .venv/bin/python bench/compare.py --short     # the goals of issue 22 only (~5 minutes)
    .venv/bin/python bench/compare.py             # full: also Chalice, IAM propagation (~12)
Rounds are interleaved: every round runs each group of phases once, in alternating order, each
group on a freshly reset emulator: `--help`; stock-alert's fresh `up`, the floor, unchanged
`up` and `down` straight against the emulator; the same again through bench/latency.py, which
adds 60 ms to every request and 2 round trips to every new connection (and finds each command's
longest chain of round trips); and, in the full mode, Chalice's deploy, deploy again and delete.
A first, untimed round counts API calls (bench/hooks/sitecustomize.py) and warms caches; the
full mode then simulates IAM propagation for T = 2, 6 and 12 s. The full mode's first run
creates bench/.chalice-venv (pip install chalice).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import compare_report as report
from latency import LatencyProxy, longest_chain, round_trips, words

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
HOOKS = BENCH / "hooks"
CHALICE_VENV = BENCH / ".chalice-venv"
PYTHON = Path(sys.executable)
TIMEOUT_S = 180.0
IAM_DELAYS_S = (2.0, 6.0, 12.0)
CHALICE_APP = '''\
from chalice import Chalice, Rate

app = Chalice(app_name="chalicebench")


@app.schedule(Rate(1, unit=Rate.HOURS))
def check(event):
    import boto3  # in the function, so deploying needs no boto3; chalice's policy scan sees it

    sns = boto3.client("sns")
    sns.publish(TopicArn="arn:aws:sns:us-east-1:123456789012:chalicebench-alerts", Message="hi")
    return {"ok": True}
'''


@dataclass(frozen=True)
class Step:
    """One measured command: which tool, which phase, how to run it."""

    tool: str
    phase: str
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    network: str = report.LOCAL  # or report.LATENCY: through the latency proxy


@dataclass
class Results:
    """Figures by (tool, phase, network)."""

    seconds: dict[tuple[str, str, str], list[float]] = field(default_factory=dict)
    rss_kib: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)
    chains: dict[tuple[str, str, str], list[int]] = field(default_factory=dict)
    chain_words: dict[tuple[str, str, str], str] = field(default_factory=dict)
    calls: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    iam: list[dict[str, float | str]] = field(default_factory=list)

    def add(self, step: Step, seconds: float, rss: int) -> None:
        key = (step.tool, step.phase, step.network)
        self.seconds.setdefault(key, []).append(seconds)
        self.rss_kib.setdefault(key, []).append(rss)


# ---- processes ---------------------------------------------------------------------------


def run(step: Step, extra_env: dict[str, str] | None = None) -> tuple[float, int, float]:
    """(wall seconds, peak RSS KiB, epoch at exit) of one run; raises if it fails or hangs.

    bench/launch.py forks the command from a small interpreter and times it (see why there).
    """
    env = {**step.env, **(extra_env or {})}
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as result:
        launcher = [str(PYTHON), "-I", "-S", str(BENCH / "launch.py"), result.name,
                    str(TIMEOUT_S)]
        subprocess.run([*launcher, *step.argv], env=env, cwd=step.cwd, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=err, timeout=TIMEOUT_S + 30, check=True)
        figures = json.load(result)
        if figures["returncode"] != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-1500:]
            raise RuntimeError(f"{step.tool} {step.phase} exited {figures['returncode']}:\n{tail}")
    return figures["seconds"], figures["maxrss_kib"], figures["ended"]


def counted(step: Step, scratch: Path) -> list[str]:
    """The service:Operation calls of one (untimed) run, via the sitecustomize hook."""
    path = scratch / f"calls-{step.tool}-{step.phase}.txt".replace(" ", "_")
    path.unlink(missing_ok=True)
    run(step, {"PYTHONPATH": str(HOOKS), "BENCH_CALLS_FILE": str(path)})
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


# ---- set-up ------------------------------------------------------------------------------


def start_emulator() -> tuple[object, str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def reset(url: str) -> None:
    request = urllib.request.Request(f"{url}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()


def ensure_chalice() -> Path:
    chalice = CHALICE_VENV / "bin" / "chalice"
    if not chalice.exists():
        print("installing chalice into", CHALICE_VENV, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(CHALICE_VENV)], check=True, timeout=120)
        subprocess.run([str(CHALICE_VENV / "bin" / "pip"), "install", "-q", "chalice"],
                       check=True, timeout=600)
    return chalice


def aws_env(url: str) -> dict[str, str]:
    """The caller's environment without AWS settings or PYTHONPATH, aimed at the emulator.

    Chalice needs nothing else to reach moto: it creates clients with botocore's
    Session.create_client, and botocore (1.31 and later) reads AWS_ENDPOINT_URL itself. It does
    need AWS_DEFAULT_REGION: a bare botocore Session ignores AWS_REGION (boto3 reads that).
    """
    keep = {k: v for k, v in os.environ.items()
            if not k.upper().startswith("AWS_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**keep, "AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}


def stock_alert_dir(tmp: Path) -> Path:
    lines = (REPO / "config.yaml").read_text(encoding="utf-8").splitlines()
    lines = ["region: us-east-1" if ln.startswith("region:") else ln for ln in lines]
    (tmp / "stock-alert").mkdir()
    (tmp / "stock-alert" / "config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp / "stock-alert"


def chalice_dir(tmp: Path) -> Path:
    app = tmp / "chalicebench"
    (app / ".chalice").mkdir(parents=True)
    (app / "app.py").write_text(CHALICE_APP, encoding="utf-8")
    (app / "requirements.txt").write_text("", encoding="utf-8")
    config = {"version": "2.0", "app_name": "chalicebench", "autogen_policy": True,
              "lambda_memory_size": 128, "lambda_timeout": 30, "stages": {"dev": {}}}
    (app / ".chalice" / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return app


def stock_alert_steps(sa_dir: Path, env: dict[str, str], network: str) -> list[Step]:
    sa = [str(PYTHON.parent / "stock-alert")]
    floor = [str(PYTHON), str(BENCH / "floor.py"), "stock-alert"]
    return [Step("stock-alert", "up (fresh)", [*sa, "up"], sa_dir, env, network),
            Step("floor", "up (unchanged)", floor, sa_dir, env, network),
            Step("stock-alert", "up (unchanged)", [*sa, "up"], sa_dir, env, network),
            Step("stock-alert", "down", [*sa, "down", "--yes"], sa_dir, env, network)]


def make_steps(tmp: Path, url: str, slow_url: str, chalice: Path | None,
               ) -> dict[str, list[Step]]:
    """The steps of one round, grouped so each group starts on a reset emulator."""
    env, sa_dir = aws_env(url), stock_alert_dir(tmp)
    groups = {"help": [Step("stock-alert", "--help", [str(PYTHON.parent / "stock-alert"),
                                                      "--help"], sa_dir, env)],
              "stock-alert": stock_alert_steps(sa_dir, env, report.LOCAL),
              "latency": stock_alert_steps(sa_dir, aws_env(slow_url), report.LATENCY)}
    if chalice is not None:
        ch, ch_dir = [str(chalice)], chalice_dir(tmp)
        groups["chalice"] = [Step("chalice", "up (fresh)", [*ch, "deploy"], ch_dir, env),
                             Step("chalice", "up (unchanged)", [*ch, "deploy"], ch_dir, env),
                             Step("chalice", "down", [*ch, "delete"], ch_dir, env)]
        groups["help"].append(Step("chalice", "--help", [*ch, "--help"], ch_dir, env))
    return groups


# ---- measuring ---------------------------------------------------------------------------


def one_round(groups: dict[str, list[Step]], url: str, act: Callable[[Step], None],
              flip: bool, only: tuple[str, ...] | None = None) -> None:
    order = [name for name in groups if only is None or name in only]
    for name in order[::-1] if flip else order:
        reset(url)
        for step in groups[name]:
            act(step)


def measure(groups: dict[str, list[Step]], url: str, rounds: int, results: Results,
            proxy: LatencyProxy) -> None:
    def timed(step: Step) -> None:
        proxy.take()
        seconds, rss, _ = run(step)
        results.add(step, seconds, rss)
        if step.network == report.LATENCY:
            chain = longest_chain(proxy.take())
            key = (step.tool, step.phase, step.network)
            results.chains.setdefault(key, []).append(round_trips(chain))
            results.chain_words[key] = words(chain)

    for number in range(rounds):
        one_round(groups, url, timed, flip=number % 2 == 1)
        print(f"round {number + 1}/{rounds} done", flush=True)


def count(groups: dict[str, list[Step]], url: str, scratch: Path, results: Results) -> None:
    def calls(step: Step) -> None:
        results.calls[(step.tool, step.phase)] = counted(step, scratch)

    one_round(groups, url, calls, flip=False, only=("stock-alert", "chalice"))


def iam_trial(step: Step, delay: float, scratch: Path) -> dict[str, float | str]:
    """One fresh deploy while Lambda refuses the new role for `delay` seconds."""
    log = scratch / f"iam-{step.tool}.txt"
    log.unlink(missing_ok=True)
    seconds, _, ended = run(step, {"PYTHONPATH": str(HOOKS), "BENCH_IAM_DELAY_S": str(delay),
                                   "BENCH_IAM_FILE": str(log)})
    attempts = [float(line.split()[1]) for line in log.read_text().splitlines()]
    ready = attempts[0] + delay
    return {"tool": step.tool, "delay": delay, "wall": seconds, "overshoot": ended - ready,
            "attempts": len(attempts)}


def iam_propagation(groups: dict[str, list[Step]], url: str, rounds: int, scratch: Path,
                    results: Results) -> None:
    fresh = [groups["stock-alert"][0], *groups["chalice"][:1]]
    for number in range(rounds):
        for delay in IAM_DELAYS_S:
            for step in fresh if number % 2 == 0 else fresh[::-1]:
                reset(url)
                (step.cwd / ".chalice" / "deployed" / "dev.json").unlink(missing_ok=True)
                results.iam.append(iam_trial(step, delay, scratch))
        print(f"IAM propagation round {number + 1}/{rounds} done", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true",
                        help="3 rounds, stock-alert and the floor only (no Chalice, no IAM "
                        "propagation): every goal of issue 22, in about 3 minutes")
    parser.add_argument("--rounds", type=int, help="timed rounds (default 7; 3 with --short)")
    parser.add_argument("--iam-rounds", type=int, default=2)
    parser.add_argument("--no-write", action="store_true", help="do not write bench/RESULTS.md")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.short else 7)
    chalice = None if args.short else ensure_chalice()
    load = report.Load.start()
    server, url = start_emulator()
    proxy = LatencyProxy(url)
    results = Results()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
            groups = make_steps(Path(tmp), url, proxy.url, chalice)
            count(groups, url, Path(tmp), results)  # also the warm-up round
            measure(groups, url, rounds, results, proxy)
            if chalice is not None:
                iam_propagation(groups, url, args.iam_rounds, Path(tmp), results)
    finally:
        proxy.stop()
        server.stop()  # type: ignore[attr-defined]
    mode = "--short" if args.short else "full"
    text = report.render(results, rounds, report.environment(chalice and CHALICE_VENV, mode,
                                                              load.end()))
    print(text)
    if not args.no_write:
        (BENCH / "RESULTS.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
