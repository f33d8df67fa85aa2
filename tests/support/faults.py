"""In-process fault injection for tests that run under ``moto.mock_aws``.

moto answers every call from a ``before-send`` handler (``moto.core.models.botocore_stubber``,
appended to botocore's ``BUILTIN_HANDLERS`` at import). botocore's emitter calls *all* handlers of
an event and uses the first non-None answer, so a handler that merely returns an error first
would still let moto apply the call. This module therefore takes moto's place instead: it decides
the fault, and only calls moto's stubber when the call is meant to reach "AWS". An answer
injected at ``before-send`` goes through botocore's parsing and retry logic like a wire answer.

Three scopes:

* ``injector.attach(client)`` -- one client (moto's handler swapped for ours on that client);
* ``injector.attach_session(session)`` -- every client created from that boto3 Session later;
* ``injector.patch_globally()`` -- every client, existing or future (patches moto's stubber
  class for the duration), e.g. clients the code under test creates itself.

``inject_faults(target=None)`` wraps all three as one context manager.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.client import BaseClient
from botocore.exceptions import ConnectionClosedError
from moto.core.botocore_stubber import BotocoreStubber
from moto.core.models import botocore_stubber

from tests.support.awsproxy import (
    Call,
    CallLog,
    Drop,
    Error,
    Fault,
    LoseResponse,
    function_named,
    is_write_operation,
    render_error,
    role_not_assumable,
    service_from_authorization,
    throttling,
    update_in_progress,
)

#: botocore ``service_id`` (hyphenised, as in event names) -> SigV4 signing name.
SERVICE_ID_TO_SIGNING_NAME = {
    "cloudwatch-logs": "logs",
    "eventbridge": "events",
    "resource-groups-tagging-api": "tagging",
    "cloudwatch": "monitoring",
}

Forward = Callable[[], AWSResponse | None]


class _RawBody(io.BytesIO):
    """The ``raw`` object botocore's AWSResponse reads a body from."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


def error_response(url: str, service: str, error: Error) -> AWSResponse:
    """A botocore response carrying ``error`` in ``service``'s real wire format."""
    status, headers, body = render_error(service, error)
    return AWSResponse(url, status, headers, _RawBody(body))


def identify(request: AWSPreparedRequest, event_name: str) -> tuple[str, str]:
    """(service, operation) from a ``before-send.<service-id>.<Operation>`` event."""
    parts = event_name.split(".")
    operation = parts[-1] if len(parts) >= 3 else "Unknown"
    service = service_from_authorization(request.headers.get("Authorization"))[0]
    if service is None:
        service_id = parts[1] if len(parts) >= 3 else "unknown"
        service = SERVICE_ID_TO_SIGNING_NAME.get(service_id, service_id)
    return service, operation


def _lost(request: AWSPreparedRequest) -> ConnectionClosedError:
    return ConnectionClosedError(endpoint_url=request.url)


class FaultInjector(CallLog):
    """Counts every attempt and fails matching ones; same rule API as ``AwsProxy``.

    ``inject(fault, service=None, operation=None, times=1, skip=0, writes_only=False,
    function=None)``,
    ``count(service, operation)``, ``calls``, ``operations()``, ``clear_faults()``, ...
    """

    def __init__(self) -> None:
        super().__init__()
        self._unique_id = f"stock-alert-fault-injector-{id(self)}"

    # ---- the handler ----
    def dispatch(self, request: AWSPreparedRequest, event_name: str, forward: Forward) -> Any:
        """Decide the fault for one attempt; ``forward`` lets moto answer it for real."""
        service, operation = identify(request, event_name)
        function = function_named(service, request.url or "", request.body)
        fault = self.choose_fault(service, operation, function)
        status: int | None = None
        try:
            if isinstance(fault, Error):
                status = fault.status
                return error_response(request.url, service, fault)
            if isinstance(fault, Drop):
                raise _lost(request)
            response = forward()
            self.note_forwarded(operation)
            if isinstance(fault, LoseResponse):
                raise _lost(request)
            status = response.status_code if response is not None else None
            return response
        finally:
            self.record(
                Call(
                    service=service,
                    operation=operation,
                    status=status,
                    is_write=is_write_operation(operation),
                    fault=fault.name if fault is not None else None,
                    method=request.method or "",
                    path=request.url or "",
                    function=function,
                )
            )

    def before_send(
        self, request: AWSPreparedRequest, event_name: str = "", **kwargs: Any
    ) -> AWSResponse | None:
        """A ``before-send`` handler standing in for moto's stubber."""
        return self.dispatch(
            request,
            event_name,
            lambda: botocore_stubber(event_name=event_name, request=request, **kwargs),
        )

    # ---- scopes ----
    def attach(self, client: BaseClient) -> BaseClient:
        """Route ``client``'s calls through this injector (instead of straight to moto)."""
        events = client.meta.events
        events.unregister("before-send", botocore_stubber)
        events.register_first("before-send", self.before_send, unique_id=self._unique_id)
        return client

    def detach(self, client: BaseClient) -> None:
        events = client.meta.events
        events.unregister("before-send", unique_id=self._unique_id)
        events.register("before-send", botocore_stubber)

    def attach_session(self, session: boto3.Session) -> boto3.Session:
        """Route the calls of every client created from ``session`` from now on."""
        events = session.events
        events.unregister("before-send", botocore_stubber)
        events.register_first("before-send", self.before_send, unique_id=self._unique_id)
        return session

    def detach_session(self, session: boto3.Session) -> None:
        session.events.unregister("before-send", unique_id=self._unique_id)
        session.events.register("before-send", botocore_stubber)

    @contextmanager
    def patch_globally(self) -> Iterator[FaultInjector]:
        """Route every moto-mocked call in the process, from any client, while active."""
        original = BotocoreStubber.__call__
        injector = self

        def __call__(
            stubber: BotocoreStubber, event_name: str, request: AWSPreparedRequest, **kwargs: Any
        ) -> AWSResponse | None:
            if not stubber.enabled:  # mock_aws not active: leave the call alone
                return None
            return injector.dispatch(
                request,
                event_name,
                lambda: original(stubber, event_name, request, **kwargs),
            )

        with mock.patch.object(BotocoreStubber, "__call__", __call__):
            yield self


@contextmanager
def inject_faults(
    target: BaseClient | boto3.Session | None = None,
) -> Iterator[FaultInjector]:
    """A fresh :class:`FaultInjector` for one client, one Session, or (``None``) globally."""
    injector = FaultInjector()
    if target is None:
        with injector.patch_globally():
            yield injector
    elif isinstance(target, boto3.Session):
        injector.attach_session(target)
        try:
            yield injector
        finally:
            injector.detach_session(target)
    else:
        injector.attach(target)
        try:
            yield injector
        finally:
            injector.detach(target)


@contextmanager
def no_retry_backoff() -> Iterator[None]:
    """Make botocore's retries (standard and adaptive modes) sleep 0 s between attempts."""
    with mock.patch("botocore.retries.standard.ExponentialBackoff.delay_amount", return_value=0.0):
        yield


__all__ = [
    "Drop",
    "Error",
    "Fault",
    "FaultInjector",
    "LoseResponse",
    "error_response",
    "identify",
    "inject_faults",
    "no_retry_backoff",
    "role_not_assumable",
    "throttling",
    "update_in_progress",
]
