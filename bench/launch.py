"""Run one command and write its wall time, peak RSS and exit code (JSON) to a file.

Usage: python -I -S bench/launch.py RESULT_FILE TIMEOUT_S COMMAND [ARG...]
Why a launcher: Linux keeps a process's peak RSS across execve, so a child forked (or vforked,
as subprocess does) straight from bench/compare.py, which hosts the moto server, reports the
benchmark's own ~100 MiB as its peak. Forked from this small interpreter, it reports its own.
The clock starts just before fork, so this interpreter's start-up is not in the figure.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time


def main(result: str, timeout_s: str, argv: list[str]) -> None:
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    signal.signal(signal.SIGALRM, lambda *_: os.kill(pid, signal.SIGKILL))
    signal.alarm(int(float(timeout_s)))
    _, status, usage = os.wait4(pid, 0)
    seconds, ended = time.perf_counter() - started, time.time()
    signal.alarm(0)
    with open(result, "w", encoding="utf-8") as out:
        json.dump({"seconds": seconds, "maxrss_kib": usage.ru_maxrss, "ended": ended,
                   "returncode": os.waitstatus_to_exitcode(status)}, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
