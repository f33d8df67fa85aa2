"""Tag helpers shared by every kind: each AWS service has its own tag calls and shapes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from provision.config.model import APPLIED_TAG
from provision.core.plan import Change, Changes


def tag_writes(old: Mapping[str, str] | None, new: Mapping[str, str],
               ) -> tuple[dict[str, str], list[str]]:
    """(tags to set, keys to remove) to turn `old` into `new`."""
    old = old or {}
    to_set = {k: v for k, v in new.items() if old.get(k) != v}
    to_remove = sorted(k for k in old if k not in new)
    return to_set, to_remove


def apply_tags(changes: Changes, tag: Callable[[dict[str, str]], Any],
               untag: Callable[[list[str]], Any]) -> None:
    """The tag and untag calls (each kind has its own API) for the 'tags' change and the
    'applied' record, in one tag call."""
    wanted = {k: v for c in changes if c.field == "tags" for k, v in c.new.items()}
    old = {k: v for c in changes if c.field == "tags" for k, v in c.old.items()}
    for change in changes:
        if change.field == "applied":
            wanted[APPLIED_TAG], old[APPLIED_TAG] = change.new, change.old
    if wanted or old:
        to_set, to_remove = tag_writes(old, wanted)
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


def tag_changes(wanted: Mapping[str, str], seen: Mapping[str, str]) -> Changes:
    """A single 'tags' change when the tag sets differ. AWS-reserved aws:* tags and the
    applied-digest tag (written with any update, see kinds/contract.py) are not compared."""
    def user(tags: Mapping[str, str]) -> dict[str, str]:
        return {k: v for k, v in tags.items() if not k.startswith("aws:") and k != APPLIED_TAG}

    mine, want = user(seen), user(wanted)
    return () if mine == want else (Change("tags", mine, want),)
