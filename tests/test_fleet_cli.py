"""Many stacks from one config, end to end: the installed command against a moto server
through the counting proxy. Each stack is isolated, a no-op pass writes nothing, one stack's
failure leaves the others alone and a second run finishes only what is left, and `down`
leaves nothing in any Region."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.support.awsproxy import AwsProxy, Error
from tests.support.cli_helpers import FRESH_UP_WRITES, writes
from tests.support.configs import MINIMAL, write_config
from tests.support.inventory import inventory, is_empty, leftovers

pytestmark = pytest.mark.server


def _doc(done: Any) -> dict[str, Any]:
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


def test_count_up_noop_status_down(cli, aws_proxy: AwsProxy, tmp_path: Path,
                                   inventory_now) -> None:
    write_config(tmp_path, MINIMAL)
    up = _doc(cli("up", "--count", "3", "-o", "json"))
    assert [(s["stack"], s["result"]) for s in up["stacks"]] == [
        ("t1-1", "ok"), ("t1-2", "ok"), ("t1-3", "ok")]
    assert up["exit_code"] == 0 and up["places"][0]["ok"] == 3
    # Each stack is written exactly as one 'up' writes one: nothing shared, nothing extra.
    assert Counter(writes(aws_proxy)) == Counter({k: 3 * n for k, n in
                                                  Counter(FRESH_UP_WRITES).items()})
    # The one botocore session and its clients are shared: one identity call for all.
    assert aws_proxy.count("sts", "GetCallerIdentity") == 1
    # each stack's function and its notifier (issue 21)
    assert sorted(f["name"] for f in inventory_now()["functions"]) == [
        "t1-1", "t1-1_notify", "t1-2", "t1-2_notify", "t1-3", "t1-3_notify"]

    aws_proxy.reset_calls()
    again = _doc(cli("up", "--count", "3", "-o", "json"))
    assert writes(aws_proxy) == []
    assert all(s["summary"].startswith("Nothing to do") for s in again["stacks"])

    status = _doc(cli("status", "--count", "3", "-o", "json"))
    assert {s["summary"] for s in status["stacks"]} == {"7 in sync, 0 drifted, 0 missing."}

    down = cli("down", "--count", "3", "--yes")
    assert down.returncode == 0, down.stderr
    assert "3 stack(s), 0 failed" in down.stdout
    assert is_empty(inventory_now())


def test_participants_get_only_their_own_subscribers(cli, tmp_path: Path,
                                                     inventory_now) -> None:
    write_config(tmp_path, MINIMAL)
    write_config(tmp_path, "id,email,phone\nana,ana@example.com,\nbo,,+15555550102\n",
                 "people.csv")
    done = cli("up", "--participants", "people.csv")
    assert done.returncode == 0, done.stderr
    subs = {(s["topic_arn"].rsplit(":", 1)[1], s["protocol"], s["endpoint"])
            for s in inventory_now()["subscriptions"]}
    assert subs == {("t1-ana-alerts", "email", "ana@example.com"),
                    ("t1-bo-alerts", "sms", "+15555550102")}
    assert cli("down", "--participants", "people.csv", "--yes").returncode == 0
    assert is_empty(inventory_now())


def test_one_failure_does_not_stop_the_others_and_a_rerun_finishes(
        cli, aws_proxy: AwsProxy, tmp_path: Path, inventory_now) -> None:
    write_config(tmp_path, MINIMAL)
    # Lambda's answer to a caller without lambda:CreateFunction: 403 AccessDeniedException
    # (botocore lambda service model, CreateFunction errors; rest-json error header), for
    # the second stack's function and its notifier, which are created at once (issue 22): the
    # notifier's create is denied too if it started before the function's failure stopped
    # the stack, and never sent if not.
    denied = aws_proxy.inject(Error(403, "AccessDeniedException", "not authorized"),
                              "lambda", "CreateFunction", function="t1-2")
    aws_proxy.inject(Error(403, "AccessDeniedException", "not authorized"),
                     "lambda", "CreateFunction", function="t1-2_notify")
    first = cli("up", "--count", "3", "--parallel", "2", "-o", "json")
    assert first.returncode == 1
    doc = _doc(first)
    assert denied.applied == 1 and doc["failed"] == 1 and doc["exit_code"] == 1
    failed = [s for s in doc["stacks"] if s["result"] == "failed"]
    assert len(failed) == 1 and "not authorized" in failed[0]["error"]["message"]
    assert failed[0]["stack"] == "t1-2"
    # the other two went on to the end: each a function and its notifier (issue 21)
    assert sorted(f["name"] for f in inventory_now()["functions"]) == [
        "t1-1", "t1-1_notify", "t1-3", "t1-3_notify"]

    aws_proxy.clear_faults()
    aws_proxy.reset_calls()
    second = _doc(cli("up", "--count", "3", "-o", "json"))
    assert second["failed"] == 0
    applied = {s["stack"]: [a["kind"] for a in s.get("applied", [])] for s in second["stacks"]}
    # the failed stack stopped at its functions: the rerun makes them, then the on-failure
    # destination (issue 21) and the rule, which need them
    assert applied == {failed[0]["stack"]: ["function", "notifier", "on-failure", "schedule"],
                       **{s["stack"]: [] for s in doc["stacks"] if s["result"] == "ok"}}
    assert len(inventory_now()["functions"]) == 6
    assert cli("down", "--count", "3", "--yes").returncode == 0


def test_regions_name_each_regions_stacks_and_down_empties_both(
        cli, moto_server: str, tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL)
    up = _doc(cli("up", "--count", "2", "--regions", "us-east-1,eu-west-1", "-o", "json"))
    assert up["failed"] == 0
    assert {(p["region"], p["ok"]) for p in up["places"]} == {("us-east-1", 2),
                                                               ("eu-west-1", 2)}
    # IAM is global: without the Region in the name both Regions would share (and keep
    # rewriting) one role; with it, four roles, each naming its own Region's log group.
    roles = sorted(r["name"] for r in inventory(moto_server, "us-east-1")["roles"])
    # each stack <name>-<region>; its role's name carries the Region again (Stack.role_name)
    assert roles == ["t1-1-eu-west-1-eu-west-1-role", "t1-1-us-east-1-us-east-1-role",
                     "t1-2-eu-west-1-eu-west-1-role", "t1-2-us-east-1-us-east-1-role"]
    assert sorted(f["name"] for f in inventory(moto_server, "eu-west-1")["functions"]) == [
        "t1-1-eu-west-1", "t1-1-eu-west-1_notify", "t1-2-eu-west-1", "t1-2-eu-west-1_notify"]
    assert cli("up", "--count", "2", "--regions", "us-east-1,eu-west-1").returncode == 0
    down = cli("down", "--count", "2", "--regions", "us-east-1,eu-west-1", "--yes")
    assert down.returncode == 0, down.stderr
    for region in ("us-east-1", "eu-west-1"):
        assert leftovers(inventory(moto_server, region)) == {}


def test_assume_role_reports_per_account_and_one_refusal_fails_only_that_account(
        cli, aws_proxy: AwsProxy, tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL)
    write_config(tmp_path, "arn:aws:iam::111111111111:role/deployer\n"
                 "arn:aws:iam::222222222222:role/deployer\n", "roles.txt")
    # STS AssumeRole refused (query protocol XML error): AccessDenied, 403 (STS API
    # reference, AssumeRole "Errors" and the common AccessDenied error).
    aws_proxy.inject(Error(403, "AccessDenied", "not authorized to perform: sts:AssumeRole"),
                     "sts", "AssumeRole")
    done = cli("up", "--count", "2", "--assume-role-file", "roles.txt", "-o", "json")
    assert done.returncode == 1
    doc = _doc(done)
    by_account = {(p["assumed_role"], p["ok"], p["failed"]) for p in doc["places"]}
    assert len(by_account) == 2
    failed = [s for s in doc["stacks"] if s["result"] == "failed"]
    assert {s["assumed_role"] for s in failed} == {"arn:aws:iam::111111111111:role/deployer"}
    assert len(failed) == 2 and "sts:AssumeRole" in failed[0]["error"]["message"]
    ok = [s for s in doc["stacks"] if s["result"] == "ok"]
    assert {s["account"] for s in ok} == {"222222222222"}

    again = _doc(cli("up", "--count", "2", "--assume-role-file", "roles.txt", "-o", "json"))
    assert {(s["account"], s["result"]) for s in again["stacks"]} == {
        ("111111111111", "ok"), ("222222222222", "ok")}
    assert cli("down", "--count", "2", "--assume-role-file", "roles.txt", "--yes"
               ).returncode == 0
    after = _doc(cli("status", "--count", "2", "--assume-role-file", "roles.txt", "-o",
                     "json"))
    assert {s["summary"] for s in after["stacks"]} == {"0 in sync, 0 drifted, 7 missing."}
