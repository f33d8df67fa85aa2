"""Turn pydantic's ValidationError into one paragraph that names each key and its fix."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from provision.config.validators import clip, shown

_MAX_SHOWN = 5
_BUDGET = 800  # characters of problems in one message, so that it stays well under 1 KB

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
            name = clip(str(part), 40)
            out += f".{name}" if out else name
    return out or "(top level)"


def _message(err: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key; remove it or check its spelling against the README's config reference"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        return f"{shown(err['input'])} is not allowed; use {expected}"
    if kind in _TYPE_HINTS:
        got = "" if kind == "missing" else f" (got {shown(err['input'])})"
        return _TYPE_HINTS[kind] + got
    return f"{err['msg']} (got {shown(err.get('input'))})"


def _relevant(errors: list[Any]) -> list[Any]:
    """Without a list's 'too short after validation' that only follows from an item's error."""
    parents = {tuple(e["loc"])[:n] for e in errors for n in range(len(e["loc"]))}
    return [e for e in errors if not (e["type"] == "too_short" and tuple(e["loc"]) in parents)]


def describe(exc: ValidationError) -> str:
    """One paragraph: up to _MAX_SHOWN problems, and fewer if they would pass _BUDGET chars."""
    errors = _relevant(exc.errors())
    parts: list[str] = []
    for err in errors[:_MAX_SHOWN]:
        where, text = _location(err["loc"]), _message(err)
        # A list check that names the item itself ("notify.sms[1]: ...") needs no prefix.
        part = clip(text if text.startswith(where + "[") else f"{where}: {text}", _BUDGET)
        if parts and sum(map(len, parts)) + len(part) > _BUDGET:
            break
        parts.append(part)
    if len(errors) == 1:
        return parts[0] + "."
    more = len(errors) - len(parts)
    tail = f" (and {more} more)" if more > 0 else ""
    numbered = " ".join(f"({n}) {p}." for n, p in enumerate(parts, 1))
    return f"{len(errors)} problems{tail}: {numbered}"
