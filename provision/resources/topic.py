"""The SNS topic (encrypted with the AWS-managed key) and its e-mail and SMS subscriptions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provision.aws import Aws
from provision.model import Action, Change, tag_changes
from provision.resources.base import apply_tags, as_list, changed, decide
from provision.stack import Stack

KIND = "topic"
PENDING = "PendingConfirmation"
KMS_KEY = "alias/aws/sns"
DISPLAY_NAME = "StockAlert"  # SNS prefixes SMS with it: keep <= 10 characters


@dataclass(frozen=True)
class Subscription:
    protocol: str
    endpoint: str
    arn: str

    @property
    def pending(self) -> bool:
        return self.arn == PENDING


@dataclass(frozen=True)
class ObservedTopic:
    arn: str
    attributes: dict[str, str]
    tags: dict[str, str]
    subscriptions: tuple[Subscription, ...]


def _attributes() -> dict[str, str]:
    return {"KmsMasterKeyId": KMS_KEY, "DisplayName": DISPLAY_NAME}


def _wanted_subscriptions(stack: Stack) -> set[tuple[str, str]]:
    notify = stack.config.notify
    return {("email", e) for e in notify.email} | {("sms", p) for p in notify.sms}


def observe(aws: Aws, stack: Stack) -> ObservedTopic | None:
    found = aws.call("sns", "get_topic_attributes", TopicArn=stack.topic_arn, missing_ok=True)
    if found is None:
        return None
    tags = aws.call("sns", "list_tags_for_resource", ResourceArn=stack.topic_arn)["Tags"]
    subs: list[Subscription] = []
    token: str | None = None
    while True:
        paging: dict[str, Any] = {"NextToken": token} if token else {}
        page = aws.call("sns", "list_subscriptions_by_topic", TopicArn=stack.topic_arn, **paging)
        subs += [Subscription(s["Protocol"], s["Endpoint"], s["SubscriptionArn"])
                 for s in page.get("Subscriptions", [])]
        token = page.get("NextToken")
        if not token:
            break
    attrs = {k: v for k, v in found["Attributes"].items() if k in _attributes()}
    return ObservedTopic(stack.topic_arn, attrs, {t["Key"]: t["Value"] for t in tags},
                         tuple(subs))


def _changes(stack: Stack, seen: ObservedTopic | None) -> tuple[Change, ...]:
    out = [Change(f"attribute:{k}", seen.attributes.get(k) if seen else None, v)
           for k, v in _attributes().items() if seen is None or seen.attributes.get(k) != v]
    have = {(s.protocol, s.endpoint) for s in (seen.subscriptions if seen else ())}
    wanted = _wanted_subscriptions(stack)
    out += [Change(f"subscription:{p}:{e}", None, "subscribe") for p, e in sorted(wanted - have)]
    out += [Change(f"subscription:{s.protocol}:{s.endpoint}", s.arn, None)
            for s in (seen.subscriptions if seen else ())
            if (s.protocol, s.endpoint) not in wanted and not s.pending]
    if seen:
        out += tag_changes(stack.tags, seen.tags)
    return tuple(out)


def _notes(stack: Stack, seen: ObservedTopic | None) -> tuple[str, ...]:
    notes = []
    wanted = _wanted_subscriptions(stack)
    for s in seen.subscriptions if seen else ():
        if s.pending and (s.protocol, s.endpoint) in wanted:
            notes.append(f"{s.protocol} {s.endpoint} is waiting for confirmation: "
                         "open the link in the e-mail AWS sent")
        elif s.pending:
            notes.append(f"{s.protocol} {s.endpoint} was removed from the config but its "
                         "confirmation is pending; AWS lets it expire after 3 days")
    return tuple(notes)


def plan(stack: Stack, observed: ObservedTopic | None, wanted: bool) -> Action:
    return decide(KIND, stack.topic_name, stack, observed, wanted,
                  lambda seen: _changes(stack, seen),
                  lambda seen: _notes(stack, seen))


def apply(aws: Aws, stack: Stack, action: Action) -> None:
    arn = stack.topic_arn
    if action.op.value == "delete":
        # Deleting a topic deletes its subscriptions with it.
        aws.call("sns", "delete_topic", TopicArn=arn, missing_ok=True)
        return
    if action.op.value == "create":
        aws.call("sns", "create_topic", Name=stack.topic_name, Attributes=_attributes(),
                 Tags=as_list(stack.tags))
    else:
        for change in changed(action, "attribute"):
            aws.call("sns", "set_topic_attributes", TopicArn=arn,
                     AttributeName=change.field.split(":", 1)[1], AttributeValue=change.new)
    for change in changed(action, "subscription"):
        _, protocol, endpoint = change.field.split(":", 2)
        if change.new:
            aws.call("sns", "subscribe", TopicArn=arn, Protocol=protocol, Endpoint=endpoint,
                     ReturnSubscriptionArn=True, settling=action.op.value == "create")
        else:
            aws.call("sns", "unsubscribe", SubscriptionArn=change.old, missing_ok=True)
    apply_tags(action,
               lambda tags: aws.call("sns", "tag_resource", ResourceArn=arn, Tags=as_list(tags)),
               lambda keys: aws.call("sns", "untag_resource", ResourceArn=arn, TagKeys=keys))


def summary(observed: ObservedTopic | None) -> dict[str, Any]:
    if observed is None:
        return {}
    return {
        "arn": observed.arn,
        "encryption": observed.attributes.get("KmsMasterKeyId"),
        "subscriptions": [
            {"protocol": s.protocol, "endpoint": s.endpoint,
             "state": "pending confirmation" if s.pending else "confirmed"}
            for s in observed.subscriptions
        ],
    }
