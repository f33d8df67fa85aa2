"""The config file's parsed document, kept by the file's bytes (issue 22).

Parsing costs the import of PyYAML (its reader compiles a large character class) and the
parse itself, at every start, for a file that rarely changes: ~20 ms of an unchanged 'up' on
the local emulator, whose goal left less than that to spare (bench/RESULTS.md). The document
is kept as marshal (plain data only: mappings, lists, strings, numbers, booleans, nulls; one
that marshal cannot write, a YAML timestamp, is not kept), keyed by the file's bytes, this
module's and yamlfile.py's versions of the parse, PyYAML's files and the Python that wrote
it, in the cache folder (provision/cache.py). The file is still read, and checked, on every
run, and the document still validated: only the parse is skipped. A file YAML refuses is
never kept, so its error is told every time.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import marshal
import os
import sys
from pathlib import Path
from typing import Any

from provision import cache
from provision.config.filebytes import decode, read_bytes

FORMAT = "1"  # bump when what a kept document means changes


def load(path: Path) -> Any:
    """The YAML document of the config file at `path` (yamlfile.parse's answer)."""
    raw = read_bytes(path)
    copy = _copy(raw)
    found = _read(copy) if copy is not None else None
    if found is not None:
        return found
    from provision.config.yamlfile import parse

    document = parse(decode(raw, path), path)
    if copy is not None:
        with contextlib.suppress(ValueError):  # not plain data (a timestamp): parsed again
            cache.write(copy, marshal.dumps({"document": document}))
    return document


def _copy(raw: bytes) -> Path | None:
    root = cache.cache_root()
    if root is None:
        return None
    key = hashlib.sha256(raw)
    for part in (FORMAT, sys.version, *_parsers()):
        key.update(b"\0" + part.encode())
    return root / "config" / f"{key.hexdigest()[:40]}.marshal"


def _parsers() -> list[str]:
    """Size and modification time of the code that parses: yamlfile.py and PyYAML's files."""
    spec = importlib.util.find_spec("yaml")
    files = [Path(__file__).with_name("yamlfile.py")]
    if spec is not None and spec.origin:
        files += sorted(Path(spec.origin).parent.glob("*.py"))
    stamps = []
    for file in files:
        try:
            info = os.stat(file)
        except OSError:
            info = None
        stamps.append(f"{file}:{info.st_size}:{info.st_mtime_ns}" if info else f"{file}:-")
    return stamps


def _read(copy: Path) -> Any:
    kept = cache.read_marshal(copy)  # None when damaged: the file is parsed
    return kept.get("document") if isinstance(kept, dict) else None
