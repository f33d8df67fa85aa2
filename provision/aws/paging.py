"""Paged reads: every page, by botocore's own paginator model, each page a separate
Aws.call (so retries and error translation apply page by page).

The first page is asked for before the model is loaded: loading it held every paged read back
before its first request (measured, issue 22: ListRolePolicies sent 78 ms after the GetRole
beside it, the last of 'up's reads), while other readers made their clients. A model whose
tokens are plain keys is followed here, with botocore's guard against a token given twice; any
other (a JMESPath token, several tokens) by botocore's Paginator from the start, as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from provision.errors import AwsError

if TYPE_CHECKING:
    from provision.aws.client import Aws


def pages(aws: Aws, service: str, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
    page = aws.call(service, operation, **params)
    client = aws.client(service)
    api_name = client.meta.method_to_api_mapping[operation]
    config = aws.session().get_paginator_model(service).get_paginator(api_name)
    tokens = next_tokens(config)
    if tokens is None:
        yield from _botocore_pages(aws, service, operation, config, api_name, params)
        return
    given, answered, more = tokens
    seen: set[str] = set()
    while True:
        yield page
        token = page.get(answered)
        if (more and not page.get(more)) or not token:
            return
        if token in seen:  # botocore's Paginator refuses a token given twice, too
            raise AwsError(f"{service} {operation} gave the same page token twice.",
                           code="PaginationError", hint="Run the same command again; if it "
                           "happens again, AWS answers this read in a way stock-alert cannot "
                           "page.")
        seen.add(token)
        page = aws.call(service, operation, **{**params, given: token})


def next_tokens(config: dict[str, Any]) -> tuple[str, str, str | None] | None:
    """(input token, output token, more-results key) of a paginator model whose tokens are
    single plain keys; None for any other (followed by botocore's Paginator)."""
    given, answered = config.get("input_token"), config.get("output_token")
    more = config.get("more_results")
    plain = [t for t in (given, answered, more) if t is not None]
    if not (isinstance(given, str) and isinstance(answered, str)) or not all(
            isinstance(t, str) and t.isidentifier() for t in plain):
        return None
    return given, answered, more


def _botocore_pages(aws: Aws, service: str, operation: str, config: dict[str, Any],
                    api_name: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    from botocore.paginate import Paginator

    model = aws.client(service).meta.service_model.operation_model(api_name)

    def fetch(**kwargs: Any) -> Any:
        return aws.call(service, operation, **kwargs)

    yield from Paginator(fetch, config, model).paginate(**params)
