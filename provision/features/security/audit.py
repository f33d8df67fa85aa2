"""`stock-alert audit`: what is deployed, compared with the config and the security rules.

Most findings come from the engine's own plan (each kind's diff of wanted and observed), so
audit and 'up' can never disagree about drift; the rest inspect the observed documents
(wildcards, the trust policy, the topic policy and the function's other permissions), all from
that one observation: audit makes no read of its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from provision.core.engine import Observation
from provision.core.findings import UP, Finding, ours
from provision.core.plan import AnyAction, Change, Op, Plan
from provision.core.policies import canonical, pairs
from provision.kinds import BY_NAME
from provision.kinds.alarm import LEFT_OVER, Alarm
from provision.kinds.function import Function
from provision.kinds.role import Role
from provision.kinds.schedule import Schedule
from provision.kinds.topic import Topic

LAMBDA = "lambda.amazonaws.com"
RESTRICTING_KEYS = ("aws:sourceowner", "aws:sourceaccount", "aws:sourcearn",
                    "aws:principalorgid", "aws:principalaccount", "aws:principalarn")


@dataclass(frozen=True)
class ExtraReads:
    """What audit inspects beyond the plan, taken from the kinds' observed values."""

    topic_policy: dict[str, Any] | None = None  # the topic's Policy attribute, parsed
    function_statements: list[dict[str, Any]] = field(default_factory=list)  # not ours
    api_key: Any = None  # secret.KeyState, or None when the function reads no key

    @classmethod
    def of(cls, observation: Observation, api_key: Any = None) -> ExtraReads:
        topic, schedule = observation.found.get(Topic.name), observation.found.get(Schedule.name)
        policy = json.loads(topic.policy) if topic is not None and topic.policy else None
        return cls(policy, list(schedule.others) if schedule is not None else [], api_key)


def audit(plan: Plan, observation: Observation, extra: ExtraReads) -> list[Finding]:
    found: list[Finding] = []
    for action in plan.actions:
        found += _from_action(action)
    found += wildcard_grants(observation)
    found += trust_findings(observation)
    found += permission_findings(observation, extra)
    found += topic_policy_findings(observation, extra)
    found += promise_findings(plan, observation, extra)
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


def wildcard_grants(observation: Observation) -> list[Finding]:
    """Wildcards in the role's inline policies, except the grants the role kind itself
    writes on purpose (Role.intended_grants: e.g. ec2:DescribeSubnets on '*' with network:,
    which IAM authorises only on '*')."""
    kind = Role()
    role = observation.found.get(kind.name)
    intended = kind.intended_grants(observation.wanted[kind.name])
    out = []
    for name, text in sorted((role.inline if role else {}).items()):
        for effect, action, resource in pairs(text):
            if (name, effect, action, resource) in intended:
                continue
            if effect == "Allow" and (action == "*" or action.endswith(":*")
                                      or resource == "*" or action.startswith("NOT ")):
                out.append(Finding("wildcard-grant", f"role {observation.stack.role_name}",
                                   f"policy {name} allows {action} on {resource}", UP, True))
    return out


def trust_findings(observation: Observation) -> list[Finding]:
    role = observation.found.get(Role.name)
    if role is None or role.trust == observation.wanted[Role.name].canonical_trust:
        return []
    statements = json.loads(role.trust).get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    others = sorted({json.dumps(s.get("Principal"), sort_keys=True) for s in statements
                     if s.get("Principal") != {"Service": LAMBDA}})
    detail = (f"the trust policy lets {', '.join(others)} assume the role" if others else
              f"the trust policy has {len(statements)} statement(s) instead of the one for "
              f"{LAMBDA}")
    return [Finding("trust-opened", f"role {observation.stack.role_name}", detail, UP, True)]


def permission_findings(observation: Observation, extra: ExtraReads) -> list[Finding]:
    return [Finding("extra-invoke-permission", f"function {observation.stack.function_name}",
                    f"statement {s.get('Sid')!r} lets {json.dumps(s.get('Principal'))} "
                    f"{s.get('Action')}",
                    "'stock-alert up' does not remove it yet: aws lambda remove-permission "
                    f"--function-name {observation.stack.function_name} --statement-id "
                    f"{s.get('Sid')}", False)
            for s in extra.function_statements]


def topic_policy_findings(observation: Observation, extra: ExtraReads) -> list[Finding]:
    """The topic policy against the one 'up' writes (policies.topic_policy): each statement
    that lets anyone act, or else one finding that it differs. 'up' rewrites it whole."""
    if extra.topic_policy is None:
        return []
    where = f"topic {observation.stack.topic_name}"
    statements = extra.topic_policy.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    open_ones = [s for s in statements if isinstance(s, dict) and s.get("Effect") == "Allow"
                 and _anyone(s) and not _restricted(s)]
    if open_ones:
        return [Finding("topic-policy-open", where,
                        f"statement {s.get('Sid')!r} lets anyone {s.get('Action')}", UP, True)
                for s in open_ones]
    wanted = observation.wanted[Topic.name].attributes.get("Policy")
    topic = observation.found.get(Topic.name)
    # the topic kind's reading, where equivalent spellings of a principal already compare equal
    seen = topic.attributes.get("Policy") if topic is not None else canonical(extra.topic_policy)
    if wanted is None or seen == wanted:
        return []
    sids = sorted(str(s.get("Sid")) for s in statements if isinstance(s, dict))
    return [Finding("topic-policy-changed", where,
                    f"the access policy (statements {', '.join(sids)}) differs from the one "
                    "stock-alert writes (owner account manages, only the stack's role and its "
                    "errors alarm publish, TLS only)", UP, True)]


def promise_findings(plan: Plan, observation: Observation, extra: ExtraReads,
                     ) -> list[Finding]:
    """Promises the stack does not keep although nothing drifted: the function cannot read its
    key, it is in a failed state, or the errors alarm cannot deliver its notification."""
    out: list[Finding] = []
    key = extra.api_key
    if key is not None and key.warning:
        out.append(Finding("api-key-missing" if key.stored is False else "api-key-unreadable",
                           f"api-key {key.where.name}", key.warning,
                           "run 'stock-alert secret set'", False))
    function = observation.found.get(Function.name)
    if function is not None and str(function.state).lower() == "failed":
        out.append(Finding("function-failed", f"function {observation.stack.function_name}",
                           "Lambda reports the function's state as Failed, so it cannot run",
                           UP, True))
    for action in plan.actions:
        if action.kind == Alarm.name and action.op is not Op.CREATE:
            out += [Finding("alarm-cannot-deliver", f"alarm {action.name}", note,
                            "set notify.kms_key to a customer managed key, then run "
                            "'stock-alert up'", False)
                    for note in action.notes if note == LEFT_OVER]
    return out


def _anyone(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        principal = principal.get("AWS")
    values = principal if isinstance(principal, list) else [principal]
    return "*" in values


def _restricted(statement: dict[str, Any]) -> bool:
    keys = {k.lower() for cond in (statement.get("Condition") or {}).values()
            if isinstance(cond, dict) for k in cond}
    return any(k in RESTRICTING_KEYS for k in keys)


def run(target: Any) -> tuple[Plan, list[Finding]]:
    """Observe once through the engine (the same plan 'up' would make), then judge."""
    from provision.core import pipelines

    the_plan, observation = pipelines.plan(target)
    extra = ExtraReads.of(observation, pipelines.key_state(target))
    return the_plan, audit(the_plan, observation, extra)
