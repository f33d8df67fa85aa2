"""Stacks that share a name never touch each other's resources (issue 19): the same config in
two Regions (IAM is global: the role's name and tags carry the Region), a fleet and a stack it
did not make (the fleet tag), and two accounts in one fleet run (what a read learns stays on
that account's `Aws`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from provision.aws.client import Aws
from provision.cli import app
from provision.config.model import load_config
from provision.config.participants import stack_configs
from provision.core import package, pipelines
from provision.core.plan import Mode, Op
from provision.core.target import Target
from provision.features import fleet
from tests.support.configs import write_config
from tests.support.inprocess import target

runner = CliRunner()


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def _config(folder: Path, name: str, region: str = "us-east-1", extra: str = "",
            email: str = "you@example.com") -> Path:
    return write_config(folder, f"name: {name}\nregion: {region}\nstocks: [TSLA]\n"
                        f"notify:\n  email: [{email}]\n{extra}", f"{name}-{region}.yaml")


def _whole(path: Path) -> bool:
    """Every resource exists and is in sync: a second up writes nothing."""
    prepared, log = target(path)
    the_plan, _ = pipelines.up(prepared)
    return all(a.op is Op.NOOP for a in the_plan.actions) and log.writes() == []


def _gone(path: Path) -> bool:
    the_plan, _ = pipelines.plan(target(path)[0], Mode.DOWN)
    return not the_plan.has_writes


# one config, two Regions ----------------------------------------------------------------------
def _two_regions(folder: Path) -> tuple[Path, Path]:
    east, west = _config(folder, "t1"), _config(folder, "t1", "eu-west-1")
    pipelines.up(target(east)[0])
    return east, west


def test_a_region_change_plans_a_new_stack_there_not_a_role_update(aws: None,
                                                                   tmp_path: Path) -> None:
    _, west = _two_regions(tmp_path)
    the_plan, _ = pipelines.plan(target(west)[0])
    ops = {a.kind: a.op for a in the_plan.actions}
    assert ops["role"] is Op.CREATE
    # a new stack there: everything it uses is made, nothing of the other Region's is changed
    # (the security group and, without a customer key, the alarm are not used: no-ops)
    assert set(ops.values()) <= {Op.CREATE, Op.NOOP}, ops
    assert all(ops[k] is Op.CREATE for k in ("log-group", "topic", "function", "schedule",
                                             "notifier", "on-failure"))


def test_the_same_config_in_two_regions_gives_two_stacks(aws: None, tmp_path: Path) -> None:
    east, west = _two_regions(tmp_path)
    pipelines.up(target(west)[0])
    iam = boto3.client("iam")
    roles = sorted(r["RoleName"] for r in iam.list_roles()["Roles"])
    assert roles == ["t1-eu-west-1-role", "t1-us-east-1-role"]
    east_logs = iam.get_role_policy(RoleName="t1-us-east-1-role", PolicyName="t1-write-logs")
    assert ":us-east-1:" in json.dumps(east_logs["PolicyDocument"])
    assert _whole(east) and _whole(west)  # neither up rewrote the other's role


def test_down_in_one_region_leaves_the_other_whole(aws: None, tmp_path: Path) -> None:
    east, west = _two_regions(tmp_path)
    pipelines.up(target(west)[0])
    prepared = target(west)[0]
    the_plan, _ = pipelines.plan(prepared, Mode.DOWN)
    pipelines.down(prepared, the_plan)
    assert _gone(west) and _whole(east)


def test_sweep_in_one_region_leaves_the_other_whole(aws: None, tmp_path: Path) -> None:
    east, west = _two_regions(tmp_path)
    pipelines.up(target(west)[0])
    result = runner.invoke(app, ["sweep", "--yes", "--regions", "eu-west-1", "-o", "json"])
    doc = json.loads(result.stdout)
    assert result.exit_code == 0
    assert [(s["stack"], s["result"]) for r in doc["regions"] for s in r["stacks"]] == [
        ("t1", "deleted")]
    assert _gone(west) and _whole(east)


def test_sweep_reads_the_accounts_roles_once_for_all_its_regions(aws: None,
                                                                 tmp_path: Path) -> None:
    """issue 20 item 13: ListRoles (and ListRoleTags per role) once per account."""
    _two_regions(tmp_path)
    calls: list[str] = []
    original = Aws.call

    def counting(self: Aws, service: str, operation: str, **kwargs: Any) -> Any:
        calls.append(f"{service}:{operation}")
        return original(self, service, operation, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Aws, "call", counting)
        result = runner.invoke(app, ["sweep", "--dry-run", "--regions",
                                     "us-east-1,eu-west-1,us-west-2", "-o", "json"])
    assert result.exit_code == 0, result.output
    assert calls.count("iam:list_roles") == 1
    assert calls.count("iam:list_role_tags") == 1  # one role in the account


# a fleet and a stack it did not make --------------------------------------------------------
def _fleet(folder: Path, verb: str, adopt: bool = False) -> dict[str, fleet.Result]:
    base = load_config(_config(folder, "ws"))
    jobs = fleet.jobs_for(stack_configs(base, 2, None), ["us-east-1"], [None], base.name)
    results = fleet.run(verb, jobs, Aws("us-east-1"), package.build(), 1, adopt=adopt)
    return {r.job.config.name: r for r in results}


def _subscribers(name: str) -> list[str]:
    sns = boto3.client("sns", region_name="us-east-1")
    arn = f"arn:aws:sns:us-east-1:123456789012:{name}-alerts"
    return [s["Endpoint"] for s in sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]]


def test_a_fleet_never_adopts_or_deletes_a_stack_it_did_not_make(aws: None,
                                                                 tmp_path: Path) -> None:
    alone = _config(tmp_path, "ws-1", email="owner@example.com")
    pipelines.up(target(alone)[0])
    up = _fleet(tmp_path, "up")
    assert (up["ws-1"].ok, up["ws-2"].ok) == (False, True)
    assert up["ws-1"].error is not None and "not made by this fleet" in up["ws-1"].error.message
    assert _subscribers("ws-1") == ["owner@example.com"]  # not replaced by the fleet's
    down = _fleet(tmp_path, "down")
    assert down["ws-2"].ok and down["ws-1"].applied == []
    assert _whole(alone)


def test_adopt_lets_the_fleet_take_the_stack_over(aws: None, tmp_path: Path) -> None:
    pipelines.up(target(_config(tmp_path, "ws-1", email="owner@example.com"))[0])
    up = _fleet(tmp_path, "up", adopt=True)
    assert up["ws-1"].ok and up["ws-2"].ok
    assert _subscribers("ws-1") == ["you@example.com"]
    down = _fleet(tmp_path, "down")  # adopted: now the fleet's, so its down deletes it
    assert down["ws-1"].ok and down["ws-1"].applied


# two accounts, one fleet run ------------------------------------------------------------------
def _network(aws: Aws, folder: Path, label: str) -> Target:
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.0.0/24",
                               AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    path = write_config(folder, f"name: t1\nregion: us-east-1\nstocks: [TSLA]\n"
                        f"network:\n  subnet_ids: [{subnet}]\n", f"{label}.yaml")
    return Target(load_config(path), aws, package.build())


def _group_ids(aws: Aws) -> list[str]:
    found = aws.client("ec2").describe_security_groups(Filters=[
        {"Name": "group-name", "Values": ["t1-fn-sg"]}])["SecurityGroups"]
    return [g["GroupId"] for g in found]


def test_two_accounts_in_one_fleet_run_keep_their_own_groups(aws: None, tmp_path: Path) -> None:
    places = fleet.Connections(Aws("us-east-1"))
    one = places.get(fleet.Place("us-east-1", "arn:aws:iam::111111111111:role/deployer"))
    two = places.get(fleet.Place("us-east-1", "arn:aws:iam::222222222222:role/deployer"))
    first, second = _network(one, tmp_path, "one"), _network(two, tmp_path, "two")
    for place in (first, second):
        pipelines.up(place)
    one.client("lambda").delete_function(FunctionName="t1")
    # A fleet works on both accounts at once: both are read before either writes.
    plan_one, _ = pipelines.plan(first)
    plan_two, _ = pipelines.plan(second)
    from provision.core.engine import execute

    execute(one, plan_one)
    execute(two, plan_two)
    [mine] = _group_ids(one)
    used = one.client("lambda").get_function(FunctionName="t1")["Configuration"]["VpcConfig"]
    assert used["SecurityGroupIds"] == [mine] and _group_ids(two) != [mine]
