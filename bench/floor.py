"""The floor for an unchanged `stock-alert up`: the same reads, with bare botocore, concurrently.

A process that starts Python, imports botocore (not boto3), creates the seven clients and makes
the reads an unchanged `up` needs (bench/compare.py counts both: the example config, whose
alarm is absent without a customer KMS key; the on-failure destination's
GetFunctionEventInvokeConfig and the notifier's GetFunction since issue 21; the market-time
schedule's group, tags and schedule, the scheduler's role, and the rule looked for and absent
since issue 23), each resource kind's
reads in order (a later read needs an earlier answer or the account id) and the kinds in
parallel. Nothing is parsed or diffed, so no real `up` can be faster than this.
Usage: python bench/floor.py STACK_NAME (region and endpoint from the AWS_* environment).
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

SERVICES = ("sts", "iam", "logs", "sns", "lambda", "events", "cloudwatch", "scheduler")


def make_clients() -> dict[str, Any]:
    session = botocore.session.Session()
    region = os.environ.get("AWS_REGION", "us-east-1")
    config = Config(retries={"mode": "standard"})
    return {s: session.create_client(s, region_name=region, config=config) for s in SERVICES}


def read_role(c: dict[str, Any], name: str, suffix: str = "role") -> None:
    # IAM is global: stock-alert's role name carries the Region (Stack.role_name)
    iam, role = c["iam"], f"{name}-{c['iam'].meta.region_name}-{suffix}"
    try:
        iam.get_role(RoleName=role)
    except ClientError:  # the scheduler's role, with a cron/rate config
        return
    for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        iam.get_role_policy(RoleName=role, PolicyName=policy)
    iam.list_attached_role_policies(RoleName=role)


def read_log_group(c: dict[str, Any], name: str, account: Future[str]) -> None:
    group = f"/aws/lambda/{name}"
    c["logs"].describe_log_groups(logGroupNamePrefix=group)
    arn = f"arn:aws:logs:{c['logs'].meta.region_name}:{account.result()}:log-group:{group}"
    c["logs"].list_tags_for_resource(resourceArn=arn)


def read_topic(c: dict[str, Any], name: str, account: Future[str]) -> None:
    sns = c["sns"]
    arn = f"arn:aws:sns:{sns.meta.region_name}:{account.result()}:{name}-alerts"
    sns.get_topic_attributes(TopicArn=arn)
    sns.list_tags_for_resource(ResourceArn=arn)
    sns.list_subscriptions_by_topic(TopicArn=arn)


def read_function(c: dict[str, Any], name: str) -> None:
    c["lambda"].get_function(FunctionName=name)


def read_schedule(c: dict[str, Any], name: str) -> None:
    try:
        rule = c["events"].describe_rule(Name=f"{name}-schedule")
    except ClientError:  # the market-time form: no rule (looked for, as up does)
        return
    c["lambda"].get_policy(FunctionName=name)
    c["events"].list_tags_for_resource(ResourceARN=rule["Arn"])
    c["events"].list_targets_by_rule(Rule=f"{name}-schedule")


def read_on_failure(c: dict[str, Any], name: str) -> None:
    c["lambda"].get_function_event_invoke_config(FunctionName=name)


def read_market_schedule(c: dict[str, Any], name: str) -> None:
    try:
        group = c["scheduler"].get_schedule_group(Name=name)
    except ClientError:  # a cron/rate config: no group
        return
    c["scheduler"].list_tags_for_resource(ResourceArn=group["Arn"])
    c["scheduler"].get_schedule(Name=f"{name}-schedule", GroupName=name)


def read_alarm(c: dict[str, Any], name: str) -> None:
    found = c["cloudwatch"].describe_alarms(AlarmNames=[f"{name}-errors"])["MetricAlarms"]
    for alarm in found:
        c["cloudwatch"].list_tags_for_resource(ResourceARN=alarm["AlarmArn"])


def main(name: str) -> None:
    clients = make_clients()
    with ThreadPoolExecutor(max_workers=8) as pool:
        account = pool.submit(lambda: clients["sts"].get_caller_identity()["Account"])
        jobs = [pool.submit(read_role, clients, name),
                pool.submit(read_role, clients, name, "scheduler"),
                pool.submit(read_function, clients, f"{name}_notify"),
                pool.submit(read_market_schedule, clients, name),
                pool.submit(read_log_group, clients, name, account),
                pool.submit(read_topic, clients, name, account),
                pool.submit(read_function, clients, name),
                pool.submit(read_schedule, clients, name),
                pool.submit(read_alarm, clients, name),
                pool.submit(read_on_failure, clients, name)]
        for job in jobs:
            job.result(timeout=60)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "stock-alert")
