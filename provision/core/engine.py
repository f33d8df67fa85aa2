"""The engine: build each kind's wanted value once, read every kind concurrently (read-only),
diff into a Plan, and execute the plan's writing actions in order.

Adding a resource kind is one new module in kinds/ and one line in kinds.KINDS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from provision.aws.client import ALREADY_EXISTS, Aws
from provision.aws.concurrency import run_graph
from provision.aws.endpoint import HEAVY_CLIENTS
from provision.core.plan import AnyAction, Mode, Op, Owner, Plan
from provision.core.stack import Stack, identified
from provision.errors import AwsError, ConflictError
from provision.kinds import BY_NAME, KINDS
from provision.kinds.contract import AnyKind, stamped

log = logging.getLogger("provision.core.engine")


SERVICES = tuple(dict.fromkeys(s for kind in KINDS for s in kind.services))
IDENTITY = "identity"  # the read-graph task that asks STS who the caller is


@dataclass(frozen=True)
class Observation:
    """Each kind's wanted value and what AWS has (None when absent), by kind name."""

    stack: Stack
    wanted: dict[str, Any]
    found: dict[str, Any]
    mode: Mode = Mode.UP


def observe(aws: Aws, stack: Stack, mode: Mode = Mode.UP) -> Observation:
    """Read every kind at once; each read is independent and read-only.

    `stack` may be one whose account is not known yet (Stack.known False): then STS is asked
    alongside the reads of every kind that needs no account (Kind.needs_account), and only
    the others wait for its answer. A failure starts nothing new; the first, in the order
    identity then KINDS, is raised once the reads under way have ended.

    A teardown finds each kind's resources from the stack's name and tags alone
    (`Kind.locate` on `Stack.teardown()`): what the config says now never hides anything."""
    if mode.teardown:
        stack = stack.teardown()
    early = {kind.name: kind.wanted(stack) for kind in KINDS}
    aws.prewarm(clients(early, mode), {} if stack.known else waiting(early, mode))
    known: list[Stack] = []

    def identify() -> None:
        known.append(identified(aws, stack))

    def read(kind: AnyKind) -> Callable[[], Any]:
        def run() -> Any:
            wanted = kind.wanted(known[0]) if kind.needs_account else early[kind.name]
            return (kind.locate if mode.teardown else kind.read)(aws, wanted)
        return run

    found = run_graph({IDENTITY: identify, **{k.name: read(k) for k in KINDS}},
                      {k.name: {IDENTITY} for k in KINDS if k.needs_account})
    wanted = {kind.name: stamped(kind.wanted(known[0])) for kind in KINDS}
    return Observation(known[0], wanted, {k.name: found[k.name] for k in KINDS}, mode)


def clients(wanted: dict[str, Any], mode: Mode) -> tuple[str, ...]:
    """The clients the reads will call: STS's first, then those of the kinds that need the
    account, whose connections open while STS is asked (waiting), then the others', the
    slowest to make (HEAVY_CLIENTS) last."""
    first = [s for k in KINDS if not k.needs_account for s in k.clients(wanted[k.name], mode)]
    last = [s for k in KINDS if k.needs_account for s in k.clients(wanted[k.name], mode)]
    order = ["sts", *last, *sorted(first, key=lambda service: service in HEAVY_CLIENTS)]
    return tuple(dict.fromkeys(order))


def waiting(wanted: dict[str, Any], mode: Mode) -> dict[str, int]:
    """Service -> the connections to open while STS is asked: the reads that wait for the
    account would otherwise open them after its answer, two round trips each on the chain."""
    return {s: k.reads_at_once for k in KINDS if k.needs_account
            for s in k.clients(wanted[k.name], mode)}


def make_plan(observation: Observation, adopt: bool = False) -> Plan:
    """Pure: what each kind needs, in execution order (reversed when tearing down)."""
    stack, mode = observation.stack, observation.mode
    kinds = tuple(reversed(KINDS)) if mode.teardown else KINDS
    actions = tuple(k.diff(observation.wanted[k.name], observation.found[k.name], mode, adopt)
                    for k in kinds)
    by_kind = {a.kind: a for a in actions}
    actions = tuple(_with_host(a, by_kind) for a in actions)
    written = frozenset(a.kind for a in actions if a.writes)
    actions = tuple(replace(a, wanted=BY_NAME[a.kind].given(a.wanted, written)) if a.writes
                    else a for a in actions)
    return Plan(stack.name, stack.region, stack.account, actions, mode)


def _with_host(action: AnyAction, by_kind: dict[str, AnyAction]) -> AnyAction:
    """A setting on another kind's resource (Kind.host) has no tags of its own: where its host
    is not this stack's (a conflict), it is left alone too, whatever it holds."""
    host = BY_NAME[action.kind].host
    found = by_kind.get(host) if host else None
    if found is None or found.op is not Op.CONFLICT or action.op is Op.NOOP:
        return action
    return replace(action, op=Op.NOOP, changes=(),
                   reason=f"on {found.kind} {found.name}, which is not this stack's; left alone")


def refuse_conflicts(plan: Plan) -> None:
    conflict = conflict_error(plan)
    if conflict:
        raise conflict


def conflict_error(plan: Plan) -> ConflictError | None:
    """The error 'up' would stop with, naming each resource it does not own; None if none."""
    if plan.conflicts:
        names = "; ".join(f"{a.kind} {a.name} ({a.reason})" for a in plan.conflicts)
        hint = "Each reason above says how to resolve it."
        owners = {a.owner for a in plan.conflicts if a.owner is not None}
        if owners:
            hint = ("stock-alert only manages resources tagged managed-by=stock-alert and "
                    f"stock-alert:stack={plan.stack}. Pick another 'name' in the config, or "
                    "delete or rename the existing resource yourself.")
        if Owner.OTHER_FLEET in owners:
            hint = ("A fleet changes only the stacks it made (tag stock-alert:fleet). To take "
                    "over a stack of this name that no fleet made, run the fleet's 'up' with "
                    "--adopt; otherwise choose another config name or participant id.")
        return ConflictError(
            f"Stack {plan.stack!r} cannot be applied: {names}. Nothing was changed.", hint=hint)
    return None


Progress = Callable[[AnyAction, str], None]


def execute(aws: Aws, plan: Plan, progress: Progress | None = None) -> list[AnyAction]:
    """Carry out every writing action, each once the kinds it depends on are done and
    independent ones at once; return the actions actually applied, in plan order.

    Up creates what a kind needs first (Kind.after); deletes run the same edges backwards,
    so nothing is deleted while something that needs it is still there, and in 'up' only
    once every create and update is done (dependencies)."""
    writing = {a.kind: a for a in plan.actions if a.writes}

    def task(action: AnyAction) -> Callable[[], AnyAction]:
        def run() -> AnyAction:
            if progress:
                progress(action, "start")
            applied = _apply(aws, BY_NAME[action.kind], action)
            if progress:
                progress(applied, "done")
            return applied
        return run

    graph = dependencies(writing, plan)
    done = run_graph({k: task(a) for k, a in writing.items()}, graph.needs, graph.soon,
                     graph.early)
    return list(done.values())


@dataclass(frozen=True)
class Graph:
    """What each writing kind waits for: `needs`, their end; `soon`, only their ready point
    (concurrency.ready()); `early` kinds start at once and wait at their gate()."""

    needs: dict[str, set[str]]
    soon: dict[str, set[str]]
    early: dict[str, set[str]]  # kind -> the kinds whose ready point it starts at

    def waits(self, kind: str) -> set[str]:
        return self.needs[kind] | self.soon[kind]


def dependencies(writing: dict[str, AnyAction], plan: Plan) -> Graph:
    """Kind -> the writing kinds that must finish (or be ready) first.

    A create or update waits for the kinds it needs (Kind.after), for those in
    Kind.after_ready only until they are ready (the function exists and is Active); a create
    whose kind makes its first part alone (Kind.early_create) starts at once, and a
    teardown's delete whose first part needs less (Kind.strips_after) once that is ready.
    Deletes run the edges backwards, each waiting only until what needs it is ready to let it
    go (the schedule has stopped invoking the function: market_schedule.py) -- except where
    a kind is a setting of a host (Kind.host) deleted too: deleting the host removes it, so
    neither the host nor what it needs waits for its delete, which then counts "already
    gone" as done. Outside teardown a delete removes what the config no longer uses (the schedule's
    other form), so it also waits for every create and update of the plan: what replaces it
    exists before it goes, like CloudFormation's cleanup phase after an update."""
    deleting = {k for k, a in writing.items() if a.op is Op.DELETE}
    needs: dict[str, set[str]] = {k: set() for k in writing}
    soon: dict[str, set[str]] = {k: set() for k in writing}
    for kind in writing:
        for first in BY_NAME[kind].after:
            if first not in writing or (kind in deleting) != (first in deleting):
                continue
            if kind not in deleting:
                (soon if first in BY_NAME[kind].after_ready else needs)[kind].add(first)
            elif BY_NAME[kind].host not in deleting:
                soon[first].add(kind)
    for kind in deleting:
        needs[kind] |= set(writing) - deleting
    early: dict[str, set[str]] = {
        k: set() for k, a in writing.items() if a.op is Op.CREATE and BY_NAME[k].early_create}
    if plan.mode.teardown:
        early |= {k: set(BY_NAME[k].strips_after) & deleting for k in deleting
                  if BY_NAME[k].strips_after}
    return Graph(needs, soon, early)


def _apply(aws: Aws, kind: AnyKind, action: AnyAction) -> AnyAction:
    try:
        kind.apply(aws, action)
        return action
    except AwsError as err:
        if action.op is not Op.CREATE or err.code not in ALREADY_EXISTS:
            raise
    # It exists after all: an earlier call took effect but its answer was lost, or someone
    # made it meanwhile. Read it again and adopt it only if it carries this stack's tags.
    log.info("%s %s already exists; reading it again", action.kind, action.name)
    again = kind.diff(action.wanted, kind.read(aws, action.wanted), Mode.UP)
    if again.op is Op.CONFLICT:
        raise ConflictError(
            f"{again.kind} {again.name} appeared while creating it and {again.reason}.",
            hint="Delete or rename it, or choose another stack name, then run 'up' again.",
        )
    if again.writes:
        kind.apply(aws, again)
    return again
