"""Strict, bounded YAML reading: the config file is small, plain and read at most once.

- The file is read by filebytes.py: only a regular file, and at most MAX_BYTES of it.
- Composition is bounded before anything is constructed: at most MAX_NODES values after alias
  expansion (a "billion laughs" file expands 10^9-fold from a few hundred bytes) and at most
  MAX_DEPTH levels of nesting (the schema needs 4: top level, stocks, a stock, its value).
- A duplicate key is an error, not a silent overwrite.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from provision.config.filebytes import read_text
from provision.config.validators import clip, shown
from provision.errors import ConfigError

__all__ = ["load_yaml", "parse", "read_text"]

MAX_NODES = 10_000  # values after alias expansion; a full config has under 1,000
MAX_DEPTH = 8  # the schema needs 4; the slack lets a slightly wrong shape get its own message


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


def load_yaml(path: Path) -> Any:
    return parse(read_text(path), path)


def parse(text: str, path: Path) -> Any:
    """The YAML document in `text` (read from `path`), bounded and strict (above)."""
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
