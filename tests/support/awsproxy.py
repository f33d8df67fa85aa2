"""A counting, fault-injecting HTTP proxy that sits between a boto3 client and a moto server.

Point a client (or the ``stock-alert`` subprocess, via ``AWS_ENDPOINT_URL``) at ``proxy.url``.
Every request is classified (service and operation), recorded as a :class:`Call`, and either
forwarded to the upstream moto server or answered with an injected fault:

* :class:`Error` -- answered without forwarding, in the service's real wire format;
* :class:`Drop` -- the connection is closed without forwarding (the call never reached AWS);
* :class:`LoseResponse` -- forwarded (it takes effect), then the connection is closed without
  relaying the answer.

A rule can also match only the calls that name one Lambda function (``function=``): the stack's
two functions (the function and its notifier) are written at once, so "the second
CreateFunction" names no fixed call; the function a request names does (``function_named``).

The fault vocabulary and the wire-format renderers are stdlib-only and shared with
``tests.support.faults`` (the in-process variant for ``moto.mock_aws``).
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import json
import re
import socket
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

# --------------------------------------------------------------------------------------------
# Services, protocols and operation classification
# --------------------------------------------------------------------------------------------

QUERY_SERVICES = frozenset({"iam", "sts", "sns", "sqs", "ec2", "cloudformation", "monitoring"})
REST_JSON_SERVICES = frozenset({"lambda"})
#: SigV4 signing name -> botocore service model name, where they differ.
SIGNING_NAME_TO_MODEL = {"tagging": "resourcegroupstaggingapi", "monitoring": "cloudwatch"}
READ_ONLY_OPERATIONS = frozenset(
    {
        "GetCallerIdentity",
        "FilterLogEvents",
        "TestEventPattern",
        "SimulatePrincipalPolicy",
        "SimulateCustomPolicy",
        "CheckIfPhoneNumberIsOptedOut",
    }
)
READ_PREFIXES = ("Get", "List", "Describe")
UNKNOWN = "Unknown"

_CREDENTIAL_RE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")
_CBOR_PATH_RE = re.compile(r"^/service/[^/]+/operation/([^/?]+)")
# Lambda names the function in its URL path (/functions/NAME/..., or an ARN in /tags/ARN), but
# CreateFunction only in its JSON body (FunctionName).
_FUNCTION_IN_PATH_RE = re.compile(r"/functions/([^/?]+)|:function:([^/:?]+)")


def protocol_of(service: str) -> str:
    """The wire protocol a service speaks: ``query``, ``rest-json`` or ``json``."""
    if service in QUERY_SERVICES:
        return "query"
    if service in REST_JSON_SERVICES:
        return "rest-json"
    return "json"


def is_write_operation(operation: str) -> bool:
    """True unless the operation only reads (Get*/List*/Describe* or a known read-only call).

    An unrecognised operation counts as a write, so that it shows up in write counts.
    """
    if operation in READ_ONLY_OPERATIONS:
        return False
    return not operation.startswith(READ_PREFIXES)


def service_from_authorization(
    authorization: str | bytes | None,
) -> tuple[str | None, str | None]:
    """(service, region) from a SigV4 ``Authorization`` header's credential scope."""
    if isinstance(authorization, bytes):
        authorization = authorization.decode("latin-1")
    match = _CREDENTIAL_RE.search(authorization or "")
    if match is None:
        return None, None
    return match.group(2), match.group(1)


@dataclass(frozen=True)
class _RestRoute:
    method: str
    pattern: re.Pattern[str]
    required_query: frozenset[str]
    literal_len: int
    operation: str


def _template_to_regex(path_template: str) -> tuple[re.Pattern[str], int]:
    regex = ""
    literal_len = 0
    for piece in re.split(r"(\{[^}]+\})", path_template):
        if piece.startswith("{"):
            regex += ".+" if piece.endswith("+}") else "[^/]+"
        else:
            regex += re.escape(piece)
            literal_len += len(piece)
    return re.compile("^" + regex.rstrip("/") + "/?$"), literal_len


@functools.cache
def _rest_routes(service: str) -> tuple[_RestRoute, ...]:
    """Routing table of a rest-* service, built from botocore's own service model."""
    import botocore.session  # local import: only rest services need botocore here

    model_name = SIGNING_NAME_TO_MODEL.get(service, service)
    model = botocore.session.get_session().get_service_model(model_name)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path, _, query = http["requestUri"].partition("?")
        pattern, literal_len = _template_to_regex(path)
        required = frozenset(k for k in parse_qs(query, keep_blank_values=True) if k)
        routes.append(_RestRoute(http["method"], pattern, required, literal_len, name))
    # Most specific first: required query keys, then the longest literal text.
    routes.sort(key=lambda r: (len(r.required_query), r.literal_len), reverse=True)
    return tuple(routes)


def rest_operation(service: str, method: str, path: str) -> str:
    """Operation name of a rest-json/rest-xml request (e.g. lambda ``GET /…/functions/x``)."""
    split = urlsplit(path)
    query_keys = set(parse_qs(split.query, keep_blank_values=True))
    for route in _rest_routes(service):
        if route.method != method.upper() or not route.required_query <= query_keys:
            continue
        if route.pattern.match(split.path):
            return route.operation
    return UNKNOWN


def _query_action(path: str, body: bytes) -> str:
    params = parse_qs(urlsplit(path).query)
    if body:
        params.update(parse_qs(body.decode("utf-8", errors="replace")))
    return params.get("Action", [UNKNOWN])[0]


def _bare_function(name: str) -> str:
    """A function's name from its name or ARN (arn:...:function:NAME[:QUALIFIER])."""
    return name.split(":function:", 1)[1].split(":", 1)[0] if ":function:" in name else name


def function_named(service: str, path: str, body: object) -> str | None:
    """The Lambda function a request names: in its URL path (``path`` may be a whole URL) or,
    for CreateFunction, in the JSON body's ``FunctionName``; None for other services."""
    if service != "lambda":
        return None
    found = _FUNCTION_IN_PATH_RE.search(unquote(urlsplit(path).path))
    if found:
        return _bare_function(found.group(1) or found.group(2))
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    if not isinstance(text, str) or not text.lstrip().startswith("{"):
        return None
    try:
        name = json.loads(text).get("FunctionName")
    except ValueError:
        return None
    return _bare_function(name) if isinstance(name, str) else None


def classify(method: str, path: str, headers: Mapping[str, str], body: bytes) -> tuple[str, str]:
    """(service, operation) of a signed AWS request."""
    lowered = {k.lower(): v for k, v in headers.items()}
    service = service_from_authorization(lowered.get("authorization"))[0] or UNKNOWN
    target = lowered.get("x-amz-target")
    if target:
        return service, target.rsplit(".", 1)[-1]
    cbor = _CBOR_PATH_RE.match(path)
    if cbor:
        return service, cbor.group(1)
    if protocol_of(service) == "query":
        return service, _query_action(path, body)
    if service != UNKNOWN:
        try:
            return service, rest_operation(service, method, path)
        except Exception:  # unknown service model
            return service, UNKNOWN
    return service, UNKNOWN


# --------------------------------------------------------------------------------------------
# Fault vocabulary and wire formats
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Error:
    """An AWS error answer: HTTP status, error code and message."""

    status: int
    code: str
    message: str
    sender_fault: bool = True

    @property
    def name(self) -> str:
        return f"Error({self.status} {self.code})"


@dataclass(frozen=True)
class Drop:
    """Close the client connection without forwarding and without any response."""

    name: str = "Drop"


@dataclass(frozen=True)
class LoseResponse:
    """Forward the request (it takes effect), then close the connection without the answer."""

    name: str = "LoseResponse"


Fault = Error | Drop | LoseResponse

_QUERY_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "sns": "http://sns.amazonaws.com/doc/2010-03-31/",
}


def _xml_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def render_error(service: str, error: Error) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of ``error`` exactly as ``service`` would send it on the wire."""
    request_id = str(uuid.uuid4())
    protocol = protocol_of(service)
    if protocol == "query":
        xmlns = _QUERY_NAMESPACES.get(service)
        open_tag = f'<ErrorResponse xmlns="{xmlns}">' if xmlns else "<ErrorResponse>"
        body = (
            f"{open_tag}<Error><Type>{'Sender' if error.sender_fault else 'Receiver'}</Type>"
            f"<Code>{_xml_escape(error.code)}</Code>"
            f"<Message>{_xml_escape(error.message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers = {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}
    elif protocol == "rest-json":
        kind = "User" if error.sender_fault else "Service"
        body = json.dumps({"Type": kind, "message": error.message}).encode()
        headers = {
            "Content-Type": "application/json",
            "x-amzn-ErrorType": error.code,
            "x-amzn-RequestId": request_id,
        }
    else:
        body = json.dumps({"__type": error.code, "message": error.message}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": request_id}
    headers["Content-Length"] = str(len(body))
    return error.status, headers, body


def throttling(service: str) -> Error:
    """What ``service`` really answers when its control plane throttles a caller."""
    if service == "lambda":
        return Error(429, "TooManyRequestsException", "Rate exceeded")
    if protocol_of(service) == "query":
        return Error(400, "Throttling", "Rate exceeded")
    return Error(400, "ThrottlingException", "Rate exceeded")


def role_not_assumable() -> Error:
    """Lambda's answer while a new IAM role has not yet propagated (IAM eventual consistency)."""
    return Error(
        400,
        "InvalidParameterValueException",
        "The role defined for the function cannot be assumed by Lambda.",
    )


def update_in_progress(
    function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:stock-alert",
) -> Error:
    """Lambda's answer to an update while the previous one is still ``InProgress``."""
    return Error(
        409,
        "ResourceConflictException",
        "The operation cannot be performed at this time. "
        f"An update is in progress for resource: {function_arn}",
    )


# --------------------------------------------------------------------------------------------
# Calls and rules
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One request seen by the proxy (or the in-process injector)."""

    service: str
    operation: str
    status: int | None
    is_write: bool
    fault: str | None = None
    method: str = ""
    path: str = ""
    function: str | None = None  # the Lambda function it names (function_named)

    @property
    def key(self) -> str:
        return f"{self.service}:{self.operation}"


@dataclass
class Rule:
    """Apply ``fault`` to the first ``times`` matching calls after skipping ``skip`` of them.

    ``times=None`` means every matching call from then on. ``function``: only calls that name
    that Lambda function.
    """

    fault: Fault
    service: str | None = None
    operation: str | None = None
    writes_only: bool = False
    times: int | None = 1
    skip: int = 0
    seen: int = 0
    applied: int = 0
    function: str | None = None

    def matches(self, service: str, operation: str, function: str | None = None) -> bool:
        if self.service is not None and self.service != service:
            return False
        if self.operation is not None and self.operation != operation:
            return False
        if self.function is not None and self.function != function:
            return False
        return not (self.writes_only and not is_write_operation(operation))

    def take(self, available: bool = True) -> bool:
        """Count one matching call; True if the fault applies to it.

        ``available=False`` means an earlier rule already faulted this call: it is counted
        as seen (for ``skip``) but this rule does not fire on it.
        """
        self.seen += 1
        if not available or self.seen <= self.skip:
            return False
        if self.times is not None and self.applied >= self.times:
            return False
        self.applied += 1
        return True


class CallLog:
    """Thread-safe list of calls plus fault rules; shared by the proxy and in-process injector."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._rules: list[Rule] = []
        self._outage_after: int | None = None
        self._writes_forwarded = 0

    # ---- rules ----
    def inject(
        self,
        fault: Fault,
        service: str | None = None,
        operation: str | None = None,
        *,
        times: int | None = 1,
        skip: int = 0,
        writes_only: bool = False,
        function: str | None = None,
    ) -> Rule:
        """Add a fault rule; returns it (its ``applied`` count shows how often it fired).

        ``function``: only calls naming that Lambda function (in the URL path, or for
        CreateFunction in the body)."""
        rule = Rule(fault, service, operation, writes_only, times, skip, function=function)
        with self._lock:
            self._rules.append(rule)
        return rule

    def fail_all_after_writes(self, n: int) -> None:
        """After ``n`` more write calls have been forwarded, drop every request (an outage)."""
        with self._lock:
            self._outage_after = n
            self._writes_forwarded = 0

    def clear_faults(self) -> None:
        with self._lock:
            self._rules.clear()
            self._outage_after = None
            self._writes_forwarded = 0

    def choose_fault(self, service: str, operation: str,
                     function: str | None = None) -> Fault | None:
        """The fault for this call, if any (updates rule counters)."""
        with self._lock:
            if self._outage_after is not None and self._writes_forwarded >= self._outage_after:
                return Drop(name="Outage")
            chosen: Fault | None = None
            for rule in self._rules:
                if (rule.matches(service, operation, function)
                        and rule.take(available=chosen is None)):
                    chosen = rule.fault
            return chosen

    def note_forwarded(self, operation: str) -> None:
        if is_write_operation(operation):
            with self._lock:
                self._writes_forwarded += 1

    # ---- calls ----
    def record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def writes(self) -> list[Call]:
        return [c for c in self.calls if c.is_write]

    def count(self, service: str | None = None, operation: str | None = None,
              function: str | None = None) -> int:
        """Number of recorded attempts (faulted ones included) matching service/operation
        (and, given ``function``, naming that Lambda function)."""
        return sum(
            1
            for c in self.calls
            if (service is None or c.service == service)
            and (operation is None or c.operation == operation)
            and (function is None or c.function == function)
        )

    def by_function(self, writes_only: bool = False) -> dict[str, list[str]]:
        """Function name -> the operations of the calls naming that Lambda function, in order
        (two functions written at once interleave; each one's own calls keep their order)."""
        out: dict[str, list[str]] = {}
        for call in self.calls:
            if call.function is not None and (call.is_write or not writes_only):
                out.setdefault(call.function, []).append(call.operation)
        return out

    def operations(self) -> list[str]:
        """``"service:Operation"`` of every recorded call, in order."""
        return [c.key for c in self.calls]


# --------------------------------------------------------------------------------------------
# The proxy
# --------------------------------------------------------------------------------------------

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)


def _end_to_end(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        body = b""
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return body
            body += self.rfile.read(size)
            self.rfile.readline()

    def _handle(self) -> None:
        body = self._read_body()
        service, operation = classify(self.command, self.path, dict(self.headers.items()), body)
        function = function_named(service, self.path, body)
        log = self.server.log
        fault = log.choose_fault(service, operation, function)
        answer = self._answer(fault, service, operation, body)
        # Record before the client can see the outcome, so a test that asserts on the calls
        # right after its boto3 call returns never races the handler thread.
        log.record(
            Call(
                service=service,
                operation=operation,
                status=answer[0] if answer else None,
                is_write=is_write_operation(operation),
                fault=fault.name if fault is not None else None,
                method=self.command,
                path=self.path,
                function=function,
            )
        )
        if answer is None:
            self._drop()
        else:
            self._respond(*answer)

    def _answer(
        self, fault: Fault | None, service: str, operation: str, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """The response to relay, or None to drop the connection."""
        if isinstance(fault, Error):
            status, headers, error_body = render_error(service, fault)
            return status, list(headers.items()), error_body
        if isinstance(fault, Drop):
            return None
        try:
            answer = self._forward(body)
        except OSError as exc:  # upstream down: answer like a gateway would
            return 502, [], f"upstream error: {exc}".encode()
        self.server.log.note_forwarded(operation)
        return None if isinstance(fault, LoseResponse) else answer

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        host, port = self.server.upstream
        conn = http.client.HTTPConnection(host, port, timeout=60)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for key, value in _end_to_end(self.headers.items()):
                if key.lower() != "content-length":
                    conn.putheader(key, value)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            data = response.read()
            return response.status, _end_to_end(response.getheaders()), data
        finally:
            conn.close()

    def _respond(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response(status)
        for key, value in headers:
            if key.lower() not in ("content-length", "date", "server"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _handle


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5; a run opens a connection per concurrent read and
    # some ahead (issue 22), and on a loaded machine the accept thread falls behind: the
    # kernel then holds or drops connections AWS would take. As werkzeug's (moto's) server.
    request_queue_size = 128

    def __init__(self, upstream: tuple[str, int], log: CallLog) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = upstream
        self.log = log


class AwsProxy(CallLog):
    """Counting, fault-injecting proxy in front of ``upstream_url`` (a moto server)."""

    def __init__(self, upstream_url: str) -> None:
        super().__init__()
        split = urlsplit(upstream_url)
        if split.hostname is None or split.port is None:
            raise ValueError(f"upstream URL needs a host and a port: {upstream_url!r}")
        self.upstream_url = upstream_url.rstrip("/")
        self._server = _ProxyServer((split.hostname, split.port), self)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # so that stop() returns at once
            name="aws-proxy",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> AwsProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


__all__ = [
    "AwsProxy",
    "Call",
    "CallLog",
    "Drop",
    "Error",
    "Fault",
    "LoseResponse",
    "Rule",
    "classify",
    "function_named",
    "is_write_operation",
    "protocol_of",
    "render_error",
    "rest_operation",
    "role_not_assumable",
    "throttling",
    "update_in_progress",
]
