"""Self-tests of the end-to-end harness in tests/support: the proxy, inventory and faults."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError
from moto import mock_aws

from tests.support.awsproxy import (
    AwsProxy,
    Drop,
    Error,
    LoseResponse,
    classify,
    function_named,
    is_write_operation,
    rest_operation,
    role_not_assumable,
    throttling,
    update_in_progress,
)
from tests.support.faults import inject_faults
from tests.support.fixtures import EndpointSession, cli_environment, cli_path, reset_moto
from tests.support.inventory import assert_empty, inventory, is_empty, leftovers

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
LOGS_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}],
    }
)


def retries(total: int) -> Config:
    return Config(retries={"mode": "standard", "total_max_attempts": total})


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def make_role(iam: BaseClient, name: str = "sa-role") -> str:
    role = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=TRUST,
        Tags=[{"Key": "app", "Value": "stock-alert"}],
    )
    return str(role["Role"]["Arn"])


def make_function(lam: BaseClient, role_arn: str, name: str = "sa-fn") -> str:
    created = lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role_arn,
        Handler="handler.handler",
        Code={"ZipFile": zip_bytes()},
        MemorySize=128,
        Timeout=30,
        Environment={"Variables": {"SYMBOLS": "AAPL"}},
        Tags={"app": "stock-alert"},
    )
    return str(created["FunctionArn"])


def build_stack(session: boto3.Session) -> dict[str, str]:
    """Everything stock-alert creates, made with plain boto3 calls."""
    iam, logs, sns = session.client("iam"), session.client("logs"), session.client("sns")
    lam, events = session.client("lambda"), session.client("events")
    role_arn = make_role(iam)
    iam.put_role_policy(RoleName="sa-role", PolicyName="logs", PolicyDocument=LOGS_POLICY)
    logs.create_log_group(logGroupName="/aws/lambda/sa-fn", tags={"app": "stock-alert"})
    logs.put_retention_policy(logGroupName="/aws/lambda/sa-fn", retentionInDays=14)
    topic = sns.create_topic(Name="sa-topic", Tags=[{"Key": "app", "Value": "stock-alert"}])
    sns.subscribe(TopicArn=topic["TopicArn"], Protocol="email", Endpoint="me@example.com")
    fn_arn = make_function(lam, role_arn)
    rule = events.put_rule(
        Name="sa-rule",
        ScheduleExpression="rate(5 minutes)",
        State="ENABLED",
        Tags=[{"Key": "app", "Value": "stock-alert"}],
    )
    events.put_targets(Rule="sa-rule", Targets=[{"Id": "fn", "Arn": fn_arn}])
    lam.add_permission(
        FunctionName="sa-fn",
        StatementId="events",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule["RuleArn"],
    )
    return {"role": role_arn, "function": fn_arn, "topic": topic["TopicArn"]}


# ---- classification (no server) -------------------------------------------------------------

ARN = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Asa-fn"


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("POST", "/2015-03-31/functions", "CreateFunction"),
        ("GET", "/2015-03-31/functions/", "ListFunctions"),
        ("GET", "/2015-03-31/functions?MaxItems=50", "ListFunctions"),
        ("GET", "/2015-03-31/functions/sa-fn", "GetFunction"),
        ("GET", f"/2015-03-31/functions/{ARN}", "GetFunction"),
        ("GET", "/2015-03-31/functions/sa-fn/configuration", "GetFunctionConfiguration"),
        ("PUT", "/2015-03-31/functions/sa-fn/configuration", "UpdateFunctionConfiguration"),
        ("PUT", "/2015-03-31/functions/sa-fn/code", "UpdateFunctionCode"),
        ("DELETE", "/2015-03-31/functions/sa-fn", "DeleteFunction"),
        ("POST", "/2015-03-31/functions/sa-fn/policy", "AddPermission"),
        ("GET", "/2015-03-31/functions/sa-fn/policy", "GetPolicy"),
        ("DELETE", "/2015-03-31/functions/sa-fn/policy/events", "RemovePermission"),
        ("GET", f"/2017-03-31/tags/{ARN}", "ListTags"),
        ("POST", f"/2017-03-31/tags/{ARN}", "TagResource"),
        ("DELETE", f"/2017-03-31/tags/{ARN}?tagKeys=a", "UntagResource"),
        ("POST", "/2015-03-31/functions/sa-fn/invocations", "Invoke"),
        ("GET", "/2018-10-31/layers?find=LayerVersion&Arn=x", "GetLayerVersionByArn"),
        ("GET", "/2018-10-31/layers", "ListLayers"),
    ],
)
def test_lambda_rest_paths_map_to_operations(method: str, path: str, operation: str) -> None:
    assert rest_operation("lambda", method, path) == operation


def test_classify_reads_each_protocol_family() -> None:
    def auth(service: str) -> dict[str, str]:
        scope = f"testing/20260101/us-east-1/{service}/aws4_request"
        return {"Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host"}

    target = {**auth("logs"), "X-Amz-Target": "Logs_20140328.CreateLogGroup"}
    assert classify("POST", "/", target, b"{}") == ("logs", "CreateLogGroup")
    body = b"Action=CreateRole&Version=2010-05-08&RoleName=x"
    assert classify("POST", "/", auth("iam"), body) == ("iam", "CreateRole")
    assert classify("GET", "/?Action=GetCallerIdentity", auth("sts"), b"") == (
        "sts",
        "GetCallerIdentity",
    )
    assert classify("GET", "/2015-03-31/functions/x", auth("lambda"), b"") == (
        "lambda",
        "GetFunction",
    )


@pytest.mark.parametrize(
    ("operation", "write"),
    [
        ("CreateRole", True),
        ("PutTargets", True),
        ("Subscribe", True),
        ("Invoke", True),
        ("GetRole", False),
        ("ListSubscriptions", False),
        ("DescribeLogGroups", False),
        ("GetCallerIdentity", False),
        ("Unknown", True),
    ],
)
def test_write_classification(operation: str, write: bool) -> None:
    assert is_write_operation(operation) is write


# ---- proxy against the moto server -------------------------------------------------------------


@pytest.mark.server
def test_operations_and_writes_are_counted_per_protocol(
    aws_proxy: AwsProxy, boto_session: EndpointSession
) -> None:
    build_stack(boto_session)
    lam = boto_session.client("lambda")
    lam.get_function(FunctionName="sa-fn")
    lam.get_function_configuration(FunctionName="sa-fn")
    lam.update_function_configuration(FunctionName="sa-fn", Timeout=60)
    lam.update_function_code(FunctionName="sa-fn", ZipFile=zip_bytes())
    lam.get_policy(FunctionName="sa-fn")
    lam.remove_permission(FunctionName="sa-fn", StatementId="events")
    boto_session.client("ssm").put_parameter(Name="/sa/x", Value="1", Type="String")
    boto_session.client("sts").get_caller_identity()
    boto_session.client("events").list_rules()

    expected_writes = [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "logs:CreateLogGroup",
        "logs:PutRetentionPolicy",
        "sns:CreateTopic",
        "sns:Subscribe",
        "lambda:CreateFunction",
        "events:PutRule",
        "events:PutTargets",
        "lambda:AddPermission",
        "lambda:UpdateFunctionConfiguration",
        "lambda:UpdateFunctionCode",
        "lambda:RemovePermission",
        "ssm:PutParameter",
    ]
    reads = [
        "lambda:GetFunction",
        "lambda:GetFunctionConfiguration",
        "lambda:GetPolicy",
        "sts:GetCallerIdentity",
        "events:ListRules",
    ]
    assert [c.key for c in aws_proxy.writes()] == expected_writes
    assert sorted(aws_proxy.operations()) == sorted(expected_writes + reads)
    assert all(c.status in (200, 201, 204) and c.fault is None for c in aws_proxy.calls)
    assert aws_proxy.count("lambda") == 8
    assert aws_proxy.count(operation="CreateRole") == 1
    aws_proxy.reset_calls()
    assert aws_proxy.calls == []


ERROR_CASES: list[tuple[str, Error, Callable[[EndpointSession], Any]]] = [
    (
        "iam",
        throttling("iam"),
        lambda s: s.client("iam", config=retries(1)).create_role(
            RoleName="x", AssumeRolePolicyDocument=TRUST
        ),
    ),
    ("sts", throttling("sts"), lambda s: s.client("sts", config=retries(1)).get_caller_identity()),
    ("sns", throttling("sns"), lambda s: s.client("sns", config=retries(1)).create_topic(Name="x")),
    (
        "logs",
        throttling("logs"),
        lambda s: s.client("logs", config=retries(1)).create_log_group(logGroupName="x"),
    ),
    (
        "events",
        throttling("events"),
        lambda s: s.client("events", config=retries(1)).put_rule(
            Name="x", ScheduleExpression="rate(1 day)"
        ),
    ),
    (
        "ssm",
        Error(400, "ParameterNotFound", "Parameter /x not found."),
        lambda s: s.client("ssm", config=retries(1)).get_parameter(Name="/x"),
    ),
    (
        "lambda",
        throttling("lambda"),
        lambda s: s.client("lambda", config=retries(1)).list_functions(),
    ),
    (
        "lambda",
        role_not_assumable(),
        lambda s: s.client("lambda", config=retries(1)).get_function(FunctionName="x"),
    ),
    (
        "lambda",
        update_in_progress("arn:aws:lambda:us-east-1:123456789012:function:x"),
        lambda s: s.client("lambda", config=retries(1)).update_function_configuration(
            FunctionName="x", Timeout=5
        ),
    ),
]


@pytest.mark.server
@pytest.mark.parametrize(("service", "error", "call"), ERROR_CASES)
def test_injected_error_surfaces_as_the_real_client_error(
    aws_proxy: AwsProxy,
    boto_session: EndpointSession,
    inventory_now: Callable[[], dict[str, Any]],
    service: str,
    error: Error,
    call: Callable[[EndpointSession], Any],
) -> None:
    aws_proxy.inject(error, service=service)
    with pytest.raises(ClientError) as raised:
        call(boto_session)
    response = raised.value.response
    assert response["Error"]["Code"] == error.code
    assert response["Error"]["Message"] == error.message
    assert response["ResponseMetadata"]["HTTPStatusCode"] == error.status
    [recorded] = aws_proxy.calls
    assert (recorded.service, recorded.status, recorded.fault) == (
        service,
        error.status,
        error.name,
    )
    assert is_empty(inventory_now())  # answered without reaching moto


@pytest.mark.server
def test_throttling_is_retried_by_botocore(
    aws_proxy: AwsProxy, boto_session: EndpointSession, fast_retries: None
) -> None:
    aws_proxy.inject(throttling("lambda"), "lambda", "ListFunctions", times=2)
    result = boto_session.client("lambda", config=retries(3)).list_functions()
    assert result["ResponseMetadata"]["RetryAttempts"] == 2
    assert [c.status for c in aws_proxy.calls] == [429, 429, 200]


@pytest.mark.server
def test_drop_is_retried_and_the_retry_succeeds(
    aws_proxy: AwsProxy, boto_session: EndpointSession, inventory_now: Callable[[], Any]
) -> None:
    aws_proxy.inject(Drop(), "iam", "CreateRole")
    iam = boto_session.client("iam", config=retries(3))
    assert iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)["Role"]["RoleName"]
    assert [(c.status, c.fault) for c in aws_proxy.calls] == [(None, "Drop"), (200, None)]
    assert [r["name"] for r in inventory_now()["roles"]] == ["r"]


@pytest.mark.server
def test_drop_without_retries_raises_connection_closed(
    aws_proxy: AwsProxy, boto_session: EndpointSession, inventory_now: Callable[[], Any]
) -> None:
    aws_proxy.inject(Drop(), "sns", "CreateTopic")
    with pytest.raises(ConnectionClosedError):
        boto_session.client("sns", config=retries(1)).create_topic(Name="t")
    assert inventory_now()["topics"] == []


@pytest.mark.server
def test_lost_response_is_applied_and_the_retry_meets_already_exists(
    aws_proxy: AwsProxy, boto_session: EndpointSession, inventory_now: Callable[[], Any]
) -> None:
    aws_proxy.inject(LoseResponse(), "iam", "CreateRole")
    iam = boto_session.client("iam", config=retries(3))
    with pytest.raises(ClientError) as raised:
        iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    assert raised.value.response["Error"]["Code"] == "EntityAlreadyExists"
    assert [(c.status, c.fault) for c in aws_proxy.calls] == [(None, "LoseResponse"), (409, None)]
    assert [r["name"] for r in inventory_now()["roles"]] == ["r"]


@pytest.mark.server
def test_skip_times_and_writes_only(aws_proxy: AwsProxy, boto_session: EndpointSession) -> None:
    logs = boto_session.client("logs", config=retries(1))
    rule = aws_proxy.inject(throttling("logs"), "logs", times=2, skip=1, writes_only=True)
    outcomes = []
    for i in range(4):
        logs.describe_log_groups()  # reads never match a writes_only rule
        try:
            logs.create_log_group(logGroupName=f"g{i}")
            outcomes.append("ok")
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])
    assert outcomes == ["ok", "ThrottlingException", "ThrottlingException", "ok"]
    assert (rule.seen, rule.applied) == (4, 2)
    assert aws_proxy.count("logs", "CreateLogGroup") == 4


@pytest.mark.server
def test_fail_all_after_writes_simulates_an_outage(
    aws_proxy: AwsProxy, boto_session: EndpointSession, inventory_now: Callable[[], Any]
) -> None:
    iam = boto_session.client("iam", config=retries(1))
    aws_proxy.fail_all_after_writes(2)
    iam.get_account_summary()
    make_role(iam, "one")
    make_role(iam, "two")
    for call in (lambda: make_role(iam, "three"), iam.list_roles):
        with pytest.raises(ConnectionClosedError):
            call()
    assert [c.fault for c in aws_proxy.calls] == [None, None, None, "Outage", "Outage"]
    aws_proxy.clear_faults()
    assert sorted(r["RoleName"] for r in iam.list_roles()["Roles"]) == ["one", "two"]
    assert [r["name"] for r in inventory_now()["roles"]] == ["one", "two"]


# ---- inventory --------------------------------------------------------------------------------


@pytest.mark.server
def test_inventory_lists_everything_then_is_empty_after_reset(
    moto_server: str, boto_session: EndpointSession, aws_proxy: AwsProxy
) -> None:
    made = build_stack(boto_session)
    boto_session.client("ssm").put_parameter(Name="/sa/key", Value="v", Type="SecureString")
    aws_proxy.reset_calls()
    inv = inventory(moto_server)
    assert aws_proxy.calls == []  # the inventory read moto directly
    assert json.loads(json.dumps(inv)) == inv

    [role] = inv["roles"]
    assert role["tags"] == {"app": "stock-alert"}
    assert role["inline_policies"] == {"logs": json.loads(LOGS_POLICY)}
    assert role["trust_policy"] == json.loads(TRUST)
    assert inv["log_groups"][0]["retention_days"] == 14
    assert inv["log_groups"][0]["tags"] == {"app": "stock-alert"}
    assert inv["topics"][0]["tags"] == {"app": "stock-alert"}
    [sub] = inv["subscriptions"]
    assert (sub["topic_arn"], sub["protocol"], sub["endpoint"]) == (
        made["topic"],
        "email",
        "me@example.com",
    )
    [fn] = inv["functions"]
    assert (fn["role"], fn["runtime"], fn["memory"], fn["timeout"]) == (
        made["role"],
        "python3.12",
        128,
        30,
    )
    assert fn["environment"] == {"SYMBOLS": "AAPL"} and fn["tags"] == {"app": "stock-alert"}
    assert fn["code_sha256"] and [s["Sid"] for s in fn["policy_statements"]] == ["events"]
    [rule] = inv["rules"]
    assert (rule["schedule"], rule["state"], rule["tags"]) == (
        "rate(5 minutes)",
        "ENABLED",
        {"app": "stock-alert"},
    )
    assert rule["targets"] == [{"Id": "fn", "Arn": made["function"]}]
    assert inv["ssm_parameters"] == ["/sa/key"]
    assert set(leftovers(inv)) == {
        "roles",
        "log_groups",
        "topics",
        "subscriptions",
        "functions",
        "rules",
    }
    assert not is_empty(inv)
    with pytest.raises(AssertionError, match="sa-role"):
        assert_empty(inv)

    reset_moto(moto_server)
    assert is_empty(inventory(moto_server))


@pytest.mark.server
def test_leftovers_name_what_remains(
    boto_session: EndpointSession, inventory_now: Callable[[], Any]
) -> None:
    make_role(boto_session.client("iam"), "other-app-role")
    boto_session.client("logs").create_log_group(logGroupName="/aws/lambda/sa-fn")
    inv = inventory_now()
    assert leftovers(inv) == {"roles": ["other-app-role"], "log_groups": ["/aws/lambda/sa-fn"]}
    assert leftovers(inv, name_contains="sa-") == {"log_groups": ["/aws/lambda/sa-fn"]}
    assert is_empty(inv, name_contains="stock-alert")


# ---- moto behaviours the harness and the CLI rely on ---------------------------------------------


@pytest.mark.server
def test_moto_facts(boto_session: EndpointSession) -> None:
    iam, logs, sns = (boto_session.client(s) for s in ("iam", "logs", "sns"))
    make_role(iam, "r")
    assert iam.get_role(RoleName="r")["Role"]["Tags"] == [{"Key": "app", "Value": "stock-alert"}]
    logs.create_log_group(logGroupName="g", tags={"k": "v"})
    group = logs.describe_log_groups()["logGroups"][0]
    assert logs.list_tags_for_resource(resourceArn=group["logGroupArn"])["tags"] == {"k": "v"}
    # With the ":*" suffix moto silently answers no tags.
    assert logs.list_tags_for_resource(resourceArn=group["arn"])["tags"] == {}
    topic = sns.create_topic(Name="t")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="me@example.com")
    assert sub["SubscriptionArn"].startswith(topic + ":")  # AWS: "pending confirmation"
    sns.delete_topic(TopicArn=topic)
    assert sns.list_subscriptions()["Subscriptions"] == []  # removed with the topic


# ---- environment and CLI helpers ---------------------------------------------------------------


@pytest.mark.server
def test_aws_env_sends_a_subprocess_through_the_proxy(
    aws_proxy: AwsProxy, aws_env: dict[str, str], tmp_path: Path
) -> None:
    assert aws_env["AWS_ENDPOINT_URL"] == aws_proxy.url
    assert "AWS_PROFILE" not in aws_env and aws_env["AWS_REGION"] == "us-east-1"
    code = "import boto3; print(boto3.client('sts').get_caller_identity()['Account'])"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=aws_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "123456789012"
    assert aws_proxy.operations() == ["sts:GetCallerIdentity"]


def test_cli_environment_drops_real_aws_settings() -> None:
    base = {
        "PATH": "/bin",
        "AWS_PROFILE": "prod",
        "AWS_ACCESS_KEY_ID": "AKIAREAL",
        "HTTPS_PROXY": "x",
    }
    env = cli_environment("http://127.0.0.1:1", base)
    assert env["PATH"] == "/bin" and env["AWS_ACCESS_KEY_ID"] == "testing"
    assert "AWS_PROFILE" not in env and "HTTPS_PROXY" not in env


def test_cli_path_is_the_venv_console_script() -> None:
    assert cli_path() == Path(sys.executable).parent / "stock-alert"


# ---- in-process faults under mock_aws ------------------------------------------------------------


@pytest.fixture
def mocked() -> Any:
    with mock_aws():
        yield


def test_in_process_throttling_is_retried(mocked: None, fast_retries: None) -> None:
    iam = boto3.client("iam", region_name="us-east-1", config=retries(3))
    with inject_faults(iam) as faults:
        faults.inject(throttling("iam"), operation="CreateRole", times=2)
        created = iam.create_role(RoleName="r", AssumeRolePolicyDocument=TRUST)
    assert created["ResponseMetadata"]["RetryAttempts"] == 2
    assert faults.count(operation="CreateRole") == 3
    assert [c.status for c in faults.calls] == [400, 400, 200]
    assert iam.get_role(RoleName="r")["Role"]["RoleName"] == "r"  # detached again


def test_in_process_error_is_the_real_client_error_and_not_applied(mocked: None) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    role_arn = make_role(iam)
    lam = boto3.client("lambda", region_name="us-east-1", config=retries(1))
    with inject_faults() as faults:  # global: also catches clients made inside
        faults.inject(role_not_assumable(), service="lambda", operation="CreateFunction")
        with pytest.raises(ClientError) as raised:
            make_function(lam, role_arn)
        logs = boto3.client("logs", region_name="us-east-1", config=retries(1))
        faults.inject(throttling("logs"))
        with pytest.raises(ClientError, match="ThrottlingException"):
            logs.create_log_group(logGroupName="g")
    error = raised.value.response["Error"]
    assert error == {
        "Code": "InvalidParameterValueException",
        "Message": "The role defined for the function cannot be assumed by Lambda.",
    }
    assert lam.list_functions()["Functions"] == []
    assert faults.operations() == ["lambda:CreateFunction", "logs:CreateLogGroup"]


@pytest.mark.parametrize(("path", "body", "named"), [
    ("/2015-03-31/functions", b'{"FunctionName": "sa-fn", "Code": {}}', "sa-fn"),
    ("/2015-03-31/functions", b'{"FunctionName": "arn:aws:lambda:us-east-1:123456789012:'
                              b'function:sa-fn"}', "sa-fn"),
    ("/2015-03-31/functions/sa-fn_notify", b"", "sa-fn_notify"),
    (f"/2015-03-31/functions/{ARN}/configuration", b"", "sa-fn"),
    ("https://lambda.us-east-1.amazonaws.com/2019-09-25/functions/sa-fn/event-invoke-config",
     b"", "sa-fn"),
    (f"/2017-03-31/tags/{ARN}", b'{"Tags": {}}', "sa-fn"),
    ("/2015-03-31/functions/", b"", None),
    ("/2015-03-31/functions", b"not json", None),
])
def test_the_function_a_lambda_request_names(path: str, body: bytes, named: str | None) -> None:
    """CreateFunction names its function in the body only; every other call in the path."""
    assert function_named("lambda", path, body) == named
    assert function_named("iam", path, body) is None


def test_a_rule_can_fault_only_the_calls_naming_one_function(mocked: None) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    role_arn = make_role(iam)
    lam = boto3.client("lambda", region_name="us-east-1", config=retries(1))
    with inject_faults(lam) as faults:
        faults.inject(role_not_assumable(), "lambda", "CreateFunction", function="b",
                      times=None)
        make_function(lam, role_arn, name="a")
        with pytest.raises(ClientError, match="cannot be assumed"):
            make_function(lam, role_arn, name="b")
        lam.delete_function(FunctionName="a")
    assert [(c.operation, c.function, c.fault is not None) for c in faults.calls] == [
        ("CreateFunction", "a", False), ("CreateFunction", "b", True),
        ("DeleteFunction", "a", False)]
    assert faults.count("lambda", "CreateFunction", function="b") == 1
    assert faults.by_function(writes_only=True) == {"a": ["CreateFunction", "DeleteFunction"],
                                                    "b": ["CreateFunction"]}


def test_in_process_lost_response_and_drop(mocked: None) -> None:
    session = boto3.Session(region_name="us-east-1")
    with inject_faults(session) as faults:
        iam = session.client("iam", config=retries(3))
        faults.inject(LoseResponse(), operation="CreateRole")
        with pytest.raises(ClientError) as raised:
            iam.create_role(RoleName="lost", AssumeRolePolicyDocument=TRUST)
        faults.inject(Drop(), operation="CreateRole", times=3)
        with pytest.raises(ConnectionClosedError):
            iam.create_role(RoleName="dropped", AssumeRolePolicyDocument=TRUST)
    assert raised.value.response["Error"]["Code"] == "EntityAlreadyExists"
    roles = boto3.client("iam", region_name="us-east-1").list_roles()["Roles"]
    assert [r["RoleName"] for r in roles] == ["lost"]
    assert [c.fault for c in faults.calls] == ["LoseResponse", None, "Drop", "Drop", "Drop"]
