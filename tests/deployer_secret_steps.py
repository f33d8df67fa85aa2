"""The 'secret set' and 'down --delete-secret' steps of tests/test_deployer_policy.py's
lifecycle: with both stores, so that every one of their deployer-policy actions is needed by
some step (the per-action AccessDenied test runs these after the stack's own steps).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from provision.resources import secret
from provision.stack import Stack
from tests.support.awsproxy import Error
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import FaultInjector
from tests.support.inprocess import target

SSM_KEY = MINIMAL + "quotes: {provider: alphavantage}\n"  # the default parameter
SM_KEY = MINIMAL + "quotes: {provider: alphavantage, api_key_secret: t1/api-key}\n"
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
