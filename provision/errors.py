"""One exception family; each message says what went wrong, where, and how to fix it.

The CLI maps them to exit codes: 2 for bad input (config, flags, environment), 1 for AWS or
runtime failures. No traceback is shown unless ``--debug`` is given.
"""

from __future__ import annotations


class StockAlertError(Exception):
    """Base of every error this tool reports to the user."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return " ".join(sentence(part) for part in (self.message, self.hint) if part.strip())


def sentence(text: str) -> str:
    """`text` ending in exactly one stop: 'did you mean `x`?.' loses its '.', a bare clause
    gains one, '..' becomes '.' (an ellipsis stays); a question stays a question."""
    text = text.strip()
    if text.endswith(("?.", "!.")) or (text.endswith("..") and not text.endswith("...")):
        text = text[:-1]
    if not text.endswith((".", "?", "!", "…")):
        text += "."
    return text


class InputError(StockAlertError):
    """Bad input: config file, command-line flags or environment. Exit code 2."""

    exit_code = 2


class ConfigError(InputError):
    """The config file is missing, unreadable, not YAML, or has an invalid value."""


class ConflictError(StockAlertError):
    """A resource with this stack's name exists but is not owned by this stack."""


class AwsError(StockAlertError):
    """AWS answered with an error this tool does not handle by itself."""

    def __init__(self, message: str, *, hint: str = "", code: str = "") -> None:
        super().__init__(message, hint=hint)
        self.code = code


class RetryExhausted(AwsError):
    """A retried AWS condition (IAM propagation, throttling, update in progress) did not clear."""


class QuotaExceeded(AwsError):
    """A service quota is full (LimitExceededException): waiting cannot help; raising it can."""


class PartialFailure(AwsError):
    """A batch call answered HTTP 200, yet AWS did not apply some of its entries.

    `entries` are AWS's failed-entry records (EventBridge: TargetId, ErrorCode, ErrorMessage).
    """

    def __init__(self, message: str, *, hint: str = "", code: str = "",
                 entries: tuple[dict[str, object], ...] = ()) -> None:
        super().__init__(message, hint=hint, code=code)
        self.entries = entries


class InTransition(AwsError):
    """AWS reports the resource in a passing state (a schedule group still DELETING): worth
    reading again until it has passed, within the retry deadline (retry.py)."""


class UncertainOutcome(AwsError):
    """A call sent once got no answer that says whether it took effect (HTTP 5xx, no answer
    within the read timeout, a dropped connection): it may or may not have."""
