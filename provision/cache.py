"""The cache folder: what a run can compute again, kept so that the next run need not.

Everything in it is remade from its source when missing, unreadable or stale, so deleting the
folder is always safe, and a folder that cannot be written (a read-only home, a full disk) only
costs time. Its users: botocore's data and lists of services as marshal copies (aws/models.py),
the function zip's import closure and zip (core/package.py), and the config file's parsed
document (config/document.py).

Where: $STOCK_ALERT_CACHE_DIR, else $XDG_CACHE_HOME/stock-alert, else ~/.cache/stock-alert;
STOCK_ALERT_CACHE_DIR=off turns it off.
"""

from __future__ import annotations

import logging
import marshal
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger("provision.cache")
CACHE_ENV = "STOCK_ALERT_CACHE_DIR"


def cache_root() -> Path | None:
    """The folder; None when turned off."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen == "off":
        return None
    return (Path(chosen) if chosen else
            Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stock-alert")


def read(path: Path) -> bytes | None:
    """The file's bytes; None when it is missing or cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.debug("ignoring %s: %r", path, exc)
        return None


def write(path: Path, data: bytes) -> None:
    """Write the file whole or not at all (a temporary file renamed: another process reading
    it at the same time never sees half of one); a failure is only logged."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as out:
            out.write(data)
        os.replace(out.name, path)
    except OSError as exc:  # read-only, full: no copy
        log.debug("no copy at %s: %r", path, exc)


def read_marshal(path: Path) -> Any:
    """The data of a marshal copy; None when it is missing, unreadable or damaged."""
    found = read(path)
    if found is None:
        return None
    try:
        return marshal.loads(found)
    except (ValueError, EOFError, TypeError) as exc:  # damaged: remade from its source
        log.debug("ignoring %s: %r", path, exc)
        return None
