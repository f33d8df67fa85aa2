"""The records of the operator policy: a `Scope` (one statement) and a `Need` (one action in
it, the commands that use it, why, and for which configs). Each kind lists its own
(Kind.operator); the stored API key's are in features/security/key_scopes.py;
features/security/deployer.py builds the policy and its table from them, knowing no kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provision.core.stack import Stack

READ = ("up", "down", "status")
UP = ("up",)
DOWN = ("down",)
SECRET_SET = ("secret set",)
DELETE_SECRET = ("down --delete-secret",)

Document = dict[str, Any]


def always(stack: Stack) -> bool:
    return True


@dataclass(frozen=True)
class Scope:
    """One statement of the operator policy.

    - `resources`: what it names for a stack; a list, or one ARN as a plain string (written
      "Resource": "arn", IAM's single-value form); empty: the config rules it out.
    - `unnamed`: what the table says when it names none but the need is still listed (the
      customer key, when the config sets it).
    - `condition`: the statement's Condition for a stack (e.g. only with this stack's tag).
    - `qualifier`: what the table adds after the resource, in parentheses; by default each
      condition key and its value ("iam:PassedToService = lambda.amazonaws.com").
    - `one_action`: the statement grants a single action, written "Action": "x".
    """

    sid: str
    resources: Callable[[Stack], list[str] | str]
    unnamed: str = ""
    condition: Callable[[Stack], Document] | None = None
    qualifier: Callable[[Stack], str] | None = None
    one_action: bool = False

    def named(self, stack: Stack) -> list[str]:
        found = self.resources(stack)
        return [found] if isinstance(found, str) else list(found)

    def note(self, stack: Stack) -> str:
        """The table's words after the resource: ' (qualifier)', or '' without a condition."""
        if self.qualifier is not None:
            return f" ({self.qualifier(stack)})"
        if self.condition is None:
            return ""
        tests = self.condition(stack).values()
        return " ({})".format(", ".join(f"{key} = {value}" for test in tests
                                        for key, value in test.items()))


# Actions the Service Authorization Reference lists with no resource type: Resource "*".
ANY = Scope("NoResourceLevelPermissions", lambda s: ["*"])


@dataclass(frozen=True)
class Need:
    """One action of the operator policy, in one statement (`scope`).

    - `commands`, `why`: the table's columns.
    - `applies`: whether this config needs it (e.g. only with `network:`, or only without a
      permissions boundary); an action whose scope or reason depends on the config is one
      Need per case, each applying to its own configs.
    - `unscoped`: on Resource "*", why it cannot be narrower (the table says so).
    - `listed`: False for a second grant of an action the table already lists (the same
      action in another statement, e.g. tagging a group while creating it).
    """

    action: str
    scope: Scope
    commands: tuple[str, ...]
    why: str
    applies: Callable[[Stack], bool] = always
    unscoped: str = ""
    listed: bool = True
