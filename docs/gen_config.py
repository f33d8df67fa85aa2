"""reference/config.md: every key of config.yaml with its type, default, limits and effect, from
the JSON Schema `stock-alert config schema` prints (itself generated from the model that
validates the config), and the effective example from `config check`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from gen_common import EXAMPLE_CONFIG, HEADER, Cli, code, prose, table

INTRO = """\
# Config reference

`config.yaml` says what the stack is; `plan`, `up`, `status` and `down` read it. Start from the
commented config that `stock-alert init` writes (or the example `config.yaml` at the top of the
repository), and check a config without AWS with `stock-alert config check`.

This page is generated from the JSON Schema that `stock-alert config schema` prints, which is
generated from the model that validates the config, so the three cannot disagree.

**Rules for every key.** Unknown keys are errors (the message suggests the nearest known key,
e.g. "did you mean `notify`?"), and so are duplicate keys. Every check runs before the first
AWS call; a bad value exits with status 2 and one paragraph that names the key (list items as
`notify.sms[1]`) and the fix. Numbers and `true`/`false` are taken literally: `timeout_s: yes`
or `memory_mb: "256"` are errors, not 1 and 256; prices must be finite (`.inf` and `.nan` are
refused). Text values may not contain line breaks, and digits must be ASCII `0`-`9`.

**The file.** A regular UTF-8 file of at most 1 MiB (a pipe, device or socket is refused
without being read), with at most 10,000 values once YAML aliases (`*name`) are expanded and
at most 8 levels of nesting.

**Checked by stock-alert only.** Editors that use the schema flag most mistakes as you type; a
few rules need stock-alert itself (`stock-alert config check`): `below` < `above`,
`alphavantage` needs a key source, cron field values, tickers that differ only in case, and
the function's 4 KB environment (all stocks together).
"""


def page() -> str:
    with Cli() as cli:
        schema = cli.run("config", "schema").json()
        effective = cli.run("config", "check", "-c", str(EXAMPLE_CONFIG), "-o", "json").json()
    required = set(schema.get("required", []))
    defs = schema.get("$defs", {})
    keys = list(_keys(schema["properties"], "", defs))
    rows = [[f"[{code(path)}](#{_anchor(path)})", prose(_type(node, defs)),
             _default(node, path in required)] for path, node in keys]
    out = [HEADER, INTRO, "\n## All keys\n\n",
           table(["key", "type", "default"], rows), "\n"]
    for path, node in keys:
        out.append(_section(path, node, path in required, defs))
    out.append("## The example, with every default filled in\n\n"
               "What `stock-alert config check -c config.yaml --output json` prints for the "
               "repository's example `config.yaml` (its `config` part):\n\n")
    out.append("```json\n" + json.dumps(effective["config"], indent=2) + "\n```\n")
    return "".join(out)


def _keys(props: dict[str, Any], prefix: str,
          defs: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for key, node in props.items():
        yield prefix + key, node
        for sub, separator in ((node, "."), (node.get("items") or {}, "[].")):
            found = _ref(sub, defs)
            if found is not None:
                yield from _keys(found["properties"], prefix + key + separator, defs)


def _ref(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any] | None:
    for choice in [node, *node.get("anyOf", [])]:
        if "$ref" in choice:
            found: dict[str, Any] = defs[choice["$ref"].rsplit("/", 1)[-1]]
            return found
    return None


def _anchor(path: str) -> str:
    return path.replace("[]", "").replace(".", "-").replace("_", "-")


def _choices(node: dict[str, Any]) -> list[dict[str, Any]]:
    return node.get("anyOf") or [node]


def _type(node: dict[str, Any], defs: dict[str, Any]) -> str:
    names = []
    for choice in _choices(node):
        if "$ref" in choice or choice.get("type") == "object":
            names.append("mapping")
        elif choice.get("type") == "array":
            items = choice.get("items") or {}
            inner = " or ".join(_type(i, defs) for i in _choices(items)) if items else "value"
            names.append(f"list of {inner}")
        else:
            names.append({"string": "text", "integer": "whole number", "number": "number",
                          "boolean": "true/false", "null": "null"}.get(choice.get("type", ""),
                                                                        "value"))
    return " or ".join(dict.fromkeys(names))


def _default(node: dict[str, Any], required: bool) -> str:
    if required:
        return "required"
    if "default" not in node:
        return "none"
    return code(json.dumps(node["default"]))


def _section(path: str, node: dict[str, Any], required: bool, defs: dict[str, Any]) -> str:
    level = "###" if "." in path else "##"
    facts = [prose(_type(node, defs)), _default(node, required),
             "; ".join(_limits(node)) or "(in the text above)"]
    return (f"{level} `{path}` {{#{_anchor(path)}}}\n\n" + prose(node.get("description", ""))
            + "\n\n" + table(["type", "default", "limits the schema checks"], [facts]) + "\n")


def _limits(node: dict[str, Any]) -> list[str]:
    """What the schema itself enforces, in words (the description says the rest)."""
    out: list[str] = []
    for choice in _choices(node):
        out += _bounds(choice)
        items = choice.get("items")
        if isinstance(items, dict) and "anyOf" not in items:
            out += [f"each item: {x}" for x in _bounds(items)]
    return list(dict.fromkeys(out))


def _bounds(node: dict[str, Any]) -> list[str]:
    words = {"minimum": "at least {}", "exclusiveMinimum": "greater than {}",
             "maximum": "at most {}", "minLength": "at least {} characters",
             "maxLength": "at most {} characters", "minItems": "at least {} items",
             "maxItems": "at most {} items", "maxProperties": "at most {} entries"}
    out = [text.format(node[key]) for key, text in words.items() if key in node]
    if node.get("uniqueItems"):
        out.append("each item once")
    enum = node.get("enum")
    if enum and len(enum) <= 25:
        out.append("one of " + ", ".join(code(json.dumps(v)) for v in enum))
    elif enum:
        out.append(f"one of {len(enum)} known values (`stock-alert config schema` lists them)")
    if "pattern" in node:
        out.append(f"matches {code(node['pattern'])}")
    return out
