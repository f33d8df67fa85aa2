"""The SNS topic (encrypted with the AWS-managed key) and its e-mail and SMS subscriptions.

Changes use the kind's own vocabulary: field "attribute" with the attribute's key as item, and
field "email" or "sms" (the SNS protocol) with the endpoint as item.

SNS lists a subscription's SubscriptionArn as "PendingConfirmation" until the recipient confirms
it, and as "Deleted" after the recipient cancelled it (the unsubscribe link, or STOP); neither is
an ARN that Unsubscribe accepts. A cancelled subscription counts as absent, so a configured
endpoint is subscribed again, and only real ARNs are ever unsubscribed.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from provision.aws.client import Aws, absent_ok
from provision.aws.concurrency import gather
from provision.core import findings
from provision.core.findings import Rule
from provision.core.needs import ANY, DOWN, READ, UP, Need, Scope
from provision.core.plan import Action, Change, Changes
from provision.core.policies import canonical, open_statements, statements, topic_policy
from provision.core.pricing import Line, beyond_free
from provision.core.stack import Stack
from provision.errors import AwsError
from provision.kinds.contract import Fragment, Kind
from provision.kinds.sms_prices import sms_line
from provision.kinds.tags import apply_tags, as_list, from_list, tag_changes

# SNS prices (https://aws.amazon.com/sns/pricing/); SMS: sms_prices.py
SNS_FREE_PUBLISHES = 1_000_000
SNS_USD_PER_PUBLISH = 0.50 / 1_000_000
SNS_FREE_EMAILS = 1_000
SNS_USD_PER_EMAIL = 2.00 / 100_000
TOPIC_SCOPE = Scope("AlertTopic", lambda s: [s.topic_arn])
SMS_SETTING = "an account-level SMS setting, no resource type."

PENDING = "PendingConfirmation"
CANCELLED = "Deleted"  # the recipient unsubscribed; SNS keeps listing it for a while
KMS_KEY = "alias/aws/sns"
DISPLAY_NAME = "StockAlert"  # SNS prefixes SMS with it: keep <= 10 characters
PROTOCOLS = ("email", "sms")  # what the config subscribes
NOT_SUBSCRIBERS = ("attribute", "tags", "applied")  # every other change field is a protocol
POLICY = "Policy"
# SNS checks every principal of a topic policy against IAM and refuses one IAM does not show it
# yet (a role created moments ago): InvalidParameter "Invalid parameter: Policy Error:
# PrincipalNotFound" (github.com/hashicorp/terraform-provider-aws/issues/26041).
PRINCIPAL_NOT_FOUND = "principalnotfound"
log = logging.getLogger("provision.kinds.topic")


@dataclass(frozen=True)
class Subscription:
    protocol: str
    endpoint: str
    arn: str

    @property
    def pending(self) -> bool:
        return self.arn == PENDING

    @property
    def cancelled(self) -> bool:
        return self.arn == CANCELLED

    @property
    def removable(self) -> bool:
        """Only a real subscription ARN can be unsubscribed."""
        return self.arn.startswith("arn:")

    @property
    def state(self) -> str:
        if self.pending:
            return "pending confirmation"
        return "unsubscribed by the recipient" if self.cancelled else "confirmed"


@dataclass(frozen=True)
class WantedTopic:
    name: str
    arn: str
    attributes: dict[str, str]
    subscribers: frozenset[tuple[str, str]]  # (protocol, endpoint)
    tags: dict[str, str]


@dataclass(frozen=True)
class ObservedTopic:
    arn: str
    attributes: dict[str, str]
    tags: dict[str, str]
    subscriptions: tuple[Subscription, ...]
    policy: str | None = None  # the topic's access policy (JSON text), for audit; not diffed


class Topic(Kind[WantedTopic, ObservedTopic]):
    name = "topic"
    services = ("sns",)
    needs_account = True  # SNS reads a topic by its ARN, which holds the account
    reads_at_once = 3  # attributes, tags, subscriptions

    operator = (
        Need("sns:GetTopicAttributes", TOPIC_SCOPE, READ, "read the topic's encryption and name"),
        Need("sns:ListTagsForResource", TOPIC_SCOPE, READ, "check the topic is this stack's"),
        Need("sns:ListSubscriptionsByTopic", TOPIC_SCOPE, READ, "compare subscribers "
             "with the config"),
        Need("sns:CreateTopic", TOPIC_SCOPE, UP, "create the encrypted, tagged topic"),
        Need("sns:SetTopicAttributes", TOPIC_SCOPE, UP, "restore encryption, display name or the "
             "access policy"),
        Need("sns:TagResource", TOPIC_SCOPE, UP, "tag the topic (also "
             "needed by CreateTopic with tags)"),
        Need("sns:UntagResource", TOPIC_SCOPE, UP, "remove tags dropped from the config"),
        Need("sns:Subscribe", TOPIC_SCOPE, UP, "subscribe the config's "
             "e-mail addresses and phones"),
        Need("sns:Unsubscribe", ANY, UP, "remove subscribers dropped from the config",
             unscoped="subscriptions are not an IAM resource type; SNS checks the caller "
             "against the subscription's owner and topic itself."),
        Need("sns:DeleteTopic", TOPIC_SCOPE, DOWN, "delete the topic and its subscriptions"),
        Need("sns:CheckIfPhoneNumberIsOptedOut", ANY, ("status",),
             "tell you when a configured phone number has opted out of SMS", unscoped=SMS_SETTING),
        Need("sns:GetSMSSandboxAccountStatus", ANY, ("status",),
             "tell you when the account is still in the SMS sandbox", unscoped=SMS_SETTING),
        Need("sns:ListSMSSandboxPhoneNumbers", ANY, ("status",),
             "tell you which configured numbers the sandbox has not verified",
             unscoped=SMS_SETTING),
    )
    audit_rules = {"attribute": findings.attribute, "tags": findings.tags}
    grants = {
        "sns:Publish": (
            "sends each alert to the stack's own topic; the topic, not the function, decides "
            "who receives it (the subscribers in the config). Lambda also uses it to send a "
            "failed run's record there (the on-failure destination)."),
        "kms:GenerateDataKey*": (
            "with notify.kms_key, SNS encrypts each alert the function publishes under that "
            "customer key, asking KMS for a data key as the role; only via SNS in this Region "
            "(kms:ViaService)."),
    }

    def audit_rule(self, changed: str) -> Rule | None:
        """A subscriber of any protocol ("email", "sms", ...) is worded as a subscription."""
        return super().audit_rule(changed) or findings.subscription

    def inspect(self, stack: Stack, action: Action[WantedTopic, ObservedTopic]
                ) -> list[findings.Finding]:
        """`audit`: each statement of the topic policy that lets anyone act, or else one
        finding that the policy differs from the one 'up' writes (policies.topic_policy),
        which 'up' rewrites whole. (So findings.attribute leaves the Policy attribute out.)"""
        topic = action.observed
        if topic is None or not topic.policy:
            return []
        where, document = f"topic {stack.topic_name}", json.loads(topic.policy)
        opened = open_statements(document)
        if opened:
            return [findings.Finding("topic-policy-open", where, f"statement {s.get('Sid')!r} "
                                     f"lets anyone {s.get('Action')}", findings.UP, True)
                    for s in opened]
        wanted = action.wanted.attributes.get(POLICY)
        if wanted is None or topic.attributes.get(POLICY) == wanted:
            return []
        sids = sorted(str(s.get("Sid")) for s in statements(document))
        return [findings.Finding(
            "topic-policy-changed", where, f"the access policy (statements {', '.join(sids)}) "
            "differs from the one stock-alert writes (owner account manages, only the stack's "
            "role and its errors alarm publish, TLS only)", findings.UP, True)]

    def cloudformation(self, w: WantedTopic) -> Fragment:
        """The topic, and one subscription per configured subscriber, each its own parameter
        (default: the config's value; an empty value skips that subscription)."""
        attributes = {k: v for k, v in w.attributes.items() if k != POLICY}
        out = Fragment({"Topic": {"Type": "AWS::SNS::Topic", "Properties": {
            "TopicName": w.name, **attributes, "Tags": as_list(w.tags)}}})
        if POLICY in w.attributes:  # CloudFormation keeps a topic's access policy apart
            out.resources["TopicPolicy"] = {"Type": "AWS::SNS::TopicPolicy", "Properties": {
                "Topics": [{"Ref": "Topic"}], "PolicyDocument": json.loads(w.attributes[POLICY])}}
        counts: dict[str, int] = {}
        for protocol, endpoint in sorted(w.subscribers):
            counts[protocol] = counts.get(protocol, 0) + 1
            label = f"{protocol.capitalize()}Subscriber{counts[protocol]}"
            out.parameters[label] = {
                "Type": "String", "Default": endpoint,
                "Description": f"An {protocol} endpoint for the alerts; empty for none."}
            out.conditions[f"Has{label}"] = {"Fn::Not": [{"Fn::Equals": [{"Ref": label}, ""]}]}
            out.resources[f"{label}Subscription"] = {
                "Type": "AWS::SNS::Subscription", "Condition": f"Has{label}",
                "Properties": {"TopicArn": {"Ref": "Topic"}, "Protocol": protocol,
                               "Endpoint": {"Ref": label}}}
        return out

    def physical_name(self, stack: Stack) -> str:
        return stack.topic_name

    def recognise(self, arn: str) -> str | None:
        parts = arn.split(":", 5)
        if len(parts) == 6 and parts[2] == "sns" and ":" not in parts[5]:
            return parts[5]  # a subscription's ARN adds ':<id>' to its topic's
        return None

    def locate(self, aws: Aws, wanted: WantedTopic) -> ObservedTopic | None:
        """By its name (its ARN derives from the stack's name, account and Region)."""
        return self.read(aws, wanted)

    def wanted(self, stack: Stack) -> WantedTopic:
        notify = stack.config.notify
        subscribers = frozenset({("email", e) for e in notify.email}
                                | {("sms", p) for p in notify.sms})
        attributes = {"KmsMasterKeyId": notify.kms_key or KMS_KEY, "DisplayName": DISPLAY_NAME,
                      POLICY: canonical(topic_policy(stack))}
        return WantedTopic(stack.topic_name, stack.topic_arn, attributes, subscribers,
                           stack.tags)

    def read(self, aws: Aws, wanted: WantedTopic) -> ObservedTopic | None:
        """The topic's attributes, tags and subscriptions, asked for at once (each answers
        not-found when the topic is absent)."""
        arn = wanted.arn
        found = gather({
            "topic": partial(aws.call, "sns", "get_topic_attributes", TopicArn=arn,
                             missing_ok=True),
            "tags": absent_ok(partial(aws.call, "sns", "list_tags_for_resource",
                                      ResourceArn=arn), "ResourceNotFound"),
            "subscriptions": absent_ok(partial(_subscriptions, aws, arn))})
        if found["topic"] is None:
            return None
        # Not found by a list while the topic answered (deleted meanwhile): asked again, alone,
        # its answer (or its error) is the one to use.
        tags = (found["tags"] or aws.call("sns", "list_tags_for_resource",
                                          ResourceArn=arn))["Tags"]
        subs = found["subscriptions"]
        if subs is None:
            subs = _subscriptions(aws, arn)
        found = found["topic"]
        attrs = {k: v for k, v in found["Attributes"].items() if k in wanted.attributes}
        if attrs.get(POLICY):
            attrs[POLICY] = _canonical_or_text(attrs[POLICY])
        return ObservedTopic(wanted.arn, attrs, from_list(tags), subs,
                             found["Attributes"].get("Policy"))

    def changes(self, wanted: WantedTopic, observed: ObservedTopic | None) -> Changes:
        have = observed.attributes if observed else {}
        out = [Change("attribute", have.get(k), v, item=k)
               for k, v in wanted.attributes.items() if have.get(k) != v]
        subs = observed.subscriptions if observed else ()
        present = {(s.protocol, s.endpoint) for s in subs if not s.cancelled}
        cancelled = {(s.protocol, s.endpoint) for s in subs if s.cancelled}
        out += [Change(p, CANCELLED if (p, e) in cancelled else None, "subscribe", item=e)
                for p, e in sorted(wanted.subscribers - present)]
        out += [Change(s.protocol, s.arn, None, item=s.endpoint) for s in subs
                if (s.protocol, s.endpoint) not in wanted.subscribers and s.removable]
        if observed:
            out += tag_changes(wanted.tags, observed.tags)
        return tuple(out)

    def notes(self, wanted: WantedTopic, observed: ObservedTopic | None) -> tuple[str, ...]:
        notes = []
        subs = observed.subscriptions if observed else ()
        live = {(s.protocol, s.endpoint) for s in subs if not s.cancelled}
        for s in subs:
            if s.cancelled and (s.protocol, s.endpoint) in wanted.subscribers - live:
                notes.append(f"{s.protocol} {s.endpoint} unsubscribed itself (the recipient "
                             "cancelled it); 'up' subscribes it again"
                             + (", which sends a new confirmation e-mail"
                                if s.protocol == "email" else ""))
            elif s.pending and (s.protocol, s.endpoint) in wanted.subscribers:
                notes.append(f"{s.protocol} {s.endpoint} is waiting for confirmation: "
                             "open the link in the e-mail AWS sent")
            elif s.pending:
                notes.append(f"{s.protocol} {s.endpoint} was removed from the config but its "
                             "confirmation is pending; AWS lets it expire after 3 days")
        return tuple(notes)

    def create(self, aws: Aws, wanted: WantedTopic) -> None:
        _while_principal_propagates(aws, "sns:create_topic", lambda: aws.call(
            "sns", "create_topic", Name=wanted.name, Attributes=wanted.attributes,
            Tags=as_list(wanted.tags)))
        gather({f"{protocol} {endpoint}": partial(_subscribe, aws, wanted.arn, protocol,
                                                  endpoint, settling=True)
                for protocol, endpoint in sorted(wanted.subscribers)})  # all at once

    def update(self, aws: Aws, wanted: WantedTopic, observed: ObservedTopic,
               changes: Changes) -> None:
        arn = wanted.arn
        for change in changes:
            if change.field == "attribute":
                _set_attribute(aws, arn, str(change.item), str(change.new))
            elif change.field in NOT_SUBSCRIBERS:
                continue  # tags and the applied record: one tag call below
            elif change.new:
                _subscribe(aws, arn, change.field, change.item)
            else:  # any protocol, also one the config never makes (sqs, https, lambda...)
                aws.call("sns", "unsubscribe", SubscriptionArn=change.old, missing_ok=True)
        apply_tags(changes,
                   lambda tags: aws.call("sns", "tag_resource", ResourceArn=arn,
                                         Tags=as_list(tags)),
                   lambda keys: aws.call("sns", "untag_resource", ResourceArn=arn,
                                         TagKeys=keys))

    def delete(self, aws: Aws, wanted: WantedTopic, observed: ObservedTopic) -> None:
        # Deleting a topic deletes its subscriptions with it.
        aws.call("sns", "delete_topic", TopicArn=wanted.arn, missing_ok=True)

    def cost(self, stack: Stack, runs: int) -> tuple[Line, ...]:
        """A message a run to each phone (priced by country) and e-mail address: one publish
        a run, fanned out to every subscriber."""
        notify, sent = stack.config.notify, runs * len(stack.config.notify.email)
        return (*(sms_line(number, runs) for number in notify.sms),
                Line("SNS e-mail deliveries", sent, "e-mails",
                     beyond_free(sent, SNS_FREE_EMAILS, SNS_USD_PER_EMAIL),
                     f"first {SNS_FREE_EMAILS:,} a month free, then $2.00 per 100,000"),
                Line("SNS publishes", runs, "publishes",
                     beyond_free(runs, SNS_FREE_PUBLISHES, SNS_USD_PER_PUBLISH),
                     f"first {SNS_FREE_PUBLISHES:,} a month free"))

    def summary(self, observed: ObservedTopic | None) -> dict[str, Any]:
        if observed is None:
            return {}
        return {
            "arn": observed.arn,
            "encryption": observed.attributes.get("KmsMasterKeyId"),
            "subscriptions": [
                {"protocol": s.protocol, "endpoint": s.endpoint,
                 "state": s.state}
                for s in observed.subscriptions
            ],
        }


def _subscriptions(aws: Aws, arn: str) -> tuple[Subscription, ...]:
    return tuple(Subscription(s["Protocol"], s["Endpoint"], s["SubscriptionArn"])
                 for page in aws.pages("sns", "list_subscriptions_by_topic", TopicArn=arn)
                 for s in page.get("Subscriptions", []))


def _subscribe(aws: Aws, arn: str, protocol: str, endpoint: str, settling: bool = False,
               ) -> None:
    aws.call("sns", "subscribe", TopicArn=arn, Protocol=protocol, Endpoint=endpoint,
             ReturnSubscriptionArn=True, settling=settling)


def _set_attribute(aws: Aws, arn: str, name: str, value: str) -> None:
    def send() -> Any:
        return aws.call("sns", "set_topic_attributes", TopicArn=arn, AttributeName=name,
                        AttributeValue=value)

    _while_principal_propagates(aws, "sns:set_topic_attributes", send)


def _canonical_or_text(text: str) -> str:
    """The policy as read, in the form the wanted one is written in. Equivalent spellings AWS
    may answer with count as equal: Principal {"AWS": "*"} is "*", and an account ID is that
    account's root ARN (IAM User Guide, "AWS JSON policy elements: Principal"); otherwise a
    no-op 'up' would rewrite the policy forever."""
    try:
        document = json.loads(text)
    except ValueError:
        return text
    statements = document.get("Statement") if isinstance(document, dict) else None
    for statement in statements if isinstance(statements, list) else []:
        if isinstance(statement, dict) and "Principal" in statement:
            statement["Principal"] = _principal(statement["Principal"])
    return canonical(document)


def _principal(principal: Any) -> Any:
    if principal == {"AWS": "*"}:
        return "*"
    if isinstance(principal, dict) and isinstance(principal.get("AWS"), str):
        aws = principal["AWS"]
        if aws.isdigit() and len(aws) == 12:
            return {**principal, "AWS": f"arn:aws:iam::{aws}:root"}
    return principal


def _while_principal_propagates(aws: Aws, what: str, send: Callable[[], Any]) -> Any:
    """Send a write that carries the topic policy, again while SNS answers PrincipalNotFound.

    Bounded like every retry here: capped exponential backoff with full jitter, on the retry
    policy's clock, until its deadline; then the last error goes up unchanged."""
    policy = aws.retry
    start, attempt = policy.clock(), 0
    while True:
        try:
            return send()
        except AwsError as err:
            if (err.code != "InvalidParameter" or PRINCIPAL_NOT_FOUND not in str(err).lower()
                    or policy.clock() - start >= policy.deadline_s):
                raise
        attempt += 1
        wait = random.uniform(0, min(policy.cap_s, policy.initial_s * 2 ** attempt))
        policy.attempts[what] = attempt + 1
        log.info("%s: waiting for the new IAM role to propagate to SNS; attempt %d in %.1fs",
                 what, attempt + 1, wait)
        if policy.on_retry:
            policy.on_retry(what, "waiting for the new IAM role to propagate to SNS",
                            attempt + 1, policy.clock() - start)
        policy.sleep(wait)
