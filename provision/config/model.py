"""config.yaml -> a frozen, validated Config. Pydantic is used at this boundary only.

Every problem becomes a ConfigError naming the key and the fix; nothing here touches AWS.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic import model_validator as _model_validator

from provision.config import validators as v
from provision.config.regions import check_region
from provision.config.yamlfile import load_yaml
from provision.errors import ConfigError

CONFIG_ENV = "STOCK_ALERT_CONFIG"
MANAGED_BY = "managed-by"
STACK_TAG = "stock-alert:stack"
RUNTIMES = ("python3.10", "python3.11", "python3.12", "python3.13", "python3.14")
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                  2192, 2557, 2922, 3288, 3653)
# Longest suffix added to `name` (the rule "<name>-schedule"), against the 64-character limit
# shared by IAM role, Lambda function and EventBridge rule names.
NAME_SUFFIX_MAX = len("-schedule")
NAME_MAX = 64 - NAME_SUFFIX_MAX
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Stock(_Model):
    symbol: str
    name: str | None = Field(default=None, max_length=40)
    above: float | None = Field(default=None, gt=0)
    below: float | None = Field(default=None, gt=0)

    @field_validator("symbol")
    @classmethod
    def _symbol(cls, value: str) -> str:
        return v.check_ticker(value)

    @_model_validator(mode="after")
    def _bounds(self) -> Stock:
        if self.above is not None and self.below is not None and self.below >= self.above:
            raise ValueError(
                f"{self.symbol}: below ({self.below}) must be lower than above ({self.above})"
            )
        return self


class Notify(_Model):
    email: tuple[str, ...] = ()
    sms: tuple[str, ...] = ()

    @field_validator("email")
    @classmethod
    def _emails(cls, items: tuple[str, ...]) -> tuple[str, ...]:
        return _unique("e-mail address", tuple(v.check_email(e) for e in items))

    @field_validator("sms")
    @classmethod
    def _phones(cls, items: tuple[str, ...]) -> tuple[str, ...]:
        return _unique("phone number", tuple(v.check_phone(p) for p in items))


class FunctionSettings(_Model):
    runtime: str = "python3.12"
    memory_mb: Annotated[int, Field(ge=128, le=10240)] = 128
    timeout_s: Annotated[int, Field(ge=1, le=900)] = 30
    log_retention_days: int = 14

    @field_validator("runtime")
    @classmethod
    def _runtime(cls, value: str) -> str:
        if value not in RUNTIMES:
            raise ValueError(f"{v.shown(value)} is not a supported Python runtime; use one of "
                             f"{', '.join(RUNTIMES)}")
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in RETENTION_DAYS:
            raise ValueError(f"{value} is not a retention CloudWatch accepts; use one of "
                             f"{', '.join(map(str, RETENTION_DAYS))}")
        return value


class Quotes(_Model):
    provider: Literal["yahoo", "alphavantage"] = "yahoo"
    api_key_parameter: str | None = None
    base_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")

    @field_validator("api_key_parameter")
    @classmethod
    def _param(cls, value: str | None) -> str | None:
        return None if value is None else v.check_ssm_name(value)

    @_model_validator(mode="after")
    def _key_needed(self) -> Quotes:
        if self.provider == "alphavantage" and not self.api_key_parameter:
            raise ValueError("provider alphavantage needs api_key_parameter: the name of an SSM "
                             "SecureString parameter that holds your Alpha Vantage API key")
        return self


class Alert(_Model):
    mode: Literal["summary", "threshold"] = "summary"
    change_percent: float | None = Field(default=3.0, gt=0, le=1000)


class Config(_Model):
    name: str
    region: str | None = None
    schedule: str = "cron(0 14 ? * MON-FRI *)"
    enabled: bool = True
    stocks: tuple[Stock, ...] = Field(min_length=1, max_length=25)
    notify: Notify = Notify()
    function: FunctionSettings = FunctionSettings()
    quotes: Quotes = Quotes()
    alert: Alert = Alert()
    tags: dict[str, str] = Field(default_factory=dict, max_length=40)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value) or value.endswith("-") or len(value) > NAME_MAX:
            raise ValueError(
                f"{v.shown(value)} is not a usable stack name: start with a letter, then letters, "
                f"digits or '-', not ending in '-', at most {NAME_MAX} characters (so that "
                f"'<name>-schedule' fits AWS's 64-character limit)"
            )
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        return None if value is None else check_region(value)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return v.check_schedule(value)

    @field_validator("stocks", mode="before")
    @classmethod
    def _stocks(cls, items: Any) -> Any:
        if isinstance(items, list):
            return [s if isinstance(s, dict) else {"symbol": s} for s in items]
        return items

    @field_validator("stocks")
    @classmethod
    def _unique_stocks(cls, items: tuple[Stock, ...]) -> tuple[Stock, ...]:
        _unique("ticker", tuple(s.symbol for s in items))
        return items

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: dict[str, str]) -> dict[str, str]:
        for key, value in tags.items():
            v.check_tag(key, value, (MANAGED_BY, STACK_TAG))
        return tags

    @_model_validator(mode="after")
    def _threshold_rules(self) -> Config:
        has_price_rule = any(s.above or s.below for s in self.stocks)
        if self.alert.mode == "threshold" and not (self.alert.change_percent or has_price_rule):
            raise ValueError("alert.mode threshold needs alert.change_percent or an above/below "
                             "price on at least one stock, or nothing could ever fire")
        return self


def _unique(what: str, items: tuple[str, ...]) -> tuple[str, ...]:
    seen = {i for i in items if items.count(i) > 1}
    if seen:
        raise ValueError(f"{what} {v.shown(sorted(seen)[0])} is listed twice; list each once")
    return items


def config_path(option: str | None) -> Path:
    """--config, else $STOCK_ALERT_CONFIG, else ./config.yaml."""
    return Path(option or os.environ.get(CONFIG_ENV) or "config.yaml")


def load_config(path: Path) -> Config:
    """Read and validate the config file; raise ConfigError with the key and the fix."""
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the file must be a YAML mapping of keys such as name, "
                          "stocks and notify (see the commented config.yaml in the README).")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        from provision.config.messages import describe

        raise ConfigError(f"{path}: {describe(exc)}") from None
