"""Reading the config file's bytes, safely and bounded, before any parsing (yamlfile.py).

- Only a regular file is read, and at most MAX_BYTES of it: a FIFO, a device (/dev/zero,
  /dev/urandom) or a socket is refused from its stat, before it is opened for reading.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from provision.errors import ConfigError

MAX_BYTES = 1 << 20  # 1 MiB: a full config (25 stocks, 40 tags, comments) is under 10 KiB
_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


CONFIG_NEEDS = "a config needs a few KiB (at most 25 stocks)"


def read_text(path: Path, needs: str = CONFIG_NEEDS) -> str:
    """At most MAX_BYTES of a regular file, as UTF-8 (decode); ConfigError for anything
    else. `needs` says how big the file should be, for the message when it is too big."""
    return decode(read_bytes(path, needs), path)


def decode(data: bytes, path: Path) -> str:
    """The file's bytes as UTF-8 (a leading byte-order mark, as Excel's "CSV UTF-8" writes,
    is dropped); ConfigError naming the line of the first byte that is not."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"cannot read config file {path}: it is not UTF-8 text (byte 0x{data[exc.start]:02x} "
            f"on line {line}).",
            hint="Save the file as UTF-8 in your editor and run the command again.") from None


def read_bytes(path: Path, needs: str = CONFIG_NEEDS) -> bytes:
    try:
        info = os.stat(path)
        _check_kind(path, info.st_mode, info.st_size, needs)
        # O_NONBLOCK: should the path turn into a FIFO between stat and open, open() does not
        # wait for a writer; the fstat below then refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            _check_kind(path, info.st_mode, info.st_size, needs)
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} not found.",
            hint="Pass --config PATH, set STOCK_ALERT_CONFIG, or run from the folder that holds "
            "config.yaml ('stock-alert init' writes a commented one).",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}.",
                          hint="Check that the path names a file you may read.") from None
    if len(data) > MAX_BYTES:
        _too_big(path, needs)
    return data


def _check_kind(path: Path, mode: int, size: int, needs: str) -> None:
    if stat.S_ISDIR(mode):
        raise ConfigError(f"cannot read config file {path}: Is a directory.",
                          hint="Pass the path of the YAML file itself, e.g. -c ./config.yaml.")
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        raise ConfigError(f"config file {path} is {kind}, not a regular file; stock-alert reads "
                          "its config only from a regular file.",
                          hint="Save the config to a file and pass that path with --config.")
    if size > MAX_BYTES:
        _too_big(path, needs)


def _too_big(path: Path, needs: str) -> None:
    raise ConfigError(f"config file {path} is larger than {MAX_BYTES // 1024} KiB; {needs}, "
                      "so check that this is the right file.")
