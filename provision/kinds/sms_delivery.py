"""Can SNS actually deliver to each configured phone number? Read-only checks for `status`.

SNS accepts a publish to an SMS subscription and then silently drops it when
- the number replied STOP and is opted out (CheckIfPhoneNumberIsOptedOut: "You cannot send SMS
  messages to a number that is opted out"), or
- the account is in the SMS sandbox (GetSMSSandboxAccountStatus) and the number is not a
  verified sandbox destination (ListSMSSandboxPhoneNumbers, paginated; Status Pending|Verified).

These are advice, not part of the stack: they are not a Kind, `plan` and `up` never make them,
and a read that fails (AccessDenied, or an emulator without the API) makes that number's
delivery "unknown" instead of failing `status`. All reads run concurrently: one opt-out check
per number, alongside the sandbox status and (only when in the sandbox) its verified list.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Any, Generic, TypeVar

from provision.aws.client import Aws
from provision.aws.concurrency import gather
from provision.aws.endpoint import is_loopback
from provision.errors import AwsError

log = logging.getLogger("provision.kinds.sms_delivery")
T = TypeVar("T")


class Delivery(StrEnum):
    OK = "deliverable"
    OPTED_OUT = "opted out"
    NOT_VERIFIED = "not verified in the SMS sandbox"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Read(Generic[T]):
    """One read's answer, or why it could not be made."""

    value: T | None = None
    error: str = ""
    denied: bool = False  # refused for lack of permission: deployer-policy lists what is needed


@dataclass(frozen=True)
class SmsDelivery:
    number: str
    delivery: Delivery
    reason: str = ""  # why it is unknown
    denied: bool = False  # a read was refused for lack of permission

    @property
    def note(self) -> str:
        """What `status` tells the user, with what to do; empty when deliverable."""
        text = _NOTES[self.delivery].format(number=self.number, reason=self.reason)
        return text + (PERMISSIONS if self.denied else "")


_NOTES = {
    Delivery.OK: "",
    Delivery.OPTED_OUT: (
        "sms {number} has opted out (replied STOP): SNS accepts alerts for it but never "
        "delivers them. Once the recipient agrees, opt it back in with 'aws sns "
        "opt-in-phone-number --phone-number {number}' (allowed once every 30 days)."),
    Delivery.NOT_VERIFIED: (
        "sms {number} is not a verified destination and this account is in the SMS sandbox, "
        "so SNS never delivers to it: add and verify it in the SNS console (Text messaging "
        "(SMS) > Sandbox destination phone numbers), or ask AWS to move the account out of "
        "the sandbox."),
    Delivery.UNKNOWN: (
        "sms {number}: delivery unknown, could not check whether SNS can deliver to it "
        "({reason})."),
}
PERMISSIONS = (" 'stock-alert deployer-policy' lists the SNS read permissions this check "
               "needs.")
DENIED = ("AccessDenied", "AccessDeniedException", "AuthorizationError",
          "AuthorizationErrorException", "UnauthorizedOperation")
# What an emulator answers for an action it lacks: a non-AWS body, or moto server's 500.
UNAVAILABLE = ("NotAnAwsAnswer", "InternalFailure", "InternalError", "InternalServerError")


def check(aws: Aws, numbers: Iterable[str]) -> tuple[SmsDelivery, ...]:
    """One verdict per number, in sorted order; no calls at all when there are no numbers."""
    wanted = sorted(set(numbers))
    if not wanted:
        return ()
    tasks: dict[str, Callable[[], Any]] = {"sandbox": partial(_sandbox, aws)}
    tasks |= {n: partial(_read, _opted_out, aws, n) for n in wanted}
    found = gather(tasks)
    in_sandbox, verified = found["sandbox"]
    return tuple(verdict(n, found[n], in_sandbox, verified) for n in wanted)


def verdict(number: str, opted_out: Read[bool], in_sandbox: Read[bool],
            verified: Read[frozenset[str]]) -> SmsDelivery:
    """Pure: a definite reason it is not delivered wins; else any failed read makes it unknown."""
    if opted_out.value:
        return SmsDelivery(number, Delivery.OPTED_OUT)
    if in_sandbox.value and verified.value is not None and number not in verified.value:
        return SmsDelivery(number, Delivery.NOT_VERIFIED)
    needed = (opted_out, in_sandbox, verified) if in_sandbox.value else (opted_out, in_sandbox)
    failed = [r.error for r in needed if r.error]
    if failed:
        return SmsDelivery(number, Delivery.UNKNOWN, "; ".join(failed),
                           any(r.denied for r in needed))
    return SmsDelivery(number, Delivery.OK)


def _sandbox(aws: Aws) -> tuple[Read[bool], Read[frozenset[str]]]:
    """The sandbox status, then (only when in the sandbox) its verified numbers."""
    in_sandbox = _read(_in_sandbox, aws)
    if not in_sandbox.value:
        return in_sandbox, Read()
    return in_sandbox, _read(_verified, aws)


def _read(fn: Callable[..., T], aws: Aws, *args: object) -> Read[T]:
    lacking = Read[T](error=f"{_what(fn)} is not available on the emulator")
    try:
        return Read(fn(aws, *args))
    except AwsError as err:
        # The status note says so; the details are for --debug.
        log.debug("SMS delivery check %s failed: %s", fn.__name__, err)
        if err.code in UNAVAILABLE and is_loopback(aws.endpoint_url):
            return lacking  # an emulator without the action, over HTTP
        return Read(error=f"{_what(fn)}: {err.code or err.message}", denied=err.code in DENIED)
    except NotImplementedError as err:  # an emulator without the action, in-process
        log.debug("SMS delivery check %s failed: %s", fn.__name__, err)
        return lacking


def _what(fn: Callable[..., object]) -> str:
    return {"_opted_out": "sns:CheckIfPhoneNumberIsOptedOut",
            "_in_sandbox": "sns:GetSMSSandboxAccountStatus",
            "_verified": "sns:ListSMSSandboxPhoneNumbers"}.get(fn.__name__, fn.__name__)


def _opted_out(aws: Aws, number: str) -> bool:
    return bool(aws.call("sns", "check_if_phone_number_is_opted_out",
                         phoneNumber=number)["isOptedOut"])


def _in_sandbox(aws: Aws) -> bool:
    return bool(aws.call("sns", "get_sms_sandbox_account_status")["IsInSandbox"])


def _verified(aws: Aws) -> frozenset[str]:
    return frozenset(p["PhoneNumber"] for page in aws.pages("sns",
                                                             "list_sms_sandbox_phone_numbers")
                     for p in page.get("PhoneNumbers", []) if p.get("Status") == "Verified")
