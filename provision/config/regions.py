"""Known AWS regions, from the partition data botocore ships (a small local file, no AWS call).

partitions.json is read instead of the 1.2 MB endpoints.json: it lists every region of every
partition and costs ~15 ms instead of ~200 ms at start-up.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from provision.config.validators import shown


def known_regions() -> frozenset[str]:
    return frozenset(region for region in _partitions() if not region.endswith("-global"))


@functools.lru_cache(maxsize=1)
def _partitions() -> dict[str, str]:
    import botocore

    data = json.loads((Path(botocore.__file__).parent / "data" / "partitions.json").read_text())
    return {region: partition["id"] for partition in data["partitions"]
            for region in partition["regions"]}


def partition_of(region: str) -> str:
    """The ARN partition of a known region (aws, aws-cn, aws-us-gov, ...), without an AWS call."""
    return _partitions().get(region, "aws")


def check_region(value: str) -> str:
    if value not in known_regions():
        import difflib

        # the nearest spellings first (us-east1 -> us-east-1), then the same prefix's others
        near = difflib.get_close_matches(value, sorted(known_regions()), n=3, cutoff=0.75)
        same = sorted(r for r in known_regions() if r.split("-")[0] == value.split("-")[0])
        close = list(dict.fromkeys(near + same))
        example = ", ".join(close[:6]) or "us-east-1, eu-west-1"
        raise ValueError(f"{shown(value)} is not a known AWS region; use one such as {example}")
    return value
