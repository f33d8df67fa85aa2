"""Strict, bounded YAML reading: the config file is small, plain and read at most once.

- Only a regular file is read, and at most MAX_BYTES of it: a FIFO, a device (/dev/zero,
  /dev/urandom) or a socket is refused from its stat, before it is opened for reading.
- Composition is bounded before anything is constructed: at most MAX_NODES values after alias
  expansion (a "billion laughs" file expands 10^9-fold from a few hundred bytes) and at most
  MAX_DEPTH levels of nesting (the schema needs 4: top level, stocks, a stock, its value).
- A duplicate key is an error, not a silent overwrite.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from provision.config.validators import clip, shown
from provision.errors import ConfigError

MAX_BYTES = 1 << 20  # 1 MiB: a full config (25 stocks, 40 tags, comments) is under 10 KiB
MAX_NODES = 10_000  # values after alias expansion; a full config has under 1,000
MAX_DEPTH = 8  # the schema needs 4; the slack lets a slightly wrong shape get its own message
_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that counts what it composes, so an alias bomb or a deep nest stops early."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._expanded = 0
        self._sizes: dict[int, int] = {}  # id(node) -> values under it, aliases expanded
        self._aliased = False

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):  # type: ignore[no-untyped-call]
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            node: Any = super().compose_node(parent, index)  # type: ignore[no-untyped-call]
            if id(node) not in self._sizes:
                raise ConfigError(f"an alias at line {mark.line + 1} refers to the value that "
                                  "contains it; YAML aliases may not nest a value in itself.")
            self._aliased = True
            self._count(self._sizes[id(node)], mark)
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise ConfigError(f"values are nested more than {MAX_DEPTH} levels deep (line "
                              f"{mark.line + 1}); a config needs at most 4 (stocks: - symbol: "
                              "TSLA), so check the brackets and indentation there.")
        before = self._expanded
        try:
            composed: Any = super().compose_node(parent, index)  # type: ignore[no-untyped-call]
        finally:
            self._depth -= 1
        self._count(1, composed.start_mark)
        self._sizes[id(composed)] = self._expanded - before
        return composed

    def _count(self, size: int, mark: Any) -> None:
        self._expanded += size
        if self._expanded > MAX_NODES:
            how = (" once its YAML aliases (*name) are expanded" if self._aliased else "")
            fix = (", so write the values out instead of repeating anchors" if self._aliased
                   else " (at most 25 stocks and 40 tags)")
            raise ConfigError(f"the document holds more than {MAX_NODES} values{how} (line "
                              f"{mark.line + 1}); a config needs far fewer{fix}.")


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    keys: set[Any] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):  # '? [a]' or '? {a: b}': a complex key
            mark = key_node.start_mark
            raise ConfigError(f"the key at line {mark.line + 1} is a "
                              f"{'list' if isinstance(key_node, yaml.SequenceNode) else 'mapping'}"
                              "; keys must be plain names (e.g. 'name:').")
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        if key in keys:
            mark = key_node.start_mark
            raise ConfigError(f"key {shown(key)} appears twice (line {mark.line + 1}); keep one.")
        keys.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


CONFIG_NEEDS = "a config needs a few KiB (at most 25 stocks)"


def read_text(path: Path, needs: str = CONFIG_NEEDS) -> str:
    """At most MAX_BYTES of a regular file, as UTF-8 (a leading byte-order mark, as Excel's
    "CSV UTF-8" writes, is dropped); ConfigError for anything else. `needs` says how big the
    file should be, for the message when it is too big."""
    data = _read_bytes(path, needs)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"cannot read config file {path}: it is not UTF-8 text (byte 0x{data[exc.start]:02x} "
            f"on line {line}).",
            hint="Save the file as UTF-8 in your editor and run the command again.") from None


def _read_bytes(path: Path, needs: str) -> bytes:
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


def load_yaml(path: Path) -> Any:
    text = read_text(path)
    try:
        loader = _StrictLoader(text)  # the reader refuses control characters here
    except yaml.reader.ReaderError as exc:
        number = text[: exc.position].count("\n") + 1
        raise ConfigError(f"{path} holds a control character (0x{exc.character:02x}) on line "
                          f"{number}, which YAML does not allow.",
                          hint="Remove it in your editor (it is often invisible) and save the "
                          "file as plain UTF-8 text.") from None
    try:
        return loader.get_single_data()
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc.message}") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        problem = getattr(exc, "problem", None) or "invalid syntax"
        raise ConfigError(f"{path} is not valid YAML{line}: {clip(problem, 120)}.",
                          hint="Fix the indentation or quoting there.") from None
    finally:
        loader.dispose()
