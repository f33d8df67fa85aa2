"""deployer-policy scopes for the stored API key ('secret set', 'down --delete-secret') and
its customer KMS key: which ARNs each store's statements name, and the kms:ViaService condition
that keeps the key usable only through that store."""

from __future__ import annotations

from collections.abc import Callable

from provision.policies import Document
from provision.stack import Stack


def via(service: str) -> Callable[[Stack], Document]:
    def condition(stack: Stack) -> Document:
        return {"StringEquals": {"kms:ViaService": f"{service}.{stack.region}.amazonaws.com"}}
    return condition


CONDITIONS: dict[str, Callable[[Stack], Document]] = {
    "ApiKeyParameterKmsKey": via("ssm"), "ApiKeySecretKmsKey": via("secretsmanager")}


def kms_key(stack: Stack, store: str) -> list[str]:
    key = stack.config.quotes.api_key_kms_key
    return [key] if key and key_store(stack, store) else []


def key_store(stack: Stack, store: str) -> list[str]:
    """The ARN 'secret set' writes in `store` for this config; none when the config reads the
    key from the other store (a Secrets Manager name as its ARN pattern NAME-??????)."""
    from provision.resources.secret import locate

    chosen = stack.api_key_service
    if chosen not in (None, store):
        return []
    name = locate(stack.config, store).name  # type: ignore[arg-type]
    where = f"arn:{stack.partition}:{store}:{stack.region}:{stack.account}"
    if store == "ssm":
        return [f"{where}:parameter/{name.lstrip('/')}"]
    if name.startswith("arn:"):
        return [name]
    return [f"{where}:secret:{name}-??????"]

