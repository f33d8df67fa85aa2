"""Known AWS regions, from the endpoint data botocore ships (a local file, no AWS call)."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    import botocore.session

    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        for service in ("lambda", "sns", "events", "iam", "logs"):
            regions.update(session.get_available_regions(service, partition))
    return frozenset(regions)


def check_region(value: str) -> str:
    if value not in known_regions():
        close = sorted(r for r in known_regions() if r.split("-")[0] == value.split("-")[0])
        example = ", ".join(close[:6]) or "us-east-1, eu-west-1"
        raise ValueError(f"{value!r} is not a known AWS region; use one such as {example}")
    return value
