"""The on-failure path: a CloudWatch alarm on the function's Errors metric that notifies the topic.

`<name>-errors` goes to ALARM when the function fails at least once in 5 minutes (Sum of
AWS/Lambda Errors >= 1); no data (no run) is not a failure. Its action publishes to the stack's
topic, which lets cloudwatch.amazonaws.com publish for this alarm only (policies.topic_policy).

Real-AWS facts this kind is built on:
- PutMetricAlarm both creates and updates, and an update "completely overwrites the previous
  configuration", but "If you are using this operation to update an existing alarm, any tags
  you specify in this parameter are ignored" (botocore cloudwatch model, PutMetricAlarm Tags):
  tags go with the create only; later tag changes use TagResource/UntagResource.
- DescribeAlarms pages (NextToken), and its pages can hold composite alarms too.
- CloudWatch cannot publish to a topic encrypted with the AWS-managed key alias/aws/sns: that
  key's policy does not let cloudwatch.amazonaws.com use it and cannot be edited
  (repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger,
  github.com/aws/aws-cdk/issues/11121). The alarm still changes state, so it is made anyway
  and the alarm is made only when notify.kms_key names a customer key (whose policy must allow
  cloudwatch.amazonaws.com). On the default config the function's OnFailure destination
  (on_failure.py) tells the subscribers instead; an alarm left from an earlier version is
  reported and left for 'down'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provision.aws.client import Aws
from provision.core import findings
from provision.core.needs import DOWN, READ, UP, Need, Scope
from provision.core.plan import Action, Change, Changes, Mode, Op
from provision.core.pricing import Line
from provision.core.stack import Stack
from provision.kinds.contract import Fragment, Kind, ownership
from provision.kinds.tags import apply_tags, as_list, from_list, tag_changes
from provision.kinds.topic import KMS_KEY

# CloudWatch alarm prices (https://aws.amazon.com/cloudwatch/pricing/): 10 standard-resolution
# alarm metrics a month always free.
ALARMS_FREE = 10
ALARM_USD_PER_MONTH = 0.10
ALARM_SCOPE = Scope("ErrorsAlarm", lambda s: [s.alarm_arn])

DESCRIPTION = "stock-alert: the function failed (AWS/Lambda Errors >= 1 in 5 minutes)"
# Our field -> PutMetricAlarm's parameter (and DescribeAlarms' field of the same name).
FIELDS = {
    "namespace": "Namespace", "metric": "MetricName", "dimensions": "Dimensions",
    "statistic": "Statistic", "period_s": "Period", "evaluation_periods": "EvaluationPeriods",
    "threshold": "Threshold", "comparison": "ComparisonOperator",
    "missing_data": "TreatMissingData", "actions": "AlarmActions",
    "actions_enabled": "ActionsEnabled", "description": "AlarmDescription",
}
NOT_USED = ("absent: made only with notify.kms_key (CloudWatch cannot use alias/aws/sns); "
            "failures reach the subscribers through the on-failure destination")
LEFT_OVER = ("this alarm cannot deliver its notification (the topic uses the AWS-managed key "
             "alias/aws/sns, which CloudWatch cannot use) and the config no longer makes it; "
             "'stock-alert down' deletes it, or set notify.kms_key to a customer key")


@dataclass(frozen=True)
class WantedAlarm:
    name: str
    arn: str
    settings: dict[str, Any]  # FIELDS keys
    topic_key: str  # the topic's KmsMasterKeyId: decides whether the action can deliver
    tags: dict[str, str]

    @property
    def enabled(self) -> bool:
        """Made only where it can deliver: a topic with a customer key."""
        return self.topic_key != KMS_KEY

    def params(self) -> dict[str, Any]:
        return {"AlarmName": self.name,
                **{FIELDS[k]: _wire(k, v) for k, v in self.settings.items()}}


@dataclass(frozen=True)
class ObservedAlarm:
    arn: str
    settings: dict[str, Any]
    tags: dict[str, str]
    state: str


class Alarm(Kind[WantedAlarm, ObservedAlarm]):
    name = "alarm"
    after = ("function", "topic")  # it watches the one and notifies the other
    services = ("cloudwatch",)
    needs_account = False  # reads by name

    operator = (
        Need("cloudwatch:DescribeAlarms", ALARM_SCOPE, READ, "read the errors alarm"),
        Need("cloudwatch:ListTagsForResource", ALARM_SCOPE, READ, "check the alarm "
             "is this stack's"),
        Need("cloudwatch:PutMetricAlarm", ALARM_SCOPE, UP, "create or update the errors alarm"),
        Need("cloudwatch:TagResource", ALARM_SCOPE, UP, "tag the alarm (PutMetricAlarm with tags "
             "needs it too) and add tags from the config"),
        Need("cloudwatch:UntagResource", ALARM_SCOPE, UP, "remove tags dropped from the config"),
        Need("cloudwatch:DeleteAlarms", ALARM_SCOPE, DOWN, "delete the errors alarm"),
    )
    audit_rules = {"tags": findings.tags}
    grants = {}

    def inspect(self, stack: Stack, action: Action[WantedAlarm, ObservedAlarm]
                ) -> list[findings.Finding]:
        """`audit`: an alarm left from an earlier version that cannot deliver (LEFT_OVER)."""
        if action.op is Op.CREATE:
            return []
        return [findings.Finding("alarm-cannot-deliver", f"alarm {action.name}", note,
                                 "set notify.kms_key to a customer managed key, then run "
                                 "'stock-alert up'", False)
                for note in action.notes if note == LEFT_OVER]

    def cloudformation(self, w: WantedAlarm) -> Fragment:
        if not w.enabled:  # made only with a customer key, as 'up' does (alarm.py)
            return Fragment({})
        return Fragment({"ErrorsAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            **w.params(), "Tags": as_list(w.tags)}}})

    def physical_name(self, stack: Stack) -> str:
        return stack.alarm_name

    def recognise(self, arn: str) -> str | None:
        parts = arn.split(":", 5)
        if len(parts) == 6 and parts[2] == "cloudwatch" and parts[5].startswith("alarm:"):
            return parts[5].removeprefix("alarm:")
        return None

    def locate(self, aws: Aws, wanted: WantedAlarm) -> ObservedAlarm | None:
        """By its name, which derives from the stack's name alone."""
        return self.read(aws, wanted)

    def wanted(self, stack: Stack) -> WantedAlarm:
        settings = {
            "namespace": "AWS/Lambda", "metric": "Errors",
            "dimensions": (("FunctionName", stack.function_name),), "statistic": "Sum",
            "period_s": 300, "evaluation_periods": 1, "threshold": 1.0,
            "comparison": "GreaterThanOrEqualToThreshold", "missing_data": "notBreaching",
            "actions": (stack.topic_arn,), "actions_enabled": True, "description": DESCRIPTION,
        }
        return WantedAlarm(stack.alarm_name, stack.alarm_arn, settings,
                           stack.config.notify.kms_key or KMS_KEY, stack.tags)

    def read(self, aws: Aws, wanted: WantedAlarm) -> ObservedAlarm | None:
        found = next((a for page in aws.pages("cloudwatch", "describe_alarms",
                                              AlarmNames=[wanted.name], AlarmTypes=["MetricAlarm"])
                      for a in page.get("MetricAlarms", []) if a["AlarmName"] == wanted.name),
                     None)
        if found is None:
            return None
        tags = aws.call("cloudwatch", "list_tags_for_resource", ResourceARN=found["AlarmArn"])
        settings = {ours: _ours(ours, found.get(theirs)) for ours, theirs in FIELDS.items()}
        return ObservedAlarm(found["AlarmArn"], settings, from_list(tags.get("Tags")),
                             found.get("StateValue", ""))

    def changes(self, wanted: WantedAlarm, observed: ObservedAlarm | None) -> Changes:
        have = observed.settings if observed else {}
        out = [Change(k, have.get(k), v) for k, v in wanted.settings.items()
               if have.get(k) != v]
        if observed:
            out += tag_changes(wanted.tags, observed.tags)
        return tuple(out)

    def diff(self, wanted: WantedAlarm, observed: ObservedAlarm | None, mode: Mode,
             adopt: bool = False) -> Action[WantedAlarm, ObservedAlarm]:
        """The shared state machine while the alarm can deliver; otherwise 'up' makes none and
        leaves one made earlier for 'down' (a delete inside 'up' would reverse its order)."""
        if wanted.enabled or mode.teardown:
            return super().diff(wanted, observed, mode, adopt)
        mine = observed is not None and ownership(wanted.tags, observed.tags).ours
        return Action(kind=self.name, name=wanted.name, op=Op.NOOP, wanted=wanted,
                      observed=observed, reason=NOT_USED if observed is None else
                      "cannot deliver; kept until 'down'", notes=(LEFT_OVER,) if mine else ())

    def create(self, aws: Aws, wanted: WantedAlarm) -> None:
        aws.call("cloudwatch", "put_metric_alarm", Tags=as_list(wanted.tags), **wanted.params())

    def update(self, aws: Aws, wanted: WantedAlarm, observed: ObservedAlarm,
               changes: Changes) -> None:
        if any(c.field in FIELDS for c in changes):
            # Overwrites the whole configuration; Tags would be ignored here, so none are sent.
            aws.call("cloudwatch", "put_metric_alarm", **wanted.params())
        apply_tags(changes,
                   lambda tags: aws.call("cloudwatch", "tag_resource", ResourceARN=wanted.arn,
                                         Tags=as_list(tags)),
                   lambda keys: aws.call("cloudwatch", "untag_resource",
                                         ResourceARN=wanted.arn, TagKeys=keys))

    def delete(self, aws: Aws, wanted: WantedAlarm, observed: ObservedAlarm) -> None:
        # DeleteAlarms ignores names that do not exist ("the alarms you specify with correct
        # names are still deleted", botocore cloudwatch model), so a repeat is harmless.
        aws.call("cloudwatch", "delete_alarms", AlarmNames=[wanted.name], missing_ok=True)

    def cost(self, stack: Stack, runs: int) -> tuple[Line, ...]:
        """Only where 'up' makes the alarm (WantedAlarm.enabled)."""
        if not self.wanted(stack).enabled:
            return ()
        return (Line(f"CloudWatch alarm ({self.physical_name(stack)})", 1, "alarm", 0.0,
                     f"standard-resolution alarm metrics: first {ALARMS_FREE} free, then "
                     f"${ALARM_USD_PER_MONTH:.2f} each a month"),)

    def summary(self, observed: ObservedAlarm | None) -> dict[str, Any]:
        if observed is None:
            return {}
        return {"arn": observed.arn, "state": observed.state,
                "actions": list(observed.settings.get("actions") or ())}


def _wire(field: str, value: Any) -> Any:
    if field == "dimensions":
        return [{"Name": n, "Value": v} for n, v in value]
    if field == "actions":
        return list(value)
    return value


def _ours(field: str, value: Any) -> Any:
    if field == "dimensions":
        return tuple(sorted((d["Name"], d["Value"]) for d in value or []))
    if field == "actions":
        return tuple(sorted(value or []))
    if field == "threshold" and value is not None:
        return float(value)
    return value
