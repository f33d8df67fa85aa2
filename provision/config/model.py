"""config.yaml -> a frozen, validated Config. Pydantic is used at this boundary only.

Every problem becomes a ConfigError naming the key and the fix; nothing here touches AWS.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic import model_validator as _model_validator

from provision.config import document
from provision.config import secrets as keys
from provision.config import validators as v
from provision.config.hardening import KmsKey, ReservedConcurrency, ScheduleDelivery
from provision.config.iam import IamSettings
from provision.config.market_time import MarketTime, Schedule
from provision.config.network import Network
from provision.config.regions import check_region
from provision.errors import ConfigError

CONFIG_ENV = "STOCK_ALERT_CONFIG"
MANAGED_BY = "managed-by"
STACK_TAG = "stock-alert:stack"
APPLIED_TAG = "stock-alert:applied"  # the digest of what stock-alert last wrote
# IAM is global: a role also says which Region's stack it serves, so one stack name in two
# Regions is two stacks that never touch each other's role.
REGION_TAG = "stock-alert:region"
# A stack made by a fleet (--count/--participants) says which: a fleet never takes over, or
# deletes, a stack of the same name that it did not make (unless told to adopt it).
FLEET_TAG = "stock-alert:fleet"
RUNTIMES = ("python3.10", "python3.11", "python3.12", "python3.13", "python3.14")
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                  2192, 2557, 2922, 3288, 3653)
# Longest suffix added to `name` (the rule "<name>-schedule"), against the 64-character limit
# shared by IAM role, Lambda function and EventBridge rule names.
NAME_SUFFIX_MAX = len("-schedule")
NAME_MAX = 64 - NAME_SUFFIX_MAX
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*", re.ASCII)


def is_stack_name(text: str) -> bool:
    """Whether a config may name a stack `text` (so no stack name holds '_')."""
    return bool(_NAME.fullmatch(text)) and not text.endswith("-") and len(text) <= NAME_MAX


_URL = re.compile(r"https?://[!-~]+", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# 21:30 UTC on weekdays: 16:30 in New York in winter (EST, UTC-5) and 17:30 in summer (EDT,
# UTC-4), after the 16:00 close either way, so the day's closing prices are in. EventBridge
# rules run in UTC and do not follow daylight saving time.
# A config without `schedule:` keeps this rule, so a stack deployed before the market-time form
# existed is never moved to another service by an upgrade; `init` and the example config write
# the market-time form (MARKET_CLOSE) instead.
DEFAULT_SCHEDULE = "cron(30 21 ? * MON-FRI *)"
# 16:30 in New York every weekday, EST or EDT: half an hour after the close, in the market's
# own zone (EventBridge Scheduler follows New York's daylight-saving changes).
MARKET_CLOSE = {"at": "16:30", "timezone": "America/New_York", "days": "MON-FRI"}
LIST_MAX = 25  # stocks, e-mail addresses, phone numbers
TAGS_MAX = 40  # AWS allows 50 per resource; stock-alert adds 2 and keeps room to spare
# Numbers and booleans are strict: YAML reads yes/no/on/off as booleans, and lax pydantic would
# turn `timeout_s: yes` into 1 second. Floats must be finite (.inf and .nan are YAML floats).
Price = Annotated[float | None, Field(gt=0, strict=True, allow_inf_nan=False)]
Email = Annotated[str, AfterValidator(v.check_email)]
Phone = Annotated[str, AfterValidator(v.check_phone)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, defer_build=True)


class Stock(_Model):
    symbol: str
    name: str | None = Field(default=None, min_length=1, max_length=40)
    above: Price = None
    below: Price = None

    @field_validator("symbol")
    @classmethod
    def _symbol(cls, value: str) -> str:
        return v.check_ticker(value)

    @field_validator("name")
    @classmethod
    def _display_name(cls, value: str | None) -> str | None:
        if value is not None and _CONTROL.search(value):
            raise ValueError(f"{v.shown(value)} holds a line break or other control character; "
                             "write the display name on one line")
        return value

    @_model_validator(mode="after")
    def _bounds(self) -> Stock:
        if self.above is not None and self.below is not None and self.below >= self.above:
            raise ValueError(
                f"{self.symbol}: below ({self.below}) must be lower than above ({self.above})"
            )
        return self


NO_SUBSCRIBERS = "no subscribers: alerts go nowhere"


class Notify(_Model):
    email: tuple[Email, ...] = Field(default=(), max_length=LIST_MAX)
    sms: tuple[Phone, ...] = Field(default=(), max_length=LIST_MAX)
    kms_key: KmsKey = None  # the topic's customer KMS key; None: alias/aws/sns

    @field_validator("email")
    @classmethod
    def _emails(cls, items: tuple[str, ...]) -> tuple[str, ...]:
        # Domains are case-insensitive and mail systems treat local parts so in practice; SNS
        # would make two subscriptions and send every alert twice.
        return _unique("notify.email", items, str.casefold)

    @field_validator("sms")
    @classmethod
    def _phones(cls, items: tuple[str, ...]) -> tuple[str, ...]:
        return _unique("notify.sms", items)

    def no_subscribers(self) -> str | None:
        """The warning plan, up, config check and cost print when no one is notified (here,
        not with the cost estimate: plan and up would import that for two fields)."""
        if self.email or self.sms:
            return None
        return (f"{NO_SUBSCRIBERS} (notify.email and notify.sms are both empty); add an e-mail "
                "address or a phone number to the config")


class FunctionSettings(_Model):
    runtime: str = "python3.12"
    memory_mb: Annotated[int, Field(ge=128, le=10240, strict=True)] = 128
    timeout_s: Annotated[int, Field(ge=1, le=900, strict=True)] = 30
    log_retention_days: Annotated[int, Field(strict=True)] = 14
    reserved_concurrency: ReservedConcurrency = 1

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


Source = Literal["yahoo", "stooq", "alphavantage"]
SOURCES: tuple[str, ...] = ("yahoo", "stooq", "alphavantage")
# The default chain: Yahoo first (intraday prices, a name and a currency, several symbols at
# once), Stooq when Yahoo refuses (it refuses many datacentre addresses with HTTP 429). Both
# need no key, so the default config works without 'secret set'; Alpha Vantage's free key
# allows 25 requests a day, so it is a source to add by choice, not a default.
DEFAULT_PROVIDERS: tuple[str, ...] = ("yahoo", "stooq")


class Quotes(_Model):
    # The sources, asked in this order for each symbol (None: DEFAULT_PROVIDERS); `chain`.
    providers: tuple[Source, ...] | None = Field(default=None, min_length=1,
                                                 max_length=len(SOURCES))
    provider: Source | None = None  # the older form: a chain of one source
    api_key_parameter: str | None = None
    api_key_secret: str | None = None  # Secrets Manager name or ARN (config/secrets.py)
    api_key_kms_key: str | None = None  # customer KMS key ARN for the parameter or secret
    base_url: str | None = None

    @field_validator("api_key_parameter")
    @classmethod
    def _param(cls, value: str | None) -> str | None:
        return None if value is None else v.check_ssm_name(value)

    @field_validator("api_key_secret")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        return None if value is None else keys.check_secret(value)

    @field_validator("api_key_kms_key")
    @classmethod
    def _kms_key(cls, value: str | None) -> str | None:
        return None if value is None else keys.check_kms_key(value)

    @field_validator("providers")
    @classmethod
    def _unique_providers(cls, items: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if items is None else _unique("quotes.providers", items)

    @property
    def chain(self) -> tuple[str, ...]:
        """The sources the function asks, in order."""
        return self.providers or ((self.provider,) if self.provider else DEFAULT_PROVIDERS)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not _URL.fullmatch(value):
            raise ValueError(f"{v.shown(value)} is not an http(s) URL; write it like "
                             "https://quotes.example.com, without spaces")
        return value

    @_model_validator(mode="after")
    def _key_needed(self) -> Quotes:
        if self.provider is not None and self.providers is not None:
            raise ValueError(
                f"quotes.provider ({self.provider}) and quotes.providers "
                f"([{', '.join(self.providers)}]) are both set, but the function asks one "
                "chain of sources; keep quotes.providers (a list, tried in order, e.g. "
                "[yahoo, stooq]) and delete quotes.provider")
        keys.check_sources(self.api_key_parameter, self.api_key_secret, self.chain)
        return self


class Alert(_Model):
    mode: Literal["summary", "threshold"] = "summary"
    change_percent: float | None = Field(default=3.0, gt=0, le=1000, strict=True,
                                         allow_inf_nan=False)
    # Price rules (above/below): "crossed" fires when the previous close was on the other side
    # of the level and the price is now on this side, so a level stays news for one day;
    # "beyond" fires on every run while the price is past it.
    when: Literal["crossed", "beyond"] = "crossed"


class Config(_Model):
    name: str
    region: str | None = None
    schedule: Schedule = DEFAULT_SCHEDULE
    enabled: Annotated[bool, Field(strict=True)] = True
    stocks: tuple[Stock, ...] = Field(min_length=1, max_length=LIST_MAX)
    notify: Notify = Notify()
    function: FunctionSettings = FunctionSettings()
    quotes: Quotes = Quotes()
    alert: Alert = Alert()
    iam: IamSettings = IamSettings()
    schedule_delivery: ScheduleDelivery = ScheduleDelivery()
    tags: dict[str, str] = Field(default_factory=dict, max_length=TAGS_MAX)
    network: Network | None = None

    @_model_validator(mode="before")
    @classmethod
    def _default_key_source(cls, data: Any) -> Any:
        return keys.with_default_source(data)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not is_stack_name(value):
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

    @property
    def market_time(self) -> MarketTime | None:
        """The schedule in a market's local time (an EventBridge Scheduler schedule), or None
        for a cron(...)/rate(...) string (an EventBridge rule, in UTC)."""
        return self.schedule if isinstance(self.schedule, MarketTime) else None

    @property
    def rule_expression(self) -> str | None:
        """The EventBridge rule's cron(...)/rate(...), or None with the market-time form."""
        return self.schedule if isinstance(self.schedule, str) else None

    @property
    def expression(self) -> str:
        """The cron(...)/rate(...) that runs the function, whichever service evaluates it
        (the market-time form's in its own zone)."""
        market = self.market_time
        return market.expression if market else str(self.schedule)

    @field_validator("stocks", mode="before")
    @classmethod
    def _stocks(cls, items: Any) -> Any:
        if isinstance(items, list):
            return [s if isinstance(s, dict) else {"symbol": s} for s in items]
        return items

    @field_validator("stocks")
    @classmethod
    def _unique_stocks(cls, items: tuple[Stock, ...]) -> tuple[Stock, ...]:
        _unique("stocks", tuple(s.symbol for s in items))
        return items

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: dict[str, str]) -> dict[str, str]:
        v.check_tags(tags, (MANAGED_BY, STACK_TAG, APPLIED_TAG, REGION_TAG, FLEET_TAG))
        return tags

    @_model_validator(mode="after")
    def _threshold_rules(self) -> Config:
        has_price_rule = any(s.above or s.below for s in self.stocks)
        if self.alert.mode == "threshold" and not (self.alert.change_percent or has_price_rule):
            raise ValueError("alert.mode threshold needs alert.change_percent or an above/below "
                             "price on at least one stock, or nothing could ever fire")
        return self

    @_model_validator(mode="after")
    def _key_region(self) -> Config:
        keys.check_kms_region(self.quotes.api_key_kms_key, self.region)
        return self


def _unique(where: str, items: tuple[str, ...],
            same: Callable[[str], str] = str) -> tuple[str, ...]:
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        earlier = first.setdefault(same(item), index)
        if earlier != index:
            raise ValueError(f"{where}[{index}]: {v.shown(item)} is listed twice (also as "
                             f"{where}[{earlier}] {v.shown(items[earlier])}); list it once")
    return items


def config_path(option: str | None) -> Path:
    """--config, else $STOCK_ALERT_CONFIG, else ./config.yaml."""
    return Path(option or os.environ.get(CONFIG_ENV) or "config.yaml")


def load_config(path: Path) -> Config:
    """Read and validate the config file; raise ConfigError with the key and the fix."""
    data = document.load(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the file must be a YAML mapping of keys such as name, "
                          "stocks and notify ('stock-alert init' writes a commented example).")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        from provision.config.messages import describe

        raise ConfigError(f"{path}: {describe(exc, Config)}") from None
