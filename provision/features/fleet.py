"""Many stacks at once: every (account, Region, stack) a job, run by a bounded pool of workers.

One `Aws` per account and Region, shared by every stack there: one botocore session per
account (Regions share it) and one client per service, so botocore's adaptive rate limiter,
which lives on the client, paces all the stacks that call one service in one Region together,
as AWS's own per-account, per-Region throttling counts them. A job's failure is its result: the
other jobs carry on, and the command exits 1 at the end if any failed. No printing here: the
caller gets events through `on_event` and the results at the end.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from provision.aws.client import Aws
from provision.aws.concurrency import join
from provision.config.model import Config
from provision.core import pipelines
from provision.core.package import CodePackage
from provision.core.plan import AnyAction, Mode, Plan
from provision.core.target import Target
from provision.errors import StockAlertError

PARALLEL_DEFAULT = 8
PARALLEL_MAX = 64
VERBS = ("plan", "up", "down", "status")
Event = Callable[["Job", str], None]


@dataclass(frozen=True)
class Place:
    """Where jobs run: a Region, in the caller's account or through an assumed role."""

    region: str
    role_arn: str | None = None

    @property
    def label(self) -> str:
        """'us-east-1', or 'us-east-1, account 111111111111' through an assumed role."""
        account = self.role_arn.split(":")[4] if self.role_arn else ""
        return f"{self.region}, account {account}" if account else self.region


@dataclass(frozen=True)
class Job:
    place: Place
    config: Config
    fleet: str | None = None  # the fleet that makes this stack (FLEET_TAG), if it is one's

    @property
    def key(self) -> str:
        return f"{self.config.name} ({self.place.label})"


@dataclass
class Result:
    job: Job
    ok: bool = False
    summary: str = "not started"
    account: str = ""
    plan: Plan | None = None
    applied: list[AnyAction] = field(default_factory=list)
    rows: list[Any] = field(default_factory=list)
    error: StockAlertError | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "stack": self.job.config.name, "region": self.job.place.region,
            "account": self.account or None, "assumed_role": self.job.place.role_arn,
            "result": "ok" if self.ok else "failed", "summary": self.summary}
        if self.plan is not None:
            out["actions"] = [a.to_dict() for a in self.plan.actions]
        if self.applied:
            out["applied"] = [a.to_dict() for a in self.applied]
        if self.rows:
            out["resources"] = [r.to_dict() for r in self.rows]
        if self.error is not None:
            out["error"] = {"message": self.error.message, "hint": self.error.hint,
                            "exit_code": self.error.exit_code}
        return out


def check_parallel(value: int) -> int:
    from provision.errors import InputError

    if not 1 <= value <= PARALLEL_MAX:
        raise InputError(f"--parallel {value} is not a number of workers from 1 to "
                         f"{PARALLEL_MAX}.", hint=f"Leave it out for the default of "
                         f"{PARALLEL_DEFAULT}; more workers only meet more throttling.")
    return value


class Connections:
    """One Aws per place, made on first use; assumed roles' sessions come from the base's."""

    def __init__(self, base: Aws) -> None:
        self.base = base
        self._lock = threading.Lock()
        self._made: dict[Place, Aws] = {}
        self._accounts: dict[str | None, Aws | StockAlertError] = {None: base}

    def get(self, place: Place) -> Aws:
        """One AssumeRole per account: its refusal is every one of that account's results."""
        with self._lock:
            found = self._made.get(place)
            if found is None:
                home = self._accounts.get(place.role_arn)
                if home is None:
                    try:
                        home = self.base.assume(place.role_arn or "")
                    except StockAlertError as err:
                        home = err
                    self._accounts[place.role_arn] = home
                if isinstance(home, StockAlertError):
                    raise home
                found = home if home.region == place.region else home.sibling(place.region)
                self._made[place] = found
            return found


def run(verb: str, jobs: list[Job], base: Aws, code: CodePackage, parallel: int,
        on_event: Event | None = None, adopt: bool = False) -> list[Result]:
    """Run `verb` for every job, `parallel` at a time; each job's result, in the jobs' order.

    Daemon workers, like concurrency.gather: Ctrl-C is not held up by a pool's exit join."""
    connections = Connections(base)
    results = [Result(job) for job in jobs]
    todo: queue.SimpleQueue[Result] = queue.SimpleQueue()
    for result in results:
        todo.put(result)

    def work() -> None:
        while True:
            try:
                result = todo.get_nowait()
            except queue.Empty:
                return
            _one(verb, result, connections, code, on_event, adopt)

    workers = [threading.Thread(target=work, daemon=True, name=f"fleet-{i}")
               for i in range(min(parallel, len(jobs)))]
    for worker in workers:
        worker.start()
    for worker in workers:
        join(worker)  # timed joins keep the main thread interruptible
    return results


def _one(verb: str, result: Result, connections: Connections, code: CodePackage,
         on_event: Event | None, adopt: bool = False) -> None:
    job = result.job

    def say(text: str) -> None:
        if on_event:
            on_event(job, text)

    say("reading")
    try:
        aws = connections.get(job.place)
        result.account = aws.account()[0]  # one STS call per account, cached by the Aws
        _VERBS[verb](Target(job.config, aws, code, job.fleet, adopt), result, say)
    except StockAlertError as err:
        result.ok, result.error, result.summary = False, err, f"failed: {err.message}"
    except Exception as err:  # noqa: BLE001 - one stack's bug must not stop the others
        result.ok, result.summary = False, f"failed: unexpected {type(err).__name__}: {err}"
        result.error = StockAlertError(result.summary[8:300], hint="Run again with --debug.")
    say(result.summary)


def _plan(target: Target, result: Result, say: Callable[[str], None]) -> None:
    from provision.core.engine import conflict_error
    from provision.output.render import plan_counts

    result.plan, _ = pipelines.plan(target)
    conflict = conflict_error(result.plan)
    if conflict:
        raise conflict
    result.ok, result.summary = True, plan_counts(result.plan)


def _up(target: Target, result: Result, say: Callable[[str], None]) -> None:
    from provision.output.render import summary_line

    result.plan, result.applied = pipelines.up(target, _steps(say))
    result.ok, result.summary = True, summary_line(result.plan, result.applied, "up")


def _down(target: Target, result: Result, say: Callable[[str], None]) -> None:
    from provision.output.render import summary_line

    result.plan, _ = pipelines.plan(target, mode=Mode.DOWN)
    result.applied = pipelines.down(target, result.plan, _steps(say))
    result.ok, result.summary = True, summary_line(result.plan, result.applied, "down")


def _teardown_plan(target: Target, result: Result, say: Callable[[str], None]) -> None:
    """What 'down' would delete (reads only), for the question before a fleet's 'down'."""
    from provision.output.render import plan_counts

    result.plan, _ = pipelines.plan(target, mode=Mode.DOWN)
    result.ok, result.summary = True, plan_counts(result.plan)


def _status(target: Target, result: Result, say: Callable[[str], None]) -> None:
    from provision.output.render import status_counts

    result.plan, result.rows = pipelines.status(target)
    result.ok, result.summary = True, status_counts(result.rows)


def _steps(say: Callable[[str], None]) -> pipelines.Progress:
    def progress(action: AnyAction, phase: str) -> None:
        verb = {"create": "creating", "update": "updating", "delete": "deleting"}
        if phase == "start":
            say(f"{verb.get(action.op.value, action.op.value)} {action.kind}")
    return progress


_VERBS: dict[str, Callable[[Target, Result, Callable[[str], None]], None]] = {
    "plan": _plan, "up": _up, "down": _down, "status": _status, "teardown": _teardown_plan}


def jobs_for(configs: list[Config], regions: list[str], roles: list[str | None],
             fleet: str | None = None) -> list[Job]:
    """Every stack in every Region of every account: accounts outermost, then Regions.

    `fleet` (the config's own name) is tagged on every stack whose name the fleet made
    (<name>-<id>, <name>-<region>): the fleet never takes over, or deletes, a stack of that
    name that it did not make. A job whose stack is the config's own keeps no fleet tag.

    IAM is global: one stack name in two Regions would be one role, which each Region's 'up'
    would rewrite with its own Region's ARNs. So with more than one Region, each Region's
    stacks are named <name>-<region> (checked against the name limit like any other)."""
    from provision.config.participants import with_suffix

    per_region = {region: [with_suffix(c, region, f"--regions {region}") for c in configs]
                  if len(regions) > 1 else configs for region in regions}
    return [Job(Place(region, role), config, fleet if config.name != fleet else None)
            for role in roles for region in regions for config in per_region[region]]


def failed(results: list[Result]) -> int:
    return sum(1 for r in results if not r.ok)
