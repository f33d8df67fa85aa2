"""Where a command runs: config, flags and environment resolved into a Target.

Everything that can be checked locally (config, flags, environment) is checked here, before
the first AWS client exists, so bad input costs zero AWS calls.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from provision import package
from provision.aws import Aws
from provision.config.model import Config, load_config
from provision.config.regions import check_region, partition_of
from provision.errors import InputError
from provision.retry import RetryPolicy
from provision.stack import ENVIRONMENT_LIMIT, Stack, environment_size

DEADLINE_ENV = "STOCK_ALERT_RETRY_DEADLINE_S"


@dataclass
class Options:
    config_path: Path
    profile: str | None = None
    region: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass
class Target:
    """A validated config plus where it goes and the checked function zip; no AWS call yet."""

    config: Config
    aws: Aws
    code: package.CodePackage


def prepare(opts: Options) -> Target:
    """Validate config, flags and environment; raise InputError before any AWS call."""
    config = load_config(opts.config_path)
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
    if endpoint and urlparse(endpoint).scheme not in ("http", "https"):
        raise InputError(f"AWS_ENDPOINT_URL={endpoint!r} is not an http(s) URL.",
                         hint="Set it like http://127.0.0.1:4566, or unset it for real AWS.")
    opts.retry.deadline_s = _deadline(opts.retry.deadline_s)
    region = _region(opts.region, config, opts.profile)
    _check_environment(config, region)
    code = package.build()  # built and read back here, so a bad zip costs no AWS call
    return Target(config, Aws(region, opts.profile, endpoint, opts.retry), code)


def _check_environment(config: Config, region: str) -> None:
    """The function's environment, built exactly as `up` builds it, must fit Lambda's 4 KB.

    Only the account is unknown before the first AWS call; it is always 12 digits.
    """
    stack = Stack(config, "0" * 12, region, partition_of(region))
    size = environment_size(stack.function_environment)
    if size > ENVIRONMENT_LIMIT:
        raise InputError(
            f"The Lambda function's environment would be {size} bytes, over Lambda's limit of "
            f"{ENVIRONMENT_LIMIT} bytes for all variables together; most of it is the stocks "
            "list (each stock's symbol, name and prices, as JSON inside JSON: a non-ASCII "
            "character of a name costs 7 bytes, a quote 2).",
            hint=f"Shorten or drop stocks[].name values, or list fewer stocks, to save at least "
            f"{size - ENVIRONMENT_LIMIT} bytes.")


def _deadline(default: float) -> float:
    raw = os.environ.get(DEADLINE_ENV)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise InputError(f"{DEADLINE_ENV}={raw!r} is not a number of seconds from 0 to 3600.",
                         hint="Set it like 300, or unset it for the default of 300 s.")
    return value


def _region(flag: str | None, config: Config, profile: str | None) -> str:
    """--region, else the config's region, else AWS_REGION / AWS_DEFAULT_REGION, else profile."""
    if flag:
        return _checked("--region", flag)
    if config.region:
        return config.region
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        if os.environ.get(var):
            return _checked(var, os.environ[var])
    region = _profile_region(profile)
    if not region:
        raise InputError("No AWS region given.",
                         hint="Set 'region' in the config, pass --region, or set AWS_REGION.")
    return _checked(f"the region of profile {profile or 'default'}", region)


def _checked(source: str, value: str) -> str:
    try:
        return check_region(value)
    except ValueError as exc:
        raise InputError(f"{source}: {exc}.") from None


def _profile_region(profile: str | None) -> str | None:
    import botocore.session
    from botocore.exceptions import ProfileNotFound

    try:
        return botocore.session.Session(profile=profile).get_config_variable("region")
    except ProfileNotFound:
        named = profile or os.environ.get("AWS_PROFILE")
        raise InputError(f"AWS profile {named!r} is not in your AWS config files.",
                         hint="Check --profile / AWS_PROFILE against "
                         "'aws configure list-profiles'.") from None
