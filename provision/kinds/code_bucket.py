"""The function's zip in an S3 bucket, for templates that deploy it (export --package-bucket).

The key holds the zip's SHA-256, so the same code is the same key and a new build never
overwrites the zip a deployed stack set still points at.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from provision.aws.client import Aws
from provision.core.package import CodePackage


@dataclass(frozen=True)
class CodeLocation:
    bucket: str
    key: str


def key_for(stack_name: str, code: CodePackage) -> str:
    return f"stock-alert/{stack_name}/{hashlib.sha256(code.zip_bytes).hexdigest()}.zip"


def upload(aws: Aws, bucket: str, stack_name: str, code: CodePackage) -> CodeLocation:
    """PutObject; S3 checks the body against the SHA-256 sent with it (BadDigest if not)."""
    import base64

    key = key_for(stack_name, code)
    aws.call("s3", "put_object", Bucket=bucket, Key=key, Body=code.zip_bytes,
             ContentType="application/zip",
             ChecksumSHA256=base64.b64encode(hashlib.sha256(code.zip_bytes).digest()).decode())
    return CodeLocation(bucket, key)
