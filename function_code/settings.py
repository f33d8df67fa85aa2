"""The environment contract set by the deployer, parsed and validated.

Variables: STOCK_ALERT_STACK, STOCK_ALERT_TOPIC_ARN, STOCK_ALERT_STOCKS (JSON list),
STOCK_ALERT_ALERT (JSON object), STOCK_ALERT_PROVIDER (the chain of quote sources, asked in
this order for each symbol, comma-separated: "yahoo,stooq"; one name is a chain of one),
STOCK_ALERT_API_KEY_PARAMETER or STOCK_ALERT_API_KEY_SECRET (a Secrets Manager secret's name or
ARN, never the key; needed when the chain holds a keyed source), STOCK_ALERT_QUOTES_BASE_URL
(optional: replaces every source's address, e.g. the local quote server, which answers for all
of them), STOCK_ALERT_HTTP_TIMEOUT_S (optional, seconds).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

TYPE_CHECKING = False  # typing costs ~20 ms to import at cold start; only the checker needs it
if TYPE_CHECKING:
    from typing import Any

DEFAULT_BASE_URLS = {
    "yahoo": "https://query1.finance.yahoo.com",
    "stooq": "https://stooq.com",
    "alphavantage": "https://www.alphavantage.co",
}
KEYED = ("alphavantage",)  # sources that need an API key
DEFAULT_CHAIN = ("yahoo", "stooq")  # as the config's default; the deployer always sets it
WHEN = ("crossed", "beyond")
DEFAULT_HTTP_TIMEOUT_S = 3.0


class SettingsError(Exception):
    """The environment is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Stock:
    symbol: str
    name: str | None = None
    above: float | None = None
    below: float | None = None


@dataclass(frozen=True)
class Alert:
    mode: str = "summary"
    change_percent: float | None = None
    when: str = "crossed"  # above/below: "crossed" since the previous close, or "beyond"


@dataclass(frozen=True)
class Settings:
    stack: str
    topic_arn: str
    stocks: tuple[Stock, ...]
    alert: Alert
    providers: tuple[str, ...]
    api_key_parameter: str | None
    base_url: str | None  # STOCK_ALERT_QUOTES_BASE_URL: every source's address, when set
    http_timeout_s: float
    api_key_secret: str | None = None

    def url_for(self, source: str) -> str:
        """The address of ``source``: the override, else its own."""
        return self.base_url or DEFAULT_BASE_URLS[source]


def _json(var: str, raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{var} is not valid JSON: {exc.msg}") from None


def _number(var: str, field: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingsError(f"{var}: {field} must be a number or null, got {value!r}")
    return float(value)


def _stock(var: str, item: Any) -> Stock:
    if not isinstance(item, dict) or not isinstance(item.get("symbol"), str):
        raise SettingsError(f"{var}: each entry needs a string 'symbol', got {item!r}")
    symbol = item["symbol"].strip().upper()
    name = item.get("name")
    if not symbol or (name is not None and not isinstance(name, str)):
        raise SettingsError(f"{var}: bad entry {item!r}")
    above = _number(var, f"{symbol}.above", item.get("above"))
    below = _number(var, f"{symbol}.below", item.get("below"))
    return Stock(symbol=symbol, name=name or None, above=above, below=below)


def parse_stocks(raw: str) -> tuple[Stock, ...]:
    var = "STOCK_ALERT_STOCKS"
    data = _json(var, raw or "null")
    if not isinstance(data, list) or not data:
        raise SettingsError(f"{var} must be a non-empty JSON list of stocks")
    return tuple(_stock(var, item) for item in data)


def parse_alert(raw: str) -> Alert:
    var = "STOCK_ALERT_ALERT"
    data = _json(var, raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise SettingsError(f"{var} must be a JSON object")
    mode = data.get("mode") or "summary"
    if mode not in ("summary", "threshold"):
        raise SettingsError(f"{var}: mode must be 'summary' or 'threshold', got {mode!r}")
    threshold = _number(var, "change_percent", data.get("change_percent"))
    if threshold is not None and threshold <= 0:
        raise SettingsError(f"{var}: change_percent must be positive, got {threshold}")
    when = data.get("when") or "crossed"
    if when not in WHEN:
        raise SettingsError(f"{var}: when must be 'crossed' or 'beyond', got {when!r}")
    return Alert(mode=mode, change_percent=threshold, when=when)


def parse_providers(raw: str) -> tuple[str, ...]:
    """"yahoo,stooq" -> ("yahoo", "stooq"): known names, each once, at least one."""
    var = "STOCK_ALERT_PROVIDER"
    names = tuple(n.strip().lower() for n in raw.split(",") if n.strip()) or DEFAULT_CHAIN
    for name in names:
        if name not in DEFAULT_BASE_URLS:
            raise SettingsError(f"{var} must list sources among {', '.join(DEFAULT_BASE_URLS)}"
                                f" (comma-separated), not {name!r}")
    if len(set(names)) != len(names):
        raise SettingsError(f"{var} names a source twice: {raw!r}")
    return names


def _timeout(env: dict[str, str]) -> float:
    raw = env.get("STOCK_ALERT_HTTP_TIMEOUT_S", "").strip()
    try:
        value = float(raw) if raw else DEFAULT_HTTP_TIMEOUT_S
    except ValueError:
        raise SettingsError(f"STOCK_ALERT_HTTP_TIMEOUT_S must be a number, got {raw!r}") from None
    if value <= 0:
        raise SettingsError("STOCK_ALERT_HTTP_TIMEOUT_S must be positive")
    return value


def _base_url(env: dict[str, str]) -> str | None:
    url = env.get("STOCK_ALERT_QUOTES_BASE_URL", "").strip()
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise SettingsError("STOCK_ALERT_QUOTES_BASE_URL must start with http:// or https://")
    return url.rstrip("/")


def load(env: dict[str, str] | None = None) -> Settings:
    """Read and validate the environment; raise SettingsError naming the bad variable."""
    env = dict(os.environ) if env is None else env
    topic_arn = env.get("STOCK_ALERT_TOPIC_ARN", "").strip()
    if not topic_arn:
        raise SettingsError("STOCK_ALERT_TOPIC_ARN is not set")
    providers = parse_providers(env.get("STOCK_ALERT_PROVIDER", ""))
    parameter = env.get("STOCK_ALERT_API_KEY_PARAMETER", "").strip() or None
    secret = env.get("STOCK_ALERT_API_KEY_SECRET", "").strip() or None
    keyed = [name for name in providers if name in KEYED]
    if keyed and not (parameter or secret):
        raise SettingsError(
            f"provider {keyed[0]} needs STOCK_ALERT_API_KEY_PARAMETER (the SSM parameter name)"
            " or STOCK_ALERT_API_KEY_SECRET (the Secrets Manager secret)"
        )
    return Settings(
        stack=env.get("STOCK_ALERT_STACK", "").strip() or "stock-alert",
        topic_arn=topic_arn,
        stocks=parse_stocks(env.get("STOCK_ALERT_STOCKS", "")),
        alert=parse_alert(env.get("STOCK_ALERT_ALERT", "")),
        providers=providers,
        api_key_parameter=parameter,
        base_url=_base_url(env),
        http_timeout_s=_timeout(env),
        api_key_secret=secret,
    )
