"""The plan as data: what to do to each resource, and why. Frozen, renderable, comparable.

A `Plan` is a tuple of `Action`s; each action carries the kind's wanted value and what was
observed, so the executor can carry it out from the action alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any, Generic, TypeVar

W = TypeVar("W")
O = TypeVar("O")  # noqa: E741 - the observed type, as in Action[W, O]


class Op(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NOOP = "no change"
    CONFLICT = "conflict"

    def __str__(self) -> str:
        return self.value


class Mode(StrEnum):
    """What a plan is for: 'up' (make the config true), 'down' (nothing wanted: delete what
    carries the stack's tags) or 'status' (read and compare, write nothing)."""

    UP = "up"
    DOWN = "down"
    STATUS = "status"

    def __str__(self) -> str:
        return self.value

    @property
    def teardown(self) -> bool:
        return self is Mode.DOWN


class Owner(Enum):
    """Whose a resource is, judged from its tags alone (kinds/contract.py ownership)."""

    OURS = "ours"
    UNTAGGED = "untagged"  # not managed-by=stock-alert, or no stack tag: nobody's we know
    OTHER_STACK = "other stack"
    OTHER_REGION = "other region"  # a global (IAM) resource serving this stack in another Region
    OTHER_FLEET = "other fleet"  # made by another fleet, or by none while this is a fleet's


WRITES = frozenset({Op.CREATE, Op.UPDATE, Op.DELETE})
# How the reason of a delete outside teardown begins: the config uses another form of the
# resource (the schedule's rule or market-time schedule, issue 23), so 'up' deletes this one.
NOT_USED = "not used by the config"
LEFT_OVER = "left over"  # status: such a resource, deployed; 'up' deletes it


@dataclass(frozen=True)
class Change:
    """One thing that differs: what AWS has now and what the config wants.

    `field` is the kind's own vocabulary ("retention_days", "policy", "email"); `item` names the
    sub-item when a field holds several (a policy's name, an attribute's key, a subscriber's
    endpoint), so nothing ever has to be parsed back out of a string.
    """

    field: str
    old: Any = None
    new: Any = None
    item: str = ""

    @property
    def label(self) -> str:
        return f"{self.field} {self.item}" if self.item else self.field

    def to_dict(self) -> dict[str, Any]:
        out = {"field": self.field, "old": self.old, "new": self.new}
        if self.item:
            out["item"] = self.item
        return out


Changes = tuple[Change, ...]


@dataclass(frozen=True, kw_only=True)
class Action(Generic[W, O]):
    kind: str
    name: str
    op: Op
    wanted: W = field(compare=False, repr=False)
    observed: O | None = field(default=None, compare=False, repr=False)
    changes: Changes = ()
    reason: str = ""
    notes: tuple[str, ...] = ()
    owner: Owner | None = None  # on an ownership conflict: whose the resource is

    @property
    def writes(self) -> bool:
        return self.op in WRITES

    def changed(self, name: str) -> Changes:
        """The changes to one field (all its items)."""
        return tuple(c for c in self.changes if c.field == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "op": self.op.value,
            # 'applied' is the tool's own record of what it wrote (see kinds/contract.py)
            "changes": [c.to_dict() for c in self.changes if c.field != "applied"],
            "reason": self.reason,
            "notes": list(self.notes),
        }


AnyAction = Action[Any, Any]


@dataclass(frozen=True)
class Plan:
    stack: str
    region: str
    account: str
    actions: tuple[AnyAction, ...]
    mode: Mode = Mode.UP

    @property
    def conflicts(self) -> tuple[AnyAction, ...]:
        return tuple(a for a in self.actions if a.op is Op.CONFLICT)

    @property
    def has_writes(self) -> bool:
        return any(a.writes for a in self.actions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "region": self.region,
            "account": self.account,
            "mode": self.mode.value,
            "actions": [a.to_dict() for a in self.actions],
        }


def diff_fields(wanted: dict[str, Any], seen: dict[str, Any]) -> Changes:
    """Changes for every key whose wanted value differs from what was observed."""
    return tuple(
        Change(key, seen.get(key), value) for key, value in wanted.items()
        if seen.get(key) != value
    )
