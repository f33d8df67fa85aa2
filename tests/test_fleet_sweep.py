"""sweep across accounts: --assume-role runs the sweep in each account (one AssumeRole per
account, one botocore session for all), results per account and Region; a refused AssumeRole
fails that account only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.awsproxy import AwsProxy, Error
from tests.support.configs import MINIMAL, write_config

pytestmark = pytest.mark.server
ROLES = ["arn:aws:iam::111111111111:role/deployer", "arn:aws:iam::222222222222:role/deployer"]


def _roles() -> list[str]:
    return [arg for role in ROLES for arg in ("--assume-role", role)]


def test_sweep_in_two_accounts_reports_each_and_leaves_nothing(
        cli, aws_proxy: AwsProxy, tmp_path: Path) -> None:
    write_config(tmp_path, MINIMAL)
    assert cli("up", "--count", "2", *_roles()).returncode == 0
    aws_proxy.reset_calls()
    # STS AssumeRole refused, as STS answers it (query protocol, 403 AccessDenied; STS API
    # reference, AssumeRole errors): only the first account's sweep fails.
    aws_proxy.inject(Error(403, "AccessDenied", "not authorized to perform: sts:AssumeRole"),
                     "sts", "AssumeRole")
    first = cli("sweep", *_roles(), "--regions", "us-east-1,eu-west-1", "--yes", "-o", "json")
    assert first.returncode == 1
    doc = json.loads(first.stdout)
    assert aws_proxy.count("sts", "AssumeRole") == 2  # once per account, not per Region
    failed = {(r["assumed_role"], r["region"]) for r in doc["regions"] if r["error"]}
    assert failed == {(ROLES[0], "us-east-1"), (ROLES[0], "eu-west-1")}
    swept = [(r["account"], s["stack"], s["result"]) for r in doc["regions"]
             for s in r["stacks"] if r["region"] == "us-east-1"]
    assert sorted(swept) == [("222222222222", "t1-1", "deleted"),
                             ("222222222222", "t1-2", "deleted")]

    second = cli("sweep", *_roles(), "--yes", "-o", "json")
    assert second.returncode == 0, second.stderr
    deleted = sorted((r["account"], s["stack"]) for r in json.loads(second.stdout)["regions"]
                     for s in r["stacks"] if s["result"] == "deleted")
    assert deleted == [("111111111111", "t1-1"), ("111111111111", "t1-2")]
    status = json.loads(cli("status", "--count", "2", *_roles(), "-o", "json").stdout)
    assert {s["summary"] for s in status["stacks"]} == {"0 in sync, 0 drifted, 7 missing."}
