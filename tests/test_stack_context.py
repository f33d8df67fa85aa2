"""One options object for the four stack commands (issue 19), like Sceptre's SceptreContext:
each command builds a StackContext from its flags, and the single-stack and the fleet paths
both take what they need from it. No AWS call: resolving the target makes none."""

from __future__ import annotations

from pathlib import Path

import pytest

from provision.cli.app import Output
from provision.cli.stack_commands import _context
from provision.cli.stack_fleet import Fleet, StackContext
from tests.support.configs import MINIMAL, write_config


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for var, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(var, value)


def test_the_flags_of_a_command_become_one_context(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL)
    context = _context(path, "p", "eu-west-1", Output.json, True, 3, None, 4, None,
                       ["arn:aws:iam::123456789012:role/r"], None, adopt=True)
    assert context == StackContext(path, "p", "eu-west-1", Output.json, True, Fleet(
        count=3, parallel=4, roles=("arn:aws:iam::123456789012:role/r",), adopt=True))
    assert context.fleet.wanted


def test_one_stack_and_a_fleet_resolve_their_target_from_the_context(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL)
    one = StackContext(path, region="eu-west-1")
    target = one.target()
    assert (target.aws.region, target.aws.shared_gates) == ("eu-west-1", False)
    fleet = StackContext(path, region="eu-west-1", fleet=Fleet(count=2))
    assert fleet.target().aws.shared_gates  # a fleet's stacks share one rate limiter
