"""Working with a deployed stack: invoke the function (remotely or locally) and read its logs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from provision import localrun, package
from provision.aws import is_loopback
from provision.commands import Target, connect
from provision.errors import ConflictError, InputError, StockAlertError
from provision.resources import function, log_group
from provision.stack import Stack

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str) -> int:
    """'90s', '30m', '1h', '2d' -> seconds; InputError otherwise."""
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise InputError(f"--since {text!r} is not a duration.",
                         hint="Write a whole number and a unit: 90s, 30m, 1h or 2d.")
    return int(match.group(1)) * _UNIT_S[match.group(2)]


def _deployed(target: Target) -> tuple[Stack, function.ObservedFunction]:
    stack = connect(target, with_code=False)
    seen = function.observe(target.aws, stack)
    if seen is None:
        raise StockAlertError(f"Function {stack.function_name} is not deployed in "
                              f"{stack.region}.", hint="Run 'stock-alert up' first.")
    if not stack.owns(seen.tags):
        raise ConflictError(f"Function {stack.function_name} exists but is not owned by stack "
                            f"{stack.name}; stock-alert does not run it.",
                            hint="Check the 'name' in your config.")
    return stack, seen


def invoke_remote(target: Target) -> dict[str, Any]:
    stack, _ = _deployed(target)
    answer = function.invoke(target.aws, stack)
    if answer["error"] and "docker" in answer["payload"].lower() and is_loopback(
            target.aws.endpoint_url):
        raise StockAlertError(
            "The local emulator cannot run Lambda code: it needs Docker, which is not "
            f"available ({answer['payload'][:120]}).",
            hint="Use 'stock-alert invoke --local' to run the function on this machine "
            "against the emulator.")
    return answer


@dataclass(frozen=True)
class LocalInvoke:
    stack: Stack
    outcome: localrun.LocalResult


def invoke_local(target: Target) -> LocalInvoke:
    stack, seen = _deployed(target)
    creds = target.aws.session().get_credentials().get_frozen_credentials()
    aws_env = {"AWS_REGION": stack.region, "AWS_DEFAULT_REGION": stack.region,
               "AWS_ACCESS_KEY_ID": creds.access_key, "AWS_SECRET_ACCESS_KEY": creds.secret_key}
    if creds.token:
        aws_env["AWS_SESSION_TOKEN"] = creds.token
    if target.aws.endpoint_url:
        aws_env["AWS_ENDPOINT_URL"] = target.aws.endpoint_url
    outcome = localrun.run(package.code_dir(), seen.settings["environment"], aws_env,
                           stack.function_name, int(seen.settings["timeout_s"] or 30))
    return LocalInvoke(stack, outcome)


def open_logs(target: Target) -> Stack:
    """The stack whose log group exists; an error naming the fix otherwise."""
    stack = connect(target, with_code=False)
    if log_group.observe(target.aws, stack) is None:
        raise StockAlertError(f"Log group {stack.log_group_name} does not exist.",
                              hint="Run 'stock-alert up' first.")
    return stack


def read_logs(target: Target, stack: Stack, start_ms: int) -> list[dict[str, Any]]:
    return log_group.events(target.aws, stack, start_ms)
