"""The on-failure notifier: a small function that tells the subscribers, in a few words, that a
run failed (issue 21).

The function's asynchronous-invocation OnFailure destination (on_failure.py) is this function:
when a scheduled run fails for good (Lambda's retries spent, or the event too old), Lambda
invokes it with the invocation record, and it publishes ONE short message to the stack's topic
(function_code/notifier.py), for SMS and e-mail, instead of Lambda's raw JSON record. Lambda
invokes the destination with the failed function's execution role, which therefore holds
lambda:InvokeFunction on exactly this function (policies.inline_policies, InvokeOwnNotifier;
Lambda Developer Guide, "Adding a destination").

What it is:
- named '<name>_notify' (Stack.notifier_name: '_' is in no stack name, so it never collides
  with another stack's function, and `recognise` can tell the two kinds apart);
- the stack's own zip (package.py ships both entry points), handler notifier.handler, the
  main function's runtime and execution role (which may already publish to the topic);
- 128 MB and 30 s: it only formats a record and makes one SNS call (botocore's 3 attempts of
  at most 2 s connect and 5 s read each, function_code/aws.py);
- its log lines go to the main function's log group (LoggingConfig.LogGroup /aws/lambda/NAME),
  which 'up' made and 'stock-alert logs' reads; Lambda names its streams after the function
  (Lambda Developer Guide, "Configuring CloudWatch log groups"), and the role's write-logs grant
  already covers that group, so no second group is made, owned or left behind;
- not in a VPC, whatever `network:` says: it calls only SNS, and outside a VPC Lambda reaches
  SNS's public endpoint itself (in the config's subnets it would need a NAT gateway or an SNS
  endpoint to tell anyone anything);
- no reserved concurrency (one run per failure) and no destination of its own: a failure of
  the notifier cannot invoke it again. Its own asynchronous retries (2, Lambda's default)
  cover a failed publish.
Everything else (code by hash, settings by field, tags, waiters, a Failed state) is the
machinery it shares with the main function (function.LambdaFunction).
"""

from __future__ import annotations

from typing import Any

from provision.config.model import is_stack_name
from provision.core import findings
from provision.core.needs import DOWN, READ, UP, Need, Scope
from provision.core.pricing import Line
from provision.core.stack import NOTIFIER_SUFFIX, Stack
from provision.kinds.contract import Fragment
from provision.kinds.function import (
    CFN_CODE,
    LambdaFunction,
    ObservedFunction,
    WantedFunction,
    function_name,
)
from provision.kinds.tags import as_list

NOTIFIER_SCOPE = Scope("Notifier", lambda s: [s.notifier_arn])
HANDLER = "notifier.handler"
MEMORY_MB = 128
TIMEOUT_S = 30


class Notifier(LambdaFunction):
    name = "notifier"
    # role: its execution role; log-group: it logs there; topic: it publishes there (made
    # before it, deleted after it). Not the function: neither needs the other, so a fresh 'up'
    # creates both at once and 'down' deletes both at once (issue 22: one Lambda round trip
    # off each one's longest chain). The on-failure destination (which sends to it) and the
    # schedule wait for it (on_failure.py, schedule.py).
    after = ("role", "log-group", "topic")
    services = ("lambda",)

    operator = (
        Need("lambda:GetFunction", NOTIFIER_SCOPE, READ,
             "read the notifier's code hash, settings and state"),
        Need("lambda:ListTags", NOTIFIER_SCOPE, READ,
             "read its tags: GetFunction returns them only to callers allowed lambda:ListTags"),
        Need("lambda:CreateFunction", NOTIFIER_SCOPE, UP,
             "create the notifier that words failed runs for the subscribers"),
        Need("lambda:UpdateFunctionCode", NOTIFIER_SCOPE, UP, "upload code whose hash changed"),
        Need("lambda:UpdateFunctionConfiguration", NOTIFIER_SCOPE, UP, "apply changed settings"),
        Need("lambda:TagResource", NOTIFIER_SCOPE, UP, "add tags from the config"),
        Need("lambda:UntagResource", NOTIFIER_SCOPE, UP, "remove tags dropped from the config"),
        Need("lambda:DeleteFunctionConcurrency", NOTIFIER_SCOPE, UP,
             "remove a concurrency reservation set by hand (at 0 it would never run)"),
        Need("lambda:DeleteFunction", NOTIFIER_SCOPE, DOWN, "delete the notifier"),
    )
    audit_rules = {"tags": findings.tags}
    grants = {
        "lambda:InvokeFunction": (
            "Lambda invokes the stack's notifier (NAME_notify) with this role when a run has "
            "failed for good (its on-failure destination, Lambda Developer Guide \"Adding a "
            "destination\"); granted on that one function only."),
    }

    def cloudformation(self, w: WantedFunction) -> Fragment:
        return Fragment({"Notifier": {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": w.name, **w.config_params(), "Code": dict(CFN_CODE),
            "Tags": as_list(w.tags)}}})

    def physical_name(self, stack: Stack) -> str:
        return stack.notifier_name

    def recognise(self, arn: str) -> str | None:
        """A function named '<a stack name>_notify'."""
        name = function_name(arn)
        if name is None or not name.endswith(NOTIFIER_SUFFIX):
            return None
        return name if is_stack_name(name.removesuffix(NOTIFIER_SUFFIX)) else None

    def wanted(self, stack: Stack) -> WantedFunction:
        settings: dict[str, Any] = {
            "runtime": stack.config.function.runtime, "handler": HANDLER,
            "role": stack.role_arn, "memory_mb": MEMORY_MB, "timeout_s": TIMEOUT_S,
            "environment": {"STOCK_ALERT_STACK": stack.name,
                            "STOCK_ALERT_TOPIC_ARN": stack.topic_arn},
            "description": f"stock-alert: tells {stack.name}'s subscribers when a run failed",
            "vpc": None, "log_group": stack.log_group_name,
        }
        return WantedFunction(stack.notifier_name, stack.notifier_arn, settings, stack.code,
                              stack.tags)

    def cost(self, stack: Stack, runs: int) -> tuple[Line, ...]:
        """Nothing a month: it runs once per failed run only (cost's assumptions say so), within
        the free tier the function's requests already count against."""
        return ()

    def summary(self, observed: ObservedFunction | None) -> dict[str, Any]:
        """The function's attributes, and the group it logs to where the endpoint reports it
        (moto does not)."""
        out = super().summary(observed)
        if observed is not None and observed.settings.get("log_group"):
            out["log_group"] = observed.settings["log_group"]
        return out
