"""End-to-end: the installed ``stock-alert`` against a moto server, through the counting proxy.

Each test checks behaviour by the API calls the proxy saw and by listing what exists in moto
(read directly, uncounted). Config ``MINIMAL`` is stack ``t1``.
"""

from __future__ import annotations

import json
import os
import pty
import queue
import subprocess
import threading
from collections import Counter
from pathlib import Path

import boto3
import pytest

from provision.config.model import DEFAULT_SCHEDULE
from tests.support.awsproxy import AwsProxy
from tests.support.cli_helpers import (
    ACCOUNT,
    DOWN_WRITES,
    FRESH_UP_WRITES,
    STACK_TAGS,
    by_kind,
    direct,
    one_paragraph,
    reads,
    writes,
    writes_match,
)
from tests.support.configs import MINIMAL, write_config
from tests.support.fixtures import cli_environment, cli_path
from tests.support.inventory import is_empty, leftovers, user_tags

pytestmark = pytest.mark.server

FN_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:t1"
NOTIFIER_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:t1_notify"
RULE_ARN = f"arn:aws:events:us-east-1:{ACCOUNT}:rule/t1-schedule"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:t1-alerts"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/t1-us-east-1-role"
CRON = DEFAULT_SCHEDULE

#: What observing an existing, in-sync stack reads: one call per thing to look at.
STEADY_READS = Counter(
    {
        "sts:GetCallerIdentity": 1,
        # the function's role, and the scheduler's (issue 23: absent with a cron schedule,
        # looked for so that a move back from market time leaves nothing behind)
        "iam:GetRole": 2,
        # each role's policies are listed alongside its GetRole (issue 22), the absent
        # scheduler's role's too (answered not-found, at no extra wait)
        "iam:ListRolePolicies": 2,
        "iam:GetRolePolicy": 3,  # with NAME-invoke-notifier (issue 21)
        "iam:ListAttachedRolePolicies": 2,
        "logs:DescribeLogGroups": 1,
        "logs:ListTagsForResource": 1,
        "sns:GetTopicAttributes": 1,
        "sns:ListTagsForResource": 1,
        "sns:ListSubscriptionsByTopic": 1,
        "lambda:GetFunction": 2,  # the function and its notifier (issue 21)
        "lambda:GetPolicy": 1,
        "events:DescribeRule": 1,
        "events:ListTagsForResource": 1,
        "events:ListTargetsByRule": 1,
        # the errors alarm (issue 9); reserved concurrency comes with GetFunction, no read.
        # Without a customer key there is no alarm, so no tags to read (issue 21)
        "monitoring:DescribeAlarms": 1,
        # the on-failure destination (issue 21)
        "lambda:GetFunctionEventInvokeConfig": 1,
        # the market-time schedule's group (issue 23) and its schedule, asked for at once
        # (issue 22): both not found, at no extra wait; the group's tags are not read
        "scheduler:GetScheduleGroup": 1,
        "scheduler:GetSchedule": 1,
    }
)


def _json(stdout: str) -> dict:
    return json.loads(stdout)


def _actions(doc: dict) -> dict[str, dict]:
    return {a["kind"]: a for a in doc["actions"]}


def _one_item_lists_flattened(value):  # type: ignore[no-untyped-def]
    """IAM reads ``["x"]`` and ``"x"`` alike; compare documents in one spelling."""
    if isinstance(value, dict):
        return {k: _one_item_lists_flattened(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_one_item_lists_flattened(v) for v in value]
        return items[0] if len(items) == 1 and not isinstance(items[0], dict) else items
    return value


def _assert_fresh_stack(inv: dict) -> None:
    """Everything the README promises for stack t1 exists, exactly."""
    (role,) = inv["roles"]
    assert role["name"] == "t1-us-east-1-role"
    assert role["trust_policy"] == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    assert _one_item_lists_flattened(role["inline_policies"]) == _one_item_lists_flattened({
        "t1-write-logs": {
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "WriteOwnLogGroup", "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/t1:*"],
            }],
        },
        "t1-publish-alerts": {
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "PublishOwnTopic", "Effect": "Allow", "Action": ["sns:Publish"],
                "Resource": [TOPIC_ARN],
            }],
        },
        "t1-invoke-notifier": {  # Lambda invokes the on-failure notifier with it (issue 21)
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "InvokeOwnNotifier", "Effect": "Allow",
                "Action": ["lambda:InvokeFunction"], "Resource": [NOTIFIER_ARN],
            }],
        },
    })
    assert role["attached_policies"] == []
    # IAM is global: the role also names the Region whose stack it serves
    assert user_tags(role["tags"]) == {**STACK_TAGS, "stock-alert:region": "us-east-1"}
    assert inv["policies"] == []

    (group,) = inv["log_groups"]
    assert (group["name"], group["retention_days"], user_tags(group["tags"])) == (
        "/aws/lambda/t1",
        14,
        STACK_TAGS,
    )

    (topic,) = inv["topics"]
    assert topic["arn"] == TOPIC_ARN
    assert topic["attributes"]["KmsMasterKeyId"] == "alias/aws/sns"
    assert user_tags(topic["tags"]) == STACK_TAGS
    subs = sorted((s["topic_arn"], s["protocol"], s["endpoint"]) for s in inv["subscriptions"])
    assert subs == [(TOPIC_ARN, "email", "you@example.com"), (TOPIC_ARN, "sms", "+15555550100")]

    (fn, notifier) = inv["functions"]
    assert (notifier["name"], notifier["handler"]) == ("t1_notify", "notifier.handler")
    assert (notifier["runtime"], notifier["role"]) == ("python3.12", ROLE_ARN)
    assert (notifier["memory"], notifier["timeout"]) == (128, 30)
    assert notifier["environment"] == {"STOCK_ALERT_STACK": "t1",
                                       "STOCK_ALERT_TOPIC_ARN": TOPIC_ARN}
    assert user_tags(notifier["tags"]) == STACK_TAGS
    assert notifier["policy_statements"] == []  # only Lambda invokes it, with the role
    assert fn["name"] == "t1"
    assert fn["handler"] == "handler.handler"
    assert fn["runtime"] == "python3.12"
    assert (fn["memory"], fn["timeout"]) == (128, 30)
    assert fn["role"] == ROLE_ARN
    assert fn["environment"]["STOCK_ALERT_TOPIC_ARN"] == TOPIC_ARN
    assert user_tags(fn["tags"]) == STACK_TAGS
    (statement,) = fn["policy_statements"]
    assert statement["Sid"] == "t1-schedule-invoke"
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "lambda:InvokeFunction"
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == RULE_ARN
    assert statement["Condition"]["StringEquals"]["AWS:SourceAccount"] == ACCOUNT

    (rule,) = inv["rules"]
    assert (rule["name"], rule["schedule"], rule["state"]) == ("t1-schedule", CRON, "ENABLED")
    assert user_tags(rule["tags"]) == STACK_TAGS
    assert rule["targets"] == [{"Id": "stock-alert-function", "Arn": FN_ARN}]


def test_lifecycle_up_twice_then_down_twice(
    cli, aws_proxy: AwsProxy, inventory_now, tmp_path: Path
) -> None:
    write_config(tmp_path, MINIMAL)

    # Fresh up: everything, in dependency order, one write per thing to make.
    first = cli("up")
    assert first.returncode == 0, first.stderr
    writes_match(writes(aws_proxy), FRESH_UP_WRITES)
    fresh_reads = sum(reads(aws_proxy).values())
    print(f"fresh up: {len(aws_proxy.calls)} calls ({fresh_reads} reads, "
          f"{len(FRESH_UP_WRITES)} writes)")
    for kind, name in [("role", "t1-us-east-1-role"), ("log-group", "/aws/lambda/t1"),
                       ("topic", "t1-alerts"), ("function", "t1"), ("schedule", "t1-schedule"),
                       ("notifier", "t1_notify"), ("on-failure", "t1")]:
        assert f"│ {kind}" in first.stdout and name in first.stdout
    # issue 21: the notifier and the on-failure destination; no errors alarm without a
    # customer key
    assert "Done: 7 created." in first.stdout
    _assert_fresh_stack(inventory_now())

    # Second up: zero writes, and each thing is read once.
    aws_proxy.reset_calls()
    second = cli("up")
    assert second.returncode == 0, second.stderr
    assert writes(aws_proxy) == []
    print(f"second up: {len(aws_proxy.calls)} calls, all reads: {dict(reads(aws_proxy))}")
    assert reads(aws_proxy) == STEADY_READS
    assert sum(reads(aws_proxy).values()) < 30
    assert "Nothing to do: stack t1 already matches the config." in second.stdout
    assert second.stdout.count("no change") == 7

    # down without --yes and without a terminal: refused before any AWS call.
    aws_proxy.reset_calls()
    refused = subprocess.run(
        [str(cli_path()), "down"], env=cli_environment(aws_proxy.url), cwd=tmp_path,
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, check=False,
    )
    assert refused.returncode == 2
    assert "--yes" in one_paragraph(refused.stderr)
    assert refused.stdout == ""
    assert aws_proxy.calls == []

    # down --yes: everything goes, in reverse order; a second down writes nothing.
    down = cli("down", "--yes")
    assert down.returncode == 0, down.stderr
    writes_match(writes(aws_proxy), DOWN_WRITES, teardown=True)
    print(f"down: {len(aws_proxy.calls)} calls ({len(DOWN_WRITES)} writes)")
    # a teardown deletes the role's inline policies by name: their documents are not read
    assert reads(aws_proxy)["iam:ListRolePolicies"] == 2
    assert reads(aws_proxy)["iam:GetRolePolicy"] == 0
    assert "Removed: 7 deleted." in down.stdout
    remaining = inventory_now()
    assert leftovers(remaining) == {}
    assert is_empty(remaining)

    aws_proxy.reset_calls()
    again = cli("down", "--yes")
    assert again.returncode == 0, again.stderr
    assert writes(aws_proxy) == []
    assert "Nothing to delete" in again.stdout


def test_changes_and_drift_write_only_what_differs(
    cli, aws_proxy: AwsProxy, inventory_now, moto_server: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, MINIMAL)
    first = cli("up", "--output", "json")
    assert first.returncode == 0, first.stderr
    doc = _json(first.stdout)
    assert doc["command"] == "up"
    assert (doc["stack"], doc["region"], doc["account"]) == ("t1", "us-east-1", ACCOUNT)
    assert [(a["kind"], a["op"]) for a in doc["applied"]] == [
        ("role", "create"), ("log-group", "create"), ("topic", "create"),
        ("function", "create"), ("notifier", "create"), ("on-failure", "create"),
        ("schedule", "create"),  # last: no run starts before its failure can be told
    ]
    assert "Done" not in first.stdout  # JSON only on stdout

    # plan after a changed schedule and memory: reads only; names exactly those fields.
    config.write_text(
        MINIMAL.replace("name: t1", 'name: t1\nschedule: "rate(15 minutes)"')
        + "function: {memory_mb: 256}\n"
    )
    aws_proxy.reset_calls()
    planned = cli("plan", "--output", "json")
    assert planned.returncode == 0, planned.stderr
    assert writes(aws_proxy) == []
    actions = _actions(_json(planned.stdout))
    assert {k: a["op"] for k, a in actions.items()} == {
        "role": "no change", "log-group": "no change", "topic": "no change",
        "security-group": "no change",  # issue 12: no network in this config, a no-op
        "function": "update", "schedule": "update", "alarm": "no change",
        "notifier": "no change", "on-failure": "no change",
        # issue 23: a rate schedule, so no market-time schedule nor its role (absent)
        "market-schedule": "no change", "scheduler-role": "no change",
    }
    assert [c["field"] for c in actions["schedule"]["changes"]] == ["schedule"]
    assert actions["schedule"]["changes"][0] == {
        "field": "schedule", "old": CRON, "new": "rate(15 minutes)"
    }
    assert [(c["field"], c["old"], c["new"]) for c in actions["function"]["changes"]] == [
        ("memory_mb", 128, 256)
    ]

    # A changed schedule only: up writes to EventBridge alone, exactly one PutRule and the tag
    # call that records the new config digest.
    config.write_text(MINIMAL.replace("name: t1", 'name: t1\nschedule: "rate(15 minutes)"'))
    aws_proxy.reset_calls()
    changed = cli("up")
    assert changed.returncode == 0, changed.stderr
    assert writes(aws_proxy) == ["events:PutRule", "events:TagResource"]
    (rule,) = inventory_now()["rules"]
    assert (rule["schedule"], rule["state"]) == ("rate(15 minutes)", "ENABLED")
    assert rule["targets"] == [{"Id": "stock-alert-function", "Arn": FN_ARN}]

    # Changed notify lists: subscribe the new ones, unsubscribe the removed one, nothing else.
    config.write_text(
        MINIMAL.replace("name: t1", 'name: t1\nschedule: "rate(15 minutes)"')
        .replace("[you@example.com]", "[you@example.com, ops@example.org]")
        .replace('["+15555550100"]', '["+447700900123"]')
    )
    aws_proxy.reset_calls()
    notified = cli("up")
    assert notified.returncode == 0, notified.stderr
    assert sorted(writes(aws_proxy)) == ["sns:Subscribe", "sns:Subscribe", "sns:TagResource",
                                         "sns:Unsubscribe"]
    subs = sorted((s["protocol"], s["endpoint"]) for s in inventory_now()["subscriptions"])
    assert subs == [("email", "ops@example.org"), ("email", "you@example.com"),
                    ("sms", "+447700900123")]

    # status: in sync everywhere; then change the memory behind the tool's back.
    aws_proxy.reset_calls()
    status = cli("status", "--output", "json")
    assert status.returncode == 0, status.stderr
    assert writes(aws_proxy) == []
    rows = by_kind(_json(status.stdout)["resources"])
    # security-group: no network in this config, so nothing to read and nothing to differ
    assert {k: r["state"] for k, r in rows.items()} == {
        **dict.fromkeys(["role", "log-group", "topic", "function", "schedule", "notifier",
                         "on-failure"], "in sync"),
        "security-group": "not used", "alarm": "not used",  # the alarm: no customer key
        "market-schedule": "not used", "scheduler-role": "not used"}  # issue 23: a rule
    assert rows["security-group"]["exists"] is False
    assert rows["function"]["attributes"]["memory_mb"] == 128
    assert sorted(
        (s["protocol"], s["endpoint"]) for s in rows["topic"]["attributes"]["subscriptions"]
    ) == [("email", "ops@example.org"), ("email", "you@example.com"), ("sms", "+447700900123")]
    assert rows["schedule"]["attributes"]["schedule"] == "rate(15 minutes)"

    direct(moto_server, "lambda").update_function_configuration(FunctionName="t1", MemorySize=256)
    drifted = cli("status", "--output", "json")
    assert drifted.returncode == 0, drifted.stderr
    rows = by_kind(_json(drifted.stdout)["resources"])
    assert rows["function"]["state"] == "drifted"
    assert rows["function"]["drift"] == ["memory_mb"]
    assert rows["function"]["attributes"]["memory_mb"] == 256
    assert [k for k, r in rows.items() if r["state"] not in ("in sync", "not used")] == [
        "function"]
    assert writes(aws_proxy) == []

    repaired = cli("up")  # the drift is put back, with one call
    assert repaired.returncode == 0, repaired.stderr
    assert writes(aws_proxy) == ["lambda:UpdateFunctionConfiguration"]
    assert inventory_now()["functions"][0]["memory"] == 128

    # Deleted by hand: the function and the log group. up re-creates only what is missing
    # (the function's invoke permission went with the function, so it is added again).
    direct(moto_server, "lambda").delete_function(FunctionName="t1")
    direct(moto_server, "logs").delete_log_group(logGroupName="/aws/lambda/t1")
    aws_proxy.reset_calls()
    healed = cli("up")
    assert healed.returncode == 0, healed.stderr
    writes_match(writes(aws_proxy), [
        "logs:CreateLogGroup",
        "logs:PutRetentionPolicy",
        "lambda:CreateFunction",
        "lambda:PutFunctionConcurrency",  # its reservation went with it too (issue 9)
        "lambda:AddPermission",
        "lambda:PutFunctionEventInvokeConfig",  # and its on-failure destination (issue 21)
    ])
    inv = inventory_now()
    (fn, _notifier) = inv["functions"]  # the notifier was left as it was
    assert fn["name"] == "t1"
    assert user_tags(fn["tags"]) == STACK_TAGS and len(fn["policy_statements"]) == 1
    assert [(g["name"], g["retention_days"], user_tags(g["tags"]))
            for g in inv["log_groups"]] == [
        ("/aws/lambda/t1", 14, STACK_TAGS)
    ]


TRUST_FOR_LAMBDA = json.dumps(
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


def test_foreign_role_blocks_up_and_down_leaves_it(
    cli, aws_proxy: AwsProxy, inventory_now, moto_server: str, tmp_path: Path
) -> None:
    write_config(tmp_path, MINIMAL)
    direct(moto_server, "iam").create_role(
        RoleName="t1-us-east-1-role", AssumeRolePolicyDocument=TRUST_FOR_LAMBDA,
        Description="not ours"
    )
    before = inventory_now()

    refused = cli("up")
    assert refused.returncode == 1
    message = one_paragraph(refused.stderr)
    assert "t1-us-east-1-role" in message and "Nothing was changed" in message
    assert writes(aws_proxy) == []
    assert inventory_now() == before  # the role is untouched, nothing else was made

    status = cli("status", "--output", "json")
    assert status.returncode == 0, status.stderr
    assert {r["kind"]: r["state"] for r in _json(status.stdout)["resources"]} == {
        "role": "foreign", "log-group": "missing", "topic": "missing", "function": "missing",
        "schedule": "missing", "notifier": "missing", "on-failure": "missing",
        "alarm": "not used",
        "security-group": "not used",  # issue 12: no network
        "market-schedule": "not used", "scheduler-role": "not used",  # issue 23: a cron rule
    }

    aws_proxy.reset_calls()
    down = cli("down", "--yes")
    assert down.returncode == 0, down.stderr
    assert writes(aws_proxy) == []
    assert "Left alone (not owned by this stack): role t1-us-east-1-role" in down.stdout
    assert inventory_now() == before


def test_resource_of_another_stack_is_a_conflict_and_down_leaves_only_it(
    cli, aws_proxy: AwsProxy, inventory_now, moto_server: str, tmp_path: Path
) -> None:
    write_config(tmp_path, MINIMAL)
    assert cli("up").returncode == 0
    group_arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/t1"
    direct(moto_server, "logs").tag_resource(
        resourceArn=group_arn, tags={"stock-alert:stack": "other"}
    )
    before = inventory_now()

    aws_proxy.reset_calls()
    refused = cli("up", "--output", "json")
    assert refused.returncode == 1
    assert json.loads(refused.stdout)["error"]["kind"] == "conflict"  # one document for scripts
    message = one_paragraph(refused.stderr)
    assert "/aws/lambda/t1" in message and "'other'" in message
    assert writes(aws_proxy) == []
    assert inventory_now() == before

    # down on a terminal asks first; "n" deletes nothing.
    aws_proxy.reset_calls()
    cancelled = _down_on_a_terminal(aws_proxy.url, tmp_path, answer="n")
    assert cancelled.returncode == 0  # a choice, not an error
    assert "Delete stack t1 in us-east-1? [y/N]" in cancelled.stderr
    assert "Cancelled; nothing was deleted." in cancelled.stderr
    assert "error:" not in cancelled.stderr
    assert writes(aws_proxy) == []
    assert inventory_now() == before

    aws_proxy.reset_calls()
    down = cli("down", "--yes")
    assert down.returncode == 0, down.stderr
    writes_match(writes(aws_proxy), [w for w in DOWN_WRITES if w != "logs:DeleteLogGroup"],
                 teardown=True)
    assert "Left alone (not owned by this stack): log-group /aws/lambda/t1" in down.stdout
    assert leftovers(inventory_now()) == {"log_groups": ["/aws/lambda/t1"]}
    (group,) = inventory_now()["log_groups"]
    assert user_tags(group["tags"]) == {"managed-by": "stock-alert", "stock-alert:stack": "other"}


def _down_on_a_terminal(
    proxy_url: str, folder: Path, answer: str
) -> subprocess.CompletedProcess[str]:
    """``stock-alert down`` with a pseudo-terminal as stdin that types ``answer``."""
    controller, terminal = pty.openpty()
    try:
        os.write(controller, f"{answer}\n".encode())
        return subprocess.run(
            [str(cli_path()), "down"], env=cli_environment(proxy_url), cwd=folder,
            stdin=terminal, capture_output=True, text=True, timeout=60, check=False,
        )
    finally:
        os.close(terminal)
        os.close(controller)


def _read_lines(stream, out: queue.Queue) -> None:  # type: ignore[no-untyped-def]
    for line in stream:
        out.put(line)


def test_emulator_prints_a_working_endpoint_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = cli_environment("http://127.0.0.1:9")  # any loopback; the emulator ignores it
    env.pop("AWS_ENDPOINT_URL")
    proc = subprocess.Popen(
        [str(cli_path()), "emulator", "--port", "0"], env=env, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True).start()
    try:
        seen: list[str] = []
        while not any("export AWS_ENDPOINT_URL=" in line for line in seen):
            seen.append(lines.get(timeout=20))
        export = next(line for line in seen if "export AWS_ENDPOINT_URL=" in line)
        url = export.split("AWS_ENDPOINT_URL=", 1)[1].split()[0]
        assert url.startswith("http://127.0.0.1:") and url in seen[0]
        assert "AWS_ACCESS_KEY_ID=testing" in export and "AWS_REGION=us-east-1" in export
        sts = boto3.client(
            "sts", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        assert sts.get_caller_identity()["Account"] == ACCOUNT
        proc.send_signal(2)  # Ctrl-C
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
