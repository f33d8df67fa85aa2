"""Where the quote provider's API key is kept: the config keys quotes.api_key_parameter,
quotes.api_key_secret and quotes.api_key_kms_key, their checks, and the default location.

The key itself is never in the config: `stock-alert secret set` reads it from a hidden prompt or
stdin and stores it in one of two places, both named from the stack:

- an SSM SecureString parameter, by default /stock-alert/<name>/api-key (the default store);
- a Secrets Manager secret, by default stock-alert/<name>/api-key.

A chain of sources (quotes.providers, or the older quotes.provider) holding a source that needs
a key, with neither key configured, reads the default parameter. Alpha Vantage is the one keyed
source: the configured parameter or secret is its key, and the role gets one read grant for it.
"""

from __future__ import annotations

import re
from typing import Any

from provision.config.validators import shown

SSM_DEFAULT = "/stock-alert/{name}/api-key"
SECRET_DEFAULT = "stock-alert/{name}/api-key"
NEEDS_KEY = ("alphavantage",)
# Secrets Manager's SecretId pattern is not in its service model; its CreateSecret Name is 1 to
# 512 characters of ASCII letters, numbers and /_+=.@- ("Do not end your secret name with a
# hyphen followed by six characters": Secrets Manager's ARN suffix, so a partial ARN would be
# ambiguous; CreateSecret's documentation in the secretsmanager service model).
_SECRET_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}", re.ASCII)
_SIX_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$", re.ASCII)
_SECRET_ARN = re.compile(
    r"arn:aws(?:-cn|-us-gov)?:secretsmanager:[a-z0-9-]+:\d{12}:secret:"
    r"(?P<name>[A-Za-z0-9/_+=.@-]{1,512})-[A-Za-z0-9]{6}", re.ASCII)
_KEY_ARN = re.compile(
    r"arn:aws(?:-cn|-us-gov)?:kms:(?P<region>[a-z0-9-]+):\d{12}:key/"
    r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})",
    re.ASCII)


def check_secret(value: str) -> str:
    """A Secrets Manager secret name, or its full ARN (with the 6-character suffix)."""
    if value.startswith("arn:"):
        if not _SECRET_ARN.fullmatch(value):
            raise ValueError(
                f"{shown(value)} is not a Secrets Manager secret ARN; copy the full ARN from "
                "'aws secretsmanager describe-secret' (it ends in '-' and 6 characters), "
                "or give the secret's name instead")
        return value
    if not _SECRET_NAME.fullmatch(value):
        raise ValueError(f"{shown(value)} is not a Secrets Manager secret name: use 1 to 512 "
                         "letters, digits and /_+=.@- , e.g. stock-alert/prod/api-key")
    if _SIX_SUFFIX.search(value):
        raise ValueError(f"{shown(value)} ends in '-' and 6 characters, which Secrets Manager "
                         "reads as the random suffix of an ARN; rename it (e.g. end it in "
                         "'/api-key') or give the secret's full ARN")
    return value


def check_kms_key(value: str) -> str:
    """A KMS key ARN. Aliases are refused: an IAM policy names the key, and an alias can be
    pointed at another key later without the policy noticing."""
    if not _KEY_ARN.fullmatch(value):
        raise ValueError(
            f"{shown(value)} is not a KMS key ARN; give the key's full ARN, like "
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab "
            "('aws kms describe-key --key-id alias/NAME' prints it); aliases and bare key IDs "
            "are not accepted because the role's kms:Decrypt grant must name the key itself")
    return value


def kms_region(value: str) -> str:
    match = _KEY_ARN.fullmatch(value)
    return match["region"] if match else ""


def check_kms_region(key: str | None, region: str | None) -> None:
    """SSM and Secrets Manager use a key only in their own region."""
    if key and region and kms_region(key) != region:
        raise ValueError(
            f"quotes.api_key_kms_key {shown(key)} is in {kms_region(key)}, but the stack is in "
            f"{region}; SSM and Secrets Manager can only use a KMS key of their own region: "
            f"create (or replicate) the key in {region} and give that key's ARN")


def check_sources(parameter: str | None, secret: str | None, chain: tuple[str, ...]) -> None:
    if parameter and secret:
        raise ValueError(
            f"quotes.api_key_parameter ({shown(parameter)}) and quotes.api_key_secret "
            f"({shown(secret)}) are both set, but the function reads the key from one place; "
            "keep quotes.api_key_parameter for SSM Parameter Store or quotes.api_key_secret for "
            "Secrets Manager, and delete the other")
    keyed = [name for name in chain if name in NEEDS_KEY]
    if keyed and not (parameter or secret):
        raise ValueError(
            f"provider {keyed[0]} needs an API key: set quotes.api_key_parameter (an SSM "
            "SecureString) or quotes.api_key_secret (a Secrets Manager secret), or leave both "
            "out to use the default " + SSM_DEFAULT + "; store the key with "
            "'stock-alert secret set'")


def _named_sources(quotes: dict[str, Any]) -> list[Any]:
    """The source names the raw quotes mapping gives, in either form (unchecked)."""
    chain = quotes.get("providers")
    return [*(chain if isinstance(chain, list) else []), quotes.get("provider")]


def with_default_source(data: Any) -> Any:
    """The raw config with quotes.api_key_parameter filled in when a source of the chain needs
    a key and neither key source is named (keys that are present, even null, are left
    alone)."""
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return data
    quotes = data.get("quotes")
    if not isinstance(quotes, dict) or not any(
            isinstance(n, str) and n in NEEDS_KEY for n in _named_sources(quotes)):
        return data
    if "api_key_parameter" in quotes or "api_key_secret" in quotes:
        return data
    default = SSM_DEFAULT.format(name=data["name"])
    return {**data, "quotes": {**quotes, "api_key_parameter": default}}
