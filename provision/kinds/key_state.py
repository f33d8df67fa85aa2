"""Whether the API key the function reads is stored: what 'up' warns about, 'status' shows as
a row and 'audit' reports (issue 21). One scoped read through secret.read; never the value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provision.aws.client import Aws
from provision.config.model import Config
from provision.errors import AwsError
from provision.kinds.secret import Where, locate, read


@dataclass(frozen=True)
class KeyState:
    """Whether the key the function reads is stored: True, False, or None when the read was
    refused (`error` says why)."""

    where: Where
    stored: bool | None
    error: str | None = None

    @property
    def state(self) -> str:
        return {True: "stored", False: "missing", None: "unknown"}[self.stored]

    @property
    def warning(self) -> str | None:
        """What to tell the user when the function cannot read its key; None when it can."""
        if self.stored:
            return None
        if self.stored is None:
            return (f"could not check whether the API key is stored in {self.where.label} "
                    f"({self.error})")
        return (f"the API key is not stored yet in {self.where.label}: the function fails on "
                "every run until you run 'stock-alert secret set'")

    def to_dict(self) -> dict[str, Any]:
        return {"store": self.where.store, "name": self.where.name, "state": self.state,
                "error": self.error}


def key_state(aws: Aws, config: Config) -> KeyState | None:
    """None when the function reads no key (the provider needs none); else whether it is
    stored where the config says (a secret scheduled for deletion counts as missing)."""
    if not (config.quotes.api_key_parameter or config.quotes.api_key_secret):
        return None
    where = locate(config)
    try:
        found = read(aws, where)
    except AwsError as err:
        return KeyState(where, None, err.code or str(err))
    return KeyState(where, found is not None and not found.deleted)
