"""The stack as a CloudFormation template, built from each kind's wanted value.

The template is made from `KINDS[i].wanted(stack)`, each rendered by its kind
(`Kind.cloudformation`), the values `up` diffs and applies, for a
Stack whose name, account, Region and partition are sentinels; every string that holds one
becomes `Fn::Sub` over the StackName parameter and the AWS:: pseudo parameters. So the names,
ARNs, inline policy documents, environment and tags cannot drift from what `up` makes, and the
same template deploys to any account and Region (StackSets).

Resources follow KINDS' creation order with DependsOn, so CloudFormation creates the log group
before the function (Lambda never makes an untagged one) and deletes in reverse, like `down`.
"""

from __future__ import annotations

import json
from typing import Any

from provision.config.model import NAME_MAX, Config
from provision.core.stack import Stack
from provision.kinds import KINDS
from provision.kinds.code_bucket import CodeLocation
from provision.kinds.contract import Doc

NAME = "StockAlertExportSentinel"  # a valid stack name no real config is likely to use
SENTINELS = {NAME: "${StackName}", "@@ACCOUNT@@": "${AWS::AccountId}",
             "@@REGION@@": "${AWS::Region}", "@@PARTITION@@": "${AWS::Partition}"}


def export_stack(config: Config) -> Stack:
    """The Stack `up` would build, with sentinels for what each deployment supplies."""
    named = config.model_copy(update={"name": NAME})
    return Stack(named, "@@ACCOUNT@@", "@@REGION@@", "@@PARTITION@@")


def substitute(value: Any) -> Any:
    """Every string holding a sentinel -> Fn::Sub (literal '${' escaped as '${!')."""
    if isinstance(value, dict):
        return {k: substitute(v) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v) for v in value]
    if isinstance(value, str) and any(s in value for s in SENTINELS):
        text = value.replace("${", "${!")
        for sentinel, reference in SENTINELS.items():
            text = text.replace(sentinel, reference)
        return {"Fn::Sub": text}
    return value


def template(config: Config, code: CodeLocation | None = None,
             code_sha256: str | None = None) -> Doc:
    stack = export_stack(config)
    params: Doc = {
        "StackName": {"Type": "String", "Default": config.name, "MaxLength": NAME_MAX,
                      "AllowedPattern": "^[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?$",
                      "Description": "The stock-alert stack name; every resource name and the "
                      "stock-alert:stack tag derive from it."},
        "CodeBucket": {"Type": "String", "Description": "S3 bucket holding the function zip "
                       "(stock-alert export --package-bucket uploads it)."},
        "CodeKey": {"Type": "String", "Description": "S3 key of the function zip."},
    }
    if code:
        params["CodeBucket"]["Default"], params["CodeKey"]["Default"] = code.bucket, code.key
    conditions: Doc = {}
    resources: Doc = {}
    previous: list[str] = []
    for kind in KINDS:  # creation order, as `up`; CloudFormation deletes in reverse
        part = kind.cloudformation(kind.wanted(stack))
        for body in part.resources.values():
            if previous and "Condition" not in body:
                body["DependsOn"] = sorted({*body.get("DependsOn", []), *previous})
        resources.update(part.resources)
        params.update(part.parameters)
        conditions.update(part.conditions)
        previous = [n for n, b in part.resources.items() if "Condition" not in b] or previous
    if "RoleName" not in resources["Role"]["Properties"]:
        resources = role_refs(resources, stack.role_arn)
    doc: Doc = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"stock-alert stack (exported from config {config.name!r})",
        "Metadata": {"stock-alert": {"code-sha256": code_sha256}} if code_sha256 else {},
        "Parameters": params, "Conditions": conditions, "Resources": substitute(resources),
        "Outputs": {"FunctionArn": {"Value": {"Fn::GetAtt": ["Function", "Arn"]}},
                    "TopicArn": {"Value": {"Ref": "Topic"}}},
    }
    return {k: v for k, v in doc.items() if v}


def role_refs(value: Any, arn: str) -> Any:
    """Every string that is the role's ARN -> Fn::GetAtt Role.Arn (the role has no fixed
    name: the function's Role, the topic policy's principal and condition)."""
    if value == arn:
        return {"Fn::GetAtt": ["Role", "Arn"]}
    if isinstance(value, dict):
        return {k: role_refs(v, arn) for k, v in value.items()}
    if isinstance(value, list):
        return [role_refs(v, arn) for v in value]
    return value


def dump(doc: Doc, fmt: str = "yaml") -> str:
    """YAML by default (long-form Fn:: keys, so YAML and JSON hold the same data)."""
    if fmt == "json":
        return json.dumps(doc, indent=2) + "\n"
    import yaml

    class _Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=100)


def upload_code(aws: Any, bucket: str, config: Config) -> tuple[CodeLocation, str]:
    """Build the reproducible zip, put it in the bucket; (where it is, its CodeSha256)."""
    from provision.core import package
    from provision.kinds import code_bucket

    code = package.build()
    return code_bucket.upload(aws, bucket, config.name, code), code.sha256
