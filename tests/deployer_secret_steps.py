"""The 'secret set' and 'down --delete-secret' steps of tests/test_deployer_policy.py's
lifecycle: with both stores, so that every one of their deployer-policy actions is needed by
some step (the per-action AccessDenied test runs these after the stack's own steps).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from provision.core.stack import Stack
from provision.kinds import secret
from tests.support.awsproxy import Error
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import FaultInjector, error_response
from tests.support.inprocess import target

SSM_KEY = MINIMAL + "quotes: {provider: alphavantage}\n"  # the default parameter
SM_KEY = MINIMAL + "quotes: {provider: alphavantage, api_key_secret: t1/api-key}\n"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
WITH_KMS = f", api_key_kms_key: '{KMS_KEY}'}}\n"
# The caller's own KMS permissions, which moto does not check when SSM or Secrets Manager use
# a customer key: what real AWS answers when one is missing.
KMS_REFUSALS = {
    # a standard SecureString is encrypted with kms:Encrypt as the caller (SSM User Guide,
    # "How AWS Systems Manager Parameter Store uses AWS KMS"); the refusal is KMS's, relayed
    # (github.com/tryolabs/aws-workshop/issues/6 shows it for the read)
    "ssm": (("kms:Encrypt",), "PutParameter", "User: arn:aws:iam::123456789012:user/operator "
            "is not authorized to perform: kms:Encrypt on resource: " + KMS_KEY +
            " (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException)"),
    # CreateSecret: "To encrypt the secret with a KMS key other than aws/secretsmanager, you
    # need kms:GenerateDataKey and kms:Decrypt permission to the key" (secretsmanager service
    # model); the answer is "Access to KMS is not allowed" (github.com/aws/aws-cdk/issues/7677)
    "secretsmanager": (("kms:GenerateDataKey", "kms:Decrypt"), "CreateSecret",
                       "Access to KMS is not allowed"),
}
Step = tuple[str, Callable[[], Any]]


def _denied(action: str) -> Error:
    return Error(400, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/operator "
                 f"is not authorized to perform: {action}")


def secret_steps(tmp_path: Path, granted: set[str], faults: FaultInjector) -> list[Step]:
    # Tagging on create is authorised as its own action, which moto does not check: SSM
    # ("To add tags while creating a parameter you need ssm:AddTagsToResource", Systems Manager
    # User Guide, "Tagging Systems Manager parameters") and Secrets Manager (CreateSecret's
    # documentation in the secretsmanager service model: "If you include tags in the secret, you
    # also need secretsmanager:TagResource"). Real AWS refuses the create without it.
    if "ssm:AddTagsToResource" not in granted:
        faults.inject(_denied("ssm:AddTagsToResource"), service="ssm",
                      operation="PutParameter", times=1)
    if "secretsmanager:TagResource" not in granted:
        faults.inject(_denied("secretsmanager:TagResource"), service="secretsmanager",
                      operation="CreateSecret", times=1)
    steps: list[Step] = []
    for name, text in (("ssm.yaml", SSM_KEY), ("sm.yaml", SM_KEY)):
        prepared, _ = target(write_config(tmp_path, text, name))
        steps += _store_steps(prepared)
    for store, text in (("ssm", SSM_KEY), ("secretsmanager", SM_KEY)):
        prepared, _ = target(write_config(tmp_path, text[:-2] + WITH_KMS, f"kms-{store}.yaml"))
        actions, operation, message = KMS_REFUSALS[store]
        if not set(actions) <= granted:
            refuse = Error(400, "AccessDeniedException", message)
            prepared.aws.events.register_first(
                f"before-send.{'secrets-manager' if store != 'ssm' else 'ssm'}.{operation}",
                lambda request, refuse=refuse, store=store, **_: error_response(
                    request.url, store, refuse))
        steps += _store_steps(prepared)
    return steps


def _store_steps(prepared: Any) -> list[Step]:
    config = prepared.config
    where = secret.locate(config)
    tags = Stack(config, "", prepared.aws.region).tags

    def put(value: str) -> None:
        found = secret.read(prepared.aws, where)
        secret.store(prepared.aws, where, value, tags, config.name, found)

    def overwrite(value: str) -> None:
        found = secret.read(prepared.aws, where)
        assert found is not None
        # the config gained a tag: the overwrite adds it (AddTagsToResource / TagResource)
        secret.store(prepared.aws, where, value, {**tags, "team": "x"}, config.name, found)

    def delete() -> None:
        outcome = secret.delete(prepared.aws, where, config.name)
        assert outcome.action == "deleted", outcome

    return [("secret set", lambda: put("k-first")),
            ("secret set", lambda: overwrite("k-second")),
            ("down --delete-secret", delete)]
