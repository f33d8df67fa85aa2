"""Pure checks for values AWS (and moto) accept too loosely; each raises ValueError with a fix.

Every pattern is matched whole with fullmatch/\\Z ("$" also matches before a final newline) and
with explicit ASCII classes ([0-9], not \\d, which also matches "０" and "٠").
"""

from __future__ import annotations

import re
import reprlib

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 80
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 3
_REPR.maxlevel = 2

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"{_ATOM}(\.{_ATOM})*", re.ASCII)
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?", re.ASCII)
_TLD = re.compile(r"[A-Za-z]{2,63}", re.ASCII)
_E164 = re.compile(r"\+[1-9][0-9]{6,14}", re.ASCII)
_TICKER = re.compile(r"[A-Z0-9^][A-Z0-9.\-=^]{0,11}", re.ASCII)
_TAG_CHARS = re.compile(r"[\w .:/=+\-@]*")  # AWS: Unicode letters and digits, space, _.:/=+-@
_SSM_PART = re.compile(r"[A-Za-z0-9_.\-]+", re.ASCII)
SSM_MAX_LEVELS = 15
SSM_MAX_LENGTH = 1011


def shown(value: object, limit: int = 100) -> str:
    """A short excerpt of a value for a message: never the whole of a huge input."""
    return clip(_REPR.repr(value), limit)


def clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_email(value: str) -> str:
    """RFC 5321/5322 dot-atom addresses (no quoted local parts), as SNS e-mail endpoints."""
    local, at, domain = value.rpartition("@")
    problem = _email_problem(local, domain) if at else "it has no '@'"
    if problem:
        raise ValueError(f"{shown(value)} is not a deliverable e-mail address: {problem}; "
                         "write it like you@example.com")
    return value


def _email_problem(local: str, domain: str) -> str | None:
    labels = domain.split(".")
    if len(local) + 1 + len(domain) > 254:
        return "it is longer than 254 characters"
    if not 1 <= len(local) <= 64:
        return "the part before '@' must be 1 to 64 characters"
    if not _LOCAL.fullmatch(local):
        return ("the part before '@' may hold letters, digits and !#$%&'*+/=?^_`{|}~- with "
                "single dots between them, not at either end")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return ("the domain must be labels of 1 to 63 letters, digits or '-' joined by single "
                "dots, no label starting or ending with '-'")
    if not _TLD.fullmatch(labels[-1]):
        return "the domain must end in a top-level domain of letters, like .com"
    return None


def check_phone(value: str) -> str:
    if not _E164.fullmatch(value):
        raise ValueError(
            f"{shown(value)} is not an E.164 phone number; write '+', the country code and the "
            'number, ASCII digits 0-9 only (7 to 15 of them), e.g. "+15555550100"'
        )
    return value


def check_ticker(value: str) -> str:
    symbol = value.strip().upper()
    if not _TICKER.fullmatch(symbol):
        raise ValueError(
            f"{shown(value)} is not a ticker symbol; use 1 to 12 letters, digits or . - = ^, "
            'e.g. "TSLA", "BRK.B" or "^GSPC"'
        )
    return symbol


def check_ssm_name(value: str) -> str:
    """SSM's documented naming rules (PutParameter's Name in the ssm service model)."""
    problem = _ssm_problem(value)
    if problem:
        raise ValueError(f"{shown(value)} is not an SSM parameter name AWS accepts: {problem}; "
                         "e.g. /stock-alert/alphavantage-key")
    return value


def _ssm_problem(value: str) -> str | None:
    parts = value.removeprefix("/").split("/")
    if "/" in value and not value.startswith("/"):
        return "a name with '/' is a path and must start with '/'"
    if not all(_SSM_PART.fullmatch(part) for part in parts):
        return "use letters, digits, '_', '.' and '-' between single '/' separators"
    if parts[0].lower().startswith(("aws", "ssm")):
        return "names may not begin with 'aws' or 'ssm' in any letter case (AWS reserves them)"
    if len(parts) > SSM_MAX_LEVELS:
        return f"a path has at most {SSM_MAX_LEVELS} levels"
    if len(value) > SSM_MAX_LENGTH:
        return f"a name has at most {SSM_MAX_LENGTH} characters"
    return None


def check_tags(tags: dict[str, str], reserved: tuple[str, ...]) -> None:
    """Keys compared case-insensitively: IAM treats Owner and owner as the same key."""
    seen: dict[str, str] = {}
    for key, value in tags.items():
        check_tag(key, value, reserved)
        other = seen.setdefault(key.casefold(), key)
        if other != key:
            raise ValueError(f"tag keys {shown(other)} and {shown(key)} differ only in letter "
                             "case, and AWS (IAM) treats them as one key; keep one")


def check_tag(key: str, value: str, reserved: tuple[str, ...]) -> None:
    lowered = key.casefold()
    if not key or len(key) > 128 or lowered.startswith("aws:") or lowered in reserved:
        raise ValueError(
            f"tag key {shown(key)} is not allowed: keys are 1 to 128 characters, may not start "
            f"with 'aws:' and may not be one of {', '.join(reserved)} in any letter case "
            "(stock-alert sets those itself)"
        )
    if len(value) > 256 or not _TAG_CHARS.fullmatch(key) or not _TAG_CHARS.fullmatch(value):
        raise ValueError(
            f"tag {shown(key)}: {shown(value)} is not allowed: keys and values use letters, "
            "digits, spaces and _ . : / = + - @ only (no line breaks), values at most 256 "
            "characters"
        )
