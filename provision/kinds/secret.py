"""The stored API key: an SSM SecureString parameter or a Secrets Manager secret.

Not a `Kind`: 'up' never knows the key's value, so it neither creates nor diffs it. Only
`stock-alert secret set` writes it and only `down --delete-secret` deletes it. The value is
passed to exactly one call (PutParameter, CreateSecret or PutSecretValue) and appears in no
message, log line or result here.

Real-AWS answers handled (tests/real_aws/test_secrets.py has each with its source):
- PutParameter refuses Tags together with Overwrite=true (ValidationException), so an existing
  parameter is overwritten without Tags and tagged with AddTagsToResource.
- A secret scheduled for deletion blocks CreateSecret with its name (InvalidRequestException
  "...already scheduled for deletion"); DescribeSecret shows it with DeletedDate. A forced
  deletion is asynchronous, so CreateSecret right after one is retried, with a deadline.
- CreateSecret answers ResourceExistsException when the secret appeared meanwhile (or an earlier
  answer was lost): it is read again and updated only if this stack owns it, or nobody does.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Any, Literal

from provision.aws.client import Aws
from provision.config.model import Config
from provision.config.secrets import SECRET_DEFAULT, SSM_DEFAULT
from provision.core.plan import Owner
from provision.core.stack import MANAGED_BY, MANAGED_BY_VALUE, STACK_TAG
from provision.errors import AwsError, ConflictError, InputError
from provision.kinds.contract import Ownership

log = logging.getLogger("provision.kinds.secret")
Store = Literal["ssm", "secretsmanager"]
STORE_NAMES = {"ssm": "SSM parameter", "secretsmanager": "Secrets Manager secret"}
SCHEDULED = "scheduled for deletion"
CREATE_DEADLINE_S = 60.0  # a forced deletion finishes in seconds (DeleteSecret's documentation)


@dataclass(frozen=True)
class Where:
    """Where the key goes: the store, the name as the config gives it, the customer key."""

    store: Store
    name: str
    kms_key: str | None
    configured: bool  # the config names it (else: the default name, which the config lacks)

    @property
    def label(self) -> str:
        return f"{STORE_NAMES[self.store]} {self.name}"


@dataclass(frozen=True)
class Stored:
    arn: str
    tags: dict[str, str]
    deleted: str | None = None  # Secrets Manager: DeletedDate while scheduled for deletion


@dataclass(frozen=True)
class Outcome:
    where: Where
    action: str  # created, overwritten, deleted, absent, kept (not ours)
    arn: str | None = None
    version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"store": self.where.store, "name": self.where.name, "action": self.action,
                "arn": self.arn, "version": self.version, "kms_key": self.where.kms_key,
                "configured": self.where.configured}


def locate(config: Config, store: Store | None = None) -> Where:
    """Where the config reads the key from; --store must agree with it. With neither source
    configured (a provider that needs no key), the chosen store's default name."""
    quotes, key = config.quotes, config.quotes.api_key_kms_key
    named: Store | None = ("secretsmanager" if quotes.api_key_secret else
                           "ssm" if quotes.api_key_parameter else None)
    if named and store and store != named:
        source = "quotes.api_key_secret" if named == "secretsmanager" else \
            "quotes.api_key_parameter"
        raise InputError(
            f"--store {store} disagrees with the config: {source} says the function reads the "
            f"key from {STORE_NAMES[named]} "
            f"{quotes.api_key_secret or quotes.api_key_parameter}.",
            hint=f"Leave out --store (or pass --store {named}), or change the config to "
            f"{'quotes.api_key_parameter' if store == 'ssm' else 'quotes.api_key_secret'} "
            "first, so the function reads the key where it is stored.")
    if named == "secretsmanager":
        return Where("secretsmanager", str(quotes.api_key_secret), key, True)
    if named == "ssm":
        return Where("ssm", str(quotes.api_key_parameter), key, True)
    chosen: Store = store or "ssm"
    default = SSM_DEFAULT if chosen == "ssm" else SECRET_DEFAULT
    return Where(chosen, default.format(name=config.name), key, False)


def owner(tags: dict[str, str], stack: str) -> Ownership:
    """Whose the stored key is: this stack's, nobody's (no stock-alert tags) or another
    stack's. A stored key is neither global nor a fleet's: only the stack tag counts."""
    if tags.get(MANAGED_BY) != MANAGED_BY_VALUE:
        return Ownership(Owner.UNTAGGED)
    other = tags.get(STACK_TAG)
    return Ownership(Owner.OURS) if other == stack else Ownership(Owner.OTHER_STACK, str(other))


# reading --------------------------------------------------------------------------------------
def read(aws: Aws, where: Where) -> Stored | None:
    if where.store == "ssm":
        return _read_parameter(aws, where.name)
    found = aws.call("secretsmanager", "describe_secret", SecretId=where.name, missing_ok=True)
    if found is None:
        return None
    tags = {t["Key"]: t["Value"] for t in found.get("Tags") or []}
    deleted = found.get("DeletedDate")
    return Stored(found["ARN"], tags, str(deleted) if deleted else None)


def _read_parameter(aws: Aws, name: str) -> Stored | None:
    """One call, scoped to the parameter: its tags; SSM answers InvalidResourceId when the
    parameter does not exist (ListTagsForResource in the ssm service model)."""
    try:
        found = aws.call("ssm", "list_tags_for_resource", ResourceType="Parameter",
                         ResourceId=name)
    except AwsError as err:
        if err.code == "InvalidResourceId":
            return None
        raise
    tags = {t["Key"]: t["Value"] for t in found.get("TagList") or []}
    return Stored(name, tags)


# writing --------------------------------------------------------------------------------------
def store(aws: Aws, where: Where, value: str, tags: dict[str, str], stack: str,
          found: Stored | None) -> Outcome:
    """Write `value` where it belongs. `found` is what read() saw; the caller has already
    decided that overwriting an existing key is wanted."""
    if found is not None:
        _check_owner(where, found, stack)
    try:
        if where.store == "ssm":
            return _put_parameter(aws, where, value, tags, found)
        return _put_secret(aws, where, value, tags, stack, found)
    except AwsError as err:
        refused = _key_refused(err, where)
        if refused is None:
            raise
        raise refused from None


# Secrets Manager answers "Access to KMS is not allowed" (github.com/aws/aws-cdk/issues/7677);
# SSM relays KMS's own refusal, which names AWSKMS or the kms: action.
_KMS_WORDS = ("access to kms", "awskms", "kms:")
_KEY_ACTIONS = {"ssm": "kms:Encrypt", "secretsmanager": "kms:GenerateDataKey and kms:Decrypt"}


def _key_refused(err: AwsError, where: Where) -> AwsError | None:
    """A refusal to use the customer key, in words that name the key and the fix."""
    text = str(err).lower()
    denied = err.code in ("AccessDeniedException", "AccessDenied", "InvalidKeyId",
                          "KMSAccessDeniedException")
    if not (where.kms_key and denied and any(w in text for w in _KMS_WORDS)):
        return None
    return AwsError(
        f"AWS refused to encrypt the API key for {where.label} with the customer key "
        f"{where.kms_key} ({err.code}); nothing was stored.",
        hint=f"You need {_KEY_ACTIONS[where.store]} on that key (from its key policy or, if "
        "the key policy delegates to IAM, your IAM policy: see 'stock-alert deployer-policy'), "
        "and the key must be enabled in the stack's region. Or remove quotes.api_key_kms_key "
        "to use the AWS-managed key.", code=err.code)


def _check_owner(where: Where, found: Stored, stack: str) -> None:
    whose = owner(found.tags, stack)
    if whose.owner is Owner.OTHER_STACK:
        raise ConflictError(f"{where.label} belongs to stock-alert stack {whose.seen!r}; stack "
                            f"{stack!r} does not "
                            "overwrite it.",
                            hint="Give this stack its own quotes.api_key_parameter or "
                            "quotes.api_key_secret, or leave both out to use the default.")
    if found.deleted:
        raise ConflictError(
            f"{where.label} is scheduled for deletion (since {found.deleted}); Secrets Manager "
            "refuses to store a value in it or to create another secret with its name.",
            hint=f"Restore it with 'aws secretsmanager restore-secret --secret-id {found.arn}' "
            "and run 'stock-alert secret set --overwrite' again, or delete it for good with "
            f"'aws secretsmanager delete-secret --secret-id {found.arn} "
            "--force-delete-without-recovery' and run 'stock-alert secret set' again.")


def _tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(tags.items())]


def _put_parameter(aws: Aws, where: Where, value: str, tags: dict[str, str],
                   found: Stored | None) -> Outcome:
    params: dict[str, Any] = {"Name": where.name, "Value": value, "Type": "SecureString"}
    if where.kms_key:
        params["KeyId"] = where.kms_key
    if found is None:
        # Tags only on create: PutParameter refuses Tags with Overwrite=true.
        answer = aws.call("ssm", "put_parameter", Tags=_tag_list(tags), **params)
        return Outcome(where, "created", where.name, str(answer.get("Version", "")))
    answer = aws.call("ssm", "put_parameter", Overwrite=True, **params)
    missing = {k: v for k, v in tags.items() if found.tags.get(k) != v}
    if missing and owner(found.tags, tags[STACK_TAG]).ours:
        aws.call("ssm", "add_tags_to_resource", ResourceType="Parameter",
                 ResourceId=where.name, Tags=_tag_list(missing))
    return Outcome(where, "overwritten", where.name, str(answer.get("Version", "")))


def _put_secret(aws: Aws, where: Where, value: str, tags: dict[str, str], stack: str,
                found: Stored | None) -> Outcome:
    if found is None:
        try:
            answer = _create_secret(aws, where, value, tags)
            return Outcome(where, "created", answer["ARN"], answer.get("VersionId"))
        except AwsError as err:
            if err.code != "ResourceExistsException":
                raise
        log.info("%s appeared while creating it; reading it again", where.label)
        found = read(aws, where)
        if found is None:
            raise AwsError(f"{where.label} exists by CreateSecret's answer but DescribeSecret "
                           "does not find it.", hint="Run the command again in a minute.")
        _check_owner(where, found, stack)
    answer = aws.call("secretsmanager", "put_secret_value", SecretId=found.arn,
                      SecretString=value)
    missing = {k: v for k, v in tags.items() if found.tags.get(k) != v}
    if missing and owner(found.tags, stack).ours:
        aws.call("secretsmanager", "tag_resource", SecretId=found.arn, Tags=_tag_list(missing))
    return Outcome(where, "overwritten", found.arn, answer.get("VersionId"))


def _create_secret(aws: Aws, where: Where, value: str, tags: dict[str, str]) -> Any:
    """CreateSecret, retried (capped exponential backoff with jitter, on the Aws's own clock)
    while a forced deletion of the same name is still finishing."""
    params: dict[str, Any] = {"Name": where.name, "SecretString": value,
                              "Tags": _tag_list(tags)}
    if where.kms_key:
        params["KmsKeyId"] = where.kms_key
    policy = aws.retry
    start, attempt = policy.clock(), 0
    while True:
        try:
            return aws.call("secretsmanager", "create_secret", **params)
        except AwsError as err:
            blocked = err.code == "InvalidRequestException" and SCHEDULED in str(err).lower()
            spent = policy.clock() - start
            if not blocked or spent >= CREATE_DEADLINE_S:
                raise
        attempt += 1
        wait = random.uniform(0, min(policy.cap_s * 4, policy.initial_s * 2 ** attempt))
        log.info("%s: a secret of that name is still being deleted; attempt %d in %.1fs",
                 where.label, attempt + 1, wait)
        policy.sleep(wait)


def delete(aws: Aws, where: Where, stack: str) -> Outcome:
    """Delete the stored key if this stack owns it; anything else is left alone."""
    found = read(aws, where)
    if found is None:
        return Outcome(where, "absent")
    if not owner(found.tags, stack).ours:
        return Outcome(where, "kept", found.arn)
    if where.store == "ssm":
        aws.call("ssm", "delete_parameter", Name=where.name, missing_ok=True)
    elif not found.deleted:
        # No recovery window: the user asked for the deletion explicitly, and a window (7 to
        # 30 days) would keep the stack's default name blocked for the next 'secret set'.
        aws.call("secretsmanager", "delete_secret", SecretId=found.arn,
                 ForceDeleteWithoutRecovery=True, missing_ok=True)
    return Outcome(where, "deleted", found.arn)
