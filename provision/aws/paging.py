"""Paged reads: every page, by botocore's own paginator model, each page a separate
Aws.call (so retries and error translation apply page by page).

The first page is asked for before the model is loaded: loading it held every paged read back
before its first request (measured, issue 22: ListRolePolicies sent 78 ms after the GetRole
beside it, the last of 'up's reads), while other readers made their clients. The pages are then
followed as botocore's PageIterator follows them: each output token (a JMESPath expression, as
'NextMarker || Contents[-1].Key') goes into its input token, a false more-results expression
or no token at all ends it, and a token answered twice in a row is an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from provision.errors import AwsError

if TYPE_CHECKING:
    from provision.aws.client import Aws


def pages(aws: Aws, service: str, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
    import jmespath  # botocore's own dependency, imported with its clients already

    page = aws.call(service, operation, **params)
    api_name = aws.client(service).meta.method_to_api_mapping[operation]
    config = aws.session().get_paginator_model(service).get_paginator(api_name)
    given, answered = _listed(config["input_token"]), _listed(config["output_token"])
    more = config.get("more_results")
    previous: dict[str, Any] | None = None
    while True:
        yield page
        if more and not jmespath.search(more, page):
            return
        tokens = {key: jmespath.search(expression, page) or None
                  for key, expression in zip(given, answered, strict=True)}
        if all(token is None for token in tokens.values()):
            return
        if tokens == previous:  # botocore's PageIterator refuses it too
            raise AwsError(f"{service} {operation} gave the same page token twice.",
                           code="PaginationError", hint="Run the same command again; if it "
                           "happens again, AWS answers this read in a way stock-alert cannot "
                           "page.")
        previous = tokens
        params = {**{k: v for k, v in params.items() if k not in tokens},
                  **{k: v for k, v in tokens.items() if v is not None}}
        page = aws.call(service, operation, **params)


def _listed(tokens: str | list[str]) -> list[str]:
    return [tokens] if isinstance(tokens, str) else list(tokens)
