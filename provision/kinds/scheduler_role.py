"""The role EventBridge Scheduler assumes to run the market-time schedule (market_schedule.py).

Scheduler invokes a target with an execution role, not through the target's resource policy:
this role lets only scheduler.amazonaws.com assume it, only for this account (aws:SourceAccount:
the confused-deputy guard of the EventBridge Scheduler User Guide, "Set up the execution
role"), and allows lambda:InvokeFunction on exactly this stack's function.

It is an IAM role like the function's, so the role kind (role.py) reads, diffs, writes and
deletes it, and its operator needs name both roles; this module knows what differs: its name
(`<name>-<region>-scheduler`, global and Regional like the function's role, with the Region in
a tag), its trust and policy, its CloudFormation, its audit wording, and that a config with a
cron/rate schedule does not use it: then 'up' deletes it, after the rule that replaces the
schedule exists (engine.dependencies). It is a kind of its own, apart from the schedule group
and schedule, because it is a global IAM resource: `is_global`, ListRoles (not the tagging
API) finds it for teardown and sweep, and sweep treats a stack of which only IAM is left apart.
"""

from __future__ import annotations

from typing import Any, ClassVar

from provision.core import findings, policies
from provision.core.needs import UP, Need, Scope
from provision.core.plan import Action, Change, Mode
from provision.core.stack import Stack
from provision.kinds.contract import Fragment, unused
from provision.kinds.role import ObservedRole, Role, WantedRole, role_name
from provision.kinds.tags import as_list

SCHEDULER = "scheduler.amazonaws.com"
PASS_SCOPE = Scope("PassSchedulerRoleToSchedulerOnly", lambda s: s.scheduler_role_arn,
                   one_action=True, condition=lambda s: {"StringEquals": {
                       "iam:PassedToService": SCHEDULER}})
DESCRIPTION = "stock-alert: lets EventBridge Scheduler invoke the stack's function"
SUFFIX = "-scheduler"  # Stack.scheduler_role_name; the function's role ends in '-role'
UNUSED = "the schedule is a cron/rate EventBridge rule, which needs no role"


def trust_policy(account: str) -> policies.Document:
    """Only EventBridge Scheduler, acting for this account, may assume the role."""
    return {"Version": policies.VERSION, "Statement": [{
        "Effect": "Allow", "Principal": {"Service": SCHEDULER}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": account}}}]}


def invoke_policy(stack: Stack) -> dict[str, policies.Document]:
    """Policy name -> document: invoke exactly this stack's function, nothing else."""
    return {stack.policy_name("invoke-function"): {"Version": policies.VERSION, "Statement": [{
        "Sid": "InvokeOwnFunction", "Effect": "Allow", "Action": ["lambda:InvokeFunction"],
        "Resource": [stack.function_arn]}]}}


def trust_changed(action: Any, change: Change) -> list[findings.Finding]:
    """`audit`: the trust policy is not the one 'up' writes (only Scheduler, this account)."""
    return [findings.ours("trust-changed", action, "the trust policy differs from the one "
                          f"stock-alert writes (only {SCHEDULER}, for this account)")]


class SchedulerRole(Role):
    name = "scheduler-role"
    # Its IAM actions are the role kind's: ROLE_SCOPE names both roles (Stack.role_arns), so
    # each action is listed once in the operator policy. Passing it is its own: only this
    # role, only to EventBridge Scheduler.
    operator: ClassVar[tuple[Need, ...]] = (
        Need("iam:PassRole", PASS_SCOPE, UP, "give the scheduler's role to EventBridge Scheduler "
             "(CreateSchedule, UpdateSchedule); only to scheduler.amazonaws.com",
             applies=lambda s: s.config.market_time is not None),
    )
    audit_rules = {"policy": findings.policy, "managed_policies": findings.managed,
                   "trust_policy": trust_changed, "permissions_boundary": findings.boundary,
                   "tags": findings.tags}
    grants = {}  # the function's role holds nothing for it

    def inspect(self, stack: Stack, action: Action[WantedRole, ObservedRole]
                ) -> list[findings.Finding]:
        """Wildcards only: a changed trust policy is its audit rule (trust_changed)."""
        return self.wildcards(f"role {action.name}", action)

    def physical_name(self, stack: Stack) -> str:
        return stack.scheduler_role_name

    def recognise(self, arn: str) -> str | None:
        name = role_name(arn)
        return name if name is not None and name.endswith(SUFFIX) else None

    def wanted(self, stack: Stack) -> WantedRole:
        iam = stack.config.iam
        return WantedRole(stack.scheduler_role_name, stack.scheduler_role_arn,
                          trust_policy(stack.account), invoke_policy(stack), stack.global_tags,
                          stack.role_path, iam.permissions_boundary,
                          "permissions_boundary" in iam.model_fields_set,
                          description=DESCRIPTION, used=stack.config.market_time is not None)

    def diff(self, wanted: WantedRole, observed: ObservedRole | None, mode: Mode,
             adopt: bool = False) -> Action[WantedRole, ObservedRole]:
        if not wanted.used and not mode.teardown:
            return unused(self.name, wanted, observed, UNUSED, adopt)
        return super().diff(wanted, observed, mode, adopt)

    def cloudformation(self, w: WantedRole) -> Fragment:
        """Named by CloudFormation like the function's role (Role.cloudformation); the
        schedule refers to it by Fn::GetAtt."""
        if not w.used:
            return Fragment()
        return Fragment({"SchedulerRole": {"Type": "AWS::IAM::Role", "Properties": {
            "Description": w.description, "Path": w.path,
            **({"PermissionsBoundary": w.boundary} if w.boundary else {}),
            "AssumeRolePolicyDocument": w.trust,
            "Policies": [{"PolicyName": n, "PolicyDocument": d} for n, d in w.inline.items()],
            "Tags": as_list(w.tags)}}})
