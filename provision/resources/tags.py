"""Tag helpers shared by every kind: each AWS service has its own tag calls and shapes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from provision.plan import Changes


def tag_writes(old: Mapping[str, str] | None, new: Mapping[str, str],
               ) -> tuple[dict[str, str], list[str]]:
    """(tags to set, keys to remove) to turn `old` into `new`."""
    old = old or {}
    to_set = {k: v for k, v in new.items() if old.get(k) != v}
    to_remove = sorted(k for k in old if k not in new)
    return to_set, to_remove


def apply_tags(changes: Changes, tag: Callable[[dict[str, str]], Any],
               untag: Callable[[list[str]], Any]) -> None:
    """The tag and untag calls (each kind has its own API) for a 'tags' change."""
    for change in changes:
        if change.field != "tags":
            continue
        to_set, to_remove = tag_writes(change.old, change.new)
        if to_set:
            tag(to_set)
        if to_remove:
            untag(to_remove)


def as_list(tags: Mapping[str, str], key: str = "Key", value: str = "Value",
            ) -> list[dict[str, Any]]:
    return [{key: k, value: v} for k, v in sorted(tags.items())]


def from_list(tags: list[dict[str, str]] | None, key: str = "Key", value: str = "Value",
              ) -> dict[str, str]:
    return {t[key]: t[value] for t in tags or []}
