"""Concurrent reads that never hold up Ctrl-C or the end of the process."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

# How long the main thread may go without noticing a Ctrl-C. Python runs signal handlers in the
# main thread only; a SIGINT the kernel hands to another thread (any of the readers) does not
# wake a main thread blocked in an untimed join or wait, which then hangs until the readers'
# retries run out (seen: `status` under throttling on a loaded machine, still running 15 s
# after SIGINT, its main thread in Thread.join). A timed wait wakes and runs the handler.
TICK_S = 0.5


def join(thread: threading.Thread) -> None:
    """thread.join(), interruptible by Ctrl-C (TICK_S); returns as soon as the thread ends."""
    while thread.is_alive():
        thread.join(TICK_S)


def wait(event: threading.Event) -> None:
    """event.wait(), interruptible by Ctrl-C (TICK_S); returns as soon as it is set."""
    while not event.wait(TICK_S):
        pass


def gather(tasks: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """Run each task in its own daemon thread and return their results by name; the first
    failure (in the order given) is raised once all have ended.

    Daemon threads, not a ThreadPoolExecutor: the interpreter waits for a pool's workers at
    exit, so Ctrl-C during throttled reads would hang until every retry had run out. The
    main thread's joins stay interruptible; abandoned readers only read.
    """
    results: dict[str, Any] = {}
    failures: dict[str, BaseException] = {}

    def work(name: str, task: Callable[[], Any]) -> None:
        try:
            results[name] = task()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            failures[name] = exc

    threads = [threading.Thread(target=work, args=item, daemon=True, name=f"read-{item[0]}")
               for item in tasks.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        join(thread)
    for name in tasks:
        if name in failures:
            raise failures[name]
    return {name: results[name] for name in tasks}


def run_graph(tasks: dict[str, Callable[[], Any]], needs: dict[str, set[str]]) -> dict[str, Any]:
    """Run each task once every task it needs has succeeded, independent ones at once.

    After a failure nothing new starts; tasks already running finish (a write in flight is
    not abandoned halfway), then the first failure in the order given is raised. Returns the
    results by name, in the order given. Daemon threads, as in gather().
    """
    results: dict[str, Any] = {}
    failures: dict[str, BaseException] = {}
    started: set[str] = set()
    running: set[str] = set()
    changed = threading.Condition()

    def work(name: str) -> None:
        try:
            value = tasks[name]()
            with changed:
                results[name] = value
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            with changed:
                failures[name] = exc
        finally:
            with changed:
                running.discard(name)
                changed.notify_all()

    with changed:
        while True:
            ready = [] if failures else [
                n for n in tasks if n not in started and needs.get(n, set()) <= set(results)]
            for name in ready:
                started.add(name)
                running.add(name)
                threading.Thread(target=work, args=(name,), daemon=True,
                                 name=f"apply-{name}").start()
            if not running:
                break
            changed.wait(TICK_S)  # a timeout keeps Ctrl-C deliverable to the main thread
    for name in tasks:
        if name in failures:
            raise failures[name]
    return {name: results[name] for name in tasks if name in results}
