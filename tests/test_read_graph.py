"""The reads on a dependency graph (issue 22): STS is asked alongside every read that needs no
account, a kind's independent reads go at once, and a failure still stops what waits for it.
In-process moto; the order of calls is seen with botocore hooks."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import UnknownServiceError
from moto import mock_aws

from provision.aws.client import Aws
from provision.core import pipelines
from provision.core.plan import Mode
from provision.core.stack import ACCOUNT_UNKNOWN
from provision.errors import AwsError
from provision.kinds import KINDS
from provision.kinds.contract import AnyKind
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import Error, inject_faults
from tests.support.inprocess import target

REGION = "us-east-1"
WAIT_S = 10.0  # only a broken graph waits this long: the awaited call never comes
KEYED = MINIMAL.replace("notify:\n", "notify:\n  kms_key: arn:aws:kms:us-east-1:123456789012:"
                        "key/1234abcd-12ab-34cd-56ef-1234567890ab\n")


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


MARKET_TIME = 'schedule: {at: "16:30", timezone: America/New_York}\n'


def _network(folder: Path, market_time: bool = False) -> Path:
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.1.{i}.0/24",
                                 AvailabilityZone=f"{REGION}{'ab'[i]}")["Subnet"]["SubnetId"]
               for i in range(2)]
    return write_config(folder, KEYED + f"network:\n  subnet_ids: [{', '.join(subnets)}]\n"
                        + (MARKET_TIME if market_time else ""))


class Calls:
    """Every call's service, operation and parameters, in the order they were made."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, event_name: str, params: Any = None, **_: Any) -> None:
        self.seen.append(f"{event_name.removeprefix('before-parameter-build.')} "
                         f"{json.dumps(params, sort_keys=True, default=str)}")


def _read_twice(kind: AnyKind, config: Path, mode: Mode) -> list[tuple[list[str], Any]]:
    """(calls, observed) of the kind's read (or locate) with the account known, then not;
    each on its own Aws, its hook registered before any client exists."""
    out = []
    for known in (True, False):
        prepared, _ = target(config)
        calls = Calls()
        prepared.aws.events.register("before-parameter-build", calls)
        stack = pipelines.connect(prepared, with_code=True)
        if not known:
            stack = dataclasses.replace(stack, account=ACCOUNT_UNKNOWN)
        stack = stack.teardown() if mode.teardown else stack
        del calls.seen[:]  # connect's identity call
        read = kind.locate if mode.teardown else kind.read
        out.append((calls.seen, read(prepared.aws, kind.wanted(stack))))
    return out


@pytest.mark.parametrize("mode", [Mode.UP, Mode.DOWN], ids=["read", "locate"])
@pytest.mark.parametrize("kind", [k for k in KINDS if not k.needs_account], ids=lambda k: k.name)
def test_a_kind_that_needs_no_account_reads_the_same_without_it(
        aws: None, tmp_path: Path, kind: AnyKind, mode: Mode) -> None:
    """Kind.needs_account False lets the engine read before STS answers, with a stack whose
    account is unknown: the calls and what they observe must be exactly the same. Checked on
    a whole stack (network and alarm included; the market-time schedule for the kinds that
    exist only with it, issue 23) and on nothing at all."""
    config = _network(tmp_path, market_time=kind.name in {"scheduler-role", "market-schedule"})
    absent = _read_twice(kind, config, mode)
    pipelines.up(target(config)[0])
    present = _read_twice(kind, config, mode)
    for (calls, observed), (calls_unknown, observed_unknown) in (absent, present):
        assert calls and sorted(calls_unknown) == sorted(calls)  # concurrent: any order
        assert observed_unknown == observed
    assert present[0][1] is not None, "the stack was made, so the kind found its resource"


def test_sts_is_asked_while_the_reads_that_need_no_account_are_under_way(
        aws: None, tmp_path: Path) -> None:
    """GetCallerIdentity is held until the role's GetRole has been sent: with the reads
    waiting for STS first, GetRole never comes and the identity call times out."""
    prepared, _ = target(write_config(tmp_path, MINIMAL))
    role_read, order = threading.Event(), []

    def hold_identity(**_: Any) -> None:
        order.append(("sts held", role_read.wait(WAIT_S)))

    def note(event_name: str, **_: Any) -> None:
        order.append((event_name, True))
        if event_name == "before-call.iam.GetRole":
            role_read.set()

    prepared.aws.events.register("before-call.sts.GetCallerIdentity", hold_identity)
    prepared.aws.events.register("before-call", note)
    prepared.aws.events.register("after-call", note)
    pipelines.plan(prepared)
    assert ("sts held", True) in order
    # the topic's reads take its ARN, which holds the account: they wait for STS's answer
    identity = order.index(("after-call.sts.GetCallerIdentity", True))
    topic = order.index(("before-call.sns.GetTopicAttributes", True))
    assert identity < topic


@pytest.mark.parametrize(("market_time", "service", "together"), [
    (False, "iam", ("GetRole", "ListRolePolicies", "ListAttachedRolePolicies")),
    (True, "scheduler", ("GetScheduleGroup", "GetSchedule"))], ids=["role", "market-schedule"])
def test_a_kinds_independent_reads_go_at_once(
        aws: None, tmp_path: Path, market_time: bool, service: str,
        together: tuple[str, ...]) -> None:
    """A kind's reads that need nothing from each other are all sent before any of them is
    answered: each is held until the others have been sent. The role's three; the market-time
    schedule's group and schedule (by name; only the group's tags wait for its ARN), which
    were one after the other on the unchanged up's longest chain."""
    config = write_config(tmp_path, MINIMAL + (MARKET_TIME if market_time else ""))
    pipelines.up(target(config)[0])
    prepared, log = target(config)
    sent = {name: threading.Event() for name in together}
    waited: dict[str, bool] = {}

    def hold(event_name: str, **_: Any) -> None:
        name = event_name.rsplit(".", 1)[-1]
        sent[name].set()
        waited[name] = all(event.wait(WAIT_S) for event in sent.values())

    for name in together:
        prepared.aws.events.register(f"before-call.{service}.{name}", hold)
    the_plan, _ = pipelines.plan(prepared)
    assert waited == dict.fromkeys(together, True)
    assert not the_plan.has_writes and log.writes() == []


def test_a_failed_identity_is_the_error_and_nothing_that_needs_it_is_read(
        aws: None, tmp_path: Path) -> None:
    prepared, _ = target(write_config(tmp_path, MINIMAL))
    with inject_faults() as faults:
        faults.inject(Error(403, "InvalidClientTokenId", "The security token included in the "
                            "request is invalid."), "sts", "GetCallerIdentity", times=None)
        with pytest.raises(AwsError) as raised:
            pipelines.plan(prepared)
    assert raised.value.code == "InvalidClientTokenId"
    assert faults.count("sns") == 0  # the topic's reads need the account


def test_a_failed_read_is_the_error_though_sts_answers_after_it(
        aws: None, tmp_path: Path) -> None:
    """The role's read is refused while STS is held: once STS has answered, the role's
    error is the one raised (the identity is first in order, but it did not fail)."""
    prepared, _ = target(write_config(tmp_path, MINIMAL))
    refused = threading.Event()

    def hold_identity(**_: Any) -> None:
        refused.wait(WAIT_S)

    prepared.aws.events.register("before-call.sts.GetCallerIdentity", hold_identity)
    prepared.aws.events.register("after-call.iam.GetRole", lambda **_: refused.set())
    with inject_faults() as faults:
        faults.inject(Error(403, "AccessDenied", "not allowed"), "iam", "GetRole", times=None)
        with pytest.raises(AwsError) as raised:
            pipelines.plan(prepared)
    assert raised.value.code == "AccessDenied" and "iam get role" in str(raised.value)
    assert faults.count("sts", "GetCallerIdentity") == 1


def _made(prepared: Any) -> list[str]:
    made: list[str] = []
    prepared.aws.events.register("creating-client-class",
                                 lambda event_name, **_: made.append(event_name.split(".")[-1]))
    return made


@pytest.mark.parametrize(("network", "mode", "ec2"), [
    (False, Mode.UP, False), (True, Mode.UP, True), (False, Mode.DOWN, True)],
    ids=["no-network", "network", "down"])
def test_the_reads_make_the_clients_they_call_and_ec2_only_when_they_call_it(
        aws: None, tmp_path: Path, network: bool, mode: Mode, ec2: bool) -> None:
    """Every kind's clients are made for its reads (cloudwatch included); EC2's, the largest
    (~100 ms, a third of the objects a run holds), only when a read calls it: with network:,
    or for down, which finds security groups by their tags."""
    config = _network(tmp_path) if network else write_config(tmp_path, MINIMAL)
    prepared, _ = target(config)
    made = _made(prepared)
    pipelines.plan(prepared, mode)
    # (botocore names a client class by service id: CloudWatch Logs, EventBridge)
    # (scheduler: the market-time schedule's kind looks for one left from the other form)
    expected = {"sts", "iam", "cloudwatch-logs", "sns", "lambda", "eventbridge", "cloudwatch",
                "scheduler"}
    assert set(made) == expected | ({"ec2"} if ec2 else set())


@pytest.mark.parametrize("down", [False, True], ids=["up", "down"])
def test_what_hangs_on_one_resource_is_written_at_once(
        aws: None, tmp_path: Path, down: bool) -> None:
    """The role's three inline policies (the notifier's invoke grant too, issue 21) are put
    (up) or deleted (down), and the topic's two subscriptions made, each call held until its
    twins have been sent."""
    config = write_config(tmp_path, MINIMAL)
    if down:
        pipelines.up(target(config)[0])
    prepared, _ = target(config)
    twins = ({("iam", "DeleteRolePolicy"): 3} if down
             else {("iam", "PutRolePolicy"): 3, ("sns", "Subscribe"): 2})
    meet = {twin: threading.Barrier(count, timeout=WAIT_S) for twin, count in twins.items()}
    waited: list[bool] = []

    def hold(event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".")
        try:
            meet[(service, operation)].wait()
            waited.append(True)
        except threading.BrokenBarrierError:  # the twin was never sent while this one waited
            waited.append(False)

    for service, operation in twins:
        prepared.aws.events.register(f"before-call.{service}.{operation}", hold)
    if down:
        pipelines.down(prepared, pipelines.plan(prepared, Mode.DOWN)[0])
    else:
        pipelines.up(prepared)
    assert waited == [True] * sum(twins.values())


def test_a_read_waits_for_the_prewarm_to_make_its_client_in_turn(aws: None) -> None:
    """The prewarm makes the clients in the order given (EC2's, the heaviest, last); a read
    that asks for EC2's first does not make it out of turn, holding up the others."""
    made: list[str] = []
    asked = threading.Event()
    place = Aws("us-east-1")

    def note(event_name: str, **_: Any) -> None:
        made.append(f"{event_name.split('.')[-1]} by {threading.current_thread().name}")
        if len(made) == 1:  # the read asks for EC2's while the prewarm makes STS's
            asked.wait(WAIT_S)

    place.events.register("creating-client-class", note)
    place.prewarm(("sts", "iam", "sns", "ec2"))
    got: list[Any] = []
    reader = threading.Thread(target=lambda: (asked.set(), got.append(place.client("ec2"))))
    reader.start()
    reader.join(WAIT_S)
    assert got and got[0] is place.client("ec2")
    assert made == [f"{name} by prewarm-clients" for name in ("sts", "iam", "sns", "ec2")]


@pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_client_the_prewarm_could_not_make_is_not_waited_for_forever(aws: None) -> None:
    """Nor does the prewarm's thread end with a traceback on stderr: the read that needs the
    client makes it again and reports the error itself."""
    place = Aws("us-east-1")
    place.prewarm(("sts", "no-such-service", "iam"))
    failed: list[str] = []

    def ask() -> None:
        try:
            place.client("no-such-service")
        except UnknownServiceError:
            failed.append("made (and failed) it itself")

    asked = threading.Thread(target=ask, daemon=True)
    asked.start()
    asked.join(WAIT_S)
    assert failed == ["made (and failed) it itself"]
    assert place.client("iam") is not None  # the one after it is made on demand
