"""Known AWS regions, from the partition data botocore ships (a small local file, no AWS call).

partitions.json is read instead of the 1.2 MB endpoints.json: it lists every region of every
partition and costs ~15 ms instead of ~200 ms at start-up.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from provision.config.validators import shown


@functools.lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    import botocore

    data = json.loads((Path(botocore.__file__).parent / "data" / "partitions.json").read_text())
    return frozenset(
        region for partition in data["partitions"] for region in partition["regions"]
        if not region.endswith("-global")
    )


def check_region(value: str) -> str:
    if value not in known_regions():
        close = sorted(r for r in known_regions() if r.split("-")[0] == value.split("-")[0])
        example = ", ".join(close[:6]) or "us-east-1, eu-west-1"
        raise ValueError(f"{shown(value)} is not a known AWS region; use one such as {example}")
    return value
