"""Why the function holds each permission, and what it is deliberately not given.

`WHY` is keyed by action, gathered from the kinds (Kind.grants) and the API key's: every
action policies.py grants must be explained there, or the tests
fail (tests/test_permissions.py). `rows()` turns policy documents, deployed or planned, into one
row per (action, resource), and flags any grant stock-alert itself would not make.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provision.core import policies
from provision.core.stack import Stack
from provision.kinds import KINDS

# The stored API key's grants (it is no kind of the stack's); each kind explains its own.
API_KEY_WHY: dict[str, str] = {
    "ssm:GetParameter": (
        "reads the quote provider's API key from the one parameter named in the config "
        "(quotes.api_key_parameter), so the key never sits in the function's environment."),
    "secretsmanager:GetSecretValue": (
        "reads the quote provider's API key from the one secret named in the config "
        "(quotes.api_key_secret). Given by name, the resource is NAME-??????: Secrets Manager "
        "ends every secret's ARN in '-' and 6 random characters, and '??????' matches exactly "
        "those, where '*' would also match other secrets whose names start with NAME."),
    "kms:Decrypt": (
        "decrypts with a customer key, and only when a service asks on the function's behalf "
        "(kms:ViaService), so the role cannot use the key for anything else: with "
        "quotes.api_key_kms_key, the API key, through SSM or Secrets Manager; with "
        "notify.kms_key, the data key of an alert it publishes, through SNS in this Region."),
}
WHY: dict[str, str] = {**API_KEY_WHY, **{action: why for kind in KINDS
                                          for action, why in kind.grants.items()}}

# (action, resource it would cover, why it is not granted)
NOT_GRANTED: tuple[tuple[str, str, str], ...] = (
    ("logs:CreateLogGroup", "*",
     "'up' creates the log group itself, with retention and tags, before the function "
     "exists; if the function could create it, a deleted group would come back with no "
     "expiry and no tags and outlive 'down'."),
    ("logs:CreateLogStream, logs:PutLogEvents", "*",
     "the managed AWSLambdaBasicExecutionRole grants these on every log group in the "
     "account; the inline grant names only this function's group."),
    ("sns:Publish", "*",
     "publishing on '*' would let the function text any phone number directly "
     "(Publish with PhoneNumber); it may publish only to its own topic."),
    ("sns:Subscribe, sns:Unsubscribe, sns:SetTopicAttributes", "the topic",
     "the function only sends; who receives alerts is the config's choice, applied by 'up'."),
    ("ssm:GetParameters, ssm:GetParametersByPath", "*",
     "the function reads exactly one parameter, by its full name."),
    ("kms:Decrypt, kms:*", "*",
     "the topic uses the AWS-managed key alias/aws/sns and a SecureString parameter the "
     "AWS-managed alias/aws/ssm; their key policies let SNS and SSM use them for callers in "
     "the account, so the role needs no KMS grant. With quotes.api_key_kms_key it gets "
     "kms:Decrypt on that one key, through SSM or Secrets Manager only; with notify.kms_key, "
     "kms:GenerateDataKey* and kms:Decrypt on that key, through SNS only."),
    ("ec2:CreateNetworkInterface (AWSLambdaVPCAccessExecutionRole)", "*",
     "without network: the function runs outside any VPC and reaches the quote API over "
     "Lambda's own internet access; with it, only in the config's subnets and groups."),
    ("secretsmanager:GetSecretValue", "*",
     "the function reads at most the one secret named in quotes.api_key_secret."),
    ("iam:PassRole, lambda:InvokeFunction", "*",
     "the function never hands its role on or invokes anything; EventBridge invokes it "
     "through the function's resource policy, limited to this rule and account, or, with a "
     "market-time schedule, EventBridge Scheduler with a role of its own that may invoke "
     "only this function. The role may invoke only the stack's notifier, as Lambda does with "
     "it for a failed run."),
)

EXTRA_WHY = ("not granted by stock-alert (added outside it); 'stock-alert up' rewrites the "
             "role's policies to the planned ones")


@dataclass(frozen=True)
class Grant:
    """One (action, resource) the role holds, with where it came from and why."""

    action: str
    resource: str
    policy: str
    effect: str
    why: str | None  # None: an action stock-alert grants but WHY does not explain
    planned: bool  # stock-alert itself grants exactly this (action, resource)

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "resource": self.resource, "policy": self.policy,
                "effect": self.effect, "why": self.why, "planned": self.planned}


def planned_pairs(stack: Stack) -> set[tuple[str, str]]:
    return {(a, r) for doc in policies.inline_policies(stack).values()
            for e, a, r in policies.pairs(doc) if e == "Allow"}


def rows(documents: dict[str, Any], stack: Stack) -> list[Grant]:
    """One Grant per distinct (action, resource) in `documents` (name -> document)."""
    planned = planned_pairs(stack)
    seen: set[tuple[str, str]] = set()
    out: list[Grant] = []
    for name in sorted(documents):
        for effect, action, resource in policies.pairs(documents[name]):
            if (action, resource) in seen:
                continue
            seen.add((action, resource))
            ours = effect == "Allow" and (action, resource) in planned
            why = WHY.get(action) if ours else EXTRA_WHY
            out.append(Grant(action, resource, name, effect, why, ours))
    return out


def unexplained(stack: Stack) -> list[str]:
    """Actions stock-alert grants that WHY does not explain (must be empty)."""
    return sorted({a for a, _ in planned_pairs(stack) if a not in WHY})
