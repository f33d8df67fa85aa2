"""The Lambda function: code uploaded only when its SHA-256 differs, config only on a diff.

`LambdaFunction` is what the stack's two functions share (this one and the on-failure notifier,
notifier.py): the read by name, the code compared by hash, the settings field by field, a
Failed state, reserved concurrency, tags, and Lambda's waiters. Each subclass names its own
resource and builds its own wanted settings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from provision.aws.client import Aws
from provision.aws.concurrency import ready
from provision.config.model import is_stack_name
from provision.core import findings
from provision.core.needs import DOWN, READ, UP, Need, Scope
from provision.core.package import CodePackage
from provision.core.plan import Action, Change, Changes, Mode, diff_fields
from provision.core.pricing import Line, beyond_free
from provision.core.stack import HANDLER, STACK_TAG, Stack
from provision.errors import AwsError
from provision.kinds.contract import Fragment, Kind
from provision.kinds.tags import apply_tags, as_list, tag_changes
from provision.kinds.vpc_config import GROUP_ID, plain_vpc, seen_vpc, vpc_params, vpc_setting

# Lambda prices (x86, https://aws.amazon.com/lambda/pricing/)
LAMBDA_FREE_REQUESTS = 1_000_000
LAMBDA_FREE_GB_SECONDS = 400_000
LAMBDA_USD_PER_REQUEST = 0.20 / 1_000_000
LAMBDA_USD_PER_GB_SECOND = 0.0000166667
FUNCTION_SCOPE = Scope("Function", lambda s: [s.function_arn])

DESCRIPTION = "stock-alert: fetches quotes and publishes alerts"
CONCURRENCY = "reserved_concurrency"  # PutFunctionConcurrency, not UpdateFunctionConfiguration
CONFIG_KEYS = {  # our field -> Lambda's field
    "runtime": "Runtime", "handler": "Handler", "role": "Role", "memory_mb": "MemorySize",
    "timeout_s": "Timeout", "environment": "Environment", "description": "Description",
    "vpc": "VpcConfig", "log_group": "LoggingConfig",
}
# GetFunction on AWS always reports LoggingConfig (the default group when none is set; Lambda
# API reference, FunctionConfiguration); an endpoint that reports none (moto 5.2 accepts and
# drops it) cannot show it, so there it is not compared (tests/real_aws/test_notifier.py).
UNREPORTED = {"log_group"}
# The zip in the template (both functions run it). Lambda reads the code only from a bucket in
# its own Region (else S3 PermanentRedirect, github.com/binxio/cfn-certificate-provider/issues/
# 20): with CodeBucketPerRegion, one bucket per Region, '<CodeBucket>-<Region>'.
CFN_CODE = {"S3Bucket": {"Fn::If": ["CodeBucketPerRegion",
                                    {"Fn::Sub": "${CodeBucket}-${AWS::Region}"},
                                    {"Ref": "CodeBucket"}]},
            "S3Key": {"Ref": "CodeKey"}}


@dataclass(frozen=True)
class WantedFunction:
    name: str
    arn: str
    settings: dict[str, Any]  # our field names (CONFIG_KEYS), wanted values
    code: CodePackage | None  # None when only reading (down, status of a teardown)
    tags: dict[str, str]
    reserved_concurrency: int | None = None  # None: draws on the account's unreserved pool
    role_written: bool = False  # this plan writes the role (or its ENI grant) first

    def config_params(self, fields: set[str] | None = None) -> dict[str, Any]:
        """Lambda's parameters for the given fields (all when None)."""
        wanted = {f: v for f, v in self.settings.items() if fields is None or f in fields}
        params = {CONFIG_KEYS[f]: v for f, v in wanted.items() if f != "environment"}
        if "environment" in wanted:
            params["Environment"] = {"Variables": wanted["environment"]}
        if "log_group" in wanted:
            params["LoggingConfig"] = {"LogGroup": wanted["log_group"]}
        if "VpcConfig" in params and params["VpcConfig"] is None:  # not in a VPC
            if fields is None:
                del params["VpcConfig"]  # create, export: say nothing
            else:
                params["VpcConfig"] = {"SubnetIds": [], "SecurityGroupIds": []}  # detach
        return params


@dataclass(frozen=True)
class ObservedFunction:
    arn: str
    settings: dict[str, Any]
    code_sha256: str
    tags: dict[str, str]
    state: str
    reserved_concurrency: int | None = None  # GetFunction's Concurrency, absent when unset
    failure: str | None = None  # Lambda's account of a Failed state or update (failure_of)


class LambdaFunction(Kind[WantedFunction, ObservedFunction]):
    """The machinery of a Lambda function kind (see the module docstring); a subclass names
    its resource, builds its wanted value and says how its settings become Lambda's
    parameters (`params`)."""

    needs_account = False  # reads by name

    def locate(self, aws: Aws, wanted: WantedFunction) -> ObservedFunction | None:
        """By its name alone: teardown needs no VPC detail."""
        return read_function(aws, wanted.name)

    def read(self, aws: Aws, wanted: WantedFunction) -> ObservedFunction | None:
        return read_function(aws, wanted.name)

    def clients(self, wanted: WantedFunction, mode: Mode) -> tuple[str, ...]:
        """EC2 only for a function the config puts in a VPC (its groups are read by id)."""
        return ("lambda", "ec2") if wanted.settings["vpc"] else ("lambda",)

    def given(self, wanted: WantedFunction, written: frozenset[str]) -> WantedFunction:
        return replace(wanted, role_written="role" in written)

    def params(self, aws: Aws, wanted: WantedFunction,
               fields: set[str] | None = None) -> dict[str, Any]:
        """Lambda's parameters for the given settings (all when None)."""
        return wanted.config_params(fields)

    def changes(self, wanted: WantedFunction, observed: ObservedFunction | None) -> Changes:
        code = wanted.code.sha256 if wanted.code else None
        out: list[Change] = []
        if observed is None or observed.code_sha256 != code:
            out.append(Change("code", observed.code_sha256 if observed else None, code))
        out += _setting_changes(wanted.settings, observed)
        have = observed.reserved_concurrency if observed else None
        if have != wanted.reserved_concurrency:
            out.append(Change(CONCURRENCY, have, wanted.reserved_concurrency))
        if observed:
            if observed.failure:  # broken whatever the settings say: drift, repaired by 'up'
                out.append(Change("state", observed.failure, "Active, last update Successful"))
            out += tag_changes(wanted.tags, observed.tags)
        return tuple(out)

    def create(self, aws: Aws, wanted: WantedFunction) -> None:
        assert wanted.code is not None, "the code is built before a plan that creates"
        result = aws.call("lambda", "create_function", FunctionName=wanted.name,
                          Code={"ZipFile": wanted.code.zip_bytes}, Publish=False,
                          Tags=wanted.tags, role_written=wanted.role_written,
                          **self.params(aws, wanted))
        if result.get("State", "Active") != "Active":
            aws.waiter("lambda", "function_active_v2", FunctionName=wanted.name)
        ready()  # Active: what needs it only to exist (its on-failure destination) may start
        if wanted.reserved_concurrency is not None:
            _set_concurrency(aws, wanted.name, wanted.reserved_concurrency)

    def update(self, aws: Aws, wanted: WantedFunction, observed: ObservedFunction,
               changes: Changes) -> None:
        fields = {c.field for c in changes}
        if "state" in fields:  # Lambda tries a failed function again when its config is sent
            fields |= set(CONFIG_KEYS)
        if observed.state == "Pending" and fields & ({"code"} | set(CONFIG_KEYS)):
            # A function still being created (an earlier run stopped before it was Active)
            # refuses updates with ResourceConflictException "...currently in the following
            # state: Pending"; wait for Active first, as Lambda's docs advise.
            aws.waiter("lambda", "function_active_v2", FunctionName=wanted.name)
        if "code" in fields:
            assert wanted.code is not None, "the code is built before a plan that updates"
            result = aws.call("lambda", "update_function_code", FunctionName=wanted.name,
                              ZipFile=wanted.code.zip_bytes)
            _wait_updated(aws, wanted.name, result)
        if fields & set(CONFIG_KEYS):
            result = aws.call("lambda", "update_function_configuration",
                              FunctionName=wanted.name, role_written=wanted.role_written,
                              **self.params(aws, wanted, fields))
            _wait_updated(aws, wanted.name, result)
        if CONCURRENCY in fields:
            _set_concurrency(aws, wanted.name, wanted.reserved_concurrency)
        apply_tags(changes,
                   lambda tags: aws.call("lambda", "tag_resource", Resource=wanted.arn,
                                         Tags=tags),
                   lambda keys: aws.call("lambda", "untag_resource", Resource=wanted.arn,
                                         TagKeys=keys))

    def delete(self, aws: Aws, wanted: WantedFunction, observed: ObservedFunction) -> None:
        aws.call("lambda", "delete_function", FunctionName=wanted.name, missing_ok=True)

    def inspect(self, stack: Stack, action: Action[WantedFunction, ObservedFunction]
                ) -> list[findings.Finding]:
        """`audit`: a function in the Failed state cannot run, although nothing drifted (a
        Failed notifier cannot tell anyone of a failed run)."""
        if action.observed is None or str(action.observed.state).lower() != "failed":
            return []
        return [findings.Finding("function-failed", f"function {action.name}",
                                 "Lambda reports the function's state as Failed, so it cannot "
                                 "run", findings.UP, True)]

    def summary(self, observed: ObservedFunction | None) -> dict[str, Any]:
        if observed is None:
            return {}
        s = observed.settings
        return {"arn": observed.arn, "runtime": s["runtime"], "memory_mb": s["memory_mb"],
                "timeout_s": s["timeout_s"], "code_sha256": observed.code_sha256,
                "state": observed.failure or observed.state,
                "reserved_concurrency": observed.reserved_concurrency}


class Function(LambdaFunction):
    name = "function"
    after = ("role", "log-group", "security-group")
    services = ("lambda", "ec2")  # ec2: the VPC config's security group, by id

    operator = (
        Need("lambda:GetFunction", FUNCTION_SCOPE, ("up", "down", "status", "invoke"),
             "read the function's code hash, settings and state"),
        Need("lambda:ListTags", FUNCTION_SCOPE, ("up", "down", "status", "invoke"),
             "read its tags: GetFunction returns them only to callers allowed lambda:ListTags"),
        Need("lambda:GetPolicy", FUNCTION_SCOPE, READ, "read the invoke permission"),
        Need("lambda:CreateFunction", FUNCTION_SCOPE, UP, "create the function"),
        Need("lambda:UpdateFunctionCode", FUNCTION_SCOPE, UP, "upload code whose hash changed"),
        Need("lambda:UpdateFunctionConfiguration", FUNCTION_SCOPE, UP, "apply changed settings"),
        Need("lambda:TagResource", FUNCTION_SCOPE, UP, "add tags from the config"),
        Need("lambda:UntagResource", FUNCTION_SCOPE, UP, "remove tags dropped from the config"),
        Need("lambda:AddPermission", FUNCTION_SCOPE, UP, "let only this rule invoke the function"),
        Need("lambda:RemovePermission", FUNCTION_SCOPE, UP, "replace a permission changed by "
             "hand; remove the rule's once a market-time schedule replaces the rule"),
        Need("lambda:DeleteFunction", FUNCTION_SCOPE, DOWN, "delete the function "
             "and its permission"),
        Need("lambda:InvokeFunction", FUNCTION_SCOPE, ("invoke",), "run the function once"),
        Need("lambda:PutFunctionConcurrency", FUNCTION_SCOPE, UP,
             "reserve function.reserved_concurrency (1 by default) for the function"),
        Need("lambda:DeleteFunctionConcurrency", FUNCTION_SCOPE, UP,
             "stop reserving when function.reserved_concurrency is set to null"),
    )
    audit_rules = {"tags": findings.tags}
    grants = {}

    def cloudformation(self, w: WantedFunction) -> Fragment:
        params = w.config_params()
        if "VpcConfig" in params:  # the group made above is named in the wanted value: its id
            params["VpcConfig"] = {**params["VpcConfig"], "SecurityGroupIds": [
                g if GROUP_ID.match(g) else {"Fn::GetAtt": ["SecurityGroup", "GroupId"]}
                for g in params["VpcConfig"]["SecurityGroupIds"]]}
        # Reserved concurrency is a parameter that can be empty: a new account's limit of 10
        # leaves none to reserve (github.com/aws-samples/one-observability-demo/issues/278).
        reserved = "" if w.reserved_concurrency is None else str(w.reserved_concurrency)
        return Fragment({"Function": {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": w.name, **params, "Code": CFN_CODE,
            "ReservedConcurrentExecutions": {"Fn::If": [
                "HasReservedConcurrency", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]},
            "Tags": as_list(w.tags)}}},
            parameters={
                "ReservedConcurrency": {
                    "Type": "String", "Default": reserved, "AllowedPattern": "^([1-9][0-9]*)?$",
                    "Description": "Concurrent executions reserved for the function; empty "
                    "reserves none (needed in accounts whose concurrency limit is 10)."},
                "CodeBucketPerRegion": {
                    "Type": "String", "Default": "false", "AllowedValues": ["true", "false"],
                    "Description": "true: read the code from '<CodeBucket>-<Region>', one bucket "
                    "per Region (Lambda reads code only from its own Region)."}},
            conditions={
                "HasReservedConcurrency": {"Fn::Not": [{"Fn::Equals": [
                    {"Ref": "ReservedConcurrency"}, ""]}]},
                "CodeBucketPerRegion": {"Fn::Equals": [{"Ref": "CodeBucketPerRegion"}, "true"]}})

    def physical_name(self, stack: Stack) -> str:
        return stack.function_name

    def recognise(self, arn: str) -> str | None:
        """A function named like a stack: no other function of any stack is (the notifier's
        name holds '_', which no stack name does)."""
        name = function_name(arn)
        return name if name is not None and is_stack_name(name) else None

    def wanted(self, stack: Stack) -> WantedFunction:
        fn = stack.config.function
        settings = {
            "runtime": fn.runtime, "handler": HANDLER, "role": stack.role_arn,
            "memory_mb": fn.memory_mb, "timeout_s": fn.timeout_s,
            "environment": dict(sorted(stack.function_environment.items())),
            "description": DESCRIPTION,
            "vpc": vpc_setting(stack),
        }
        return WantedFunction(stack.function_name, stack.function_arn, settings, stack.code,
                              stack.tags, fn.reserved_concurrency)

    def read(self, aws: Aws, wanted: WantedFunction) -> ObservedFunction | None:
        found = read_function(aws, wanted.name)
        if found is None or not found.settings["vpc"]:
            return found
        seen = seen_vpc(aws, wanted.settings["vpc"], found.settings["vpc"], wanted.tags[STACK_TAG])
        return replace(found, settings={**found.settings, "vpc": seen})

    def clients(self, wanted: WantedFunction, mode: Mode) -> tuple[str, ...]:
        """EC2 only for a function the config puts in a VPC (its groups are read by id)."""
        return ("lambda", "ec2") if wanted.settings["vpc"] else ("lambda",)

    def params(self, aws: Aws, wanted: WantedFunction,
               fields: set[str] | None = None) -> dict[str, Any]:
        """The VpcConfig names the group stock-alert makes: its id, once it exists."""
        return vpc_params(aws, wanted.config_params(fields))

    def cost(self, stack: Stack, runs: int) -> tuple[Line, ...]:
        """Requests, and compute as if every run took the full timeout (an upper bound)."""
        settings = stack.config.function
        gb_s = runs * settings.memory_mb / 1024 * settings.timeout_s
        return (
            Line("Lambda requests", runs, "requests",
                 beyond_free(runs, LAMBDA_FREE_REQUESTS, LAMBDA_USD_PER_REQUEST),
                 f"first {LAMBDA_FREE_REQUESTS:,} a month free"),
            Line("Lambda compute (upper bound)", round(gb_s, 1), "GB-seconds",
                 max(0.0, gb_s - LAMBDA_FREE_GB_SECONDS) * LAMBDA_USD_PER_GB_SECOND,
                 f"every run taking the full timeout; {LAMBDA_FREE_GB_SECONDS:,} free"))


def function_name(arn: str) -> str | None:
    """The function's name in a Lambda function ARN (qualified or not); None for other ARNs."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "lambda" and parts[5].startswith("function:"):
        return parts[5].split(":")[1]
    return None


def _setting_changes(wanted: dict[str, Any], observed: ObservedFunction | None) -> Changes:
    """diff_fields of the settings; a setting the endpoint does not report (UNREPORTED, None
    there) is taken as wanted."""
    if observed is None:
        return diff_fields(wanted, {})
    seen = {k: wanted.get(k) if k in UNREPORTED and v is None else v
            for k, v in observed.settings.items()}
    return diff_fields(wanted, seen)


def read_function(aws: Aws, name: str) -> ObservedFunction | None:
    found = aws.call("lambda", "get_function", FunctionName=name, missing_ok=True)
    if found is None:
        return None
    conf = found["Configuration"]
    settings = {ours: conf.get(theirs) for ours, theirs in CONFIG_KEYS.items()}
    settings["environment"] = dict(sorted(
        (conf.get("Environment") or {}).get("Variables", {}).items()))
    settings["vpc"] = plain_vpc(conf.get("VpcConfig"))
    settings["log_group"] = (conf.get("LoggingConfig") or {}).get("LogGroup")
    tags = found.get("Tags")
    if tags is None:
        # GetFunction includes tags only for callers allowed lambda:ListTags; ask explicitly,
        # so a missing permission is an error instead of making our function look foreign.
        tags = aws.call("lambda", "list_tags", Resource=conf["FunctionArn"]).get("Tags", {})
    reserved = (found.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
    return ObservedFunction(conf["FunctionArn"], settings, conf.get("CodeSha256", ""),
                            tags, conf.get("State", "Active"), reserved, failure_of(conf))


def failure_of(conf: dict[str, Any]) -> str | None:
    """'State Failed' (creation) or 'LastUpdateStatus Failed' (the last update) with Lambda's
    reason code and reason, e.g. InsufficientRolePermissions, SubnetOutOfIPAddresses,
    EniLimitExceeded, InvalidSubnet (Lambda API reference, FunctionConfiguration
    StateReasonCode; github.com/terraform-aws-modules/terraform-aws-lambda/issues/489)."""
    for status, prefix in (("State", "State"), ("LastUpdateStatus", "LastUpdateStatus")):
        if conf.get(status) == "Failed":
            code = conf.get(f"{prefix}ReasonCode") or "no reason code"
            reason = conf.get(f"{prefix}Reason") or "no reason given"
            return f"{status} Failed ({code}: {reason})"
    return None


def _set_concurrency(aws: Aws, name: str, reserved: int | None) -> None:
    """Reserve (or, for None, stop reserving) concurrency for the function.

    Lambda refuses a reservation that would leave the account's unreserved pool under its
    minimum (100 at the default limit of 1000; 10 or 50 in new accounts with a low limit):
    InvalidParameterValueException "Specified ReservedConcurrentExecutions for function
    decreases account's UnreservedConcurrentExecution below its minimum value of [10]."
    (github.com/aws-samples/one-observability-demo/issues/278,
    github.com/milliHQ/terraform-aws-next-js/issues/251). Waiting cannot fix it, so it is
    explained, not retried."""
    if reserved is None:
        aws.call("lambda", "delete_function_concurrency", FunctionName=name, missing_ok=True)
        return
    try:
        aws.call("lambda", "put_function_concurrency", FunctionName=name,
                 ReservedConcurrentExecutions=reserved)
    except AwsError as err:
        if "UnreservedConcurrentExecution" not in str(err):
            raise
        raise AwsError(
            f"Lambda cannot reserve {reserved} concurrent execution(s) for {name}: this "
            f"account's concurrency limit is too low to set any aside ({err.message})",
            code=err.code,
            hint="Set 'function.reserved_concurrency: null' in the config to reserve nothing, "
            "or ask AWS to raise the 'Concurrent executions' quota (Service Quotas, Lambda), "
            "then run 'stock-alert up' again.") from err


def _wait_updated(aws: Aws, name: str, result: dict[str, Any]) -> None:
    if result.get("LastUpdateStatus", "Successful") != "Successful":
        aws.waiter("lambda", "function_updated_v2", FunctionName=name)


def invoke(aws: Aws, name: str, timeout_s: int) -> dict[str, Any]:
    """Run the deployed function once (RequestResponse) with the tail of its log. Sent once:
    a retry could run it again (and send its alert twice); Lambda answers when the function
    ends, so the read timeout is the function's timeout and a margin."""
    import base64

    answer = aws.call_once("lambda", "invoke", read_timeout_s=timeout_s + 30.0,
                           FunctionName=name, InvocationType="RequestResponse",
                           LogType="Tail", Payload=b'{"source": "stock-alert.invoke"}')
    payload = answer["Payload"].read().decode("utf-8", "replace")
    tail = base64.b64decode(answer.get("LogResult") or b"").decode("utf-8", "replace")
    return {"status": answer.get("StatusCode"), "error": answer.get("FunctionError"),
            "payload": payload, "log_tail": tail}
