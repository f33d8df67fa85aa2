"""The writes of a fresh `up` and of a full `down` of the minimal config, in order within each
kind (issue 21: the on-failure destination replaces the errors alarm on the default config,
which now makes the alarm only with a customer key). Meant to replace the lists of the same
names in cli_helpers.py, which this branch may not edit."""

from __future__ import annotations

FRESH_UP_WRITES = [
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:PutRolePolicy",
    "logs:CreateLogGroup",
    "logs:PutRetentionPolicy",
    "sns:CreateTopic",
    "sns:Subscribe",
    "sns:Subscribe",
    "lambda:CreateFunction",
    "lambda:PutFunctionConcurrency",  # function.reserved_concurrency: 1 by default (issue 9)
    "events:PutRule",
    "events:PutTargets",
    "lambda:AddPermission",
    "lambda:PutFunctionEventInvokeConfig",  # failed runs go to the topic (issue 21)
]
DOWN_WRITES = [
    "lambda:DeleteFunctionEventInvokeConfig",  # made last, so it goes first (issue 21)
    "events:RemoveTargets",
    "events:DeleteRule",
    "lambda:DeleteFunction",
    "sns:DeleteTopic",
    "logs:DeleteLogGroup",
    "iam:DeleteRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:DeleteRole",
]
