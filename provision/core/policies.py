"""Pure builders of the IAM documents: the trust policy and the least-privilege inline policies.

Every statement names exact ARNs; there is no wildcard resource, no service:* action, and no
logs:CreateLogGroup (the tool creates the log group itself, with retention and tags).
With `network:`, the two EC2 Describe calls Lambda needs are the one exception: IAM authorises
them only on "*" (VPC_DESCRIBE), so they get "*" in a statement of their own.
"""

from __future__ import annotations

import json
from typing import Any

from provision.core.stack import STACK_TAG, Stack

Document = dict[str, Any]
VERSION = "2012-10-17"


def trust_policy() -> Document:
    """Only the Lambda service may assume the role."""
    return {
        "Version": VERSION,
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }],
    }


def _statement(sid: str, actions: list[str], resources: list[str]) -> Document:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def inline_policies(stack: Stack) -> dict[str, Document]:
    """Policy name -> document, for exactly what the function does."""
    policies = {
        stack.policy_name("write-logs"): {
            "Version": VERSION,
            "Statement": [_statement(
                "WriteOwnLogGroup",
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                [f"{stack.log_group_arn}:*"],
            )],
        },
        stack.policy_name("publish-alerts"): {
            "Version": VERSION,
            "Statement": [_statement("PublishOwnTopic", ["sns:Publish"], [stack.topic_arn])],
        },
        # Lambda invokes the function's on-failure destination, the notifier, with the
        # function's execution role (Lambda Developer Guide, "Adding a destination").
        stack.policy_name("invoke-notifier"): {
            "Version": VERSION,
            "Statement": [_statement("InvokeOwnNotifier", ["lambda:InvokeFunction"],
                                     [stack.notifier_arn])],
        },
    }
    network = network_policy(stack)
    if network:
        policies[stack.policy_name("vpc-enis")] = network
    key = kms_statement(stack)
    if key is not None:
        policies[stack.policy_name("use-topic-key")] = {"Version": VERSION, "Statement": [key]}
    parameter = stack.api_key_parameter_arn
    if parameter:
        policies[stack.policy_name("read-api-key")] = {
            "Version": VERSION,
            "Statement": [_statement("ReadOwnApiKey", ["ssm:GetParameter"], [parameter])],
        }
    policies.update(api_key_secret_policies(stack, policies))
    return policies


def api_key_secret_policies(stack: Stack, policies: dict[str, Document]) -> dict[str, Document]:
    """The Secrets Manager read (quotes.api_key_secret) and, with quotes.api_key_kms_key, the
    customer key's kms:Decrypt, only through the service that stores the key (kms:ViaService)."""
    name = stack.policy_name("read-api-key")
    secret = stack.api_key_secret_arn
    found = dict(policies.get(name) or {"Version": VERSION, "Statement": []})
    statements = list(found["Statement"])
    if secret:
        statements.append(_statement("ReadOwnApiKey", ["secretsmanager:GetSecretValue"],
                                     [secret]))
    key, service = stack.config.quotes.api_key_kms_key, stack.api_key_service
    if key and service:
        decrypt = _statement("DecryptOwnApiKey", ["kms:Decrypt"], [key])
        decrypt["Condition"] = {"StringEquals": {
            "kms:ViaService": f"{service}.{stack.region}.amazonaws.com"}}
        statements.append(decrypt)
    return {name: {**found, "Statement": statements}} if statements else {}


# The two EC2 actions Lambda's VPC access needs that IAM authorises only on "*" (Service
# Authorization Reference: no resource type), granted on "*" alone, and nothing else is.
VPC_DESCRIBE = ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"]


def network_policy(stack: Stack) -> Document | None:
    """The ENI permissions Lambda needs to attach the function to the config's subnets (the
    actions of AWSLambdaVPCAccessExecutionRole, Lambda Developer Guide "Giving Lambda functions
    access to resources in an Amazon VPC"), scoped wherever EC2 allows: new interfaces only in
    the config's subnets and groups (the group stock-alert makes: by its stack tag, its id is
    unknown before it exists), and only interfaces in those subnets may be changed or deleted."""
    net = stack.config.network
    if net is None:
        return None
    subnets = [stack.ec2_arn(f"subnet/{s}") for s in net.subnet_ids]
    groups = [stack.ec2_arn(f"security-group/{g}") for g in net.security_group_ids]
    statements = [_statement("CreateEnisInOwnSubnets", ["ec2:CreateNetworkInterface"],
                             [stack.ec2_arn("network-interface/*"), *subnets, *groups])]
    if net.makes_group:
        # IAM checks each resource of the call against the statements: the interface and the
        # subnets are allowed above, the group here by its tag (the other two are repeated
        # because the action requires them in every statement naming it; here the tag
        # condition, which they do not carry, leaves them to the statement above).
        statements.append({**_statement("CreateEnisWithOwnGroup", ["ec2:CreateNetworkInterface"],
                                        [stack.ec2_arn("network-interface/*"), *subnets,
                                         stack.ec2_arn("security-group/*")]),
                           "Condition": {"StringEquals": {
                               f"aws:ResourceTag/{STACK_TAG}": stack.name}}})
    statements.append({**_statement(
        "ManageEnisInOwnSubnets", ["ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses",
                                   "ec2:UnassignPrivateIpAddresses"],
        [stack.ec2_arn("network-interface/*")]),
        "Condition": {"ArnEquals": {"ec2:Subnet": subnets}}})
    statements.append(_statement("DescribeHasNoResourceLevel", VPC_DESCRIBE, ["*"]))
    return {"Version": VERSION, "Statement": statements}


def widen_eni_grant(document: Document, subnet_ids: tuple[str, ...]) -> Document:
    """The ENI grant (network_policy) also covering `subnet_ids`: subnets where Lambda still
    holds the function's ENIs after the config moved it. Lambda deletes them with the role,
    so the grant keeps those subnets until EC2 lists no ENI there (kinds/enis.py)."""
    doc: Document = json.loads(json.dumps(document))
    manage = next(s for s in doc["Statement"] if s.get("Sid") == "ManageEnisInOwnSubnets")
    have = manage["Condition"]["ArnEquals"]["ec2:Subnet"]
    prefix = have[0].rsplit("/", 1)[0]
    extra = [f"{prefix}/{s}" for s in subnet_ids if f"{prefix}/{s}" not in have]
    for statement in doc["Statement"]:
        if str(statement.get("Sid", "")).startswith("CreateEnis"):
            statement["Resource"] = [*statement["Resource"], *extra]
    manage["Condition"]["ArnEquals"]["ec2:Subnet"] = [*have, *extra]
    return doc


KMS_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey*"]
# What the topic's owner account may do: SNS's default topic policy, without Publish.
TOPIC_OWNER_ACTIONS = [
    "sns:AddPermission", "sns:DeleteTopic", "sns:GetTopicAttributes",
    "sns:ListSubscriptionsByTopic", "sns:RemovePermission", "sns:SetTopicAttributes",
    "sns:Subscribe",
]
CLOUDWATCH = "cloudwatch.amazonaws.com"


def kms_statement(stack: Stack) -> Document | None:
    """With notify.kms_key: publishing to the encrypted topic makes SNS call KMS as the role
    (GenerateDataKey for the message's data key, Decrypt to reuse it), only through SNS.

    A key ARN is the resource. An alias ARN is not: IAM authorises KMS operations on the key,
    never on the alias ("Using aliases to control access to KMS keys", AWS KMS Developer
    Guide), so the grant names the account's keys and requires the alias via
    kms:ResourceAliases."""
    key = stack.config.notify.kms_key
    if key is None:
        return None
    statement = _statement("UseTopicKeyViaSns", KMS_ACTIONS, [key])
    condition: Document = {"StringEquals": {"kms:ViaService": f"sns.{stack.region}.amazonaws.com"}}
    if ":alias/" in key:
        prefix, alias = key.split(":alias/", 1)
        statement["Resource"] = [f"{prefix}:key/*"]
        condition["ForAnyValue:StringEquals"] = {"kms:ResourceAliases": f"alias/{alias}"}
    statement["Condition"] = condition
    return statement


def topic_policy(stack: Stack) -> Document:
    """The topic's access policy: the owner account manages it, only this stack's role (and
    its errors alarm, through CloudWatch) may publish, and only over TLS."""
    topic = stack.topic_arn
    return {
        "Version": VERSION,
        "Statement": [
            {"Sid": "OwnerAccountManages", "Effect": "Allow",
             "Principal": {"AWS": stack.account_root_arn}, "Action": TOPIC_OWNER_ACTIONS,
             "Resource": topic},
            {"Sid": "StackRolePublishes", "Effect": "Allow",
             "Principal": {"AWS": stack.role_arn}, "Action": "sns:Publish", "Resource": topic},
            {"Sid": "ErrorsAlarmPublishes", "Effect": "Allow",
             "Principal": {"Service": CLOUDWATCH}, "Action": "sns:Publish", "Resource": topic,
             "Condition": {"ArnLike": {"aws:SourceArn": stack.alarm_arn},
                           "StringEquals": {"aws:SourceAccount": stack.account}}},
            # Same-account callers need no topic grant (their identity policy suffices), so
            # only a Deny keeps everyone else from publishing. A service principal has no
            # aws:PrincipalArn and only services set aws:SourceArn: both keys must differ.
            {"Sid": "OnlyStackPublishes", "Effect": "Deny", "Principal": "*",
             "Action": "sns:Publish", "Resource": topic,
             "Condition": {"ArnNotEquals": {"aws:PrincipalArn": stack.role_arn,
                                            "aws:SourceArn": stack.alarm_arn}}},
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*",
             "Action": "sns:*", "Resource": topic,
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ],
    }


def canonical(document: Document | str) -> str:
    """A stable text form, so documents that differ only in layout compare equal."""
    if isinstance(document, str):
        document = json.loads(document)
    return json.dumps(_normalise(document), sort_keys=True, separators=(",", ":"))


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_normalise(v) for v in value]
        return items[0] if len(items) == 1 and not isinstance(items[0], dict) else items
    return value


def decoded(doc: Any) -> Any:
    """A policy document as IAM returns it: URL-encoded JSON (botocore decodes some, not all)."""
    if isinstance(doc, str):
        from urllib.parse import unquote

        return json.loads(unquote(doc))
    return doc


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def pairs(document: Document | str) -> list[tuple[str, str, str]]:
    """(effect, action, resource) for every combination a document names, in order.

    NotAction/NotResource are shown with a 'NOT ' prefix: they grant by exclusion."""
    parsed: dict[str, Any] = json.loads(document) if isinstance(document, str) else document
    out: list[tuple[str, str, str]] = []
    for statement in _as_list_of_dicts(parsed.get("Statement")):
        actions = _as_list(statement.get("Action")) or [
            f"NOT {a}" for a in _as_list(statement.get("NotAction"))]
        resources = _as_list(statement.get("Resource")) or [
            f"NOT {r}" for r in _as_list(statement.get("NotResource"))]
        effect = str(statement.get("Effect", "Allow"))
        out += [(effect, a, r) for a in actions for r in resources]
    return out


def statements(document: Document) -> list[dict[str, Any]]:
    """A policy document's statements, as a list (IAM also accepts a lone statement)."""
    return _as_list_of_dicts(document.get("Statement"))


def is_wildcard(action: str, resource: str) -> bool:
    """Whether a grant (as `pairs` gives it) names every action of a service, every
    resource, or grants by exclusion (NotAction)."""
    return (action == "*" or action.endswith(":*") or resource == "*"
            or action.startswith("NOT "))


# Condition keys that narrow "any principal" to an account, an organisation or a source.
RESTRICTING_KEYS = ("aws:sourceowner", "aws:sourceaccount", "aws:sourcearn",
                    "aws:principalorgid", "aws:principalaccount", "aws:principalarn")


def open_statements(document: Document) -> list[dict[str, Any]]:
    """The statements of a resource policy that let anyone ("*") act, with no condition
    narrowing who."""
    def anyone(statement: dict[str, Any]) -> bool:
        principal = statement.get("Principal")
        if isinstance(principal, dict):
            principal = principal.get("AWS")
        return "*" in _as_list(principal)

    def restricted(statement: dict[str, Any]) -> bool:
        keys = {k.lower() for test in (statement.get("Condition") or {}).values()
                if isinstance(test, dict) for k in test}
        return any(k in RESTRICTING_KEYS for k in keys)

    return [s for s in statements(document)
            if s.get("Effect") == "Allow" and anyone(s) and not restricted(s)]


def _as_list_of_dicts(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    return [v for v in value or [] if isinstance(v, dict)]


def other_principals(trust: str, service: str) -> tuple[int, list[str]]:
    """How many statements a trust policy has, and every principal in it other than the one
    service it should trust."""
    found = statements(json.loads(trust))
    return len(found), sorted({json.dumps(s.get("Principal"), sort_keys=True) for s in found
                               if s.get("Principal") != {"Service": service}})
