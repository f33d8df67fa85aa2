"""A byte-for-byte reproducible zip of function_code/ and its SHA-256 as Lambda reports it."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_MODE = 0o644 << 16


@dataclass(frozen=True)
class CodePackage:
    zip_bytes: bytes

    @property
    def sha256(self) -> str:
        """Base64 of the SHA-256 digest: the form of Lambda's CodeSha256."""
        return base64.b64encode(hashlib.sha256(self.zip_bytes).digest()).decode()

    @property
    def size(self) -> int:
        return len(self.zip_bytes)


def code_dir() -> Path:
    """The function's source: function_code/ of the repo, installed as provision.function_code."""
    spec = importlib.util.find_spec("provision.function_code")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the function code (provision.function_code) is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def source_files(folder: Path) -> list[Path]:
    """The modules that go into the zip: top-level *.py, flat, without the package marker."""
    return sorted(p for p in folder.glob("*.py") if p.name != "__init__.py")


def build(folder: Path | None = None) -> CodePackage:
    folder = folder or code_dir()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in source_files(folder):
            info = zipfile.ZipInfo(path.name, date_time=_FIXED_TIME)
            info.external_attr = _MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return CodePackage(buffer.getvalue())
