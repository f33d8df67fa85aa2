"""Plan changes in the terms a person thinks in: config keys, tickers, subscribers, grants.

Pure functions from a `Change` (or the function's environment variables) to lines of text.
Nothing is ever cut: a list shows every item; long values are left whole for the table to wrap.
The function's environment is decoded back into config terms: STOCK_ALERT_STOCKS becomes
`stocks: +TSLA (above 300)`, STOCK_ALERT_ALERT becomes `alert.change_percent: 2.0 -> 4.0`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from provision.core.plan import AnyAction, Change, Op

# Function environment variable -> the config key it carries.
ENV_TERMS = {
    "STOCK_ALERT_PROVIDER": "quotes.providers",
    "STOCK_ALERT_API_KEY_PARAMETER": "quotes.api_key_parameter",
    "STOCK_ALERT_QUOTES_BASE_URL": "quotes.base_url",
    "STOCK_ALERT_STACK": "name",
    "STOCK_ALERT_TOPIC_ARN": "topic",
}
STOCKS_VAR = "STOCK_ALERT_STOCKS"
ALERT_VAR = "STOCK_ALERT_ALERT"
_DERIVED = ("STOCK_ALERT_STACK", "STOCK_ALERT_TOPIC_ARN")  # follow from the name: not news
_UNSET = {"quotes.base_url": "(provider default)"}
_SKIP_ON_CREATE = frozenset({"description", "handler"})  # constants, the same for every stack
_ATTRIBUTES = {"KmsMasterKeyId": "encryption", "DisplayName": "display_name"}
_DecodeError = (ValueError, TypeError, KeyError, AttributeError)


def text(value: Any) -> str:
    """A value as a person reads it, whole."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return ", ".join(text(v) for v in value) if value else "(none)"
    return json.dumps(value, default=str, sort_keys=True)


def _number(value: Any) -> str:
    return "none" if value is None else f"{value:g}" if isinstance(value, float) else text(value)


def describe(action: AnyAction) -> list[str]:
    """One or more lines per change of a create or update."""
    created = action.op is Op.CREATE
    lines: list[str] = []
    for change in action.changes:
        if change.field == "applied" or (created and change.field in _SKIP_ON_CREATE):
            continue  # 'applied' is the tool's own record of what it wrote, not a change
        lines += describe_change(change, created)
    return lines


def describe_change(change: Change, created: bool = False) -> list[str]:
    special = _BY_FIELD.get(change.field)
    if special is not None:
        return special(change, created)
    if created:
        return [f"{change.label}: {text(change.new)}"]
    return [f"{change.label}: {text(change.old)} -> {text(change.new)}"]


# function environment ------------------------------------------------------------------------
def environment_lines(old: dict[str, str] | None, new: dict[str, str] | None,
                      created: bool = False) -> list[str]:
    """The difference between two function environments, in config terms."""
    before, after = old or {}, new or {}
    if created:
        return _environment_values(after)
    lines: list[str] = []
    for var in sorted(before.keys() | after.keys(), key=_env_order):
        if before.get(var) != after.get(var):
            lines += _env_var_lines(var, before.get(var), after.get(var))
    return lines


def setting_differences(deployed: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """The config keys whose deployed value differs from the config's, among the function
    settings a local run uses (its environment and timeout): e.g. ['stocks', 'quotes.base_url'].
    """
    before, after = deployed.get("environment") or {}, wanted.get("environment") or {}
    keys: list[str] = []
    for var in sorted(before.keys() | after.keys(), key=_env_order):
        if before.get(var) == after.get(var):
            continue
        if var == ALERT_VAR:
            keys += [line.split(":", 1)[0] for line in _env_var_lines(var, before.get(var),
                                                                      after.get(var))]
        else:
            keys.append("stocks" if var == STOCKS_VAR else ENV_TERMS.get(var, f"env {var}"))
    if deployed.get("timeout_s") != wanted.get("timeout_s"):
        keys.append("function.timeout_s")
    return list(dict.fromkeys(keys))


def _env_order(var: str) -> tuple[int, str]:
    order = (STOCKS_VAR, ALERT_VAR, *ENV_TERMS)
    return (order.index(var) if var in order else len(order), var)


def _environment_values(env: dict[str, str]) -> list[str]:
    lines = []
    for var in sorted(env, key=_env_order):
        if var in _DERIVED:
            continue
        try:
            if var == STOCKS_VAR:
                lines.append("stocks: " + ", ".join(stock_text(s) for s in json.loads(env[var])))
            elif var == ALERT_VAR:
                alert = json.loads(env[var])
                lines.append("alert: " + ", ".join(f"{k} {text(alert[k])}" for k in alert))
            else:
                lines.append(f"{ENV_TERMS.get(var, 'env ' + var)}: {env[var]}")
        except _DecodeError:
            lines.append(f"env {var}: {env[var]}")
    return lines


def _env_var_lines(var: str, old: str | None, new: str | None) -> list[str]:
    decoders: dict[str, Callable[[Any, Any], list[str]]] = {
        STOCKS_VAR: stock_lines, ALERT_VAR: alert_lines}
    decoder = decoders.get(var)
    if decoder is not None and old is not None and new is not None:
        try:
            return decoder(json.loads(old), json.loads(new))
        except _DecodeError:
            pass  # edited by hand into something we never write: show it as it is
    term = ENV_TERMS.get(var) if decoder is None else None
    if term is None:
        if new is None:
            return [f"env {var}: removed (was {old})"]
        return [f"env {var}: {'(not set)' if old is None else old} -> {new}"]
    unset = _UNSET.get(term, "(not set)")
    return [f"{term}: {unset if old is None else old} -> {unset if new is None else new}"]


def stock_text(stock: dict[str, Any]) -> str:
    """TSLA (Tesla, above 300, below 200)."""
    extras = [stock["name"]] if stock.get("name") else []
    extras += [f"{k} {_number(stock[k])}" for k in ("above", "below")
               if stock.get(k) is not None]
    return stock["symbol"] + (f" ({', '.join(extras)})" if extras else "")


def stock_lines(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    """stocks: +TSLA (above 300), stocks: -GM, stocks.F.below: 10 -> 11, stocks order."""
    before = {s["symbol"]: s for s in old}
    after = {s["symbol"]: s for s in new}
    lines = [f"stocks: +{stock_text(s)}" for s in new if s["symbol"] not in before]
    lines += [f"stocks: -{stock_text(s)}" for s in old if s["symbol"] not in after]
    for symbol, stock in after.items():
        was = before.get(symbol, stock)
        lines += [f"stocks.{symbol}.{key}: {_number(was.get(key))} -> {_number(stock.get(key))}"
                  for key in ("name", "above", "below") if was.get(key) != stock.get(key)]
    kept_before = [s for s in before if s in after]
    kept_after = [s for s in after if s in before]
    if kept_before != kept_after:
        lines.append(f"stocks order: {', '.join(kept_before)} -> {', '.join(kept_after)}")
    return lines


def alert_lines(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    return [f"alert.{key}: {text(old.get(key))} -> {text(new.get(key))}"
            for key in sorted(old.keys() | new.keys()) if old.get(key) != new.get(key)]


def _environment(change: Change, created: bool) -> list[str]:
    return environment_lines(change.old, change.new, created)


# IAM -----------------------------------------------------------------------------------------
def statement_text(statement: dict[str, Any]) -> str:
    """Allow sns:Publish on arn:...; conditions and principals included, nothing dropped."""
    parts = [statement.get("Effect", "Allow"), text(statement.get("Action"))]
    principal = statement.get("Principal")
    if principal is not None:
        values = principal.values() if isinstance(principal, dict) else [principal]
        parts.append("by " + text([v for p in values for v in ([p] if isinstance(p, str)
                                                                else p)]))
    if "Resource" in statement:
        parts.append("on " + text(statement["Resource"]))
    if statement.get("Condition"):
        parts.append("if " + text(statement["Condition"]))
    return " ".join(parts)


def _statements(document: Any) -> list[str]:
    doc = json.loads(document) if isinstance(document, str) else document
    found = doc.get("Statement", [])
    return [statement_text(s) for s in (found if isinstance(found, list) else [found])]


def document_lines(label: str, old: Any, new: Any, created: bool = False) -> list[str]:
    """A policy document added, removed or changed, as its grants."""
    try:
        if new is None:
            return [f"{label}: removed"]
        grants = "; ".join(_statements(new))
        if old is None:
            return [f"{label}: {grants}" if created else f"{label}: added ({grants})"]
        before, after = _statements(old), _statements(new)
    except _DecodeError:
        return [f"{label}: {text(old)} -> {text(new)}"]
    lines = [f"{label}: +{s}" for s in after if s not in before]
    lines += [f"{label}: -{s}" for s in before if s not in after]
    return lines or [f"{label}: changed (same grants; statement ids or layout differ)"]


def _document(change: Change, created: bool) -> list[str]:
    return document_lines(change.label, change.old, change.new, created)


def _managed(change: Change, created: bool) -> list[str]:
    return [f"managed_policies: detach {arn}" for arn in change.old or []]


# tags, topic, schedule, code ------------------------------------------------------------------
def tag_lines(old: dict[str, str] | None, new: dict[str, str] | None) -> list[str]:
    before, after = old or {}, new or {}
    lines = [f"tags: +{k}={v}" for k, v in after.items() if k not in before]
    lines += [f"tags: -{k}" for k in before if k not in after]
    lines += [f"tags: {k}: {before[k]} -> {v}" for k, v in after.items()
              if k in before and before[k] != v]
    return lines


def _tags(change: Change, created: bool) -> list[str]:
    return tag_lines(change.old, change.new)


def _subscriber(change: Change, created: bool) -> list[str]:
    return [f"{'+' if change.new else '-'} {change.field} {change.item}"]


def _attribute(change: Change, created: bool) -> list[str]:
    if change.item == "Policy":  # the topic's access policy: its statements, like a role's
        return document_lines("access_policy", change.old, change.new, created)
    name = _ATTRIBUTES.get(change.item, f"attribute {change.item}")
    if created:
        return [f"{name}: {text(change.new)}"]
    return [f"{name}: {text(change.old)} -> {text(change.new)}"]


def _targets(change: Change, created: bool) -> list[str]:
    new = sorted((change.new or {}).values())
    if created:
        return [f"targets: {text(new)}"]
    return [f"targets: {text(sorted((change.old or {}).values()))} -> {text(new)}"]


def _permission(change: Change, created: bool) -> list[str]:
    old, new = change.old, change.new or {}
    if created or old is None:
        grant = (f"{new.get('principal')} may {new.get('action')}, only from "
                 f"{new.get('source_arn')} in account {new.get('source_account')}")
        return [f"permission: {grant}" if created else f"permission: added ({grant})"]
    return [f"permission.{k}: {text(old.get(k))} -> {text(new.get(k))}"
            for k in sorted(old.keys() | new.keys()) if old.get(k) != new.get(k)]


def _code(change: Change, created: bool) -> list[str]:
    def sha(value: Any) -> str:
        return "none" if not value else f"sha256 {str(value)[:12]}"
    if created:
        return [f"code: {sha(change.new)}"]
    return [f"code: {sha(change.old)} -> {sha(change.new)}"]


_BY_FIELD: dict[str, Callable[[Change, bool], list[str]]] = {
    "environment": _environment, "policy": _document, "trust_policy": _document,
    "managed_policies": _managed, "tags": _tags, "email": _subscriber, "sms": _subscriber,
    "attribute": _attribute, "targets": _targets, "permission": _permission, "code": _code,
}
