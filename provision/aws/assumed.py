"""Credentials of an assumed role that renew themselves, for fleet runs of any length.

AssumeRole's credentials last one hour by default, and at most one hour when roles are chained
(STS API reference, AssumeRole: DurationSeconds), while a fleet's `down` can wait up to 45
minutes per VPC stack for Lambda's ENIs. Passed to clients as static keys, they expired half
way: ExpiredToken (github.com/boto/boto3/issues/443). botocore's RefreshableCredentials calls
AssumeRole again before they expire (15 minutes before, or 10 at the latest), and every
request is signed with the current ones.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

Fetch = Callable[[], dict[str, str]]  # -> access_key, secret_key, token, expiry_time


def session_as(base: Any, fetch: Fetch, clock: Callable[[], float]) -> Any:
    """A botocore session signing with the role `fetch` assumes, renewed before expiry. It
    shares `base`'s event emitter (so its hooks: logging, retries, tests' fault injection)
    and its data loader (models are read once). Time is `clock` (the retry policy's,
    injected in tests) from now on."""
    import botocore.session
    from botocore.credentials import CredentialProvider, RefreshableCredentials

    start_wall, start = datetime.now(UTC), clock()

    def now() -> datetime:
        return start_wall + timedelta(seconds=clock() - start)

    first = fetch()
    credentials = RefreshableCredentials(
        first["access_key"], first["secret_key"], first["token"],
        _parse(first["expiry_time"]), refresh_using=fetch, method="stock-alert-assume-role",
        time_fetcher=now)

    class Assumed(CredentialProvider):  # type: ignore[misc]
        METHOD = "stock-alert-assume-role"

        def load(self) -> Any:
            return credentials

    session = botocore.session.Session(event_hooks=base.get_component("event_emitter"),
                                       include_builtin_handlers=False)
    session.register_component("data_loader", base.get_component("data_loader"))
    session.set_config_variable("sts_regional_endpoints", "regional")  # as aws.py's
    session.get_component("credential_provider").insert_before("env", Assumed())
    return session


def metadata(answer: dict[str, Any]) -> dict[str, str]:
    """STS AssumeRole's answer as RefreshableCredentials' metadata."""
    creds = answer["Credentials"]
    expiry = creds["Expiration"]
    return {"access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": expiry.isoformat() if isinstance(expiry, datetime) else str(expiry)}


def _parse(text: str) -> datetime:
    from botocore.utils import parse_timestamp

    return parse_timestamp(text)  # type: ignore[no-any-return]
