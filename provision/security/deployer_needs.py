"""The operator's needs beyond the core stack, and the `Need` record they share with
deployer.py (which holds the core table and builds the policy): the stored API key (`secret
set`, `down --delete-secret`) and the hardening (reserved concurrency, the errors alarm, the
on-failure destination)."""

from __future__ import annotations

from dataclasses import dataclass

READ = ("up", "down", "status")
UP = ("up",)
DOWN = ("down",)
SECRET_SET = ("secret set",)
DELETE_SECRET = ("down --delete-secret",)


@dataclass(frozen=True)
class Need:
    action: str
    scope: str  # a key of deployer.SCOPES
    commands: tuple[str, ...]
    why: str


KEY_STORE_NEEDS: tuple[Need, ...] = (
    Need("ssm:ListTagsForResource", "api-key-parameter",
         ("up", "down", "status") + SECRET_SET + DELETE_SECRET,
         "learn whether the key parameter exists and is this stack's (one call, scoped); "
         "'up' and 'status' say when it is missing, 'down' that it was kept"),
    Need("ssm:PutParameter", "api-key-parameter", SECRET_SET,
         "store the key as a SecureString"),
    Need("ssm:AddTagsToResource", "api-key-parameter", SECRET_SET,
         "tag the parameter (also needed by PutParameter with Tags)"),
    Need("ssm:DeleteParameter", "api-key-parameter", DELETE_SECRET, "delete the parameter"),
    Need("secretsmanager:DescribeSecret", "api-key-secret",
         ("up", "down", "status") + SECRET_SET + DELETE_SECRET,
         "learn whether the secret exists, is this stack's or is scheduled for deletion; "
         "'up' and 'status' say when it is missing, 'down' that it was kept"),
    Need("secretsmanager:CreateSecret", "api-key-secret", SECRET_SET, "create the secret"),
    Need("secretsmanager:PutSecretValue", "api-key-secret", SECRET_SET,
         "replace the key in an existing secret"),
    Need("secretsmanager:TagResource", "api-key-secret", SECRET_SET,
         "tag the secret (also needed by CreateSecret with Tags)"),
    Need("secretsmanager:DeleteSecret", "api-key-secret", DELETE_SECRET,
         "delete the secret, without a recovery window"),
    Need("kms:Encrypt", "kms-ssm", SECRET_SET, "SSM encrypts a standard SecureString with "
         "the customer key as the caller (only through SSM: kms:ViaService)"),
    Need("kms:GenerateDataKey", "kms-secretsmanager", SECRET_SET, "Secrets Manager encrypts "
         "the secret with the customer key as the caller (only through Secrets Manager)"),
    Need("kms:Decrypt", "kms-secretsmanager", SECRET_SET, "CreateSecret with a customer key "
         "also needs it (its documentation); only through Secrets Manager"),
)

# Issue 9 hardening: reserved concurrency and the on-failure alarm.
HARDENING_NEEDS: tuple[Need, ...] = (
    Need("lambda:PutFunctionConcurrency", "function", UP,
         "reserve function.reserved_concurrency (1 by default) for the function"),
    Need("lambda:DeleteFunctionConcurrency", "function", UP,
         "stop reserving when function.reserved_concurrency is set to null"),
    Need("cloudwatch:DescribeAlarms", "alarm", READ, "read the errors alarm"),
    Need("cloudwatch:ListTagsForResource", "alarm", READ, "check the alarm is this stack's"),
    Need("cloudwatch:PutMetricAlarm", "alarm", UP, "create or update the errors alarm"),
    Need("cloudwatch:TagResource", "alarm", UP, "tag the alarm (PutMetricAlarm with tags "
         "needs it too) and add tags from the config"),
    Need("cloudwatch:UntagResource", "alarm", UP, "remove tags dropped from the config"),
    Need("cloudwatch:DeleteAlarms", "alarm", DOWN, "delete the errors alarm"),
    Need("lambda:GetFunctionEventInvokeConfig", "function", READ,
         "read the function's on-failure destination"),
    Need("lambda:PutFunctionEventInvokeConfig", "function", UP,
         "send failed runs to the stack's topic (the on-failure destination)"),
    Need("lambda:DeleteFunctionEventInvokeConfig", "function", DOWN,
         "remove the on-failure destination"),)
