"""What exists in the (moto) account: a plain, JSON-serialisable listing of our services.

``inventory(source, region)`` reads with real boto3 calls. ``source`` is an endpoint URL (e.g. the
moto server's -- read it directly, not through an ``AwsProxy``, so the reads are not counted), a
boto3 Session, or a ``service_name -> client`` factory. Every list is paginated and sorted so two
inventories compare equal when nothing changed.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import boto3
import botocore.loaders
import botocore.session
from botocore.client import BaseClient
from botocore.exceptions import ClientError

ClientFactory = Callable[[str], BaseClient]
SessionT = TypeVar("SessionT", bound=boto3.Session)
Inventory = dict[str, Any]

TEST_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}
TOPIC_ATTRIBUTES = ("DisplayName", "KmsMasterKeyId", "Policy", "DeliveryPolicy")
#: Inventory sections that ``is_empty``/``leftovers`` look at (SSM parameters are listed only).
STACK_SECTIONS = (
    "roles",
    "policies",
    "log_groups",
    "topics",
    "subscriptions",
    "functions",
    "rules",
    "alarms",
)


def _shared_loader() -> botocore.loaders.Loader:
    from tests.support.loader import shared_loader

    return shared_loader()


def local_session(
    region: str = "us-east-1", session_cls: type[SessionT] = boto3.Session, **kwargs: Any
) -> SessionT:
    """A ``session_cls`` (a boto3 Session) with the test credentials, cheap to create.

    All such sessions share one botocore data loader, so botocore's service models and its
    large endpoints.json are parsed once per process instead of once per Session (~0.3 s).
    ``kwargs`` go to ``session_cls``.
    """
    core = botocore.session.get_session()
    core.register_component("data_loader", _shared_loader())
    session = session_cls(botocore_session=core, region_name=region, **TEST_CREDENTIALS, **kwargs)
    paths = _shared_loader().search_paths  # boto3 appends its data path on every Session
    paths[:] = list(dict.fromkeys(paths))
    return session


@functools.cache
def _endpoint_client(endpoint_url: str, region: str, service: str) -> BaseClient:
    return local_session(region).client(service, endpoint_url=endpoint_url)


def client_factory(
    source: str | boto3.Session | ClientFactory, region: str = "us-east-1"
) -> ClientFactory:
    """A ``service_name -> client`` callable for an endpoint URL, a Session, or a factory.

    Clients for an endpoint URL are cached per process (they hold no state of their own).
    """
    if isinstance(source, str):
        return functools.partial(_endpoint_client, source.rstrip("/"), region)
    if isinstance(source, boto3.Session):
        return lambda service: source.client(service, region_name=region)
    return source


def _pages(client: BaseClient, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


def _tag_dict(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags or []}


def _document(doc: Any) -> Any:
    """IAM policy documents come back decoded by botocore; be lenient with strings."""
    if isinstance(doc, str):
        try:
            return json.loads(doc)
        except ValueError:
            return doc
    return doc


# ---- IAM ----------------------------------------------------------------------------------


def _role(iam: BaseClient, role: dict[str, Any]) -> dict[str, Any]:
    name = role["RoleName"]
    inline = {
        p: _document(iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"])
        for p in _pages(iam, "list_role_policies", "PolicyNames", RoleName=name)
    }
    attached = sorted(
        p["PolicyArn"]
        for p in _pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=name)
    )
    return {
        "name": name,
        "arn": role["Arn"],
        "path": role.get("Path", "/"),
        "trust_policy": _document(role.get("AssumeRolePolicyDocument")),
        "tags": _tag_dict(list(_pages(iam, "list_role_tags", "Tags", RoleName=name))),
        "inline_policies": dict(sorted(inline.items())),
        "attached_policies": attached,
    }


def _roles(iam: BaseClient) -> list[dict[str, Any]]:
    roles = [_role(iam, r) for r in _pages(iam, "list_roles", "Roles")]
    return sorted(roles, key=lambda r: r["name"])


def _policies(iam: BaseClient) -> list[dict[str, Any]]:
    """Customer-managed policies (``Scope=Local``): AWS-managed ones are always there."""
    found = [
        {"name": p["PolicyName"], "arn": p["Arn"], "attachments": p.get("AttachmentCount", 0)}
        for p in _pages(iam, "list_policies", "Policies", Scope="Local")
    ]
    return sorted(found, key=lambda p: p["arn"])


# ---- CloudWatch Logs ------------------------------------------------------------------------


def _log_groups(logs: BaseClient) -> list[dict[str, Any]]:
    groups = []
    for group in _pages(logs, "describe_log_groups", "logGroups"):
        # ListTagsForResource wants the ARN without the ":*" suffix (moto answers {} otherwise).
        arn = group.get("logGroupArn") or group["arn"].removesuffix(":*")
        groups.append(
            {
                "name": group["logGroupName"],
                "arn": arn,
                "retention_days": group.get("retentionInDays"),
                "kms_key_id": group.get("kmsKeyId"),
                "tags": logs.list_tags_for_resource(resourceArn=arn).get("tags", {}),
            }
        )
    return sorted(groups, key=lambda g: g["name"])


# ---- SNS ------------------------------------------------------------------------------------


def _topics(sns: BaseClient) -> list[dict[str, Any]]:
    topics = []
    for topic in _pages(sns, "list_topics", "Topics"):
        arn = topic["TopicArn"]
        attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
        topics.append(
            {
                "arn": arn,
                "name": arn.rsplit(":", 1)[-1],
                "attributes": {k: attributes[k] for k in TOPIC_ATTRIBUTES if k in attributes},
                "tags": _tag_dict(sns.list_tags_for_resource(ResourceArn=arn).get("Tags")),
            }
        )
    return sorted(topics, key=lambda t: t["arn"])


def _subscriptions(sns: BaseClient) -> list[dict[str, Any]]:
    subs = [
        {
            "topic_arn": s["TopicArn"],
            "protocol": s["Protocol"],
            "endpoint": s.get("Endpoint"),
            "arn": s["SubscriptionArn"],
        }
        for s in _pages(sns, "list_subscriptions", "Subscriptions")
    ]
    return sorted(subs, key=lambda s: (s["topic_arn"], s["protocol"], s["endpoint"] or ""))


# ---- Lambda -------------------------------------------------------------------------------


def _policy_statements(lam: BaseClient, name: str) -> list[dict[str, Any]]:
    try:
        policy = lam.get_policy(FunctionName=name)["Policy"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return []
        raise
    statements = json.loads(policy).get("Statement", [])
    return sorted(statements, key=lambda s: s.get("Sid", ""))


def _function(lam: BaseClient, name: str) -> dict[str, Any]:
    got = lam.get_function(FunctionName=name)
    config = got["Configuration"]
    return {
        "name": name,
        "arn": config["FunctionArn"],
        "role": config.get("Role"),
        "runtime": config.get("Runtime"),
        "handler": config.get("Handler"),
        "memory": config.get("MemorySize"),
        "timeout": config.get("Timeout"),
        "architectures": config.get("Architectures", []),
        "environment": config.get("Environment", {}).get("Variables", {}),
        "code_sha256": config.get("CodeSha256"),
        "state": config.get("State"),
        "last_update_status": config.get("LastUpdateStatus"),
        "logging_config": config.get("LoggingConfig"),
        "tags": got.get("Tags", {}),
        "policy_statements": _policy_statements(lam, name),
    }


def _functions(lam: BaseClient) -> list[dict[str, Any]]:
    names = sorted(f["FunctionName"] for f in _pages(lam, "list_functions", "Functions"))
    return [_function(lam, n) for n in names]


# ---- EventBridge ------------------------------------------------------------------------------


def _rule(events: BaseClient, rule: dict[str, Any]) -> dict[str, Any]:
    name = rule["Name"]
    targets = [
        {k: t[k] for k in ("Id", "Arn", "Input", "RoleArn") if k in t}
        for t in _pages(events, "list_targets_by_rule", "Targets", Rule=name)
    ]
    tags = events.list_tags_for_resource(ResourceARN=rule["Arn"]).get("Tags")
    return {
        "name": name,
        "arn": rule["Arn"],
        "schedule": rule.get("ScheduleExpression"),
        "event_pattern": rule.get("EventPattern"),
        "state": rule.get("State"),
        "description": rule.get("Description"),
        "tags": _tag_dict(tags),
        "targets": sorted(targets, key=lambda t: t["Id"]),
    }


def _rules(events: BaseClient) -> list[dict[str, Any]]:
    rules = _pages(events, "list_rules", "Rules", EventBusName="default")
    return sorted((_rule(events, r) for r in rules), key=lambda r: r["name"])


# ---- CloudWatch alarms ------------------------------------------------------------------------


def _alarms(cw: BaseClient) -> list[dict[str, Any]]:
    alarms = []
    for alarm in _pages(cw, "describe_alarms", "MetricAlarms"):
        tags = cw.list_tags_for_resource(ResourceARN=alarm["AlarmArn"]).get("Tags")
        alarms.append({
            "name": alarm["AlarmName"], "arn": alarm["AlarmArn"],
            "metric": f"{alarm.get('Namespace')}/{alarm.get('MetricName')}",
            "dimensions": {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])},
            "statistic": alarm.get("Statistic"), "period": alarm.get("Period"),
            "threshold": alarm.get("Threshold"),
            "comparison": alarm.get("ComparisonOperator"),
            "treat_missing_data": alarm.get("TreatMissingData"),
            "alarm_actions": sorted(alarm.get("AlarmActions", [])),
            "tags": _tag_dict(tags),
        })
    return sorted(alarms, key=lambda a: a["name"])


# ---- SSM ------------------------------------------------------------------------------------


def _parameters(ssm: BaseClient) -> list[str]:
    return sorted(p["Name"] for p in _pages(ssm, "describe_parameters", "Parameters"))


# ---- public API -----------------------------------------------------------------------------


def inventory(source: str | boto3.Session | ClientFactory, region: str = "us-east-1") -> Inventory:
    """Everything of ours that exists: roles, policies, log groups, topics, subscriptions,
    Lambda functions, EventBridge rules (default bus) and SSM parameter names."""
    client = client_factory(source, region)
    iam, sns = client("iam"), client("sns")
    return {
        "roles": _roles(iam),
        "policies": _policies(iam),
        "log_groups": _log_groups(client("logs")),
        "topics": _topics(sns),
        "subscriptions": _subscriptions(sns),
        "functions": _functions(client("lambda")),
        "rules": _rules(client("events")),
        "alarms": _alarms(client("cloudwatch")),
        "ssm_parameters": _parameters(client("ssm")),
    }


def _label(section: str, item: dict[str, Any]) -> str:
    if section == "subscriptions":
        return f"{item['protocol']}:{item['endpoint']} -> {item['topic_arn']}"
    return str(item.get("name") or item.get("arn"))


def leftovers(inv: Inventory, name_contains: str | None = None) -> dict[str, list[str]]:
    """What remains, by section (only non-empty sections), e.g. ``{"roles": ["x-role"]}``.

    With ``name_contains``, only items whose label (name, or for subscriptions the endpoint
    and topic ARN) contains that text count.
    """
    found: dict[str, list[str]] = {}
    for section in STACK_SECTIONS:
        labels = [_label(section, item) for item in inv.get(section, [])]
        if name_contains is not None:
            labels = [label for label in labels if name_contains in label]
        if labels:
            found[section] = labels
    return found


def is_empty(inv: Inventory, name_contains: str | None = None) -> bool:
    """True when no role, policy, log group, topic, subscription, function or rule remains."""
    return not leftovers(inv, name_contains)


def assert_empty(inv: Inventory, name_contains: str | None = None) -> None:
    """Fail with the list of what remains, if anything does."""
    remaining = leftovers(inv, name_contains)
    assert not remaining, f"resources remain: {json.dumps(remaining, indent=2)}"


__all__ = [
    "ClientFactory",
    "Inventory",
    "assert_empty",
    "client_factory",
    "inventory",
    "is_empty",
    "leftovers",
    "local_session",
]


def user_tags(tags: dict[str, str]) -> dict[str, str]:
    """A resource's tags without stock-alert:applied, after checking that tag is there and is
    the 16-hex digest of what was last written (see provision/kinds/contract.py)."""
    import re

    applied = tags.get("stock-alert:applied", "")
    assert re.fullmatch(r"[0-9a-f]{16}", applied), f"no applied digest in {tags}"
    return {k: v for k, v in tags.items() if k != "stock-alert:applied"}
