"""export --format cloudformation: the template lints clean and, deployed to moto's
CloudFormation, makes what `up` makes, compared field by field."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws
from typer.testing import CliRunner

from provision.aws.client import Aws
from provision.cli import app
from provision.config.model import Config, load_config
from provision.core import package, pipelines, policies
from provision.features.export import cloudformation as cf
from provision.kinds import KINDS, code_bucket
from tests.support.configs import MINIMAL, write_config
from tests.support.inprocess import ClientCalls, target

REGION = "us-east-1"
CONFIG = MINIMAL + "tags: {team: quant}\nfunction: {memory_mb: 256, log_retention_days: 30}\n"
runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, CONFIG)


def _lint_errors(text: str) -> list[str]:
    from cfnlint.api import ManualArgs, lint

    return [f"{m.rule.id} {m.message}" for m in lint(text, config=ManualArgs(regions=[REGION]))
            if m.rule.id.startswith("E")]


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_template_passes_cfn_lint(config: Path, fmt: str) -> None:
    text = cf.dump(cf.template(load_config(config)), fmt)
    assert _lint_errors(text) == []
    # ... and the linter is live: a property CloudFormation does not know is an error.
    broken = cf.template(load_config(config))
    broken["Resources"]["LogGroup"]["Properties"]["RetentionDays"] = 14
    assert any(e.startswith("E3002") for e in _lint_errors(cf.dump(broken, fmt)))


def test_every_kind_has_an_exporter() -> None:
    """Each kind renders itself (Kind.cloudformation is abstract: a kind without it cannot be
    built); the template holds what every kind renders, in KINDS' order."""
    stack = cf.export_stack(Config.model_validate({"name": "t1", "stocks": ["SPY"]}))
    rendered = [name for k in KINDS for name in k.cloudformation(k.wanted(stack)).resources]
    doc = cf.template(stack.config)
    assert [n for n in doc["Resources"] if n in rendered] == rendered


def test_template_is_built_from_the_wanted_values(config: Path) -> None:
    """Inline policies are policies.inline_policies() with the sentinels as Fn::Sub."""
    doc = cf.template(load_config(config))
    stack = cf.export_stack(load_config(config))
    role = doc["Resources"]["Role"]["Properties"]
    assert role["Policies"] == [{"PolicyName": cf.substitute(n), "PolicyDocument":
                                 cf.substitute(d)}
                                for n, d in policies.inline_policies(stack).items()]
    assert role["AssumeRolePolicyDocument"] == policies.trust_policy()
    assert doc["Parameters"]["StackName"]["Default"] == "t1"
    assert "t1" not in json.dumps(doc["Resources"])  # every name comes from the parameter


def test_literal_dollar_brace_survives_fn_sub() -> None:
    assert cf.substitute(f"${{x}} {cf.NAME}") == {"Fn::Sub": "${!x} ${StackName}"}


def test_cli_export_prints_yaml_without_aws(config: Path) -> None:
    result = runner.invoke(app, ["export", "--format", "cloudformation", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["Resources"]["Function"]["Type"] == \
        "AWS::Lambda::Function"


@pytest.mark.parametrize("args", [["--format", "terraform"], ["--template-format", "xml"]])
def test_cli_export_bad_flag_is_exit_2(config: Path, args: list[str]) -> None:
    result = runner.invoke(app, ["export", "-c", str(config), *args])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and args[1] in result.output


# deployed to moto's CloudFormation ---------------------------------------------------------
def _client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def _tags(pairs: list[dict[str, str]] | dict[str, str]) -> dict[str, str]:
    """The user-visible tags: not AWS's own, and not stock-alert:applied, the record of what
    'up' last wrote, which a CloudFormation-made stack does not have."""
    tags = pairs if isinstance(pairs, dict) else {t["Key"]: t["Value"] for t in pairs}
    return {k: v for k, v in tags.items()
            if not k.startswith("aws:") and k != "stock-alert:applied"}


def _policy(document: Any) -> str:
    """Canonical text of an inline policy. moto's CloudFormation hands the parsed dict to
    Role.put_policy (moto 5.2 moto/iam/models.py, Role.create_from_cloudformation_json), so
    GetRolePolicy returns Python's str() of it; real IAM returns URL-encoded JSON."""
    if isinstance(document, str) and document.startswith("{'"):
        document = ast.literal_eval(document)
    return policies.canonical(document)


def snapshot(name: str) -> dict[str, Any]:
    """What exists for stack `name`, field by field, read through the public APIs."""
    iam, logs, sns, lam, events = (_client(s) for s in ("iam", "logs", "sns", "lambda",
                                                         "events"))
    fn = lam.get_function(FunctionName=name)
    conf = fn["Configuration"]
    # 'up' names the role; the template leaves the name to CloudFormation (IAM is global, and
    # a StackSet deploys one StackName to several Regions): find it through the function.
    role_name = conf["Role"].rsplit("/", 1)[1]
    role = iam.get_role(RoleName=role_name)["Role"]
    inline = {p: _policy(iam.get_role_policy(RoleName=role_name,
                                             PolicyName=p)["PolicyDocument"])
              for p in iam.list_role_policies(RoleName=role_name)["PolicyNames"]}
    [group] = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
    topic = f"arn:aws:sns:{REGION}:123456789012:{name}-alerts"
    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    rule = events.describe_rule(Name=f"{name}-schedule")
    [statement] = json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]
    statement.pop("Sid")  # CloudFormation names the statement itself
    return {
        "role": {"trust": policies.canonical(role["AssumeRolePolicyDocument"]),
                 "inline": inline, "description": role.get("Description"),
                 "tags": _tags(iam.list_role_tags(RoleName=role_name)["Tags"]),
                 "managed": iam.list_attached_role_policies(
                     RoleName=role_name)["AttachedPolicies"]},
        "log_group": {"retention": group.get("retentionInDays"),
                      "tags": _tags(logs.list_tags_for_resource(
                          resourceArn=group["arn"].removesuffix(":*"))["tags"])},
        "topic": {"kms": attrs.get("KmsMasterKeyId"), "display": attrs.get("DisplayName"),
                  "subscriptions": sorted((s["Protocol"], s["Endpoint"]) for s in subs),
                  "tags": _tags(sns.list_tags_for_resource(ResourceArn=topic)["Tags"])},
        "function": {k: conf.get(k) for k in ("Runtime", "Handler", "MemorySize", "Timeout",
                                             "Description", "Environment", "CodeSha256")}
        | {"tags": _tags(fn.get("Tags", {})), "role_is_the_stacks": conf["Role"] == role["Arn"]},
        "rule": {k: rule.get(k) for k in ("ScheduleExpression", "State", "Description")}
        | {"targets": [(t["Id"], t["Arn"]) for t in events.list_targets_by_rule(
            Rule=f"{name}-schedule")["Targets"]],
           "tags": _tags(events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"])},
        "permission": statement,
    }


def _in_fresh_mock(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    with mock_aws():
        return work()


def test_cloudformation_deploy_matches_up(config: Path) -> None:
    def by_up() -> dict[str, Any]:
        pipelines.up(target(config)[0])
        return snapshot("t1")

    def by_cloudformation() -> dict[str, Any]:
        _client("s3").create_bucket(Bucket="code")
        aws = Aws(REGION)
        location = code_bucket.upload(aws, "code", "t1", package.build())
        body = cf.dump(cf.template(load_config(config), location))
        cfn = _client("cloudformation")
        cfn.create_stack(StackName="alerts", TemplateBody=body,
                         Capabilities=["CAPABILITY_NAMED_IAM"])
        stack = cfn.describe_stacks(StackName="alerts")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack
        return snapshot("t1")

    want, got = _in_fresh_mock(by_up), _in_fresh_mock(by_cloudformation)
    differ = {(part, key) for part in want for key in want[part]
              if got[part][key] != want[part][key]}
    # Only what moto's CloudFormation cannot make may differ; each is checked in the template.
    assert differ == set(MOTO_CFN_GAPS)
    resources = _resolved(cf.template(load_config(config)))["Resources"]
    for (part, key), read in MOTO_CFN_GAPS.items():
        assert read(resources) == want[part][key], (part, key)


def _resolved(doc: Any, name: str = "t1") -> Any:
    """The template with Fn::Sub over StackName only resolved (enough for tags and names)."""
    if isinstance(doc, dict):
        if set(doc) == {"Fn::Sub"} and "${AWS::" not in doc["Fn::Sub"]:
            return doc["Fn::Sub"].replace("${StackName}", name)
        return {k: _resolved(v, name) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_resolved(v, name) for v in doc]
    return doc


def _subscriptions(resources: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((body["Properties"]["Protocol"],
                   DEFAULTS[body["Properties"]["Endpoint"]["Ref"]])
                  for body in resources.values() if body["Type"] == "AWS::SNS::Subscription")


DEFAULTS = {"EmailSubscriber1": "you@example.com", "SmsSubscriber1": "+15555550100"}
# What moto 5.2's CloudFormation does not make, read from the template instead:
# - AWS::SNS::Subscription: "No Moto CloudFormation support" (moto/cloudformation/parsing.py);
# - AWS::SNS::Topic Tags: Topic.create_from_cloudformation_json passes no tags;
# - AWS::Lambda::Function Tags: not among LambdaFunction.create_from_cloudformation_json's
#   optional_properties (moto/awslambda/models.py), so dropped.
MOTO_CFN_GAPS: dict[tuple[str, str], Callable[[dict[str, Any]], Any]] = {
    ("topic", "subscriptions"): _subscriptions,
    ("topic", "tags"): lambda r: _tags(r["Topic"]["Properties"]["Tags"]),
    ("function", "tags"): lambda r: _tags(r["Function"]["Properties"]["Tags"]),
}


def test_package_bucket_uploads_once_and_fills_defaults(config: Path) -> None:
    with mock_aws():
        _client("s3").create_bucket(Bucket="code")
        result = runner.invoke(app, ["export", "-c", str(config), "--package-bucket", "code"])
        assert result.exit_code == 0, result.output
        params = yaml.safe_load(result.stdout)["Parameters"]
        key = params["CodeKey"]["Default"]
        assert params["CodeBucket"]["Default"] == "code"
        body = _client("s3").get_object(Bucket="code", Key=key)["Body"].read()
        assert body == package.build().zip_bytes


def test_package_bucket_missing_is_one_error(config: Path) -> None:
    with mock_aws():
        result = runner.invoke(app, ["export", "-c", str(config), "--package-bucket", "nope"])
    assert result.exit_code == 1
    assert "NoSuchBucket" in result.output and "Traceback" not in result.output


def test_upload_is_one_put(config: Path) -> None:
    with mock_aws():
        _client("s3").create_bucket(Bucket="code")
        aws = Aws(REGION)
        log = ClientCalls()
        aws.events.register("before-call", log)
        code_bucket.upload(aws, "code", "t1", package.build())
    assert log.calls == ["s3:PutObject"]
