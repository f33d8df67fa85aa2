"""deployer-policy scopes for the stored API key ('secret set', 'down --delete-secret') and
its customer KMS key: which ARNs each store's statements name, and the kms:ViaService condition
that keeps the key usable only through that store."""

from __future__ import annotations

from collections.abc import Callable

from provision.core.needs import DELETE_SECRET, SECRET_SET, Document, Need, Scope
from provision.core.stack import Stack


def via(service: str) -> Callable[[Stack], Document]:
    def condition(stack: Stack) -> Document:
        return {"StringEquals": {"kms:ViaService": f"{service}.{stack.region}.amazonaws.com"}}
    return condition


def kms_key(stack: Stack, store: str) -> list[str]:
    key = stack.config.quotes.api_key_kms_key
    return [key] if key and key_store(stack, store) else []


def key_store(stack: Stack, store: str) -> list[str]:
    """The ARN 'secret set' writes in `store` for this config; none when the config reads the
    key from the other store (a Secrets Manager name as its ARN pattern NAME-??????)."""
    from provision.kinds.secret import locate

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


# The stored API key ('secret set', 'down --delete-secret'): where the config reads it, or,
# with no source configured, the default name of each store 'secret set' may write.
PARAMETER = Scope("ApiKeyParameter", lambda s: key_store(s, "ssm"))
SECRET = Scope("ApiKeySecret", lambda s: key_store(s, "secretsmanager"))
# quotes.api_key_kms_key: the customer key, only through the store that uses it
# (kms:ViaService)
UNNAMED_KEY = "the key in quotes.api_key_kms_key, when it is set"
KMS_SSM = Scope("ApiKeyParameterKmsKey", lambda s: kms_key(s, "ssm"), UNNAMED_KEY,
                condition=via("ssm"))
KMS_SECRETSMANAGER = Scope("ApiKeySecretKmsKey", lambda s: kms_key(s, "secretsmanager"),
                           UNNAMED_KEY, condition=via("secretsmanager"))

KEY_STORE_NEEDS: tuple[Need, ...] = (
    Need("ssm:ListTagsForResource", PARAMETER,
         ("up", "down", "status") + SECRET_SET + DELETE_SECRET,
         "learn whether the key parameter exists and is this stack's (one call, scoped); "
         "'up' and 'status' say when it is missing, 'down' that it was kept"),
    Need("ssm:PutParameter", PARAMETER, SECRET_SET,
         "store the key as a SecureString"),
    Need("ssm:AddTagsToResource", PARAMETER, SECRET_SET,
         "tag the parameter (also needed by PutParameter with Tags)"),
    Need("ssm:DeleteParameter", PARAMETER, DELETE_SECRET, "delete the parameter"),
    Need("secretsmanager:DescribeSecret", SECRET,
         ("up", "down", "status") + SECRET_SET + DELETE_SECRET,
         "learn whether the secret exists, is this stack's or is scheduled for deletion; "
         "'up' and 'status' say when it is missing, 'down' that it was kept"),
    Need("secretsmanager:CreateSecret", SECRET, SECRET_SET, "create the secret"),
    Need("secretsmanager:PutSecretValue", SECRET, SECRET_SET,
         "replace the key in an existing secret"),
    Need("secretsmanager:TagResource", SECRET, SECRET_SET,
         "tag the secret (also needed by CreateSecret with Tags)"),
    Need("secretsmanager:DeleteSecret", SECRET, DELETE_SECRET,
         "delete the secret, without a recovery window"),
    Need("kms:Encrypt", KMS_SSM, SECRET_SET, "SSM encrypts a standard SecureString with "
         "the customer key as the caller (only through SSM: kms:ViaService)"),
    Need("kms:GenerateDataKey", KMS_SECRETSMANAGER, SECRET_SET, "Secrets Manager encrypts "
         "the secret with the customer key as the caller (only through Secrets Manager)"),
    Need("kms:Decrypt", KMS_SECRETSMANAGER, SECRET_SET, "CreateSecret with a customer key "
         "also needs it (its documentation); only through Secrets Manager"),
)
