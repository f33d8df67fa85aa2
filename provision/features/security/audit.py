"""`stock-alert audit`: what is deployed, compared with the config and the security rules.

Most findings come from the engine's own plan (each kind's diff of wanted and observed, worded
by the kind's audit_rules), so audit and 'up' can never disagree about drift; each kind then
inspects its whole observed resource (Kind.inspect: wildcards, the trust policy, the topic
policy, ...). All from that one observation: audit makes no read of its own. The one promise
that is no kind's is the stored API key's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provision.core.engine import Observation
from provision.core.findings import Finding, ours
from provision.core.plan import AnyAction, Change, Op, Plan
from provision.kinds import BY_NAME


@dataclass(frozen=True)
class ExtraReads:
    """What audit judges beyond the plan: the stored API key, which is not a kind."""

    api_key: Any = None  # secret.KeyState, or None when the function reads no key


def audit(plan: Plan, observation: Observation, extra: ExtraReads) -> list[Finding]:
    found: list[Finding] = []
    for action in plan.actions:
        found += _from_action(action)
    for action in plan.actions:
        found += BY_NAME[action.kind].inspect(observation.stack, action)
    found += key_findings(extra)
    return found


def _from_action(action: AnyAction) -> list[Finding]:
    if action.op is Op.CONFLICT:
        return [Finding("not-owned", f"{action.kind} {action.name}", action.reason,
                        "it lacks this stack's tags, so 'up' will not touch it: if it is this "
                        "stack's, put back the tags managed-by=stock-alert and "
                        f"stock-alert:stack={action.wanted.tags.get('stock-alert:stack')} by "
                        "hand; otherwise choose another stack name", False)]
    if action.op is Op.CREATE:
        return [ours("missing", action, "not deployed")]
    if action.op is Op.DELETE:  # the config uses the other form (issue 23): 'up' deletes it
        return [ours("not-used", action, f"{action.reason}; still deployed")]
    return [f for change in action.changes for f in _from_change(action, change)]


def _from_change(action: AnyAction, change: Change) -> list[Finding]:
    if change.field == "applied":
        return []  # the tool's own record of what it last wrote, not a finding
    rule = BY_NAME[action.kind].audit_rule(change.field)
    if rule is not None:
        return rule(action, change)
    return [ours("drifted", action, f"{change.label} differs from the config")]


def key_findings(extra: ExtraReads) -> list[Finding]:
    """The function cannot read its API key, although nothing drifted."""
    key = extra.api_key
    if key is None or not key.warning:
        return []
    return [Finding("api-key-missing" if key.stored is False else "api-key-unreadable",
                    f"api-key {key.where.name}", key.warning, "run 'stock-alert secret set'",
                    False)]


def run(target: Any) -> tuple[Plan, list[Finding]]:
    """Observe once through the engine (the same plan 'up' would make), then judge."""
    from provision.core import pipelines

    the_plan, observation = pipelines.plan(target)
    return the_plan, audit(the_plan, observation, ExtraReads(pipelines.key_state(target)))
