"""botocore hooks for the measured subprocesses of bench/compare.py (not used by timed runs).

bench/compare.py puts this directory on PYTHONPATH, so Python imports this module at start-up
in stock-alert's, chalice's and floor.py's interpreters. It does nothing unless one of these
variables is set (so a plain run pays no botocore import here):

- BENCH_CALLS_FILE: append one "service:Operation" line per API call (botocore `before-call`,
  which fires once per client method call: retries are not counted again, waiter polls are).
- BENCH_IAM_DELAY_S=T: lambda CreateFunction answers 400 InvalidParameterValueException "The
  role defined for the function cannot be assumed by Lambda." for T seconds after the first
  CreateFunction attempt. Injected at `before-send`, so botocore's retry logic sees it like a
  wire error. BENCH_IAM_FILE records the epoch time of that first attempt and every attempt.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time

_LOCK = threading.Lock()
_FIRST_ATTEMPT: list[float] = []
_MESSAGE = "The role defined for the function cannot be assumed by Lambda."


def _append(path: str, line: str) -> None:
    with _LOCK, open(path, "a", encoding="utf-8") as out:
        out.write(line + "\n")


def _count_call(model=None, **_):  # type: ignore[no-untyped-def]
    _append(os.environ["BENCH_CALLS_FILE"], f"{model.service_model.service_name}:{model.name}")


class _Raw(io.BytesIO):
    """What botocore's AWSResponse reads a body from (it calls .stream())."""

    def stream(self, **_):  # type: ignore[no-untyped-def]
        yield self.getvalue()


def _refuse_role(request=None, **_):  # type: ignore[no-untyped-def]
    from botocore.awsrequest import AWSResponse

    now = time.time()
    with _LOCK:
        if not _FIRST_ATTEMPT:
            _FIRST_ATTEMPT.append(now)
    if os.environ.get("BENCH_IAM_FILE"):
        _append(os.environ["BENCH_IAM_FILE"], f"attempt {now:.6f}")
    if now - _FIRST_ATTEMPT[0] >= float(os.environ["BENCH_IAM_DELAY_S"]):
        return None  # the role has "propagated": send the real request
    body = json.dumps({"message": _MESSAGE}).encode()
    headers = {"x-amzn-ErrorType": "InvalidParameterValueException",
               "Content-Type": "application/json"}
    return AWSResponse(request.url, 400, headers, _Raw(body))


def _install() -> None:
    import botocore.session

    original = botocore.session.Session.__init__

    def init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        if os.environ.get("BENCH_CALLS_FILE"):
            self.register("before-call", _count_call)
        if os.environ.get("BENCH_IAM_DELAY_S"):
            self.register("before-send.lambda.CreateFunction", _refuse_role)

    botocore.session.Session.__init__ = init


if os.environ.get("BENCH_CALLS_FILE") or os.environ.get("BENCH_IAM_DELAY_S"):
    _install()
