"""A FaultInjector whose fault can also name what the request's body holds: for one of several
calls of the same operation sent at once (issue 22: the role's GetRolePolicy calls go
together), whichever of them reaches the wire first is not fixed, so "the first call" no longer
names a policy."""

from __future__ import annotations

from typing import Any

from botocore.awsrequest import AWSPreparedRequest

from tests.support.awsproxy import Call, Error, is_write_operation
from tests.support.faults import FaultInjector, Forward, error_response, identify


class FaultsWhere(FaultInjector):
    def __init__(self) -> None:
        super().__init__()
        self._where: list[list[Any]] = []  # [error, service, operation, text, times left]

    def inject_where(self, text: str, error: Error, service: str, operation: str,
                     times: int = 1) -> None:
        """Answer `error` to the next `times` calls of the operation whose body holds `text`
        (e.g. "PolicyName=t1-write-logs")."""
        self._where.append([error, service, operation, text, times])

    def dispatch(self, request: AWSPreparedRequest, event_name: str, forward: Forward) -> Any:
        service, operation = identify(request, event_name)
        body = request.body or b""
        text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
        for rule in self._where:
            error, wanted_service, wanted_operation, holds, left = rule
            if (left and (service, operation) == (wanted_service, wanted_operation)
                    and holds in text):
                rule[4] -= 1
                self.record(Call(service=service, operation=operation, status=error.status,
                                 is_write=is_write_operation(operation), fault=error.name,
                                 method=request.method or "", path=request.url or ""))
                return error_response(request.url, service, error)
        return super().dispatch(request, event_name, forward)
