"""The records of the operator policy: a `Scope` (one statement) and a `Need` (one action in
it, the commands that use it and why). Each kind lists its own (Kind.operator); the stored
API key's are in key_scopes.py; deployer.py builds the policy from them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from provision.core.stack import Stack

READ = ("up", "down", "status")
UP = ("up",)
DOWN = ("down",)
SECRET_SET = ("secret set",)
DELETE_SECRET = ("down --delete-secret",)


@dataclass(frozen=True)
class Scope:
    """One statement of the operator policy: its Sid and the resources it names for a stack
    (none: the config rules it out). `unnamed` is what the table says when it names none but
    the need is still listed (the customer key, when the config sets it)."""

    sid: str
    resources: Callable[[Stack], list[str]]
    unnamed: str = ""


# Actions the Service Authorization Reference lists with no resource type: Resource "*".
ANY = Scope("NoResourceLevelPermissions", lambda s: ["*"])


@dataclass(frozen=True)
class Need:
    action: str
    scope: Scope
    commands: tuple[str, ...]
    why: str
