"""Config for hardening what `up` creates: the topic's customer KMS key (notify.kms_key), the
function's reserved concurrency (function.reserved_concurrency) and how EventBridge retries
delivering the schedule's event to the function (schedule_delivery).

Each value is checked here, without AWS, so a wrong one exits 2 naming the key and the fix.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from provision.config import validators as v

# A key ARN (arn:aws:kms:us-east-1:123456789012:key/<uuid> or an mrk-<hex> multi-Region key) or
# an alias ARN (arn:aws:kms:us-east-1:123456789012:alias/<name>). Alias names: letters, digits,
# '/', '_', '-' (KMS CreateAlias), and never the AWS-reserved alias/aws/ prefix.
_KEY_ARN = re.compile(
    r"arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:"
    r"(key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
    r"|alias/[A-Za-z0-9/_-]{1,250})", re.ASCII)
# Lambda: an unreserved pool of at least 100 must stay in an account whose limit is the default
# 1000, so 900 is the most one function can reserve there (PutFunctionConcurrency's model text).
CONCURRENCY_MAX = 900
DEFAULT_RETRY_ATTEMPTS = 2
DEFAULT_EVENT_AGE_S = 3600


def check_kms_key(value: str | None) -> str | None:
    if value is None:
        return None
    if not _KEY_ARN.fullmatch(value):
        raise ValueError(
            f"{v.shown(value)} is not a KMS key ARN or alias ARN; write the full ARN, e.g. "
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab or "
            "arn:aws:kms:us-east-1:123456789012:alias/stock-alert, or leave notify.kms_key out "
            "to use the AWS-managed key alias/aws/sns")
    if ":alias/aws/" in value:
        raise ValueError(
            f"{v.shown(value)} is an AWS-managed key, whose key policy you cannot change; leave "
            "notify.kms_key out for alias/aws/sns, or name a customer managed key")
    return value


def check_concurrency(value: int | None) -> int | None:
    if value is None:
        return None
    if not 1 <= value <= CONCURRENCY_MAX:
        raise ValueError(
            f"{value} is outside 1..{CONCURRENCY_MAX}; use 1 (one alert run at a time), or null "
            "to reserve nothing (an account whose concurrency limit is only 10 cannot reserve "
            "any: Lambda keeps 10 unreserved)")
    return value


KmsKey = Annotated[str | None, AfterValidator(check_kms_key)]
ReservedConcurrency = Annotated[int | None, Field(strict=True),
                                AfterValidator(check_concurrency)]


class ScheduleDelivery(BaseModel):
    """EventBridge's RetryPolicy on the rule's target (PutTargets): how often and for how long
    it retries invoking the function when Lambda throttles it or is unavailable."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, defer_build=True)

    max_retry_attempts: Annotated[int, Field(ge=0, le=185, strict=True)] = (
        DEFAULT_RETRY_ATTEMPTS)
    max_event_age_s: Annotated[int, Field(ge=60, le=86400, strict=True)] = DEFAULT_EVENT_AGE_S

    def retry_policy(self) -> dict[str, int]:
        return {"MaximumRetryAttempts": self.max_retry_attempts,
                "MaximumEventAgeInSeconds": self.max_event_age_s}
