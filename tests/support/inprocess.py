"""In-process test helpers: a fake clock for retries and a recorder of the API calls one Aws
makes (a botocore hook; the HTTP proxy has its own log in awsproxy.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provision.aws.retry import RetryPolicy
from provision.core.target import Options, Target, prepare
from tests.support.awsproxy import is_write_operation


@dataclass
class FakeClock:
    """Time that only moves when the code under test sleeps."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class ClientCalls:
    calls: list[str] = field(default_factory=list)

    def __call__(self, event_name: str, **_: Any) -> None:
        # event_name: before-call.<service>.<Operation>
        _, service, operation = event_name.split(".", 2)
        self.calls.append(f"{service}:{operation}")

    def writes(self) -> list[str]:
        return [c for c in self.calls if is_write_operation(c.split(":", 1)[1])]


def target(config: Path, clock: FakeClock | None = None, deadline_s: float = 300.0,
           ) -> tuple[Target, ClientCalls]:
    """A prepared Target whose every API call (including botocore retries) is recorded."""
    clock = clock or FakeClock()
    policy = RetryPolicy(deadline_s=deadline_s, sleep=clock.sleep, clock=clock.clock)
    prepared = prepare(Options(config, retry=policy))
    log = ClientCalls()
    prepared.aws.events.register("before-call", log)
    return prepared, log
