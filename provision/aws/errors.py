"""AWS errors in our words: what failed, where, and the next step (quota, timeout, refusal).

aws.Aws.call and Aws.waiter turn every botocore exception into one of these.
"""

from __future__ import annotations

from typing import Any

from provision.aws.denials import GENERIC, denial_hint
from provision.aws.endpoint import EMULATOR_HINT, TIMEOUT_ENV, client_timeouts, is_loopback
from provision.aws.retry import (
    ENI_GRANT_WAIT_S,
    NETWORK_ACTIONS,
    QUOTA,
    eni_permission,
    error_code,
    error_message,
    retry_reason,
)
from provision.errors import AwsError, QuotaExceeded, RetryExhausted, UncertainOutcome

QUOTA_NAMES = {
    ("events", "put_rule"): ("EventBridge rules per event bus (default 300; 100 in some "
                             "Regions)", "rules"),
    ("events", "put_targets"): ("EventBridge targets per rule (5, not adjustable)", "targets"),
    ("logs", "create_log_group"): ("CloudWatch Logs log groups per account and Region",
                                   "log groups"),
}


def translate(exc: Any, service: str, operation: str, *,
              retried: bool | None = None) -> AwsError:
    """The user's error for a botocore ClientError. `retried`: whether the retry policy kept
    trying it (default: whether it would, without the call's flags)."""
    code, message = error_code(exc), error_message(exc)
    where = f"{service} {operation.replace('_', ' ')}"
    if code in QUOTA:
        return quota_error(service, operation, code, message)
    action = eni_permission(exc)
    if action:
        return role_cannot(action, where, code, message, retried is True)
    if retry_reason(exc) if retried is None else retried:
        return RetryExhausted(
            f"{where} kept failing with {code}: {message}", code=code,
            hint="AWS did not recover before the retry deadline; run the same command again "
            "to continue where this one stopped.")
    hint = "Fix the cause and run the same command again; it continues where this one stopped."
    if code in ("UnrecognizedClientException", "InvalidClientTokenId"):
        hint = emulator_keys_hint() or GENERIC
    if code in ("ExpiredToken", "ExpiredTokenException", "RequestExpired"):
        hint = ("Your AWS credentials expired: renew them (e.g. 'aws sso login', or assume "
                "the role again), then run the same command again; it continues where this "
                "one stopped.")
    hint = denial_hint(code, message) or hint
    return AwsError(f"AWS refused {where}: {code}: {message}", hint=hint, code=code)


ENI_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces",
               "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
               "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses")


def role_cannot(action: str, where: str, code: str, message: str,
                waited: bool) -> AwsError:
    """Lambda says the execution role may not call an EC2 network-interface action. The role's
    own grant (<name>-vpc-enis) allows it, so something caps the role: waiting is no cure."""
    after = (f" It still said so after {ENI_GRANT_WAIT_S:g} s of waiting for the role's new "
             "grant to propagate." if waited else "")
    if action not in NETWORK_ACTIONS:  # a destination's check (on_failure.py), not EC2's
        return AwsError(
            f"AWS refused {where}: {code}: {message.rstrip('.')}.{after} Lambda checks "
            f"{action} with the execution role's own permissions, and the role's inline "
            "policies allow it: something else limits the role.", code=code,
            hint="Check the role's permissions boundary (iam.permissions_boundary in the "
            "config) and your organization's service control policies: they must allow "
            f"{action} for the role. Then run 'stock-alert up' again.")
    return AwsError(
        f"AWS refused {where}: {code}: {message.rstrip('.')}.{after} Lambda checks "
        f"ec2:{action} with the execution role's own permissions, and the role's inline grant "
        "allows it: something else limits the role.", code=code,
        hint="Check the role's permissions boundary (iam.permissions_boundary in the config) "
        "and your organization's service control policies: they must allow "
        f"{', '.join(ENI_ACTIONS)} for the role. Then run 'stock-alert up' again.")


def emulator_keys_hint() -> str | None:
    """The emulator's test key ('stock-alert emulator' exports AWS_ACCESS_KEY_ID=testing) used
    with no endpoint: the call went to real AWS. Say which variable is missing."""
    import os

    if os.environ.get("AWS_ACCESS_KEY_ID") != "testing" or os.environ.get("AWS_ENDPOINT_URL"):
        return None
    return ("AWS_ACCESS_KEY_ID is 'testing', the local emulator's test key, but "
            "AWS_ENDPOINT_URL is not set, so the call went to real AWS's address: set "
            "AWS_ENDPOINT_URL (run the export line 'stock-alert emulator' prints), or unset the "
            "test keys to use your own.")


def quota_error(service: str, operation: str, code: str, message: str) -> QuotaExceeded:
    """A full quota: say which, and how to raise it; running again will not help by itself."""
    quota, things = QUOTA_NAMES.get((service, operation),
                                    (f"a {service} service quota", "resources"))
    return QuotaExceeded(
        f"AWS refused {service} {operation.replace('_', ' ')}: {code}: {message} The quota "
        f"'{quota}' is full in this account and Region; this is not throttling, so retrying "
        "cannot help.",
        code=code,
        hint=f"Delete {things} you no longer use, or raise the quota in the Service Quotas "
        f"console (https://console.aws.amazon.com/servicequotas/home/services/{service}/quotas)"
        f" or with 'aws service-quotas list-service-quotas --service-code {service}' (to find "
        f"its quota code) and 'aws service-quotas request-service-quota-increase "
        f"--service-code {service} --quota-code CODE --desired-value N'; then run the same "
        "command again.")


def _timeout_message(exc: Any, target: str, call: str) -> tuple[str, str] | None:
    """Our words for a timeout or an unreachable endpoint: (message, extra hint) or None."""
    from botocore.exceptions import (
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )

    if not isinstance(exc, ReadTimeoutError | ConnectTimeoutError | EndpointConnectionError):
        return None
    connect, read = client_timeouts()
    slow = (f"For a slow endpoint, raise {TIMEOUT_ENV} (now {read:g} s per attempt).")
    if isinstance(exc, ReadTimeoutError):
        return (f"{target} accepted the connection for {call} but sent no answer within "
                f"{read:g} s, on every attempt.", slow)
    if isinstance(exc, ConnectTimeoutError):
        return (f"Could not connect to {target} for {call} within {connect:g} s, on every "
                "attempt.", slow)
    return (f"Could not connect to {target} for {call}: nothing accepted the connection.", "")


def transport_error(exc: Any, endpoint: str | None, service: str, operation: str) -> AwsError:
    from botocore.exceptions import NoCredentialsError

    if isinstance(exc, NoCredentialsError):
        return AwsError("No AWS credentials found.", hint=EMULATOR_HINT)
    target = endpoint or f"the {service} endpoint"
    hint = "Check your network, then run the same command again; it continues where it stopped."
    if endpoint is None and emulator_keys_hint():
        hint = str(emulator_keys_hint())
    elif is_loopback(endpoint):
        hint = "Is the local emulator running? Start it with 'stock-alert emulator'. " + hint
    timed = _timeout_message(exc, target, f"{service} {operation.replace('_', ' ')}")
    if timed:
        return AwsError(timed[0], hint=f"{timed[1]} {hint}".strip(), code=type(exc).__name__)
    return AwsError(f"Could not complete {service} {operation.replace('_', ' ')} against "
                    f"{target}: {exc}", hint=hint, code=type(exc).__name__)


def not_aws_answer(endpoint: str | None, service: str, operation: str) -> AwsError:
    """The endpoint answered, but not as AWS does (an HTML error page, a proxy, a wrong port)."""
    target = endpoint or f"the {service} endpoint"
    hint = ("Check that AWS_ENDPOINT_URL points at AWS or an AWS emulator, not another "
            "service; then run the same command again.")
    if is_loopback(endpoint):
        hint = ("If this is a local emulator, it may not implement this call, or it failed "
                "on it (its log says why). " + hint)
    return AwsError(f"{target} answered {service} {operation.replace('_', ' ')} with something "
                    "that is not an AWS answer.", hint=hint, code="NotAnAwsAnswer")


def uncertain(exc: Any, service: str, operation: str) -> UncertainOutcome | None:
    """UncertainOutcome when `exc` (from a call sent once) does not tell whether the call took
    effect: an HTTP 5xx answer, no answer within the read timeout, or a connection dropped
    after sending. None when it surely did not (a 4xx refusal, nothing accepted the
    connection)."""
    from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

    where = f"{service} {operation.replace('_', ' ')}"
    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if status < 500:
            return None
        code = error_code(exc)
        return UncertainOutcome(f"{where} answered HTTP {status} {code}: "
                                f"{error_message(exc)}", code=code)
    if isinstance(exc, ReadTimeoutError | ConnectionClosedError):
        return UncertainOutcome(f"{where} sent no answer ({type(exc).__name__}: {exc})",
                                code=type(exc).__name__)
    return None


def waiter_reason(last: Any) -> str:
    """The reason a waiter's last answer gives, when it gives one: Lambda's
    StateReasonCode/StateReason or LastUpdateStatusReasonCode/LastUpdateStatusReason."""
    conf = (last or {}).get("Configuration", last or {})
    for prefix in ("LastUpdateStatus", "State"):
        if conf.get(f"{prefix}ReasonCode") and conf.get(prefix) == "Failed":
            return (f"{prefix} Failed, {conf[f'{prefix}ReasonCode']}: "
                    f"{conf.get(f'{prefix}Reason') or 'no reason given'}")
    return ""
