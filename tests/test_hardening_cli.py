"""Issue 9 hardening end to end: the installed `stock-alert` over HTTP against the moto server,
every call counted by the proxy, faults injected as AWS sends them on the wire."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from tests.support.awsproxy import AwsProxy, Error
from tests.support.cli_helpers import (
    DOWN_WRITES,
    FRESH_UP_WRITES,
    Cli,
    key_of,
    writes,
    writes_match,
)
from tests.support.configs import MINIMAL, write_config
from tests.support.fixtures import REGION
from tests.support.inventory import Inventory, leftovers

TOPIC = "arn:aws:sns:us-east-1:123456789012:t1-alerts"
# SNS while the new role is not visible to it yet (tests/real_aws/test_topic_policy.py).
PRINCIPAL_NOT_FOUND = Error(400, "InvalidParameter",
                            "Invalid parameter: Policy Error: PrincipalNotFound")


def _client(moto_server: str, service: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=moto_server,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def test_hardened_stack_end_to_end(cli: Cli, aws_proxy: AwsProxy, moto_server: str,
                                   inventory_now: Callable[[], Inventory],
                                   tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL)
    # The new role reaches SNS late: CreateTopic is refused twice, then succeeds.
    aws_proxy.inject(PRINCIPAL_NOT_FOUND, "sns", "CreateTopic", times=2)
    first = cli("up")
    assert first.returncode == 0, first.stderr
    writes_match([key_of(c) for c in aws_proxy.writes() if c.fault is None], FRESH_UP_WRITES)
    assert aws_proxy.count("sns", "CreateTopic") == 3
    # no errors alarm without a customer key (it could not deliver), and no note about one:
    # failed runs reach the subscribers through the on-failure destination (issue 21)
    assert "never delivered" not in first.stdout + first.stderr
    inv = inventory_now()
    [topic] = inv["topics"]
    sids = {s["Sid"] for s in json.loads(topic["attributes"]["Policy"])["Statement"]}
    assert {"StackRolePublishes", "OnlyStackPublishes", "DenyInsecureTransport"} <= sids
    assert inv["alarms"] == []
    on_failure = _client(moto_server, "lambda").get_function_event_invoke_config(
        FunctionName="t1")
    assert on_failure["DestinationConfig"]["OnFailure"]["Destination"] == (
        "arn:aws:lambda:us-east-1:123456789012:function:t1_notify")  # the notifier
    [rule] = inv["rules"]
    fn = _client(moto_server, "lambda").get_function(FunctionName="t1")
    assert fn["Concurrency"] == {"ReservedConcurrentExecutions": 1}
    targets = _client(moto_server, "events").list_targets_by_rule(Rule=rule["name"])["Targets"]
    assert targets[0]["RetryPolicy"] == {"MaximumRetryAttempts": 2,
                                         "MaximumEventAgeInSeconds": 3600}

    # Tampering with the policy, the on-failure destination and the concurrency: 'audit' names
    # the policy and 'up' repairs all three with one write each.
    _client(moto_server, "sns").set_topic_attributes(
        TopicArn=TOPIC, AttributeName="Policy", AttributeValue=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Sid": "open", "Effect": "Allow",
                                                    "Principal": "*", "Action": "sns:*",
                                                    "Resource": TOPIC}]}))
    _client(moto_server, "lambda").delete_function_event_invoke_config(FunctionName="t1")
    _client(moto_server, "lambda").delete_function_concurrency(FunctionName="t1")
    aws_proxy.reset_calls()
    audit = cli("audit", "--output", "json")
    assert audit.returncode == 1 and writes(aws_proxy) == []
    assert {f["rule"] for f in json.loads(audit.stdout)["findings"]} >= {"topic-policy-open"}
    repaired = cli("up")
    assert repaired.returncode == 0, repaired.stderr
    assert sorted(writes(aws_proxy)) == ["lambda:PutFunctionConcurrency",
                                         "lambda:PutFunctionEventInvokeConfig",
                                         "sns:SetTopicAttributes"]
    aws_proxy.reset_calls()
    assert cli("up").returncode == 0 and writes(aws_proxy) == []
    assert cli("audit").returncode == 0

    # down leaves nothing, the on-failure destination included; a second down writes nothing.
    aws_proxy.reset_calls()
    down = cli("down", "--yes")
    assert down.returncode == 0, down.stderr
    writes_match(writes(aws_proxy), DOWN_WRITES, teardown=True)
    assert leftovers(inventory_now()) == {}
    aws_proxy.reset_calls()
    assert cli("down", "--yes").returncode == 0 and writes(aws_proxy) == []
