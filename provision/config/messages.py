"""Turn pydantic's ValidationError into one paragraph that names each key and its fix."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

_MAX_SHOWN = 5

_TYPE_HINTS = {
    "string_type": "expected text; quote it in YAML (ON, YES, NO and numbers like 1e3 are not "
    "read as text otherwise)",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "tuple_type": "expected a YAML list, e.g. [a, b]",
    "list_type": "expected a YAML list, e.g. [a, b]",
    "dict_type": "expected a YAML mapping of key: value",
    "model_type": "expected a YAML mapping of key: value",
    "missing": "is required",
}


def _location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith("function-"):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _message(err: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key; remove it or check its spelling against the README's config reference"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"{err['input']!r} is not allowed; use {expected}"
    if kind in _TYPE_HINTS:
        got = "" if kind == "missing" else f" (got {err['input']!r})"
        return _TYPE_HINTS[kind] + got
    return f"{err['msg']} (got {err.get('input')!r})"


def _consequential(err: Any, errors: list[Any]) -> bool:
    """A list's 'too short after validation' that only follows from an item's own error."""
    loc = tuple(err["loc"])
    return err["type"] == "too_short" and any(
        tuple(other["loc"])[: len(loc)] == loc and len(other["loc"]) > len(loc)
        for other in errors)


def describe(exc: ValidationError) -> str:
    errors = [e for e in exc.errors() if not _consequential(e, exc.errors())]
    parts = [f"{_location(e['loc'])}: {_message(e)}" for e in errors[:_MAX_SHOWN]]
    if len(parts) == 1:
        return parts[0] + "."
    more = len(errors) - _MAX_SHOWN
    tail = f" (and {more} more)" if more > 0 else ""
    numbered = " ".join(f"({n}) {p}." for n, p in enumerate(parts, 1))
    return f"{len(errors)} problems{tail}: {numbered}"
