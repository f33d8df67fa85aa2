"""The plan as data: what to do to each resource, and why. Frozen, renderable, comparable."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Op(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NOOP = "no change"
    CONFLICT = "conflict"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Change:
    """One field that differs: what AWS has now and what the config wants."""

    field: str
    old: Any = None
    new: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class Action:
    kind: str
    name: str
    op: Op
    changes: tuple[Change, ...] = ()
    reason: str = ""
    observed: Any = field(default=None, compare=False, repr=False)
    notes: tuple[str, ...] = ()

    @property
    def writes(self) -> bool:
        return self.op in (Op.CREATE, Op.UPDATE, Op.DELETE)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "op": self.op.value,
            "changes": [c.to_dict() for c in self.changes],
            "reason": self.reason,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Plan:
    stack: str
    region: str
    account: str
    actions: tuple[Action, ...]

    @property
    def conflicts(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.op is Op.CONFLICT)

    @property
    def has_writes(self) -> bool:
        return any(a.writes for a in self.actions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "region": self.region,
            "account": self.account,
            "actions": [a.to_dict() for a in self.actions],
        }


def diff_fields(wanted: dict[str, Any], seen: dict[str, Any]) -> tuple[Change, ...]:
    """Changes for every key whose wanted value differs from what was observed."""
    return tuple(
        Change(key, seen.get(key), value) for key, value in wanted.items()
        if seen.get(key) != value
    )


def tag_changes(wanted: dict[str, str], seen: dict[str, str]) -> tuple[Change, ...]:
    """A single 'tags' change when the tag sets differ (AWS-reserved aws:* tags ignored)."""
    mine = {k: v for k, v in seen.items() if not k.startswith("aws:")}
    return () if mine == wanted else (Change("tags", mine, wanted),)
