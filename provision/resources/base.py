"""The decision every resource kind shares: absent, foreign, unwanted, changed or in sync."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from provision.model import Action, Change, Op
from provision.stack import Stack, ownership


class Observed(Protocol):
    @property
    def tags(self) -> dict[str, str]: ...


Seen = TypeVar("Seen", bound=Observed)


def decide(
    kind: str,
    name: str,
    stack: Stack,
    observed: Seen | None,
    wanted: bool,
    changes: Callable[[Seen | None], tuple[Change, ...]],
    notes: Callable[[Seen | None], tuple[str, ...]] = lambda _: (),
) -> Action:
    """The shared state machine; `changes(observed)` diffs the kind's own fields."""
    if observed is None:
        if not wanted:
            return Action(kind, name, Op.NOOP, reason="absent")
        return Action(kind, name, Op.CREATE, changes(None), reason="missing")
    owner = ownership(stack, observed.tags)
    if owner != "ours":
        return Action(kind, name, Op.CONFLICT, reason=f"exists but is {owner}",
                      observed=observed)
    if not wanted:
        return Action(kind, name, Op.DELETE, reason="owned by this stack", observed=observed)
    found = changes(observed)
    op = Op.UPDATE if found else Op.NOOP
    return Action(kind, name, op, found, reason="drifted" if found else "in sync",
                  observed=observed, notes=notes(observed))


def changed(action: Action, prefix: str) -> list[Change]:
    return [c for c in action.changes if c.field == prefix or c.field.startswith(prefix + ":")]


def tag_writes(old: dict[str, str] | None, new: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """(tags to set, keys to remove) to turn `old` into `new`."""
    old = old or {}
    to_set = {k: v for k, v in new.items() if old.get(k) != v}
    to_remove = sorted(k for k in old if k not in new)
    return to_set, to_remove


def apply_tags(action: Action, tag: Callable[[dict[str, str]], Any],
               untag: Callable[[list[str]], Any]) -> None:
    """The tag and untag calls (each kind has its own API) for an action's 'tags' change."""
    for change in changed(action, "tags"):
        to_set, to_remove = tag_writes(change.old, change.new)
        if to_set:
            tag(to_set)
        if to_remove:
            untag(to_remove)


def as_list(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, Any]]:
    return [{key: k, value: v} for k, v in sorted(tags.items())]
