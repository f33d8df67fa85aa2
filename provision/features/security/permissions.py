"""`stock-alert permissions`: the role's grants as deployed (or, before 'up', as planned).

The deployed documents are read through the role kind (the engine's only reader of IAM), so
the table is made from what AWS holds, never from a copy that could drift.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from provision.core import policies
from provision.core.pipelines import connect
from provision.core.stack import Stack
from provision.core.target import Target
from provision.features.security.grants import NOT_GRANTED, Grant, rows
from provision.kinds.role import Role

DEPLOYED = "deployed"
PLANNED = "plan"


@dataclass(frozen=True)
class PermissionsReport:
    stack: Stack
    source: str  # DEPLOYED: read from the role in AWS; PLANNED: the role does not exist yet
    owned: bool  # the role carries this stack's tags (always True for a plan)
    grants: tuple[Grant, ...]
    managed: tuple[str, ...]  # attached managed policy ARNs (stock-alert attaches none)

    @property
    def extra(self) -> tuple[Grant, ...]:
        return tuple(g for g in self.grants if not g.planned)

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": "permissions", "stack": self.stack.name, "role": self.stack.role_arn,
            "source": self.source, "owned": self.owned,
            "grants": [g.to_dict() for g in self.grants],
            "attached_managed_policies": list(self.managed),
            "not_granted": [{"action": a, "resource": r, "why": w} for a, r, w in NOT_GRANTED],
        }


def report(target: Target) -> PermissionsReport:
    stack = connect(target, with_code=False)
    kind = Role()
    seen = kind.read(target.aws, kind.wanted(stack))
    if seen is None:
        planned = policies.inline_policies(stack)
        return PermissionsReport(stack, PLANNED, True, tuple(rows(planned, stack)), ())
    documents = {name: json.loads(text) for name, text in seen.inline.items()}
    return PermissionsReport(stack, DEPLOYED, stack.owns(seen.tags),
                             tuple(rows(documents, stack)), seen.managed)
