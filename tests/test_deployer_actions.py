"""`deployer-policy`: every action is needed, proven from ONE recorded lifecycle (issue 18).

tests/test_deployer_policy.py runs the lifecycle as an operator holding the generated policy
and shows it is enough. This module runs that lifecycle once more while recording, per API call,
the IAM action moto asked to authorise and the command it belonged to
(tests/support/action_recorder.py). For each action of the policy it then asserts:
- the lifecycle asks for it, and the first command that does is one the policy's table says
  needs it (without the action, that is the call that fails first: every earlier call was
  authorised by the other actions);
- that single call, replayed alone as an operator holding every action but this one, is
  refused with AccessDenied naming it, and replayed as an operator holding them all, is not.

Actions that moto does not check are the few whose refusal the lifecycle test simulates as
real AWS answers it (iam:PassRole on CreateFunction, tagging on create, the caller's KMS
actions, lambda:ListTags, the SMS sandbox read, scheduler:DeleteSchedule on
DeleteScheduleGroup): those keep a whole lifecycle per action in
tests/test_deployer_policy.py (SIMULATED there).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from provision.features.security import deployer
from provision.kinds.security_group import SecurityGroup
from tests.support.action_recorder import (
    Checked,
    Recorder,
    is_denied,
    recorded_lifecycle,
    replay,
)
from tests.test_deployer_policy import (
    ACTIONS,
    LIFECYCLE,
    MOTO_NAMES,
    SETUP_CALLS,
    SIMULATED,
    _user,
    admin_clients,
    lifecycle,
)

# action -> the commands that need it, for the lifecycle's configs: an action two kinds need on
# their own resources (the function's and the notifier's lambda:GetFunction, issue 21) is
# needed by the commands of both. The security group's are proven by the network lifecycle,
# which makes a group (tests/test_deployer_network.py).
COMMANDS: dict[str, set[str]] = {}
for _need in (n for stack in LIFECYCLE for n in deployer.granted(stack)
              if n not in SecurityGroup.operator):
    COMMANDS.setdefault(_need.action, set()).update(_need.commands)
ALL = set(ACTIONS)  # the generated policy's actions for those configs
CHECKED_BY_MOTO = [a for a in COMMANDS if a not in SIMULATED]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorder]:
    """One lifecycle as the operator with the whole policy, recorded; moto stays active (and
    enforcing) for the replays."""
    with recorded_lifecycle(tmp_path_factory, SETUP_CALLS, ALL, lifecycle) as recorder:
        yield recorder


def _operator(name: str, actions: set[str]) -> dict[str, Any]:
    """A new IAM user holding `actions` (and moto's names for them), made by the admin."""
    return _user(name, sorted(actions | {MOTO_NAMES[a] for a in actions if a in MOTO_NAMES}),
                 admin_clients[-1]("iam"))


@pytest.mark.parametrize("action", CHECKED_BY_MOTO)
def test_every_action_is_needed_by_the_call_that_asks_for_it(
        action: str, recorded: Recorder) -> None:
    first: Checked | None = recorded.first(MOTO_NAMES.get(action, action))
    assert first is not None, f"no call of the lifecycle asked for {action}"
    assert first.command in COMMANDS[action], (action, first.command, COMMANDS[action])
    without = replay(first, _operator(f"without-{action.replace(':', '-')}",
                                      ALL - {action}))
    assert is_denied(without, first.action), (action, first, without)
    granted = replay(first, _operator(f"with-{action.replace(':', '-')}", ALL))
    assert not is_denied(granted, first.action), (action, granted)


def test_the_recording_saw_every_command_of_the_lifecycle(recorded: Recorder) -> None:
    commands = {c.command for c in recorded.checked}
    assert {"status", "up", "logs", "invoke", "down"} <= commands, commands
