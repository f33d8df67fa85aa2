"""The two reads `audit` needs that no resource kind exposes yet.

AWS calls belong in provision/resources/: these are here only until the kinds expose them
(the topic kind keeps only the attributes it manages, so not `Policy`; the schedule kind keeps
only this stack's statement of the function's resource policy, not the others). Each read is
one call through Aws.call, read-only, and tolerates the resource being absent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from provision.aws import Aws
from provision.engine import gather
from provision.stack import Stack


@dataclass(frozen=True)
class ExtraReads:
    topic_policy: dict[str, Any] | None = None  # the topic's Policy attribute, parsed
    function_statements: list[dict[str, Any]] = field(default_factory=list)


def read(aws: Aws, stack: Stack) -> ExtraReads:
    found = gather({"topic": lambda: _topic_policy(aws, stack),
                    "function": lambda: _function_statements(aws, stack)})
    return ExtraReads(found["topic"], found["function"])


def _topic_policy(aws: Aws, stack: Stack) -> dict[str, Any] | None:
    answer = aws.call("sns", "get_topic_attributes", TopicArn=stack.topic_arn, missing_ok=True)
    text = (answer or {}).get("Attributes", {}).get("Policy")
    return json.loads(text) if text else None


def _function_statements(aws: Aws, stack: Stack) -> list[dict[str, Any]]:
    answer = aws.call("lambda", "get_policy", FunctionName=stack.function_name,
                      missing_ok=True)
    return list(json.loads(answer["Policy"]).get("Statement", [])) if answer else []
