"""Run the deployed function once: on Lambda (invoke), or on this machine (invoke --local)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from provision.aws.endpoint import is_loopback
from provision.core import package
from provision.core.pipelines import connect
from provision.core.stack import Stack
from provision.core.target import Target
from provision.errors import ConflictError, StockAlertError, UncertainOutcome
from provision.kinds.function import Function, ObservedFunction, invoke, read_function
from provision.local import function_runner
from provision.output.diff_text import setting_differences

# function_code/aws.py's error for a refused publish; SNS answers an explicit Deny with 403
# AuthorizationError "... with an explicit deny in a resource-based policy".
PUBLISH_REFUSED = "sns:Publish failed: AuthorizationError"
DOCKER_HINT = ("Use 'stock-alert invoke --local' to run the function on this machine against "
               "the emulator.")


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
    error_message: str | None = None  # the function's own error: "Type: message"
    settings_from: str = "deployed"  # local: "deployed" or "config"
    config_differs: tuple[str, ...] = ()  # local: config keys where config and deployed differ
    deployed: bool = True  # local --from-config may run before the first 'up'

    @property
    def message(self) -> dict[str, str] | None:
        """The texts the function published (sms, email_subject, email), if it says so."""
        found = self.result.get("message") if isinstance(self.result, dict) else None
        return found if isinstance(found, dict) else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"command": "invoke", "local": self.local, "failed": self.failed,
                               "error_message": self.error_message,
                               "result": self.result, "log": self.log}
        if self.local:
            out.update(exit_code=self.exit_code, stderr=self.stderr,
                       settings_from=self.settings_from,
                       config_differs=list(self.config_differs), in_cloudwatch=False)
        else:
            out.update(status=self.status, error=self.error)
        return out


def _deployed(target: Target, required: bool = True,
              ) -> tuple[Stack, ObservedFunction | None]:
    stack = connect(target, with_code=False)
    seen = read_function(target.aws, stack.function_name)
    if seen is None and required:
        raise StockAlertError(f"Function {stack.function_name} is not deployed in "
                              f"{stack.region}.", hint="Run 'stock-alert up' first.")
    if seen is not None and not stack.owns(seen.tags):
        raise ConflictError(f"Function {stack.function_name} exists but is not owned by stack "
                            f"{stack.name}; stock-alert does not run it.",
                            hint="Check the 'name' in your config.")
    return stack, seen


def first_line(text: str, limit: int = 300) -> str:
    """The first non-empty line, whole if it fits, else cut at a word boundary with '…'."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0]
    return (cut if cut else line[:limit]) + " …"


def _error_text(payload: str, result: Any) -> str:
    """Lambda's error payload {"errorType", "errorMessage", ...} as 'Type: message'."""
    if isinstance(result, dict) and "errorMessage" in result:
        kind = result.get("errorType")
        return f"{kind}: {result['errorMessage']}" if kind else str(result["errorMessage"])
    return first_line(payload) or "no error message"


def invoke_remote(target: Target) -> InvokeResult:
    stack, seen = _deployed(target)
    timeout = int(seen.settings["timeout_s"] or 30) if seen else 30
    try:
        answer = invoke(target.aws, stack.function_name, timeout)
    except UncertainOutcome as err:
        raise StockAlertError(
            f"{err.message}. The function may or may not have run (and published its alert); "
            "stock-alert sent the invoke once and does not send it again.",
            hint="Look at its log with 'stock-alert logs --since 15m' before invoking again: "
            "another run sends the alert again.") from err
    payload = answer["payload"]
    try:
        result = json.loads(payload or "null")
    except ValueError:
        result = payload
    if answer["error"] and "docker" in payload.lower() and is_loopback(
            target.aws.endpoint_url):
        raise StockAlertError(
            "The local emulator cannot run Lambda code: it needs Docker, which is not "
            f"available ({_error_text(payload, result)}).", hint=DOCKER_HINT)
    return InvokeResult(local=False, result=result, log=answer["log_tail"].splitlines(),
                        failed=bool(answer["error"]), status=answer["status"],
                        error=answer["error"], stack=stack,
                        error_message=_error_text(payload, result) if answer["error"] else None)


def invoke_local(target: Target, from_config: bool = False) -> InvokeResult:
    """Run function_code/ here with the deployed function's settings, or the config's."""
    stack, seen = _deployed(target, required=not from_config)
    wanted = Function().wanted(stack).settings  # what 'up' would deploy
    differs = setting_differences(seen.settings, wanted) if seen else []
    settings = wanted if from_config or seen is None else seen.settings
    creds = target.aws.session().get_credentials().get_frozen_credentials()
    aws_env = {"AWS_REGION": stack.region, "AWS_DEFAULT_REGION": stack.region,
               "AWS_ACCESS_KEY_ID": creds.access_key, "AWS_SECRET_ACCESS_KEY": creds.secret_key}
    if creds.token:
        aws_env["AWS_SESSION_TOKEN"] = creds.token
    if target.aws.endpoint_url:
        aws_env["AWS_ENDPOINT_URL"] = target.aws.endpoint_url
    outcome = function_runner.run(package.code_dir(), settings["environment"], aws_env,
                                  stack.function_name, int(settings["timeout_s"] or 30))
    if seen is not None and outcome.result is None and PUBLISH_REFUSED in (
            outcome.error_message or ""):
        raise StockAlertError(
            "The function ran on this machine, but SNS refused its publish "
            f"({outcome.error_message}). By design the topic policy of {stack.topic_name} "
            f"denies sns:Publish to every principal but the stack's role {stack.role_name} "
            "and its errors alarm. A local run publishes with your credentials, and that "
            "explicit Deny beats any permission you could be granted, so it cannot publish "
            "to the deployed topic.",
            hint="Run it on Lambda with 'stock-alert invoke' (it publishes as the stack's "
            "role). 'invoke --local' publishes where the topic policy is not enforced, e.g. "
            "the local emulator.")
    return InvokeResult(local=True, result=outcome.result, log=outcome.log_lines,
                        failed=outcome.result is None, exit_code=outcome.exit_code,
                        stderr=outcome.stderr, stack=stack,
                        error_message=outcome.error_message,
                        settings_from="config" if settings is wanted else "deployed",
                        config_differs=tuple(differs), deployed=seen is not None)


def settings_note(run: InvokeResult) -> str | None:
    """What a local run used, when that is not simply 'the deployed function, as configured'."""
    keys = ", ".join(run.config_differs)
    if not run.local:
        return None
    if not run.deployed:
        return ("the function is not deployed; ran with the settings the config would deploy "
                "(publishing needs the stack's topic: run 'up' first)")
    if run.settings_from == "config" and keys:
        return f"ran with the config's settings, which differ from the deployed function in: {keys}"
    if keys:
        return (f"config differs from the deployed function in: {keys}; run 'up' first, or pass "
                "--from-config")
    return None
