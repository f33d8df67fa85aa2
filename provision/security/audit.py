"""`stock-alert audit`: what is deployed, compared with the config and the security rules.

Most findings come from the engine's own plan (each kind's diff of wanted and observed), so
audit and 'up' can never disagree about drift; the rest inspect the observed documents
(wildcards, the trust policy, the topic policy and the function's other permissions), all from
that one observation: audit makes no read of its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from provision.engine import Observation
from provision.plan import AnyAction, Change, Op, Plan
from provision.policies import canonical
from provision.resources.alarm import LEFT_OVER
from provision.security.grants import pairs

UP = "run 'stock-alert up'"
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
        topic, schedule = observation.found.get("topic"), observation.found.get("schedule")
        policy = json.loads(topic.policy) if topic is not None and topic.policy else None
        return cls(policy, list(schedule.others) if schedule is not None else [], api_key)


@dataclass(frozen=True)
class Finding:
    rule: str
    resource: str  # "kind name"
    detail: str
    fix: str
    up_repairs: bool

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "resource": self.resource, "detail": self.detail,
                "fix": self.fix, "up_repairs": self.up_repairs}


def _ours(rule: str, action: AnyAction, detail: str) -> Finding:
    return Finding(rule, f"{action.kind} {action.name}", detail, UP, True)


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
        return [_ours("missing", action, "not deployed")]
    return [f for change in action.changes for f in _from_change(action, change)]


def _from_change(action: AnyAction, change: Change) -> list[Finding]:
    if change.field == "applied":
        return []  # the tool's own record of what it last wrote, not a finding
    rule = CHANGE_RULES.get((action.kind, change.field))
    if rule is not None:
        return rule(action, change)
    if action.kind == "topic" and change.field not in ("email", "sms"):
        return _subscription(action, change)
    return [_ours("drifted", action, f"{change.label} differs from the config")]


def _policy(action: AnyAction, change: Change) -> list[Finding]:
    if change.new is None:
        return [_ours("extra-inline-policy", action,
                      f"inline policy {change.item} was added outside stock-alert")]
    if change.old is None:
        return [_ours("missing-inline-policy", action, f"inline policy {change.item} is gone")]
    return [_ours("changed-inline-policy", action,
                  f"inline policy {change.item} differs from the one stock-alert writes")]


def _managed(action: AnyAction, change: Change) -> list[Finding]:
    return [_ours("attached-managed-policy", action,
                  f"managed policies attached: {', '.join(change.old)}")]


def _boundary(action: AnyAction, change: Change) -> list[Finding]:
    if change.new is None:
        return [_ours("boundary-not-in-config", action, f"permissions boundary {change.old} is "
                      "set but iam.permissions_boundary names none")]
    rule = "boundary-removed" if change.old is None else "boundary-changed"
    return [_ours(rule, action, f"permissions boundary is {change.old or 'none'}, the config "
                  f"says {change.new}")]


def _tags(action: AnyAction, change: Change) -> list[Finding]:
    old, new = change.old or {}, change.new or {}
    removed = sorted(k for k in new if k not in old)
    changed = sorted(k for k in new if k in old and old[k] != new[k])
    added = sorted(k for k in old if k not in new)
    parts = [f"{label}: {', '.join(keys)}" for label, keys in
             (("removed", removed), ("changed", changed), ("not in the config", added)) if keys]
    return [_ours("tags-changed", action, "tags " + "; ".join(parts))]


def _attribute(action: AnyAction, change: Change) -> list[Finding]:
    if change.item == "Policy":
        return []  # reported by topic_policy_findings, which says what opened it
    if change.item == "KmsMasterKeyId":
        return [_ours("encryption-removed" if not change.old else "encryption-changed", action,
                      f"KmsMasterKeyId is {change.old!r}, wanted {change.new!r}")]
    return [_ours("drifted", action, f"{change.item} is {change.old!r}, wanted {change.new!r}")]


def _retention(action: AnyAction, change: Change) -> list[Finding]:
    return [_ours("retention-changed", action,
                  f"retention is {change.old} days, the config says {change.new}")]


def _subscription(action: AnyAction, change: Change) -> list[Finding]:
    if change.new:
        return [_ours("missing-subscription", action, f"{change.field} {change.item} is not "
                      "subscribed")]
    detail = f"{change.field} {change.item} is subscribed but not in the config"
    return [_ours("extra-subscription", action, detail)]  # any protocol: 'up' unsubscribes it


def _permission(action: AnyAction, change: Change) -> list[Finding]:
    seen = change.old
    if seen is None:
        return [_ours("invoke-permission-missing", action, "the function's invoke permission "
                      "for this rule is gone")]
    lacks = [k for k in ("source_arn", "source_account") if not seen.get(k)]
    detail = ("the invoke permission has no " + " and no ".join(
        {"source_arn": "SourceArn", "source_account": "SourceAccount"}[k] for k in lacks)
        if lacks else "the invoke permission differs from the one stock-alert adds")
    return [_ours("invoke-permission-open" if lacks else "invoke-permission-changed", action,
                  detail)]


def _trust(action: AnyAction, change: Change) -> list[Finding]:
    return []  # reported by trust_findings, which says what opened it


Rule = Callable[[AnyAction, Change], list[Finding]]
CHANGE_RULES: dict[tuple[str, str], Rule] = {
    ("role", "policy"): _policy, ("role", "managed_policies"): _managed,
    ("role", "trust_policy"): _trust, ("role", "permissions_boundary"): _boundary,
    ("log-group", "retention_days"): _retention,
    ("topic", "attribute"): _attribute, ("topic", "email"): _subscription,
    ("topic", "sms"): _subscription, ("schedule", "permission"): _permission,
    **{(kind, "tags"): _tags for kind in ("role", "log-group", "topic", "function",
                                          "schedule", "alarm")},
}


def wildcard_grants(observation: Observation) -> list[Finding]:
    """Wildcards in the role's inline policies, except the grants the role kind itself
    writes on purpose (Role.intended_grants: e.g. ec2:DescribeSubnets on '*' with network:,
    which IAM authorises only on '*')."""
    from provision.resources.role import Role

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
    role = observation.found.get("role")
    if role is None or role.trust == observation.wanted["role"].canonical_trust:
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
    wanted = observation.wanted["topic"].attributes.get("Policy")
    topic = observation.found.get("topic")
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
    function = observation.found.get("function")
    if function is not None and str(function.state).lower() == "failed":
        out.append(Finding("function-failed", f"function {observation.stack.function_name}",
                           "Lambda reports the function's state as Failed, so it cannot run",
                           UP, True))
    for action in plan.actions:
        if action.kind == "alarm" and action.op is not Op.CREATE:
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
    from provision import pipelines

    the_plan, observation = pipelines.plan(target)
    extra = ExtraReads.of(observation, pipelines.key_state(target))
    return the_plan, audit(the_plan, observation, extra)
