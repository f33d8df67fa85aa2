"""The `iam:` section: where the execution role lives (path) and what caps it (boundary).

Pure validation; nothing here touches AWS. Whether the boundary policy exists is only known to
AWS: CreateRole refuses an unknown one (see kinds/role.py).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, field_validator

from provision.config import validators as v

# IAM API Reference, CreateRole: Path "(\u002F)|(\u002F[\u0021-\u007E]+\u002F)", 1-512 chars.
_PATH = re.compile(r"/|/[!-~]+/", re.ASCII)
PATH_MAX = 512
# A managed policy ARN: a customer policy in some account, or an AWS managed policy.
_POLICY_ARN = re.compile(
    r"arn:aws(-cn|-us-gov|-iso|-iso-b|-iso-e|-iso-f|-eusc)?:iam::([0-9]{12}|aws):policy/"
    r"([!-~]*/)?[A-Za-z0-9+=,.@_-]{1,128}", re.ASCII)


class IamSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    path: str = "/"
    permissions_boundary: str | None = None

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if len(value) > PATH_MAX or not _PATH.fullmatch(value) or "//" in value:
            raise ValueError(f"{v.shown(value)} is not an IAM path: write '/' or a path that "
                             "starts and ends with '/', like /stock-alert/, of printable ASCII "
                             f"without spaces, at most {PATH_MAX} characters")
        return value

    @field_validator("permissions_boundary")
    @classmethod
    def _boundary(cls, value: str | None) -> str | None:
        if value is not None and not _POLICY_ARN.fullmatch(value):
            raise ValueError(f"{v.shown(value)} is not the ARN of a managed policy: write it "
                             "like arn:aws:iam::123456789012:policy/MyBoundary (or "
                             "arn:aws:iam::aws:policy/NAME for an AWS managed policy)")
        return value
