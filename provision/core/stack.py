"""Config -> the names, ARNs and tags of everything one stack owns (deterministic, no AWS calls)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING

from provision.config.model import FLEET_TAG, MANAGED_BY, REGION_TAG, STACK_TAG, Config
from provision.core.package import CodePackage

if TYPE_CHECKING:
    from provision.aws.client import Aws

NAME_LIMIT = 64  # IAM role names, like Lambda function and EventBridge rule names
ENVIRONMENT_LIMIT = 4096  # Lambda: all environment variables together, 4 KB
MANAGED_BY_VALUE = "stock-alert"
HANDLER = "handler.handler"
# The notifier function's name is '<name>_notify': stack names hold no '_' (config.model), so it
# can never be another stack's function name, as '<name>-notify' would be (stack 'x-notify').
NOTIFIER_SUFFIX = "_notify"
ACCOUNT_UNKNOWN = "unknown"  # a stack built before STS has answered (Stack.known)


@dataclass(frozen=True)
class Stack:
    """One stack as wanted: derived from the config plus the account and region it lives in."""

    config: Config
    account: str
    region: str
    partition: str = "aws"
    code: CodePackage | None = None
    fleet: str | None = None  # the fleet that made it (FLEET_TAG), None for a lone stack

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def known(self) -> bool:
        """False for a stack built before STS named the account: its names are right, its
        ARNs are not (engine.observe starts the reads that need no account with it)."""
        return self.account != ACCOUNT_UNKNOWN

    @classmethod
    def bare(cls, name: str, account: str, region: str, partition: str = "aws",
             fleet: str | None = None) -> Stack | None:
        """The stack named `name` known by its name and place alone, with no config: what
        `down` and `sweep` tear down (every name derives from these). None when no config
        could have this name."""
        from pydantic import ValidationError

        try:
            config = Config.model_validate({"name": name, "stocks": ["SPY"]})
        except ValidationError:
            return None
        return cls(config, account, region, partition, None, fleet)

    def teardown(self) -> Stack:
        """This stack as `down` sees it: the same name, place and fleet, and nothing the config
        says beyond the name (so a resource the config no longer mentions is still found)."""
        bare = Stack.bare(self.name, self.account, self.region, self.partition, self.fleet)
        assert bare is not None, "a loaded config's name is a valid stack name"
        return bare

    # names ---------------------------------------------------------------------------------
    @property
    def role_name(self) -> str:
        """IAM is global: the role's name includes the Region, so the same stack name in two
        Regions is two roles (see regional_name for names over IAM's 64 characters)."""
        return regional_name(self.name, self.region, "-role")

    @property
    def legacy_role_name(self) -> str:
        """The role's name before roles were per Region (one role shared by every Region)."""
        return f"{self.name}-role"

    @property
    def function_name(self) -> str:
        return self.name

    @property
    def notifier_name(self) -> str:
        """The on-failure notifier (kinds/notifier.py): at most 55 + 7 = 62 characters, within
        Lambda's 64 (config.model.NAME_MAX)."""
        return f"{self.name}{NOTIFIER_SUFFIX}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def topic_name(self) -> str:
        return f"{self.name}-alerts"

    @property
    def rule_name(self) -> str:
        return f"{self.name}-schedule"

    @property
    def schedule_group_name(self) -> str:
        """The EventBridge Scheduler group of the market-time schedule: named after the stack
        (it carries the tags; schedules take none)."""
        return self.name

    @property
    def market_schedule_name(self) -> str:
        """The market-time schedule, in its group (1-64 of [0-9A-Za-z-_.]: NAME_MAX + 9)."""
        return f"{self.name}-schedule"

    @property
    def scheduler_role_name(self) -> str:
        """The role EventBridge Scheduler assumes to invoke the function: global like the
        function's role, so its name carries the Region too."""
        return regional_name(self.name, self.region, "-scheduler")

    @property
    def alarm_name(self) -> str:
        return f"{self.name}-errors"

    @property
    def statement_id(self) -> str:
        return f"{self.name}-schedule-invoke"

    @property
    def security_group_name(self) -> str:
        """The group 'up' makes for the function when network: names no groups (issue 12)."""
        return f"{self.name}-fn-sg"

    def ec2_arn(self, resource: str) -> str:
        """An EC2 ARN in this stack's account and region, e.g. ec2_arn("subnet/subnet-1")."""
        return self._arn("ec2", resource)

    def policy_name(self, purpose: str) -> str:
        return f"{self.name}-{purpose}"

    # ARNs ----------------------------------------------------------------------------------
    def _arn(self, service: str, resource: str, region: bool = True) -> str:
        where = self.region if region else ""
        return f"arn:{self.partition}:{service}:{where}:{self.account}:{resource}"

    @property
    def role_path(self) -> str:
        return self.config.iam.path

    @property
    def role_arn(self) -> str:
        return self._arn("iam", f"role{self.role_path}{self.role_name}", region=False)

    @property
    def scheduler_role_arn(self) -> str:
        return self._arn("iam", f"role{self.role_path}{self.scheduler_role_name}", region=False)

    @property
    def role_arns(self) -> list[str]:
        """Every IAM role this stack may have: the function's and the scheduler's."""
        return [self.role_arn, self.scheduler_role_arn]

    @property
    def function_arn(self) -> str:
        return self._arn("lambda", f"function:{self.function_name}")

    @property
    def notifier_arn(self) -> str:
        return self._arn("lambda", f"function:{self.notifier_name}")

    @property
    def log_group_arn(self) -> str:
        return self._arn("logs", f"log-group:{self.log_group_name}")

    @property
    def topic_arn(self) -> str:
        return self._arn("sns", self.topic_name)

    @property
    def rule_arn(self) -> str:
        return self._arn("events", f"rule/{self.rule_name}")

    @property
    def schedule_group_arn(self) -> str:
        return self._arn("scheduler", f"schedule-group/{self.schedule_group_name}")

    @property
    def market_schedule_arn(self) -> str:
        return self._arn("scheduler",
                         f"schedule/{self.schedule_group_name}/{self.market_schedule_name}")

    @property
    def alarm_arn(self) -> str:
        return self._arn("cloudwatch", f"alarm:{self.alarm_name}")

    @property
    def account_root_arn(self) -> str:
        return self._arn("iam", "root", region=False)

    @property
    def api_key_parameter_arn(self) -> str | None:
        name = self.config.quotes.api_key_parameter
        if not name:
            return None
        return self._arn("ssm", f"parameter/{name.lstrip('/')}")

    @property
    def api_key_secret_arn(self) -> str | None:
        """The configured secret's ARN, or, for a name, the ARN pattern of exactly that secret:
        Secrets Manager appends '-' and 6 random characters to every secret's ARN, and
        '-??????' matches those and nothing else (a '*' would also match 'NAME-old-...')."""
        secret = self.config.quotes.api_key_secret
        if not secret:
            return None
        if secret.startswith("arn:"):
            return secret
        return self._arn("secretsmanager", f"secret:{secret}-??????")

    @property
    def api_key_service(self) -> str | None:
        """'ssm' or 'secretsmanager': where the function reads the API key from, if anywhere."""
        quotes = self.config.quotes
        if quotes.api_key_secret:
            return "secretsmanager"
        return "ssm" if quotes.api_key_parameter else None

    # tags and environment --------------------------------------------------------------------
    @cached_property
    def tags(self) -> dict[str, str]:
        fleet = {FLEET_TAG: self.fleet} if self.fleet else {}
        return {**self.config.tags, MANAGED_BY: MANAGED_BY_VALUE, STACK_TAG: self.name,
                **fleet}

    @cached_property
    def global_tags(self) -> dict[str, str]:
        """The tags of a global (IAM) resource: also the Region whose stack it serves."""
        return {**self.tags, REGION_TAG: self.region}

    def owns(self, tags: dict[str, str] | None) -> bool:
        """True when a resource's tags say this stack made it."""
        tags = tags or {}
        return tags.get(MANAGED_BY) == MANAGED_BY_VALUE and tags.get(STACK_TAG) == self.name

    @cached_property
    def function_environment(self) -> dict[str, str]:
        cfg = self.config
        stocks = [s.model_dump() for s in cfg.stocks]
        env = {
            "STOCK_ALERT_STACK": self.name,
            "STOCK_ALERT_TOPIC_ARN": self.topic_arn,
            "STOCK_ALERT_STOCKS": json.dumps(stocks, separators=(",", ":")),
            "STOCK_ALERT_ALERT": json.dumps(cfg.alert.model_dump(), separators=(",", ":")),
            "STOCK_ALERT_PROVIDER": ",".join(cfg.quotes.chain),
        }
        if cfg.quotes.api_key_parameter:
            env["STOCK_ALERT_API_KEY_PARAMETER"] = cfg.quotes.api_key_parameter
        if cfg.quotes.api_key_secret:  # the secret's name or ARN, never its value
            env["STOCK_ALERT_API_KEY_SECRET"] = cfg.quotes.api_key_secret
        if cfg.quotes.base_url:
            env["STOCK_ALERT_QUOTES_BASE_URL"] = cfg.quotes.base_url
        return env


def identified(aws: Aws, stack: Stack) -> Stack:
    """`stack` in the caller's account and partition (one STS call per Aws, remembered)."""
    if stack.known:
        return stack
    account, partition = aws.account()
    return replace(stack, account=account, partition=partition)


def regional_name(name: str, region: str, suffix: str) -> str:
    """'<name>-<region><suffix>', or, when that is over NAME_LIMIT characters, the name cut
    short and followed by 8 hex digits of a SHA-256 of name and Region, so it stays unique and
    deterministic (the ownership tags, not the name, decide what is this stack's)."""
    full = f"{name}-{region}{suffix}"
    if len(full) <= NAME_LIMIT:
        return full
    digest = hashlib.sha256(f"{name}/{region}".encode()).hexdigest()[:8]
    tail = f"-{digest}-{region}{suffix}"
    return f"{name[:NAME_LIMIT - len(tail)]}{tail}"


def environment_size(env: dict[str, str]) -> int:
    """Bytes Lambda counts against ENVIRONMENT_LIMIT: the variables as one compact JSON object.

    Lambda's refusal quotes the measured string as JSON ("exceeded the 4KB limit. String
    measured: {...}", https://github.com/github-aws-runners/terraform-aws-github-runner/issues/3594),
    so quotes and backslashes count escaped. Non-ASCII is counted as \\uXXXX (6 bytes), an upper
    bound of its UTF-8 size; STOCK_ALERT_STOCKS is itself ASCII JSON already.
    """
    return len(json.dumps(env, separators=(",", ":")).encode("utf-8"))
