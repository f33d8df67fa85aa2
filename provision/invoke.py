"""Run the deployed function once: on Lambda (invoke), or on this machine (invoke --local)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from provision import package
from provision.aws import is_loopback
from provision.errors import ConflictError, StockAlertError
from provision.local import function_runner
from provision.pipelines import connect
from provision.resources.function import ObservedFunction, invoke, read_function
from provision.stack import Stack
from provision.target import Target


@dataclass(frozen=True)
class InvokeResult:
    """What one run of the function gave, remote or local, in one shape for output."""

    local: bool
    result: Any  # the function's return value (decoded JSON), or None
    log: list[str]
    failed: bool
    status: int | None = None  # remote: Lambda's StatusCode
    error: str | None = None  # remote: X-Amz-Function-Error
    exit_code: int | None = None  # local: the subprocess's exit code
    stderr: str = ""
    stack: Stack | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"command": "invoke", "local": self.local,
                               "result": self.result, "log": self.log}
        if self.local:
            out.update(exit_code=self.exit_code, stderr=self.stderr)
        else:
            out.update(status=self.status, error=self.error)
        return out


def _deployed(target: Target) -> tuple[Stack, ObservedFunction]:
    stack = connect(target, with_code=False)
    seen = read_function(target.aws, stack.function_name)
    if seen is None:
        raise StockAlertError(f"Function {stack.function_name} is not deployed in "
                              f"{stack.region}.", hint="Run 'stock-alert up' first.")
    if not stack.owns(seen.tags):
        raise ConflictError(f"Function {stack.function_name} exists but is not owned by stack "
                            f"{stack.name}; stock-alert does not run it.",
                            hint="Check the 'name' in your config.")
    return stack, seen


def invoke_remote(target: Target) -> InvokeResult:
    stack, _ = _deployed(target)
    answer = invoke(target.aws, stack.function_name)
    payload = answer["payload"]
    if answer["error"] and "docker" in payload.lower() and is_loopback(
            target.aws.endpoint_url):
        raise StockAlertError(
            "The local emulator cannot run Lambda code: it needs Docker, which is not "
            f"available ({payload[:120]}).",
            hint="Use 'stock-alert invoke --local' to run the function on this machine "
            "against the emulator.")
    try:
        result = json.loads(payload or "null")
    except ValueError:
        result = payload
    return InvokeResult(local=False, result=result, log=answer["log_tail"].splitlines(),
                        failed=bool(answer["error"]), status=answer["status"],
                        error=answer["error"], stack=stack)


def invoke_local(target: Target) -> InvokeResult:
    stack, seen = _deployed(target)
    creds = target.aws.session().get_credentials().get_frozen_credentials()
    aws_env = {"AWS_REGION": stack.region, "AWS_DEFAULT_REGION": stack.region,
               "AWS_ACCESS_KEY_ID": creds.access_key, "AWS_SECRET_ACCESS_KEY": creds.secret_key}
    if creds.token:
        aws_env["AWS_SESSION_TOKEN"] = creds.token
    if target.aws.endpoint_url:
        aws_env["AWS_ENDPOINT_URL"] = target.aws.endpoint_url
    outcome = function_runner.run(package.code_dir(), seen.settings["environment"], aws_env,
                                  stack.function_name, int(seen.settings["timeout_s"] or 30))
    return InvokeResult(local=True, result=outcome.result, log=outcome.log_lines,
                        failed=outcome.result is None, exit_code=outcome.exit_code,
                        stderr=outcome.stderr, stack=stack)
