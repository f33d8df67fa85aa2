"""Answers of real AWS that moto does not give, put on the wire of in-process moto.

botocore calls *every* before-send handler and uses the first non-None answer, so an answer
registered beside moto's would still let moto run the call (and raise NotImplementedError for
an action it lacks). `Wire` therefore takes moto's place on one session: operations with an
answer of their own get it (in the service's wire format), every other call goes on to moto.
`every_session` does the same for every session made meanwhile (the CLI's own included), and
`every_session_answers` adds a plain hook (e.g. an after-call edit) to every session.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from botocore import handlers
from botocore.awsrequest import AWSResponse
from moto.core.models import botocore_stubber

Answer = Callable[[Any], AWSResponse | None]  # request -> answer, or None: on to moto
SNS_XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/"


class _Raw(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.read()


def query_answer(request: Any, operation: str, result: str) -> AWSResponse:
    """A successful SNS (query protocol) answer: <OpResponse><OpResult>result</...>."""
    body = (f'<{operation}Response xmlns="{SNS_XMLNS}"><{operation}Result>{result}'
            f"</{operation}Result><ResponseMetadata><RequestId>r</RequestId>"
            f"</ResponseMetadata></{operation}Response>").encode()
    return AWSResponse(request.url, 200, {"Content-Type": "text/xml"}, _Raw(body))


def form(request: Any) -> str:
    """The query-protocol request body as text."""
    return request.body.decode() if isinstance(request.body, bytes) else request.body


class Wire:
    """Stands in for moto's before-send handler: `answers[Operation](request)` first."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}

    def __call__(self, request: Any, event_name: str = "", **kwargs: Any) -> Any:
        answer = self.answers.get(event_name.rsplit(".", 1)[-1])
        response = answer(request) if answer else None
        if response is not None:
            return response
        return botocore_stubber(event_name=event_name, request=request, **kwargs)

    def attach(self, events: Any) -> Wire:
        """Take moto's place on a session's event emitter (before any client exists)."""
        events.unregister("before-send", botocore_stubber)
        events.register_first("before-send", self)
        return self


@contextmanager
def every_session(wire: Wire) -> Iterator[Wire]:
    specs = [(spec[0], wire, *spec[2:]) if spec[1] is botocore_stubber else spec
             for spec in handlers.BUILTIN_HANDLERS]
    with mock.patch.object(handlers, "BUILTIN_HANDLERS", specs):
        yield wire


@contextmanager
def every_session_answers(event: str, edit: Callable[..., Any]) -> Iterator[None]:
    """Every botocore session created meanwhile, the CLI's own included, runs `edit`."""
    with mock.patch.object(handlers, "BUILTIN_HANDLERS",
                           [*handlers.BUILTIN_HANDLERS, (event, edit)]):
        yield
