"""botocore session and clients (created once, lazily, thread-safely) and AWS error translation.

Resource modules never build clients themselves: they ask an `Aws` for one and send each call
through `Aws.call`, which applies the retry policy and turns botocore errors into AwsError.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlparse

from provision import __version__
from provision.errors import AwsError, InputError, RetryExhausted
from provision.retry import NOT_FOUND, RetryPolicy, error_code, error_message, retry_reason

log = logging.getLogger("provision.aws")

ALREADY_EXISTS = frozenset({
    "EntityAlreadyExists", "ResourceAlreadyExistsException", "ResourceConflictException",
})
EMULATOR_HINT = (
    "To try stock-alert with no AWS account, start the local emulator with "
    "'stock-alert emulator' and run the export line it prints."
)


def is_loopback(url: str | None) -> bool:
    host = urlparse(url or "").hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


class Aws:
    """One AWS identity and region; hands out cached clients and runs calls with retries."""

    def __init__(
        self,
        region: str,
        profile: str | None = None,
        endpoint_url: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.region = region
        self.profile = profile
        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        self.retry = retry or RetryPolicy()
        self._lock = threading.Lock()
        self._session: Any = None
        self._clients: dict[str, Any] = {}

    # setup -------------------------------------------------------------------------------
    def session(self) -> Any:
        """The botocore session (boto3's core, without boto3's resource layer and s3transfer,
        which this tool never uses and which cost start-up time)."""
        with self._lock:
            if self._session is None:
                self._session = self._make_session()
            return self._session

    @property
    def events(self) -> Any:
        """The session's event emitter: botocore hooks for logging, tests and fault injection."""
        return self.session().get_component("event_emitter")

    def _make_session(self) -> Any:
        import botocore.session
        from botocore.exceptions import ProfileNotFound

        session = botocore.session.Session(profile=self.profile)
        try:
            credentials = session.get_credentials()
        except ProfileNotFound:
            raise InputError(
                f"AWS profile {self.profile or os.environ.get('AWS_PROFILE')!r} is not in your "
                "AWS config files.",
                hint="Check --profile / AWS_PROFILE against 'aws configure list-profiles'.",
            ) from None
        if credentials is None:
            if not is_loopback(self.endpoint_url):
                raise InputError(
                    "No AWS credentials found (checked AWS_PROFILE, the AWS_ACCESS_KEY_ID "
                    "variables, ~/.aws and instance metadata).",
                    hint="Run 'aws configure' or set AWS_PROFILE for a real account. "
                    + EMULATOR_HINT,
                )
            # A local emulator accepts any credentials; spare the user from inventing some.
            session.set_credentials("testing", "testing", "testing")
        session.register("before-call", _log_call)
        return session

    def client(self, service: str) -> Any:
        session = self.session()
        with self._lock:
            if service not in self._clients:
                self._clients[service] = session.create_client(
                    service, region_name=self.region, endpoint_url=self.endpoint_url,
                    config=_client_config(),
                )
            return self._clients[service]

    # calls -------------------------------------------------------------------------------
    def call(self, service: str, operation: str, *, missing_ok: bool = False,
             settling: bool = False, **params: Any) -> Any:
        """Call `operation` (snake_case) with retries; None for not-found when missing_ok.

        settling=True: the target was created earlier in this run, so "not found" is AWS's
        eventual consistency and is retried until the deadline.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        method: Callable[..., Any] = getattr(self.client(service), operation)
        try:
            return self.retry.call(f"{service}:{operation}", method, settling=settling,
                                   **params)
        except ClientError as exc:
            if missing_ok and error_code(exc) in NOT_FOUND:
                return None
            raise translate(exc, service, operation) from exc
        except BotoCoreError as exc:
            raise transport_error(exc, self.endpoint_url, service, operation) from exc

    def pages(self, service: str, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every page of a paginated read, paged by botocore's own paginator model; each page
        is a separate `call`, so retries and error translation apply page by page."""
        from botocore.paginate import Paginator

        client = self.client(service)
        api_name = client.meta.method_to_api_mapping[operation]
        config = self.session().get_paginator_model(service).get_paginator(api_name)
        model = client.meta.service_model.operation_model(api_name)

        def fetch(**kwargs: Any) -> Any:
            return self.call(service, operation, **kwargs)

        yield from Paginator(fetch, config, model).paginate(**params)

    def waiter(self, service: str, name: str, **params: Any) -> None:
        from botocore.exceptions import WaiterError

        log.info("waiting for %s (%s)", name, params)
        try:
            self.client(service).get_waiter(name).wait(**params)
        except WaiterError as exc:
            raise AwsError(f"Waited for {service} {name} but it did not succeed: {exc}.",
                           hint="Check the resource in the AWS console, then run the "
                           "command again.") from exc

    def account(self) -> tuple[str, str]:
        """(account id, partition) of the caller: one STS call."""
        identity = self.call("sts", "get_caller_identity")
        arn = identity["Arn"]
        return identity["Account"], arn.split(":")[1]


def _log_call(event_name: str, **_: Any) -> None:
    log.debug("AWS call %s", event_name.removeprefix("before-call."))


TIMEOUT_ENV = "STOCK_ALERT_TIMEOUT_S"
CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 5.0  # x 4 attempts + botocore's backoff (< 7 s): a dead endpoint ends < 30 s


def client_timeouts() -> tuple[float, float]:
    """(connect, read) timeouts in seconds for every AWS client.

    Control-plane calls (IAM, Lambda, SNS, EventBridge, STS) answer in well under a second, so
    the defaults stay short; STOCK_ALERT_TIMEOUT_S sets the read timeout (1 to 300 s) for a
    slow link or emulator, and caps the connect timeout. InputError when it is not a number.
    """
    raw = os.environ.get(TIMEOUT_ENV, "")
    if not raw:
        return CONNECT_TIMEOUT_S, READ_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 1 <= value <= 300:  # also refuses nan
        raise InputError(f"{TIMEOUT_ENV}={raw[:40]!r} is not a number of seconds from 1 to 300.",
                         hint=f"Set it like 10, or unset it for the default read timeout of "
                         f"{READ_TIMEOUT_S:g} s.")
    return min(CONNECT_TIMEOUT_S, value), value


def _client_config() -> Any:
    from botocore.config import Config

    retries: dict[str, Any] = {"mode": os.environ.get("AWS_RETRY_MODE", "standard")}
    if not os.environ.get("AWS_MAX_ATTEMPTS"):
        retries["total_max_attempts"] = 4
    connect, read = client_timeouts()
    return Config(
        retries=retries,  # type: ignore[arg-type]
        connect_timeout=connect,
        read_timeout=read,
        user_agent_extra=f"stock-alert/{__version__}",
    )


def translate(exc: Any, service: str, operation: str) -> AwsError:
    code, message = error_code(exc), error_message(exc)
    where = f"{service} {operation.replace('_', ' ')}"
    if retry_reason(exc):
        return RetryExhausted(
            f"{where} kept failing with {code}: {message}", code=code,
            hint="AWS did not recover before the retry deadline; run the same command again "
            "to continue where this one stopped.")
    hint = "Fix the cause and run the same command again; it continues where this one stopped."
    if code in ("AccessDenied", "AccessDeniedException", "AuthorizationError",
                "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken"):
        hint = ("Your AWS identity lacks this permission or its credentials are invalid; the "
                "README lists the permissions the operator needs.")
    return AwsError(f"AWS refused {where}: {code}: {message}", hint=hint, code=code)


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
    if is_loopback(endpoint):
        hint = "Is the local emulator running? Start it with 'stock-alert emulator'. " + hint
    timed = _timeout_message(exc, target, f"{service} {operation.replace('_', ' ')}")
    if timed:
        return AwsError(timed[0], hint=f"{timed[1]} {hint}".strip(), code=type(exc).__name__)
    return AwsError(f"Could not complete {service} {operation.replace('_', ' ')} against "
                    f"{target}: {exc}", hint=hint, code=type(exc).__name__)
