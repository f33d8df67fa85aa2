"""Where a command runs: config, flags and environment resolved into a Target.

Everything that can be checked locally (config, flags, environment) is checked here, before
the first AWS client exists, so bad input costs zero AWS calls.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from provision.aws.client import Aws
from provision.aws.endpoint import client_timeouts
from provision.aws.retry import RetryPolicy
from provision.config.model import Config, load_config
from provision.config.regions import check_region, partition_of
from provision.core import package
from provision.core.stack import ENVIRONMENT_LIMIT, Stack, environment_size
from provision.errors import InputError

DEADLINE_ENV = "STOCK_ALERT_RETRY_DEADLINE_S"
RETRY_MODES = ("standard", "adaptive", "legacy")


@dataclass
class Options:
    config_path: Path
    profile: str | None = None
    region: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    shared_gates: bool = False  # a fleet: its stacks share each client, so one rate limiter


@dataclass
class Target:
    """A validated config plus where it goes and the checked function zip; no AWS call yet."""

    config: Config
    aws: Aws
    code: package.CodePackage
    fleet: str | None = None  # the fleet this stack belongs to (its FLEET_TAG), if any
    adopt: bool = False  # a fleet may claim a same-named stack that no fleet made


def prepare(opts: Options) -> Target:
    """Validate config, flags and environment; raise InputError before any AWS call."""
    config = load_config(opts.config_path)
    check_environment_variables()
    endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
    opts.retry.deadline_s = deadline_from_env(opts.retry.deadline_s)
    region = _region(opts.region, config, opts.profile)
    check_function_environment(config, region)
    code = package.build()  # built and read back here, so a bad zip costs no AWS call
    return Target(config, Aws(region, opts.profile, endpoint, opts.retry,
                              shared_gates=opts.shared_gates), code)


def check_environment_variables() -> None:
    """The AWS_* settings botocore reads, checked here: botocore's own errors for them surfaced
    as "Unexpected error" (exit 1), some only after an AWS call."""
    for var in sorted(v for v in os.environ if v.startswith("AWS_ENDPOINT_URL")):
        if os.environ[var]:
            _check_endpoint(var, os.environ[var])
    attempts = os.environ.get("AWS_MAX_ATTEMPTS", "")
    if attempts and not (attempts.isascii() and attempts.isdigit() and 1 <= int(attempts) <= 20):
        raise InputError(f"AWS_MAX_ATTEMPTS={attempts[:40]!r} is not a whole number from 1 to 20.",
                         hint="Set it like 4, or unset it for stock-alert's default of 4.")
    mode = os.environ.get("AWS_RETRY_MODE", "")
    if mode and mode not in RETRY_MODES:
        raise InputError(f"AWS_RETRY_MODE={mode[:40]!r} is not a botocore retry mode; use one of "
                         f"{', '.join(RETRY_MODES)}.",
                         hint="Unset it for stock-alert's default, standard.")
    client_timeouts()  # STOCK_ALERT_TIMEOUT_S


def _check_endpoint(var: str, url: str) -> None:
    try:
        parts = urlparse(url)
        port = parts.port  # ValueError when not a number from 0 to 65535
        problem = ("it is not an http(s) URL" if parts.scheme not in ("http", "https") else
                   "it names no host" if not parts.hostname else
                   "it contains spaces or control characters" if not url.isprintable()
                   or " " in url else "port 0 is not a port" if port == 0 else "")
    except ValueError:  # urllib: "Invalid IPv6 URL", "Port out of range 0-65535"
        problem = ("its host or port cannot be read: an IPv6 host needs both [ and ], a port is "
                   "a number from 1 to 65535")
    if problem:
        raise InputError(f"{var}={url[:80]!r} is not usable: {problem}.",
                         hint="Set it like http://127.0.0.1:4566 (scheme, host and an optional "
                         "port from 1 to 65535), or unset it for real AWS.")


def check_function_environment(config: Config, region: str) -> None:
    """The function's environment, built exactly as `up` builds it, must fit Lambda's 4 KB
    (checked for each stack of a fleet too: <name>-<id> is longer than <name>, and the
    environment holds names derived from it).

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


def deadline_from_env(default: float) -> float:
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
