"""Observe every resource (concurrently, read-only), diff into a Plan, and execute it in order.

Adding a resource kind is one new module in resources/ and one line in KINDS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from provision.aws import ALREADY_EXISTS, Aws
from provision.errors import AwsError, ConflictError
from provision.model import Action, Op, Plan
from provision.resources import function, log_group, role, schedule, topic
from provision.stack import Stack

log = logging.getLogger("provision.plan")

# Creation order; deletion runs it backwards.
KINDS: tuple[ModuleType, ...] = (role, log_group, topic, function, schedule)


@dataclass(frozen=True)
class Observation:
    stack: Stack
    found: dict[str, Any]


def observe(aws: Aws, stack: Stack) -> Observation:
    """Read every kind at once; each read is independent and read-only."""
    with ThreadPoolExecutor(max_workers=len(KINDS)) as pool:
        futures = {k.KIND: pool.submit(k.observe, aws, stack) for k in KINDS}
        return Observation(stack, {kind: f.result() for kind, f in futures.items()})


def make_plan(observation: Observation, wanted: bool) -> Plan:
    """Pure: what each kind needs, in execution order (reversed when tearing down)."""
    stack = observation.stack
    kinds = KINDS if wanted else tuple(reversed(KINDS))
    actions = tuple(k.plan(stack, observation.found[k.KIND], wanted) for k in kinds)
    return Plan(stack.name, stack.region, stack.account, actions)


def refuse_conflicts(plan: Plan) -> None:
    if plan.conflicts:
        names = "; ".join(f"{a.kind} {a.name} ({a.reason})" for a in plan.conflicts)
        raise ConflictError(
            f"Stack {plan.stack!r} cannot be applied: {names}. Nothing was changed.",
            hint="stock-alert only manages resources tagged managed-by=stock-alert and "
            f"stock-alert:stack={plan.stack}. Pick another 'name' in the config, or delete or "
            "rename the existing resource yourself.",
        )


Progress = Callable[[Action, str], None]


def execute(aws: Aws, plan: Plan, stack: Stack, progress: Progress | None = None) -> list[Action]:
    """Carry out every writing action in order; return the actions actually applied."""
    by_kind = {k.KIND: k for k in KINDS}
    done: list[Action] = []
    for action in plan.actions:
        if not action.writes:
            continue
        if progress:
            progress(action, "start")
        applied = _apply(aws, stack, by_kind[action.kind], action)
        done.append(applied)
        if progress:
            progress(applied, "done")
    return done


def _apply(aws: Aws, stack: Stack, kind: ModuleType, action: Action) -> Action:
    try:
        kind.apply(aws, stack, action)
        return action
    except AwsError as err:
        if action.op is not Op.CREATE or err.code not in ALREADY_EXISTS:
            raise
    # It exists after all: an earlier call took effect but its answer was lost, or someone
    # made it meanwhile. Read it again and adopt it only if it carries this stack's tags.
    log.info("%s %s already exists; reading it again", action.kind, action.name)
    again = kind.plan(stack, kind.observe(aws, stack), True)
    if again.op is Op.CONFLICT:
        raise ConflictError(
            f"{again.kind} {again.name} appeared while creating it and {again.reason}.",
            hint="Delete or rename it, or choose another stack name, then run 'up' again.",
        )
    if again.writes:
        kind.apply(aws, stack, again)
    return again
