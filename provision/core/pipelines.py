"""The four pipelines (plan, up, down, status) as plain functions: no printing, no prompts.

Each is the same pipeline with a different ending: connect, observe, diff, then render, execute
or summarise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

from provision.aws.concurrency import gather
from provision.aws.endpoint import HEAVY_CLIENTS
from provision.config.regions import partition_of
from provision.core.engine import SERVICES as KIND_SERVICES
from provision.core.engine import Observation, execute, make_plan, observe, refuse_conflicts
from provision.core.engine import Progress as Progress
from provision.core.plan import LEFT_OVER, NOT_USED, AnyAction, Mode, Op, Plan
from provision.core.stack import ACCOUNT_UNKNOWN, Stack, identified
from provision.core.target import Target
from provision.kinds import BY_NAME, sms_delivery
from provision.kinds import key_state as keys
from provision.kinds.contract import Reason
from provision.kinds.topic import Topic

SERVICES = KIND_SERVICES  # what observe() reads: every kind's clients (Kind.services)
_STATE = {Op.CREATE: "missing", Op.UPDATE: "drifted", Op.NOOP: "in sync",
          Op.CONFLICT: "foreign", Op.DELETE: "delete"}


def unidentified(target: Target, with_code: bool) -> Stack:
    """The stack with its derived names, before any AWS call: its account is not known yet
    (engine.observe asks STS alongside the reads that need no account, and creates the
    clients they need meanwhile)."""
    code = target.code if with_code else None
    return Stack(target.config, ACCOUNT_UNKNOWN, target.aws.region,
                 partition_of(target.aws.region), code, target.fleet)


def connect(target: Target, with_code: bool) -> Stack:
    """The first AWS call: who am I. Then the stack with its derived names.

    The clients every kind's reads may need are created while that call is in flight."""
    target.aws.client("sts")
    target.aws.prewarm(tuple(sorted(SERVICES, key=lambda service: service in HEAVY_CLIENTS)))
    return identified(target.aws, unidentified(target, with_code))


def plan(target: Target, mode: Mode = Mode.UP) -> tuple[Plan, Observation]:
    """Mode.DOWN plans the teardown: nothing wanted, everything the stack's tags mark found."""
    stack = unidentified(target, with_code=not mode.teardown)
    observation = observe(target.aws, stack, mode)
    return make_plan(observation, target.adopt), observation


def up(target: Target, progress: Progress | None = None) -> tuple[Plan, list[AnyAction]]:
    the_plan, _ = plan(target, Mode.UP)
    return the_plan, apply(target, the_plan, progress)


def apply(target: Target, the_plan: Plan, progress: Progress | None = None,
          ) -> list[AnyAction]:
    """Carry out a plan made by plan(target) (after the caller asked, if it asks)."""
    refuse_conflicts(the_plan)
    return execute(target.aws, the_plan, progress)


def never_seen(the_plan: Plan) -> bool:
    """Nothing of the stack exists where the plan was read: a first 'up' there."""
    return all(action.observed is None for action in the_plan.actions)


def down(target: Target, the_plan: Plan, progress: Progress | None = None,
         ) -> list[AnyAction]:
    """Carry out a teardown plan made by plan(target, Mode.DOWN)."""
    assert the_plan.mode.teardown, "down carries out a teardown plan only"
    return execute(target.aws, the_plan, progress)


def delete_secret(target: Target, where: Any) -> Any:
    """down --delete-secret: the stored API key, only if this stack owns it."""
    from provision.kinds import secret

    return secret.delete(target.aws, where, target.config.name)


@dataclass(frozen=True)
class StatusRow:
    kind: str
    name: str
    exists: bool
    state: str  # missing, in sync, changed in config, drifted, foreign
    drift: tuple[str, ...]
    attributes: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "exists": self.exists,
                "state": self.state, "drift": list(self.drift), "attributes": self.attributes,
                "notes": list(self.notes)}


def status(target: Target) -> tuple[Plan, list[StatusRow]]:
    """The plan's view of each resource, plus whether SNS can deliver to each SMS number.

    The SMS checks read only the config's numbers, so they run alongside the stack's reads
    (after the identity call has proved the credentials); their notes join the topic's row."""
    stack = connect(target, with_code=True)
    found = gather({"sms": partial(sms_delivery.check, target.aws, stack.config.notify.sms),
                    "stack": partial(observe, target.aws, stack, Mode.STATUS),
                    "key": partial(keys.key_state, target.aws, stack.config)})
    observation, deliveries = found["stack"], found["sms"]
    the_plan = make_plan(observation, target.adopt)
    extra = {Topic.name: tuple(d.note for d in deliveries if d.note)}
    rows = [_row(action, observation, extra.get(action.kind, ()))
            for action in the_plan.actions]
    return the_plan, rows + ([_key_row(found["key"])] if found["key"] else [])


def key_state(target: Target) -> keys.KeyState | None:
    """Whether the API key the function reads is stored (None: it reads none)."""
    return keys.key_state(target.aws, target.config)


def _key_row(key: keys.KeyState) -> StatusRow:
    """The stored API key as a status row: 'up' never writes it, 'secret set' does."""
    state = {"stored": "in sync"}.get(key.state, key.state)
    return StatusRow("api-key", key.where.name, exists=bool(key.stored), state=state,
                     drift=(), attributes={"store": key.where.label},
                     notes=(key.warning,) if key.warning else ())


def _row(action: AnyAction, observation: Observation, extra: tuple[str, ...] = (),
         ) -> StatusRow:
    seen = observation.found[action.kind]
    drift = tuple(c.label for c in action.changes
                  if c.field != "applied") if action.op is Op.UPDATE else ()
    state = _STATE[action.op]
    if action.reason == Reason.CHANGED_IN_CONFIG:
        state = Reason.CHANGED_IN_CONFIG.value  # not drift: the config asks for something new
    elif action.op is Op.NOOP and seen is None:
        state = "not used"  # the config asks for none (e.g. no network:); the reason says why
    elif action.op is Op.DELETE and action.reason.startswith(NOT_USED):
        state, extra = LEFT_OVER, (f"{action.reason}; 'up' deletes it", *extra)
    return StatusRow(action.kind, action.name,
                     exists=seen is not None and action.op is not Op.CREATE,
                     state=state, drift=drift,
                     attributes=BY_NAME[action.kind].summary(seen),
                     notes=action.notes + extra)
