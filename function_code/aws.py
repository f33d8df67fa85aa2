"""boto3 clients and the cached API key. boto3 is imported lazily (the runtime provides it).

Caches live for the container's life: one client per service, one value per SSM parameter.
"""

from __future__ import annotations

import log

TYPE_CHECKING = False  # typing costs ~20 ms to import at cold start; only the checker needs it
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_CLIENTS: dict[str, Any] = {}
_API_KEYS: dict[str, str] = {}


class AwsError(Exception):
    """An AWS call failed; the message names the call and the error code, never a secret."""


def client(service: str) -> Any:
    """Return the container-wide client for ``service`` (created on first use)."""
    if service not in _CLIENTS:
        import boto3
        from botocore.config import Config

        config = Config(
            connect_timeout=2,
            read_timeout=5,
            retries={"mode": "standard", "total_max_attempts": 3},
        )
        _CLIENTS[service] = boto3.client(service, config=config)
    return _CLIENTS[service]


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or type(exc).__name__)
    return type(exc).__name__


def api_key(parameter: str) -> str:
    """The decrypted SecureString ``parameter``, read from SSM once per container."""
    def read() -> str:
        response = client("ssm").get_parameter(Name=parameter, WithDecryption=True)
        return str(response.get("Parameter", {}).get("Value") or "")

    return _cached_key(parameter, read, f"ssm:GetParameter {parameter}",
                       f"SSM parameter {parameter} is empty")


def secret_value(secret_id: str) -> str:
    """The current string value of Secrets Manager secret ``secret_id`` (name or ARN), read
    once per container. Only the error code is ever reported, never the value."""
    def read() -> str:
        response = client("secretsmanager").get_secret_value(SecretId=secret_id)
        return str(response.get("SecretString") or "")

    return _cached_key("secretsmanager:" + secret_id, read,
                       f"secretsmanager:GetSecretValue {secret_id}",
                       f"Secrets Manager secret {secret_id} has no string value")


def _cached_key(cache_key: str, read: Callable[[], str], call: str, empty: str) -> str:
    """Read a key once per container, register it with the log scrubber, and report only
    AWS's error code on failure (never the value)."""
    if cache_key not in _API_KEYS:
        try:
            value = read().strip()
        except Exception as exc:  # botocore errors; only the code is reported
            raise AwsError(f"{call} failed: {_error_code(exc)}") from None
        if not value:
            raise AwsError(empty)
        _API_KEYS[cache_key] = value
    key = _API_KEYS[cache_key]
    log.add_secret(key)
    return key


def publish(topic_arn: str, subject: str, message: str) -> str:
    """Publish one JSON-structured message to the topic; return its MessageId."""
    try:
        response = client("sns").publish(
            TopicArn=topic_arn,
            Subject=subject,
            MessageStructure="json",
            Message=message,
            MessageAttributes={
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}
            },
        )
    except Exception as exc:
        raise AwsError(f"sns:Publish failed: {_error_code(exc)}") from exc
    return str(response["MessageId"])


def reset() -> None:
    """Forget cached clients and keys (tests)."""
    _CLIENTS.clear()
    _API_KEYS.clear()
