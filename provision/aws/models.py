"""botocore's data files (service models, endpoints), read from a marshal copy after the
first run.

botocore parses its JSON data files afresh in every process: EC2's service model alone is a
2.5 MB document (~60 ms of CPU), endpoints.json another ~50 ms, a third of what all of a
run's clients cost to make. marshal reads the same data several times faster. The copy is
keyed by the JSON file's path, size and modification time and by the Python that wrote it,
so an upgraded botocore or Python never reads a stale one; a copy that cannot be read or
written (a read-only home, a damaged file) just means the JSON is parsed, as botocore does.

Where: botocore/ in the cache folder (provision/cache.py).
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import sys
from pathlib import Path
from typing import Any

from botocore.loaders import JSONFileLoader

from provision import cache
from provision.cache import CACHE_ENV as CACHE_ENV
from provision.cache import cache_root

log = logging.getLogger("provision.aws.models")
EXTENSIONS = (".json", ".json.gz")  # what botocore's JSONFileLoader reads, in its order


def cache_dir() -> Path | None:
    """Where the copies go; None when turned off."""
    base = cache_root()
    if base is None:
        return None
    return base / "botocore" / f"{sys.implementation.cache_tag}-marshal{marshal.version}"


class MarshalCopies(JSONFileLoader):  # type: ignore[misc]
    """botocore's JSONFileLoader, reading each file's marshal copy when it has one."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def load_file(self, file_path: str) -> Any:
        for extension in EXTENSIONS:
            full = file_path + extension
            try:
                stat = os.stat(full)
            except OSError:
                continue
            key = f"{full}\0{stat.st_size}\0{stat.st_mtime_ns}".encode()
            copy = self.folder / f"{hashlib.sha256(key).hexdigest()[:40]}.marshal"
            found = cache.read_marshal(copy)  # None when damaged: parsed again
            if found is not None:
                return found
            data = plain(super().load_file(file_path))
            _write(copy, data)
            return data
        return None


def plain(data: Any) -> Any:
    """botocore's JSON as plain dicts (it reads objects as OrderedDict, which marshal cannot
    write; a dict keeps its order, and botocore uses nothing else of OrderedDict)."""
    if isinstance(data, dict):
        return {key: plain(value) for key, value in data.items()}
    if isinstance(data, list):
        return [plain(value) for value in data]
    return data


def _write(copy: Path, data: Any) -> None:
    try:
        dumped = marshal.dumps(data)
    except ValueError as exc:  # unmarshallable: no copy
        log.debug("no copy of botocore data at %s: %r", copy, exc)
        return
    cache.write(copy, dumped)


def install(session: Any) -> None:
    """Have the botocore session's loader read marshal copies (unless turned off, or it
    reads its files some other way already), and its lists of services too."""
    folder = cache_dir()
    loader = session.get_component("data_loader")
    if folder is not None and type(loader.file_loader) is JSONFileLoader:
        loader.file_loader = MarshalCopies(folder)
        listed = loader.list_available_services
        loader.list_available_services = lambda type_name: services(folder, listed, type_name)


def services(folder: Path, listed: Any, type_name: str) -> list[str]:
    """The services that have a `type_name` file (service-2, paginators-1, ...), from a copy.

    botocore finds them by listing every service's folder in every search path, once per
    process and kind of file: ~450 folders, ~1,400 system calls, ~9 ms each for the four
    kinds a run loads, many times that while other threads are making clients (each call
    gives the GIL up; measured: a paged read waited 60 ms for the paginators' list). The copy
    is keyed by botocore's version and each search path with its modification time."""
    import botocore

    key = [botocore.__version__, type_name]
    for path in listed.__self__.search_paths:
        try:
            key.append(f"{path}\0{os.stat(path).st_mtime_ns}")
        except OSError:
            key.append(f"{path}\0-")
    digest = hashlib.sha256("\0\0".join(key).encode()).hexdigest()[:40]
    copy = folder / f"services-{digest}.marshal"
    found = cache.read_marshal(copy)  # None when damaged: parsed again
    if isinstance(found, list):
        return found
    names: list[str] = list(listed(type_name))
    _write(copy, names)
    return names
