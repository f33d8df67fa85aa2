"""Turn pydantic's ValidationError into one paragraph that names each key and its fix.

Every error type the config model can raise has our own wording below (test_config checks that
each one is reached and that no pydantic phrasing leaks through); an unforeseen type still gets
a neutral sentence of ours, never pydantic's text.
"""

from __future__ import annotations

import difflib
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from provision.config.market_time import FORMS
from provision.config.validators import clip, shown

_MAX_SHOWN = 5
_BUDGET = 800  # characters of problems in one message, so that it stays well under 1 KB

_TYPE_HINTS = {
    "string_type": "expected text; quote it in YAML (ON, YES, NO and numbers like 1e3 are not "
    "read as text otherwise)",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "int_type": "expected a whole number, written without a decimal point or quotes",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number, written without quotes",
    "float_parsing": "expected a number",
    "finite_number": "expected a finite number (not .inf or .nan)",
    "tuple_type": "expected a YAML list, e.g. [a, b]",
    "list_type": "expected a YAML list, e.g. [a, b]",
    "dict_type": "expected a YAML mapping of key: value",
    "model_type": "expected a YAML mapping of key: value",
    "model_attributes_type": "expected a YAML mapping of key: value",
}
_LIMITS = {  # type -> wording with pydantic's ctx values
    "too_short": "needs at least {min_length} item(s)",
    "too_long": "takes at most {max_length} items (the config reference, "
    "docs/reference/config.md, lists each limit); remove some",
    "string_too_short": "must not be empty",
    "string_too_long": "is at most {max_length} characters long",
    "greater_than": "must be more than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
}


def _plain(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The key path without pydantic's union tags (schedule's two forms, market_time.FORMS)."""
    return tuple(part for i, part in enumerate(loc)
                 if not (i and loc[i - 1] == "schedule" and part in FORMS))


def _location(loc: tuple[Any, ...]) -> str:
    loc = _plain(loc)
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int) and loc[i + 1:i + 2] != ("[key]",):  # an index, not a key
            out += f"[{part}]"
        elif part == "[key]":  # pydantic's marker for a mapping's key
            out += " key"
        elif str(part).startswith("function-"):
            continue
        else:
            name = clip(str(part), 40)
            out += f".{name}" if out else name
    return out or "(top level)"


def _model_at(root: type[BaseModel] | None, path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that holds the keys at `path` (list indexes skipped)."""
    model = root
    for part in path:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(str(part))
        model = _find_model(field.annotation) if field else None
    return model


def _find_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _find_model(arg)
        if found:
            return found
    return None


def _unknown_key(loc: tuple[Any, ...], root: type[BaseModel] | None) -> str:
    loc = _plain(loc)
    model = _model_at(root, loc[:-1])
    known = sorted(model.model_fields) if model else []
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean `{close[0]}`?"
    if known:
        return f"unknown key; the keys here are {', '.join(known)}"
    return ("unknown key; remove it or check its spelling against the config reference "
            "(docs/reference/config.md)")


def _message(err: Any, root: type[BaseModel] | None = None) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "extra_forbidden":
        return _unknown_key(tuple(err["loc"]), root)
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if kind == "missing":
        return "is required"
    if kind == "literal_error":
        return f"{shown(err['input'])} is not allowed; use {ctx.get('expected', '')}"
    if kind in _LIMITS:
        limit = _LIMITS[kind].format(**ctx)
        if kind in ("too_long", "too_short"):  # the input is the whole list: not worth echoing
            return limit
        return f"{limit} (got {shown(err['input'])})"
    hint = _TYPE_HINTS.get(kind, "is not a value this key takes; see the config reference "
                           "(docs/reference/config.md)")
    value = err.get("input")
    if kind.startswith("bool_") and isinstance(value, str) and value.strip().lower() in (
            "true", "false"):  # the YAML boolean, quoted: text, not a boolean
        return (f"expected true or false without quotes (got the text {shown(value)}); write "
                f"{value.strip().lower()}")
    return f"{hint} (got {shown(value)})"


def _relevant(errors: list[Any]) -> list[Any]:
    """Without a list's 'too short after validation' that only follows from an item's error."""
    parents = {tuple(e["loc"])[:n] for e in errors for n in range(len(e["loc"]))}
    return [e for e in errors if not (e["type"] == "too_short" and tuple(e["loc"]) in parents)]


def describe(exc: ValidationError, root: type[BaseModel] | None = None) -> str:
    """One paragraph: up to _MAX_SHOWN problems, and fewer if they would pass _BUDGET chars.

    `root`: the model validated, to suggest the nearest known key for a misspelt one.
    """
    errors = _relevant(exc.errors())
    parts: list[str] = []
    for err in errors[:_MAX_SHOWN]:
        where, text = _location(err["loc"]), _message(err, root)
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
