"""botocore session and clients (created once, lazily, thread-safely) and AWS error translation.

Resource modules never build clients themselves: they ask an `Aws` for one and send each call
through `Aws.call`, which applies the retry policy and turns botocore errors into AwsError.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from provision.aws.concurrency import wait
from provision.aws.connections import open_ahead, when_done
from provision.aws.endpoint import EMULATOR_HINT, client_config, is_loopback, single_attempt
from provision.aws.errors import (
    not_aws_answer,
    translate,
    transport_error,
    uncertain,
    waiter_reason,
)
from provision.aws.regions import not_enabled
from provision.aws.retry import (
    NOT_FOUND,
    RetryPolicy,
    ThrottleGate,
    error_code,
    retry_reason,
)
from provision.errors import AwsError, InputError

log = logging.getLogger("provision.aws.client")
T = TypeVar("T")

ALREADY_EXISTS = frozenset({
    "EntityAlreadyExists", "ResourceAlreadyExistsException", "ResourceConflictException",
})
class Learnt:
    """What this run's reads and writes learnt in one account and Region, kept on that place's
    `Aws` (never process-wide): e.g. the id of the security group a kind read or made, by
    (kind, name), for the function that a later step configures with it. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[tuple[str, str], str] = {}

    def remember(self, kind: str, name: str, value: str | None) -> None:
        with self._lock:
            if value is None:
                self._values.pop((kind, name), None)
            else:
                self._values[(kind, name)] = value

    def recall(self, kind: str, name: str) -> str | None:
        with self._lock:
            return self._values.get((kind, name))


@dataclass(frozen=True)
class Connection:
    """What the Aws instances of one identity share (sibling, assume): the botocore session
    (credentials and hooks), the lock that guards it (botocore sessions are not thread-safe),
    and the identity when it is already known (None: ask STS)."""

    session: Any
    lock: threading.Lock
    identity: tuple[str, str] | None = None


# Set by the constructor and fixed from then on: another Region, account or setting is
# another Aws (sibling, assume), never a change to this one.
CONFIGURATION = frozenset({"region", "profile", "endpoint_url", "retry", "retry_mode",
                           "shared_gates"})


class Aws:
    """One AWS identity and region; hands out cached clients and runs calls with retries.

    Its configuration is fixed once built; only its caches (session, clients, identity, what
    reads learnt) fill in as it is used."""

    def __init__(
        self,
        region: str,
        profile: str | None = None,
        endpoint_url: str | None = None,
        retry: RetryPolicy | None = None,
        retry_mode: str | None = None,
        *,
        shared_gates: bool = False,
        connection: Connection | None = None,
    ) -> None:
        self.region = region
        self.retry_mode = retry_mode  # botocore's; AWS_RETRY_MODE wins, else "standard"
        self.shared_gates = shared_gates  # a fleet: one ThrottleGate per client, shared
        self.profile = profile
        self.endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
        self.retry = retry or RetryPolicy()
        self._identity: tuple[str, str] | None = connection.identity if connection else None
        self._identity_lock = threading.Lock()
        self._lock = connection.lock if connection else threading.Lock()
        self._session: Any = connection.session if connection else None
        self._clients: dict[str, Any] = {}
        self._ahead: set[str] = set()  # services with connections opened ahead (prewarm)
        self._coming: dict[str, threading.Event] = {}  # clients the prewarm is making
        self.learnt = Learnt()  # this account and Region's only: siblings get their own

    def __setattr__(self, name: str, value: Any) -> None:
        if name in CONFIGURATION and name in self.__dict__:
            raise AttributeError(f"Aws.{name} is set when the Aws is built; build another "
                                 "(Aws(...), sibling or assume) instead of changing it")
        super().__setattr__(name, value)

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

        from provision.aws import models

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
        models.install(session)  # after the profile is known to exist: it reads data_path
        # Regional STS: a global-endpoint token is refused in opt-in Regions (regions.py).
        session.set_config_variable("sts_regional_endpoints", "regional")
        session.register("before-call", _log_call)
        session.register("needs-retry", self._say_no_answer)
        return session

    def client(self, service: str) -> Any:
        # The prewarm makes it, in the order the reads need them, and is done only once its
        # connections are in the pool: a client already made may still be opening them, and
        # a call that took it then would open its own (set once, this costs a lock's turn).
        coming = self._coming.get(service)
        if coming is not None:
            wait(coming)
        found = self._clients.get(service)  # no lock once made: clients are thread-safe
        if found is not None:
            return found
        return self._make_client(service)

    def _make_client(self, service: str) -> Any:
        session = self.session()
        with self._lock:  # botocore sessions are not: create one client at a time
            if service not in self._clients:
                client = session.create_client(
                    service, region_name=self.region, endpoint_url=self.endpoint_url,
                    config=client_config(self.retry_mode))
                if self.shared_gates:
                    ThrottleGate(sleep=self.retry.sleep, clock=self.retry.clock).attach(
                        client.meta.events)
                self._clients[service] = client
            return self._clients[service]

    def prewarm(self, services: tuple[str, ...],
                connections: dict[str, int] | None = None) -> None:
        """Create these clients in a background thread, in this order, e.g. while the first
        call is in flight, so the concurrent reads that follow find them ready (a read that
        asks for one first waits for it, rather than take the session's lock out of turn
        and make its own: a heavy one first would hold up every other read); and for those
        named in `connections`, open that many connections to it (connections.py)."""
        coming = {s: threading.Event() for s in services if s not in self._clients}
        self._coming.update(coming)

        def make() -> None:
            try:
                for service in services:
                    client = self._make_client(service)
                    opening = (open_ahead(client, connections[service]) if connections and
                               connections.get(service) and self._first_ahead(service) else [])
                    if service in coming:  # ready once its connections are in the pool too
                        when_done(opening, coming.pop(service))
            except Exception as exc:  # noqa: BLE001 - e.g. no credentials: the read that
                # needs the client makes it again and reports the error in its own words
                log.debug("prewarm stopped: %r", exc)
            finally:  # a client that could not be made: whoever waits makes (or fails) it
                for event in coming.values():
                    event.set()

        threading.Thread(target=make, daemon=True, name="prewarm-clients").start()

    def _first_ahead(self, service: str) -> bool:
        """Whether to open connections ahead to `service` now: only before this Aws knows
        its account, and once (a fleet's stacks share the Aws; each stack's connections
        more would overflow the pool, and then STS answers from memory anyway)."""
        with self._lock:  # not _identity_lock: the STS call holds that until it is answered
            if self._identity is not None or service in self._ahead:
                return False
            self._ahead.add(service)
            return True

    def _say_no_answer(self, event_name: str = "", attempts: int = 0,
                       caught_exception: Any = None, **_: Any) -> None:
        """A progress line while botocore retries a call that got no answer (a silent or
        unreachable endpoint), so a long wait never looks like a hang. Decides nothing."""
        if caught_exception is not None and _no_answer(caught_exception):
            call = event_name.removeprefix("needs-retry.")
            log.info("%s: no answer from %s (attempt %d): %s", call,
                     self.endpoint_url or "AWS", attempts, type(caught_exception).__name__)

    # calls -------------------------------------------------------------------------------
    def call(self, service: str, operation: str, *, missing_ok: bool = False,
             settling: bool = False, dependents_removed: bool = False,
             role_written: bool = False, **params: Any) -> Any:
        """Call `operation` (snake_case) with retries; None for not-found when missing_ok.

        settling=True: the target was created earlier in this run, so "not found" is AWS's
        eventual consistency and is retried until the deadline.
        dependents_removed=True: this run has just removed what hung on the target (a rule's
        targets, a role's policies), so a delete refused because of them (EventBridge "Rule
        can't be deleted since it has targets.", IAM DeleteConflict "must delete policies
        first") is AWS's eventual consistency and is retried until the deadline.
        role_written=True: this run wrote the function's execution role or its ENI grant, so
        Lambda's "execution role does not have permissions to call CreateNetworkInterface" is
        propagation, retried briefly (retry.ENI_GRANT_WAIT_S); otherwise it fails at once.
        """
        from botocore.exceptions import BotoCoreError, ClientError
        from botocore.parsers import ResponseParserError

        method: Callable[..., Any] = getattr(self.client(service), operation)
        try:
            return self.retry.call(f"{service}:{operation}", method, settling=settling,
                                   dependents_removed=dependents_removed,
                                   role_written=role_written, **params)
        except ClientError as exc:
            if missing_ok and error_code(exc) in NOT_FOUND:
                return None
            region = not_enabled(self, error_code(exc))
            if region is not None:
                raise region from exc
            retried = retry_reason(exc, dependents_removed=dependents_removed,
                                   role_written=role_written) is not None
            raise translate(exc, service, operation, retried=retried) from exc
        except BotoCoreError as exc:
            raise transport_error(exc, self.endpoint_url, service, operation) from exc
        except ResponseParserError as exc:  # not a BotoCoreError: an answer that is not AWS's
            raise not_aws_answer(self.endpoint_url, service, operation) from exc

    def call_once(self, service: str, operation: str, *, read_timeout_s: float,
                  **params: Any) -> Any:
        """Send `operation` exactly once: no botocore retry, no retry policy. For a call that
        must not run twice (Lambda Invoke: every attempt can run the function). An answer that
        does not say whether it took effect raises UncertainOutcome (see aws_errors.uncertain);
        `read_timeout_s` is how long the call may take (a function's own timeout and more)."""
        from botocore.exceptions import BotoCoreError, ClientError

        session = self.session()
        with self._lock:  # its own client: the shared one retries
            client = session.create_client(
                service, region_name=self.region, endpoint_url=self.endpoint_url,
                config=client_config(self.retry_mode).merge(single_attempt(read_timeout_s)))
        try:
            return getattr(client, operation)(**params)
        except (ClientError, BotoCoreError) as exc:
            unsure = uncertain(exc, service, operation)
            if unsure is not None:
                raise unsure from exc
            if isinstance(exc, ClientError):
                raise translate(exc, service, operation, retried=False) from exc
            raise transport_error(exc, self.endpoint_url, service, operation) from exc

    def pages(self, service: str, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every page of a paginated read (aws/paging.py), each page a separate `call`."""
        from provision.aws.paging import pages

        return pages(self, service, operation, **params)

    def waiter(self, service: str, name: str, **params: Any) -> None:
        from botocore.exceptions import WaiterError

        log.info("waiting for %s (%s)", name, params)
        try:
            self.client(service).get_waiter(name).wait(**params)
        except WaiterError as exc:
            why = waiter_reason(exc.last_response)
            raise AwsError(f"Waited for {service} {name} but it did not succeed: {exc}"
                           f"{'; ' + why if why else ''}.",
                           hint="Fix that cause, then run the command again." if why else
                           "Check the resource in the AWS console, then run the command "
                           "again.") from exc

    def account(self) -> tuple[str, str]:
        """(account id, partition) of the caller: one STS call, remembered (the identity of a
        session does not change, and a fleet's stacks share one Aws)."""
        with self._identity_lock:  # many stacks ask at once: one of them asks STS
            if self._identity is None:
                identity = self.call("sts", "get_caller_identity")
                self._identity = identity["Account"], identity["Arn"].split(":")[1]
            return self._identity

    # more places ---------------------------------------------------------------------------
    def sibling(self, region: str) -> Aws:
        """The same identity in another Region: the same botocore session (so the same
        credentials and hooks), its own clients."""
        return self._like(region, Connection(self.session(), self._lock, self._identity))

    def _like(self, region: str, connection: Connection) -> Aws:
        return Aws(region, self.profile, self.endpoint_url, self.retry, self.retry_mode,
                   shared_gates=self.shared_gates, connection=connection)

    def assume(self, role_arn: str, session_name: str = "stock-alert") -> Aws:
        """An Aws acting as `role_arn` (STS AssumeRole, called with this one's credentials),
        in this Region. Its session shares this one's hooks; its credentials renew themselves
        with another AssumeRole before they expire (assumed.py), so a fleet run of any length
        finishes."""
        from provision.aws import assumed

        def fetch() -> dict[str, str]:
            return assumed.metadata(self.call("sts", "assume_role", RoleArn=role_arn,
                                              RoleSessionName=session_name))

        session = assumed.session_as(self.session(), fetch, self.retry.clock)
        return self._like(self.region, Connection(session, self._lock))  # another account:
        # its identity unknown until STS is asked


def absent_ok(read: Callable[[], T], *codes: str) -> Callable[[], T | None]:
    """`read`, answering None instead of raising when AWS says what it reads is not found
    (NOT_FOUND, or one of `codes`): for reads sent at once with the read that decides
    whether the resource exists."""
    def run() -> T | None:
        try:
            return read()
        except AwsError as err:
            if err.code in NOT_FOUND or err.code in codes:
                return None
            raise
    return run


def _no_answer(caught: Any) -> bool:
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import ReadTimeoutError

    return isinstance(caught, ReadTimeoutError | BotoConnectionError)


def _log_call(event_name: str, **_: Any) -> None:
    log.debug("AWS call %s", event_name.removeprefix("before-call."))
