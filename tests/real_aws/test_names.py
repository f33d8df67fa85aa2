"""Catalogue of real-AWS behaviours: every name, description and tag the tool sends is one that
the service accepts, by the character set and length each service documents.

moto accepts any string. Real EC2 answers CreateSecurityGroup with HTTP 400
InvalidParameterValue "Invalid security group description. Valid descriptions are strings less
than 256 characters from the following set: a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*" (EC2 API reference,
CreateSecurityGroup, "GroupDescription ... Constraints"; github.com/hashicorp/
terraform-provider-aws/issues/18874). The tool's own description once held an apostrophe, so
every `up` with `network:` failed on AWS while passing on moto.

Where the constraints come from, in order:
- the service model botocore ships (each shape's `max` and `pattern`: the same text as the API
  reference), for every string the tool sends;
- DOCUMENTED below, for what the models leave out, each with its page;
- TAG: the tag rule every service here documents (docs.aws.amazon.com/tag-editor/latest/
  userguide/best-practices-and-strats.html, "Tag naming limits and requirements": keys up to
  128 and values up to 256 Unicode characters; letters, numbers, spaces and _ . : / = + - @).
Every name, description or tag the tool writes must be covered by at least one of them, so a
new kind cannot send an unchecked one. The CloudFormation export is checked the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
import regex  # the service models' patterns use \p{L}-style classes (installed by cfn-lint)
from moto import mock_aws

from provision.config.model import NAME_MAX, load_config
from provision.core import pipelines
from provision.core.plan import Mode
from provision.features.export import cloudformation as cf
from provision.kinds.security_group import DESCRIPTION
from tests.support.awsproxy import is_write_operation
from tests.support.configs import write_config
from tests.support.inprocess import target

# The longest stack name the config allows: every derived name is at its longest.
LONG = "a" + "b" * (NAME_MAX - 1)
CONFIG = f"""\
name: {LONG}
region: us-east-1
stocks: [TSLA, F]
notify:
  email: [you@example.com]
  sms: ["+15555550100"]
  # a customer key: the errors alarm is made only then (issue 21), so its names are sent too
  kms_key: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
tags: {{project: demo-1, owner: "ops team@example.com"}}
"""
EC2_SET = r"[a-zA-Z0-9. _\-:/()#,@\[\]+=&;{}!$*]"


@dataclass(frozen=True)
class Rule:
    pattern: str  # the whole value must match (regex module syntax)
    max_len: int
    source: str

    def problem(self, value: str) -> str | None:
        if len(value) > self.max_len:
            return f"{len(value)} characters, more than {self.max_len} ({self.source})"
        if not regex.fullmatch(self.pattern, value):
            bad = sorted({c for c in value if not regex.fullmatch(self.pattern, c)})
            return f"characters {bad} outside {self.pattern} ({self.source})"
        return None


TAG_KEY = Rule(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+", 128, "AWS tag naming requirements")
TAG_VALUE = Rule(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*", 256, "AWS tag naming requirements")
# (service, operation, path) -> what the API reference says and the model does not.
DOCUMENTED: dict[tuple[str, str, str], Rule] = {
    ("ec2", "CreateSecurityGroup", "Description"): Rule(
        f"{EC2_SET}*", 255, "EC2 API reference, CreateSecurityGroup: GroupDescription"),
    ("ec2", "CreateSecurityGroup", "GroupName"): Rule(
        f"(?!sg-){EC2_SET}+", 255, "EC2 API reference, CreateSecurityGroup: GroupName"),
    ("sns", "CreateTopic", "Name"): Rule(
        r"[A-Za-z0-9_-]+", 256, "SNS API reference, CreateTopic: Name"),
    ("sns", "CreateTopic", "Attributes{DisplayName}"): Rule(
        r"[\x20-\x7e\t]*", 100, "SNS API reference, SetTopicAttributes: DisplayName"),
    ("lambda", "CreateFunction", "FunctionName"): Rule(
        r"[a-zA-Z0-9_-]+", 64, "Lambda API reference, CreateFunction: FunctionName"),
}
# CloudFormation property -> the API parameter it becomes (so the same rules apply).
CFN_PARAMETER: dict[tuple[str, str], tuple[str, str, str]] = {
    ("AWS::IAM::Role", "RoleName"): ("iam", "CreateRole", "RoleName"),
    ("AWS::IAM::Role", "Description"): ("iam", "CreateRole", "Description"),
    ("AWS::IAM::Role", "Path"): ("iam", "CreateRole", "Path"),
    ("AWS::IAM::Role", "Policies[].PolicyName"): ("iam", "PutRolePolicy", "PolicyName"),
    ("AWS::Logs::LogGroup", "LogGroupName"): ("logs", "CreateLogGroup", "logGroupName"),
    ("AWS::SNS::Topic", "TopicName"): ("sns", "CreateTopic", "Name"),
    ("AWS::SNS::Topic", "DisplayName"): ("sns", "CreateTopic", "Attributes{DisplayName}"),
    ("AWS::EC2::SecurityGroup", "GroupName"): ("ec2", "CreateSecurityGroup", "GroupName"),
    ("AWS::EC2::SecurityGroup", "GroupDescription"): ("ec2", "CreateSecurityGroup",
                                                      "Description"),
    ("AWS::Lambda::Function", "FunctionName"): ("lambda", "CreateFunction", "FunctionName"),
    ("AWS::Lambda::Function", "Description"): ("lambda", "CreateFunction", "Description"),
    ("AWS::Lambda::Permission", "FunctionName"): ("lambda", "AddPermission", "FunctionName"),
    ("AWS::Events::Rule", "Name"): ("events", "PutRule", "Name"),
    ("AWS::Events::Rule", "Description"): ("events", "PutRule", "Description"),
    ("AWS::Events::Rule", "Targets[].Id"): ("events", "PutTargets", "Targets[].Id"),
    ("AWS::CloudWatch::Alarm", "AlarmName"): ("cloudwatch", "PutMetricAlarm", "AlarmName"),
    ("AWS::CloudWatch::Alarm", "AlarmDescription"): ("cloudwatch", "PutMetricAlarm",
                                                     "AlarmDescription"),
    ("AWS::CloudWatch::Alarm", "MetricName"): ("cloudwatch", "PutMetricAlarm", "MetricName"),
    ("AWS::CloudWatch::Alarm", "Dimensions[].Name"): ("cloudwatch", "PutMetricAlarm",
                                                      "Dimensions[].Name"),
}
# Which parameters are names (identifiers the tool makes up, e.g. a target's Id or a
# statement id; ids AWS made, like GroupId or a key ARN, are not the tool's to check).
NAMED = re.compile(r"(Name|Description|Path|StatementId|^Id)$", re.IGNORECASE)
_MODELS = botocore.session.get_session()


@dataclass(frozen=True)
class Sent:
    service: str
    operation: str
    path: str  # e.g. "Tags[].Value", "tags{}" (a map's keys), "tags{project}" (a value)
    value: str
    shape: Any  # the botocore shape of the value, None when unknown

    @property
    def is_tag(self) -> bool:
        root = self.path.split("[")[0].split("{")[0]
        return root in ("Tags", "tags", "TagSpecifications") and (
            self.path.endswith((".Key", ".Value")) or "{" in self.path)

    @property
    def is_named(self) -> bool:
        return self.is_tag or bool(NAMED.search(self.path.split(".")[-1].strip("[]{}")))


def walk(shape: Any, value: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    """(path, shape, string) of every string inside one API parameter value."""
    if isinstance(value, str):
        yield path, shape, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if shape is not None and shape.type_name == "structure":
                yield from walk(shape.members.get(key), item, f"{path}.{key}".lstrip("."))
            else:  # a map: its keys, then each value under its key
                yield f"{path}{{}}", getattr(shape, "key", None), key
                yield from walk(getattr(shape, "value", None), item, f"{path}{{{key}}}")
    elif isinstance(value, list):
        for item in value:
            yield from walk(getattr(shape, "member", None), item, f"{path}[]")


def problems(sent: Sent) -> tuple[list[str], bool]:
    """(what is wrong with the value, whether any documented rule covered it)."""
    rules: list[Rule] = []
    meta = sent.shape.metadata if sent.shape is not None else {}
    if "pattern" in meta or "max" in meta:
        rules.append(Rule(meta.get("pattern", r"[\s\S]*"), int(meta.get("max", 10**6)),
                          f"botocore {sent.service} model, shape {sent.shape.name}"))
    if sent.is_tag:
        rules.append(TAG_KEY if sent.path.endswith((".Key", "{}")) else TAG_VALUE)
    documented = DOCUMENTED.get((sent.service, sent.operation, sent.path))
    rules += [documented] if documented else []
    found = [p for p in (r.problem(sent.value) for r in rules) if p]
    return found, bool(rules)


def param_shape(service: str, operation: str, path: str) -> Any:
    shape = _MODELS.get_service_model(service).operation_model(operation).input_shape
    for part in re.findall(r"[^.\[\]{}]+|\[\]|\{\}", path):
        if part == "[]":
            shape = shape.member
        elif part == "{}" or shape.type_name == "map":
            shape = shape.value
        else:
            shape = shape.members[part]
    return shape


def check(sent: list[Sent]) -> None:
    wrong, unchecked = [], []
    for item in sent:
        found, covered = problems(item)
        wrong += [f"{item.service} {item.operation} {item.path}={item.value!r}: {p}"
                  for p in found]
        if item.is_named and not covered:
            unchecked.append(f"{item.service} {item.operation} {item.path}")
    assert wrong == []
    assert unchecked == [], "no documented limit known: add its source to DOCUMENTED"


# ---- what `up` sends -----------------------------------------------------------------------

@pytest.fixture
def sent(tmp_path: Path) -> Iterator[list[Sent]]:
    """Every string parameter of every write of a fresh `up` with every kind (network: and
    the group the tool makes included), then of `down`."""
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.0.0/24")["Subnet"]["SubnetId"]
        config = write_config(tmp_path, CONFIG + f"network: {{subnet_ids: [{subnet}]}}\n")
        seen: list[Sent] = []

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            service = model.service_model.service_name
            if not is_write_operation(model.name):
                return
            for key, value in params.items():
                member = model.input_shape.members.get(key)
                seen.extend(Sent(service, model.name, path, text, shape)
                            for path, shape, text in walk(member, value, key))

        prepared, _ = target(config)
        prepared.aws.events.register("before-parameter-build", record)
        pipelines.up(prepared)
        prepared, _ = target(config)
        prepared.aws.events.register("before-parameter-build", record)
        pipelines.down(prepared, pipelines.plan(prepared, mode=Mode.DOWN)[0])
        yield seen


def test_every_name_description_and_tag_sent_is_accepted_by_its_service(
        sent: list[Sent]) -> None:
    kinds = {(s.service, s.operation) for s in sent}
    # Every kind wrote something with a name: the check saw them all.
    assert {("iam", "CreateRole"), ("logs", "CreateLogGroup"), ("sns", "CreateTopic"),
            ("ec2", "CreateSecurityGroup"), ("lambda", "CreateFunction"),
            ("events", "PutRule"), ("cloudwatch", "PutMetricAlarm"),
            ("lambda", "PutFunctionEventInvokeConfig")} <= kinds
    assert any(s.path == "Description" and s.value == DESCRIPTION for s in sent)
    check(sent)


@pytest.mark.parametrize(("sent_value", "ok"), [
    ("stock-alert: the function's outbound HTTPS only", False),  # the apostrophe of old
    ("x" * 256, False),
    ("stock-alert: outbound HTTPS only, for the function", True),
])
def test_the_ec2_rule_itself(sent_value: str, ok: bool) -> None:
    """The table is live: it refuses what EC2 refuses."""
    shape = param_shape("ec2", "CreateSecurityGroup", "Description")
    found, covered = problems(Sent("ec2", "CreateSecurityGroup", "Description", sent_value,
                                   shape))
    assert covered and (found == []) is ok


# ---- what the CloudFormation export holds ----------------------------------------------------

PSEUDO = {"${StackName}": LONG, "${AWS::Region}": "ap-southeast-2",
          "${AWS::AccountId}": "123456789012", "${AWS::Partition}": "aws"}


def resolved(value: Any) -> Any:
    """A template value with Fn::Sub filled in as CloudFormation would (StackName at its
    longest); other intrinsic functions (Ref, GetAtt) are left as they are (not strings)."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"],
                                                                              str):
        text = value["Fn::Sub"]
        for ref, actual in PSEUDO.items():
            text = text.replace(ref, actual)
        return text.replace("${!", "${")
    return value


def template_strings(doc: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(resource type, property path, value) of each named string of each resource."""
    for body in doc["Resources"].values():
        kind = body["Type"]
        for prop, value in body.get("Properties", {}).items():
            if prop == "Tags":
                for tag in value:
                    yield kind, "Tags[].Key", tag["Key"]
                    yield kind, "Tags[].Value", resolved(tag["Value"])
            elif isinstance(value, list):
                for item in value:
                    for sub, inner in (item.items() if isinstance(item, dict) else ()):
                        yield kind, f"{prop}[].{sub}", resolved(inner)
            else:
                yield kind, prop, resolved(value)


def test_every_name_description_and_tag_in_the_export_is_accepted(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, CONFIG + "network: {subnet_ids: "
                                      "[subnet-0123456789abcdef0]}\n"))
    doc = cf.template(config)
    sent, unmapped = [], []
    for kind, prop, value in template_strings(doc):
        if not isinstance(value, str):
            continue
        name_like = prop.startswith("Tags") or NAMED.search(prop.split(".")[-1])
        if prop.startswith("Tags"):
            sent.append(Sent("cloudformation", kind, prop, value, None))
        elif (kind, prop) in CFN_PARAMETER:
            service, operation, path = CFN_PARAMETER[kind, prop]
            sent.append(Sent(service, operation, path, value,
                             param_shape(service, operation, path)))
        elif name_like:
            unmapped.append(f"{kind} {prop}")
    assert unmapped == [], "add the property to CFN_PARAMETER"
    assert any(s.operation == "CreateSecurityGroup" for s in sent)
    check(sent)
    # The template's own texts: Description at most 1024 bytes, each parameter's at most 4000
    # characters (CloudFormation user guide, "Template anatomy" and "Parameters").
    assert len(doc["Description"].encode()) <= 1024
    assert all(len(p.get("Description", "")) <= 4000 for p in doc["Parameters"].values())
