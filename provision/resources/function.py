"""The Lambda function: code uploaded only when its SHA-256 differs, config only on a diff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provision.aws import Aws
from provision.model import Action, Change, diff_fields, tag_changes
from provision.resources.base import apply_tags, changed, decide
from provision.stack import HANDLER, Stack

KIND = "function"
DESCRIPTION = "stock-alert: fetches quotes and publishes alerts"
_CONFIG_KEYS = {  # our field -> Lambda's field
    "runtime": "Runtime", "handler": "Handler", "role": "Role", "memory_mb": "MemorySize",
    "timeout_s": "Timeout", "environment": "Environment", "description": "Description",
}


@dataclass(frozen=True)
class ObservedFunction:
    arn: str
    settings: dict[str, Any]
    code_sha256: str
    tags: dict[str, str]
    state: str


def _settings(stack: Stack) -> dict[str, Any]:
    fn = stack.config.function
    return {
        "runtime": fn.runtime, "handler": HANDLER, "role": stack.role_arn,
        "memory_mb": fn.memory_mb, "timeout_s": fn.timeout_s,
        "environment": dict(sorted(stack.function_environment.items())),
        "description": DESCRIPTION,
    }


def observe(aws: Aws, stack: Stack) -> ObservedFunction | None:
    found = aws.call("lambda", "get_function", FunctionName=stack.function_name,
                     missing_ok=True)
    if found is None:
        return None
    conf = found["Configuration"]
    settings = {ours: conf.get(theirs) for ours, theirs in _CONFIG_KEYS.items()}
    settings["environment"] = dict(sorted(
        (conf.get("Environment") or {}).get("Variables", {}).items()))
    tags = found.get("Tags")
    if tags is None:
        # GetFunction includes tags only for callers allowed lambda:ListTags; ask explicitly,
        # so a missing permission is an error instead of making our function look foreign.
        tags = aws.call("lambda", "list_tags", Resource=conf["FunctionArn"]).get("Tags", {})
    return ObservedFunction(conf["FunctionArn"], settings, conf.get("CodeSha256", ""),
                            tags, conf.get("State", "Active"))


def _changes(stack: Stack, seen: ObservedFunction | None) -> tuple[Change, ...]:
    code = stack.code.sha256 if stack.code else None
    out: list[Change] = []
    if seen is None or seen.code_sha256 != code:
        out.append(Change("code", seen.code_sha256 if seen else None, code))
    out += diff_fields(_settings(stack), seen.settings if seen else {})
    if seen:
        out += tag_changes(stack.tags, seen.tags)
    return tuple(out)


def plan(stack: Stack, observed: ObservedFunction | None, wanted: bool) -> Action:
    return decide(KIND, stack.function_name, stack, observed, wanted,
                  lambda seen: _changes(stack, seen))


def _config_params(stack: Stack, fields: set[str]) -> dict[str, Any]:
    wanted = _settings(stack)
    params = {_CONFIG_KEYS[f]: wanted[f] for f in fields if f != "environment"}
    if "environment" in fields:
        params["Environment"] = {"Variables": wanted["environment"]}
    return params


def apply(aws: Aws, stack: Stack, action: Action) -> None:
    name = stack.function_name
    if action.op.value == "delete":
        aws.call("lambda", "delete_function", FunctionName=name, missing_ok=True)
        return
    if action.op.value == "create":
        _create(aws, stack)
        return
    if changed(action, "code"):
        assert stack.code is not None
        result = aws.call("lambda", "update_function_code", FunctionName=name,
                          ZipFile=stack.code.zip_bytes)
        _wait_updated(aws, name, result)
    fields = {c.field for c in action.changes if c.field in _CONFIG_KEYS}
    if fields:
        result = aws.call("lambda", "update_function_configuration", FunctionName=name,
                          **_config_params(stack, fields))
        _wait_updated(aws, name, result)
    arn = stack.function_arn
    apply_tags(action,
               lambda tags: aws.call("lambda", "tag_resource", Resource=arn, Tags=tags),
               lambda keys: aws.call("lambda", "untag_resource", Resource=arn, TagKeys=keys))


def _create(aws: Aws, stack: Stack) -> None:
    assert stack.code is not None
    result = aws.call(
        "lambda", "create_function", FunctionName=stack.function_name,
        Code={"ZipFile": stack.code.zip_bytes}, Publish=False, Tags=stack.tags,
        **_config_params(stack, set(_CONFIG_KEYS)),
    )
    if result.get("State", "Active") != "Active":
        aws.waiter("lambda", "function_active_v2", FunctionName=stack.function_name)


def _wait_updated(aws: Aws, name: str, result: dict[str, Any]) -> None:
    if result.get("LastUpdateStatus", "Successful") != "Successful":
        aws.waiter("lambda", "function_updated_v2", FunctionName=name)


def summary(observed: ObservedFunction | None) -> dict[str, Any]:
    if observed is None:
        return {}
    s = observed.settings
    return {"arn": observed.arn, "runtime": s["runtime"], "memory_mb": s["memory_mb"],
            "timeout_s": s["timeout_s"], "code_sha256": observed.code_sha256,
            "state": observed.state}


def invoke(aws: Aws, stack: Stack) -> dict[str, Any]:
    """Run the deployed function once (RequestResponse) with the tail of its log."""
    import base64

    answer = aws.call("lambda", "invoke", FunctionName=stack.function_name,
                      InvocationType="RequestResponse", LogType="Tail",
                      Payload=b'{"source": "stock-alert.invoke"}')
    payload = answer["Payload"].read().decode("utf-8", "replace")
    tail = base64.b64decode(answer.get("LogResult") or b"").decode("utf-8", "replace")
    return {"status": answer.get("StatusCode"), "error": answer.get("FunctionError"),
            "payload": payload, "log_tail": tail}
