"""One botocore data loader for the whole test process.

botocore parses a service's JSON model (and the large endpoints.json) once per *Session*: every
``botocore.session.Session()`` registers a fresh ``Loader``. The product makes one session per
command, moto makes its own, and a test process runs hundreds of commands, so the suite spent
much of its time decoding the same JSON again (measured: three sessions with 8 clients, 4.3 s
against 1.3 s with one loader). The models are read-only data, so sharing the loader changes no
behaviour: ``share()`` makes botocore's own factory (``botocore.session.create_loader``, used by
``Session._register_data_loader``) hand every session the same loader for the same data path.

boto3 appends its own data path to the loader on every boto3 Session; the shared loader keeps
each path once, so lookups do not grow slower with every test.
"""

from __future__ import annotations

from typing import Any

import botocore.loaders
import botocore.session

_LOADERS: dict[Any, botocore.loaders.Loader] = {}
_ORIGINAL = botocore.session.create_loader


class _Paths(list):  # type: ignore[type-arg]
    """A search-path list that ignores a path it already holds."""

    def append(self, path: Any) -> None:
        if path not in self:
            super().append(path)


def _shared(search_path_string: Any = None) -> botocore.loaders.Loader:
    loader = _LOADERS.get(search_path_string)
    if loader is None:
        loader = _ORIGINAL(search_path_string)
        loader._search_paths = _Paths(loader._search_paths)  # noqa: SLF001
        _LOADERS[search_path_string] = loader
    return loader


def share() -> None:
    """From now on, every botocore Session of this process uses one loader per data path."""
    botocore.session.create_loader = _shared


def shared_loader() -> botocore.loaders.Loader:
    """The loader sessions get by default (no data path configured)."""
    return _shared(None)
