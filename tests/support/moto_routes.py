"""moto's URL routes for REST services, built once per test process before any test runs.

moto builds a REST service's routes (a werkzeug Map, whose rules compile with ast.parse) on
the service's first request. CPython 3.11's AST constructor keeps its recursion depth in
state shared by threads, so two services' first requests at once, as the tool's concurrent
reads send them (lambda and scheduler, in process), can fail with "SystemError: AST
constructor recursion depth mismatch" (python/cpython#106905; seen once in a full run under
load, in moto.core.routing's RestRouter). Built here, one after another, no test meets it.
"""

from __future__ import annotations

REST_SERVICES = ("lambda", "scheduler", "s3")


def build() -> None:
    from moto.core.routing import get_service_router

    for service in REST_SERVICES:
        router = get_service_router(service)
        protocol = router._service_model.protocol  # moto's own router, by its protocol
        router._get_router(protocol)
