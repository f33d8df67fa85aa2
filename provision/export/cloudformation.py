"""The stack as a CloudFormation template, built from each kind's wanted value.

The template is made from `KINDS[i].wanted(stack)`, the values `up` diffs and applies, for a
Stack whose name, account, Region and partition are sentinels; every string that holds one
becomes `Fn::Sub` over the StackName parameter and the AWS:: pseudo parameters. So the names,
ARNs, inline policy documents, environment and tags cannot drift from what `up` makes, and the
same template deploys to any account and Region (StackSets).

Resources follow KINDS' creation order with DependsOn, so CloudFormation creates the log group
before the function (Lambda never makes an untagged one) and deletes in reverse, like `down`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from provision.config.model import NAME_MAX, Config
from provision.resources import KINDS
from provision.resources.alarm import WantedAlarm
from provision.resources.code_bucket import CodeLocation
from provision.resources.function import WantedFunction
from provision.resources.log_group import WantedLogGroup
from provision.resources.on_failure import WantedOnFailure
from provision.resources.role import DESCRIPTION as ROLE_DESCRIPTION
from provision.resources.role import WantedRole
from provision.resources.schedule import WantedSchedule
from provision.resources.security_group import DESCRIPTION as SG_DESCRIPTION
from provision.resources.security_group import WantedSecurityGroup
from provision.resources.tags import as_list
from provision.resources.topic import POLICY, WantedTopic
from provision.resources.vpc_config import GROUP_ID
from provision.stack import Stack

NAME = "StockAlertExportSentinel"  # a valid stack name no real config is likely to use
SENTINELS = {NAME: "${StackName}", "@@ACCOUNT@@": "${AWS::AccountId}",
             "@@REGION@@": "${AWS::Region}", "@@PARTITION@@": "${AWS::Partition}"}
Doc = dict[str, Any]


@dataclass
class Fragment:
    """What one kind adds to the template."""

    resources: Doc = field(default_factory=dict)
    parameters: Doc = field(default_factory=dict)
    conditions: Doc = field(default_factory=dict)


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


def role(w: WantedRole) -> Fragment:
    """IAM is global: a fixed `<StackName>-role` collides when a StackSet deploys the stack to
    a second Region of an account (github.com/aws-samples/amazon-cloudfront-secure-static-site/
    issues/39), and `<StackName>-<Region>-role` can pass IAM's 64 characters, which only the
    deploy would know (up shortens it with a hash; a template cannot). So CloudFormation names
    the role (unique per stack instance) and the template refers to it by Fn::GetAtt
    (role_refs)."""
    return Fragment({"Role": {"Type": "AWS::IAM::Role", "Properties": {
        "Description": ROLE_DESCRIPTION, "Path": w.path,
        **({"PermissionsBoundary": w.boundary} if w.boundary else {}),
        "AssumeRolePolicyDocument": w.trust,
        "Policies": [{"PolicyName": n, "PolicyDocument": d} for n, d in w.inline.items()],
        "Tags": as_list(w.tags)}}})


def log_group(w: WantedLogGroup) -> Fragment:
    return Fragment({"LogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {
        "LogGroupName": w.name, "RetentionInDays": w.retention_days,
        "Tags": as_list(w.tags)}}})


def topic(w: WantedTopic) -> Fragment:
    """The topic, and one subscription per configured subscriber, each its own parameter
    (default: the config's value; an empty value skips that subscription)."""
    attributes = {k: v for k, v in w.attributes.items() if k != POLICY}
    out = Fragment({"Topic": {"Type": "AWS::SNS::Topic", "Properties": {
        "TopicName": w.name, **attributes, "Tags": as_list(w.tags)}}})
    if POLICY in w.attributes:  # CloudFormation keeps a topic's access policy apart
        out.resources["TopicPolicy"] = {"Type": "AWS::SNS::TopicPolicy", "Properties": {
            "Topics": [{"Ref": "Topic"}], "PolicyDocument": json.loads(w.attributes[POLICY])}}
    counts: dict[str, int] = {}
    for protocol, endpoint in sorted(w.subscribers):
        counts[protocol] = counts.get(protocol, 0) + 1
        label = f"{protocol.capitalize()}Subscriber{counts[protocol]}"
        out.parameters[label] = {
            "Type": "String", "Default": endpoint,
            "Description": f"An {protocol} endpoint for the alerts; empty for none."}
        out.conditions[f"Has{label}"] = {"Fn::Not": [{"Fn::Equals": [{"Ref": label}, ""]}]}
        out.resources[f"{label}Subscription"] = {
            "Type": "AWS::SNS::Subscription", "Condition": f"Has{label}",
            "Properties": {"TopicArn": {"Ref": "Topic"}, "Protocol": protocol,
                           "Endpoint": {"Ref": label}}}
    return out


def security_group(w: WantedSecurityGroup) -> Fragment:
    """The group `up` makes with network: (none when the config names its own groups). The
    subnets' VPC is not in the config ('up' reads it): a parameter. With SecurityGroupEgress
    given, CloudFormation removes EC2's default allow-all egress rule, as 'up' does."""
    if not w.makes_group:
        return Fragment()
    egress = [{"IpProtocol": p["IpProtocol"], "FromPort": p["FromPort"], "ToPort": p["ToPort"],
               **({"CidrIpv6": p["Ipv6Ranges"][0]["CidrIpv6"]} if "Ipv6Ranges" in p
                  else {"CidrIp": p["IpRanges"][0]["CidrIp"]})} for p in w.egress.values()]
    return Fragment({"SecurityGroup": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
        "GroupName": w.name, "GroupDescription": SG_DESCRIPTION, "VpcId": {"Ref": "VpcId"},
        "SecurityGroupEgress": egress, "Tags": as_list(w.tags)}}},
        parameters={"VpcId": {"Type": "AWS::EC2::VPC::Id", "Description": "The VPC of "
                              "network.subnet_ids, for the function's security group."}})


def function(w: WantedFunction) -> Fragment:
    params = w.config_params()
    if "VpcConfig" in params:  # the group made above is named in the wanted value: its id
        params["VpcConfig"] = {**params["VpcConfig"], "SecurityGroupIds": [
            g if GROUP_ID.match(g) else {"Fn::GetAtt": ["SecurityGroup", "GroupId"]}
            for g in params["VpcConfig"]["SecurityGroupIds"]]}
    # Lambda reads the code only from a bucket in its own Region (else S3 PermanentRedirect,
    # github.com/binxio/cfn-certificate-provider/issues/20): with CodeBucketPerRegion, one
    # bucket per Region, '<CodeBucket>-<Region>'. Reserved concurrency is a parameter that
    # can be empty: a new account's limit of 10 leaves none to reserve
    # (github.com/aws-samples/one-observability-demo/issues/278).
    bucket = {"Fn::If": ["CodeBucketPerRegion", {"Fn::Sub": "${CodeBucket}-${AWS::Region}"},
                         {"Ref": "CodeBucket"}]}
    reserved = "" if w.reserved_concurrency is None else str(w.reserved_concurrency)
    return Fragment({"Function": {"Type": "AWS::Lambda::Function", "Properties": {
        "FunctionName": w.name, **params,
        "Code": {"S3Bucket": bucket, "S3Key": {"Ref": "CodeKey"}},
        "ReservedConcurrentExecutions": {"Fn::If": [
            "HasReservedConcurrency", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]},
        "Tags": as_list(w.tags)}}},
        parameters={
            "ReservedConcurrency": {
                "Type": "String", "Default": reserved, "AllowedPattern": "^([1-9][0-9]*)?$",
                "Description": "Concurrent executions reserved for the function; empty "
                "reserves none (needed in accounts whose concurrency limit is 10)."},
            "CodeBucketPerRegion": {
                "Type": "String", "Default": "false", "AllowedValues": ["true", "false"],
                "Description": "true: read the code from '<CodeBucket>-<Region>', one bucket "
                "per Region (Lambda reads code only from its own Region)."}},
        conditions={
            "HasReservedConcurrency": {"Fn::Not": [{"Fn::Equals": [
                {"Ref": "ReservedConcurrency"}, ""]}]},
            "CodeBucketPerRegion": {"Fn::Equals": [{"Ref": "CodeBucketPerRegion"}, "true"]}})


def schedule(w: WantedSchedule) -> Fragment:
    rule = {"Name": w.name, "ScheduleExpression": w.settings["schedule"],
            "State": w.settings["state"], "Description": w.settings["description"],
            "Targets": [{"Id": i, "Arn": arn, "RetryPolicy": w.retry_policy}
                        for i, arn in w.targets.items()],
            "Tags": as_list(w.tags)}
    params = w.permission_params()
    permission = {k: params[k] for k in ("FunctionName", "Action", "Principal", "SourceArn",
                                         "SourceAccount")}
    return Fragment({"Schedule": {"Type": "AWS::Events::Rule", "Properties": rule},
                     "InvokePermission": {"Type": "AWS::Lambda::Permission",
                                          "DependsOn": ["Schedule"],
                                          "Properties": permission}})


def alarm(w: WantedAlarm) -> Fragment:
    if not w.enabled:  # made only with a customer key, as 'up' does (alarm.py)
        return Fragment({})
    return Fragment({"ErrorsAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        **w.params(), "Tags": as_list(w.tags)}}})


def on_failure(w: WantedOnFailure) -> Fragment:
    params = w.params()
    return Fragment({"OnFailure": {"Type": "AWS::Lambda::EventInvokeConfig", "Properties": {
        "FunctionName": {"Ref": "Function"}, "Qualifier": "$LATEST",
        "MaximumRetryAttempts": params["MaximumRetryAttempts"],
        "DestinationConfig": params["DestinationConfig"]}}})


BUILDERS: dict[str, Callable[[Any], Fragment]] = {
    "role": role, "log-group": log_group, "topic": topic, "security-group": security_group,
    "function": function, "schedule": schedule, "alarm": alarm, "on-failure": on_failure}


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
        part = BUILDERS[kind.name](kind.wanted(stack))
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
    from provision import package
    from provision.resources import code_bucket

    code = package.build()
    return code_bucket.upload(aws, bucket, config.name, code), code.sha256
