"""Concurrent reads that never hold up Ctrl-C or the end of the process."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
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


class Stopped(Exception):
    """Raised at an early task's gate() when a task it waits for (or any other) failed: it
    stops there, and run_graph raises that first failure, not this."""


_task = threading.local()  # the run_graph task this thread runs: its ready() and gate()


def ready() -> None:
    """Inside a run_graph task: the tasks that need only this one's ready point (`soon`)
    may start now, while this one goes on. Anywhere else, nothing."""
    signal = getattr(_task, "ready", None)
    if signal is not None:
        signal()


def gate() -> None:
    """Inside a task run_graph started early (`early`): wait until the tasks it needs are
    done (or ready, for `soon`); raises Stopped if a task failed. Anywhere else, nothing."""
    wait_for = getattr(_task, "gate", None)
    if wait_for is not None:
        wait_for()


def run_graph(tasks: dict[str, Callable[[], Any]], needs: dict[str, set[str]],
              soon: dict[str, set[str]] | None = None,
              early: dict[str, set[str]] | None = None) -> dict[str, Any]:
    """Run each task once every task it needs has succeeded, independent ones at once.

    `soon`: task -> tasks it needs only to have reached their ready point (ready(), called
    inside them, or their end). `early`: task -> the tasks whose ready point it starts at
    (often none); it calls gate() where it first needs the rest of what it waits for. One
    that never does is held there at its end, so nothing that needs it starts before what it
    needs is done.

    After a failure nothing new starts; tasks already running finish (a write in flight is
    not abandoned halfway; an early one stops at its gate), then the first failure in the
    order given is raised. Returns the results by name, in the order given. Daemon threads,
    as in gather().
    """
    graph = _Graph(tasks, needs, soon or {}, early or {})
    graph.run()
    first = [n for n in tasks if n in graph.failures
             and not isinstance(graph.failures[n], Stopped)]
    for name in first or [n for n in tasks if n in graph.failures]:
        raise graph.failures[name]
    return {name: graph.results[name] for name in tasks if name in graph.results}


class _Graph:
    """run_graph's state, guarded by one condition."""

    def __init__(self, tasks: dict[str, Callable[[], Any]], needs: dict[str, set[str]],
                 soon: dict[str, set[str]], early: dict[str, set[str]]) -> None:
        self.tasks, self.needs, self.soon, self.early = tasks, needs, soon, early
        self.results: dict[str, Any] = {}
        self.failures: dict[str, BaseException] = {}
        self.readied: set[str] = set()
        self.started: set[str] = set()
        self.running: set[str] = set()
        self.changed = threading.Condition()

    def satisfied(self, name: str) -> bool:
        done = set(self.results)
        return (self.needs.get(name, set()) <= done
                and self.soon.get(name, set()) <= done | self.readied)

    def mark_ready(self, name: str) -> None:
        with self.changed:
            self.readied.add(name)
            self.changed.notify_all()

    def wait_for(self, name: str) -> None:
        with self.changed:
            while not self.satisfied(name):
                if self.failures:
                    raise Stopped(name)
                self.changed.wait(TICK_S)

    def work(self, name: str) -> None:
        _task.ready = partial(self.mark_ready, name)
        _task.gate = partial(self.wait_for, name)
        try:
            value = self.tasks[name]()
            if name in self.early:
                self.wait_for(name)
            with self.changed:
                self.results[name] = value
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by run_graph
            with self.changed:
                self.failures[name] = exc
        finally:
            _task.ready = _task.gate = None
            with self.changed:
                self.running.discard(name)
                self.changed.notify_all()

    def run(self) -> None:
        with self.changed:
            while True:
                startable = [] if self.failures else [
                    n for n in self.tasks if n not in self.started
                    and (self.early[n] <= self.readied | set(self.results) if n in self.early
                         else self.satisfied(n))]
                for name in startable:
                    self.started.add(name)
                    self.running.add(name)
                    threading.Thread(target=self.work, args=(name,), daemon=True,
                                     name=f"apply-{name}").start()
                if not self.running:
                    return
                self.changed.wait(TICK_S)  # a timeout keeps Ctrl-C deliverable to main
