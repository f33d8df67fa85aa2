"""The failure path that works on the default config: Lambda's asynchronous-invocation
OnFailure destination, the stack's notifier function (notifier.py).

The schedule invokes the function asynchronously. When a run fails (the handler raised, timed
out or crashed) and Lambda's retries are spent (condition RetriesExhausted), or the event
waited too long in Lambda's queue (EventAgeExceeded), Lambda invokes the destination with the
invocation record, using the function's execution role (policies.inline_policies,
InvokeOwnNotifier). The notifier publishes ONE short, human message to the stack's topic, for
SMS and e-mail, e.g. "stock-alert NAME: the 21:30 UTC run failed after 3 attempts: <the
handler's reason>. See 'stock-alert logs'." (function_code/notifier.py). It publishes with
the same role, so, unlike the errors alarm (alarm.py), it delivers with the AWS-managed key
alias/aws/sns, and it costs nothing until a run fails: then one notifier run and one message
per subscriber.

Designs rejected:
- the topic itself as the destination (what stacks made before the notifier have; 'up' moves
  them): subscribers got Lambda's raw JSON record, and SNS filter policies cannot reword it;
- the handler publishing the failure itself: Lambda's 2 asynchronous retries (and the
  destination too) would each send one, and no attempt count is passed to the function;
- zero retries, so that the handler's own message would be the only one: a passing glitch
  would then lose the run, and a crash after its publish would still be told twice;
- the function as its own destination: recursion, and not verifiable here against real AWS.

Real-AWS facts this kind is built on (Lambda API reference):
- PutFunctionEventInvokeConfig replaces the whole configuration ("overwrites any existing
  configuration"); GetFunctionEventInvokeConfig answers ResourceNotFoundException when the
  function has none (or does not exist). MaximumRetryAttempts is 0-2 (default 2).
- Lambda checks at Put time that the execution role may invoke the destination; right after
  the role's policies were written (a fresh stack, or the grant added when a stack is moved off
  its topic) that check can fail for a while (IAM propagation,
  github.com/aws-amplify/amplify-js/issues/9869): when this run wrote the role, retry.py waits
  out "execution role does not have permissions to call ...", briefly.
- The configuration carries no tags and no ARN of its own: it belongs to the function, whose
  kind checks ownership ('up' refuses a foreign function before any write). 'down' removes it
  only while it points at this stack's notifier (or, as made before the notifier, its topic),
  at the same time as the function (DeleteFunction removes it too) and the notifier.
moto (5.2) appends on every Put and answers Get with the first one, so an update is not
visible there; tests check the update's call instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from provision.aws.client import Aws
from provision.core.needs import DOWN, READ, UP, Need
from provision.core.plan import Action, Change, Changes, Mode, Op
from provision.core.pricing import Line
from provision.core.stack import Stack
from provision.kinds.contract import Fragment, Kind
from provision.kinds.function import FUNCTION_SCOPE

RETRIES = 2  # Lambda's default: three attempts in all before the record is sent
MOVED = ("sends failed runs to the topic as Lambda's raw JSON record; moved to the notifier, "
         "which tells the subscribers in a few words")


@dataclass(frozen=True)
class WantedOnFailure:
    name: str  # the function's name: the configuration sits on it
    destination: str  # the stack's notifier's ARN
    retries: int
    tags: dict[str, str]  # the stack's tags, for ownership messages; AWS stores none
    former: tuple[str, ...] = ()  # this stack's earlier destinations (its topic): also ours
    role_written: bool = False  # this plan writes the role first (its grant may propagate)

    def params(self) -> dict[str, Any]:
        return {"FunctionName": self.name, "MaximumRetryAttempts": self.retries,
                "DestinationConfig": {"OnFailure": {"Destination": self.destination}}}


@dataclass(frozen=True)
class ObservedOnFailure:
    destination: str | None
    retries: int | None
    on_success: str | None = None
    tags: None = None  # no tags of its own (the function's kind checks the owner)


class OnFailure(Kind[WantedOnFailure, ObservedOnFailure]):
    name = "on-failure"
    # sits on the function, sends to the notifier; Lambda checks at Put time that the role may
    # invoke it, so after the role's policies too (when the function and notifier are unchanged)
    after = ("role", "function", "notifier")
    # Lambda needs the function to exist for PutFunctionEventInvokeConfig, not its reserved
    # concurrency: both are sent at once (one round trip off a fresh 'up's longest chain)
    after_ready = ("function",)
    services = ("lambda",)
    needs_account = False  # reads by name
    host = "function"  # a setting of the function: no ARN, no tags; the function's owner

    operator = (
        Need("lambda:GetFunctionEventInvokeConfig", FUNCTION_SCOPE, READ,
             "read the function's on-failure destination"),
        Need("lambda:PutFunctionEventInvokeConfig", FUNCTION_SCOPE, UP,
             "send failed runs to the stack's notifier (the on-failure destination)"),
        Need("lambda:DeleteFunctionEventInvokeConfig", FUNCTION_SCOPE, DOWN,
             "remove the on-failure destination"),
    )
    audit_rules = {}
    grants = {}

    def cloudformation(self, w: WantedOnFailure) -> Fragment:
        params = w.params()
        return Fragment({"OnFailure": {"Type": "AWS::Lambda::EventInvokeConfig", "Properties": {
            "FunctionName": {"Ref": "Function"}, "Qualifier": "$LATEST",
            "MaximumRetryAttempts": params["MaximumRetryAttempts"],
            "DestinationConfig": params["DestinationConfig"]}}})

    def physical_name(self, stack: Stack) -> str:
        return stack.function_name  # it sits on the function

    def recognise(self, arn: str) -> str | None:
        return None  # the tagging API lists the function, never this setting

    def locate(self, aws: Aws, wanted: WantedOnFailure) -> ObservedOnFailure | None:
        """On the function named after the stack; diff keeps it only while it sends to this
        stack's notifier (or topic)."""
        return self.read(aws, wanted)

    def wanted(self, stack: Stack) -> WantedOnFailure:
        return WantedOnFailure(stack.function_name, stack.notifier_arn, RETRIES, stack.tags,
                               (stack.topic_arn,))

    def read(self, aws: Aws, wanted: WantedOnFailure) -> ObservedOnFailure | None:
        found = aws.call("lambda", "get_function_event_invoke_config",
                         FunctionName=wanted.name, missing_ok=True)
        if found is None:
            return None
        destinations = found.get("DestinationConfig") or {}
        return ObservedOnFailure(
            (destinations.get("OnFailure") or {}).get("Destination") or None,
            found.get("MaximumRetryAttempts"),
            (destinations.get("OnSuccess") or {}).get("Destination") or None)

    def changes(self, wanted: WantedOnFailure, observed: ObservedOnFailure | None) -> Changes:
        have: dict[str, Any] = ({"destination": observed.destination,
                                 "retries": observed.retries,
                                 "on_success": observed.on_success} if observed else {})
        want = {"destination": wanted.destination, "retries": wanted.retries,
                "on_success": None}
        return tuple(Change(k, have.get(k), v) for k, v in want.items()
                     if have.get(k) != v and (observed or v is not None))

    def diff(self, wanted: WantedOnFailure, observed: ObservedOnFailure | None, mode: Mode,
             adopt: bool = False) -> Action[WantedOnFailure, ObservedOnFailure]:
        """The shared state machine, except that 'down' leaves a configuration that sends
        elsewhere alone (only one pointing at this stack's notifier, or at its topic as made
        before the notifier, is this stack's), and that moving off the topic says so."""
        ours = (wanted.destination, *wanted.former)
        if mode.teardown and observed is not None and observed.destination not in ours:
            return Action(kind=self.name, name=wanted.name, op=Op.NOOP, wanted=wanted,
                          observed=observed, reason="sends elsewhere; left alone")
        action = super().diff(wanted, observed, mode, adopt)
        if (action.op is Op.UPDATE and observed is not None
                and observed.destination in wanted.former):
            return replace(action, reason=MOVED)
        return action

    def given(self, wanted: WantedOnFailure, written: frozenset[str]) -> WantedOnFailure:
        return replace(wanted, role_written="role" in written)

    def create(self, aws: Aws, wanted: WantedOnFailure) -> None:
        aws.call("lambda", "put_function_event_invoke_config", settling=True,
                 role_written=wanted.role_written, **wanted.params())

    def update(self, aws: Aws, wanted: WantedOnFailure, observed: ObservedOnFailure,
               changes: Changes) -> None:
        aws.call("lambda", "put_function_event_invoke_config",
                 role_written=wanted.role_written, **wanted.params())

    def delete(self, aws: Aws, wanted: WantedOnFailure, observed: ObservedOnFailure) -> None:
        """'down' sends it alongside the function's DeleteFunction, which removes it too
        (engine.dependencies, Kind.host): ResourceNotFoundException, for a configuration or a
        function already gone, counts as done."""
        aws.call("lambda", "delete_function_event_invoke_config", FunctionName=wanted.name,
                 missing_ok=True)

    def cost(self, stack: Stack, runs: int) -> tuple[Line, ...]:
        """A failed run's message goes through the topic (assumed rare, not counted)."""
        return ()

    def summary(self, observed: ObservedOnFailure | None) -> dict[str, Any]:
        if observed is None:
            return {}
        return {"on_failure": observed.destination, "retries": observed.retries}
