"""The typed contract every resource kind fulfils, and the state machine they all share.

In the spirit of Pulumi's dynamic `ResourceProvider` (read, diff, create, update, delete, each
with typed values): a kind builds its frozen *wanted* value once from the stack, reads what AWS
has into a frozen *observed* value, diffs the two purely, and applies an `Action` from the action
alone. mypy checks every kind against this class.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from provision.aws.client import Aws
from provision.config.model import APPLIED_TAG, FLEET_TAG, REGION_TAG
from provision.core.findings import Finding, Rule
from provision.core.needs import Need
from provision.core.plan import NOT_USED, Action, Change, Changes, Mode, Op, Owner
from provision.core.pricing import Line
from provision.core.stack import MANAGED_BY, MANAGED_BY_VALUE, STACK_TAG, Stack

Doc = dict[str, Any]


@dataclass
class Fragment:
    """What one kind adds to the CloudFormation template (export/cloudformation.py)."""

    resources: Doc = field(default_factory=dict)
    parameters: Doc = field(default_factory=dict)
    conditions: Doc = field(default_factory=dict)


class Reason(StrEnum):
    """Why the shared state machine chose an action. For an update: with no local state, the
    applied tag (a digest of the wanted value as last written) tells a changed config from a
    change made outside the tool."""

    MISSING = "missing"
    ABSENT = "absent"
    UNUSED = NOT_USED
    OWNED = "owned by this stack"
    IN_SYNC = "in sync"
    CHANGED_IN_CONFIG = "changed in config"
    DRIFTED = "drifted (changed outside stock-alert)"
    DIFFERS = "differs from the config"


CHANGED_IN_CONFIG = Reason.CHANGED_IN_CONFIG
DRIFTED = Reason.DRIFTED
DIFFERS = Reason.DIFFERS
FOREIGN = "exists but is"  # how every ownership conflict's reason begins (for people)


class Wanted(Protocol):
    """What a kind's wanted value always has: the resource's name and this stack's tags."""

    @property
    def name(self) -> str: ...

    @property
    def tags(self) -> Mapping[str, str]: ...


class Observed(Protocol):
    """What a kind's observed value always has: the tags AWS reports for it.

    None means the observed part carries no tags of its own (a Lambda permission statement):
    it belongs to the owner of the resource it sits on, which that resource's kind checks.
    """

    @property
    def tags(self) -> Mapping[str, str] | None: ...


W = TypeVar("W", bound=Wanted)
O = TypeVar("O", bound=Observed)  # noqa: E741


@dataclass(frozen=True)
class Ownership:
    owner: Owner
    seen: str = ""  # the other stack, Region or fleet, as its tag says

    @property
    def ours(self) -> bool:
        return self.owner is Owner.OURS

    def __str__(self) -> str:
        """The words a conflict's reason uses after 'exists but is'."""
        if self.owner is Owner.OTHER_STACK:
            return f"owned by stock-alert stack {self.seen!r}"
        if self.owner is Owner.OTHER_REGION:
            return (f"this stack's in Region {self.seen}" if self.seen
                    else "this stack's, from before roles were per Region")
        if self.owner is Owner.OTHER_FLEET:
            return (f"made by fleet {self.seen!r}" if self.seen
                    else "not made by this fleet (pass --adopt to take it over)")
        return "not tagged as made by this stack"


def ownership(wanted_tags: Mapping[str, str], seen_tags: Mapping[str, str] | None,
              adopt: bool = False) -> Ownership:
    """Whose it is, from the ownership tags: managed-by, the stack, and, when the wanted tags
    carry them, the Region (global resources) and the fleet. `adopt` lets a fleet claim a
    stack of the same name that no fleet made."""
    seen = seen_tags or {}
    other = seen.get(STACK_TAG)
    if seen.get(MANAGED_BY) != MANAGED_BY_VALUE or not other:
        return Ownership(Owner.UNTAGGED)
    if other != wanted_tags[STACK_TAG]:
        return Ownership(Owner.OTHER_STACK, other)
    if REGION_TAG in wanted_tags and seen.get(REGION_TAG) != wanted_tags[REGION_TAG]:
        return Ownership(Owner.OTHER_REGION, seen.get(REGION_TAG, ""))
    fleet, their_fleet = wanted_tags.get(FLEET_TAG), seen.get(FLEET_TAG)
    if fleet != their_fleet and not (adopt and fleet and their_fleet is None):
        return Ownership(Owner.OTHER_FLEET, their_fleet or "")
    return Ownership(Owner.OURS)


def digest(wanted: Any) -> str:
    """A short, stable digest of a wanted value (all but its tags)."""
    fields = {f.name: getattr(wanted, f.name) for f in dataclasses.fields(wanted)
              if f.name != "tags"}

    def plain(value: Any) -> Any:
        if isinstance(value, bytes):
            return hashlib.sha256(value).hexdigest()
        if dataclasses.is_dataclass(value):
            return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        if isinstance(value, frozenset | set):
            return sorted(value)
        return str(value)

    text = json.dumps(fields, sort_keys=True, default=plain, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stamped(wanted: W) -> W:
    """The wanted value with its digest among its tags, so every write records it."""
    tags = {**wanted.tags, APPLIED_TAG: digest(wanted)}
    return dataclasses.replace(wanted, tags=tags)  # type: ignore[type-var]


def why_update(wanted: Wanted, observed: Observed) -> tuple[Reason, Changes]:
    """The reason for an update and, when the config changed, the tag write recording it."""
    seen = (observed.tags or {}).get(APPLIED_TAG)
    want = wanted.tags.get(APPLIED_TAG)
    if want is None or observed.tags is None:
        return DIFFERS, ()
    if seen == want:
        return DRIFTED, ()
    return (CHANGED_IN_CONFIG if seen else DIFFERS), (Change("applied", seen, want),)


class Kind(ABC, Generic[W, O]):
    """One AWS resource kind. Subclasses supply the kind-specific parts; `diff` and `apply` are
    shared, so every kind decides and dispatches the same way."""

    name: ClassVar[str]
    # Kinds that must exist before this one is created or updated (and so are deleted after
    # it). Independent kinds are written at the same time.
    after: ClassVar[tuple[str, ...]] = ()
    # Those of `after` it needs only to exist, not to be done: it starts at their ready point
    # (concurrency.ready(), e.g. the function is Active, its reserved concurrency still to
    # come). Deletes always wait only for the ready point of what they were needed by.
    after_ready: ClassVar[tuple[str, ...]] = ()
    # True when create() first makes a part that needs none of `after` (the schedule group)
    # and then calls concurrency.gate(): the engine starts it at once, off the longest chain.
    early_create: ClassVar[bool] = False
    # Teardown: the kinds whose ready point its delete starts at (what started runs is gone);
    # delete() then calls concurrency.gate() before the part that needs the rest gone (the
    # role drops its grants alongside the functions' deletes, and goes once they are gone).
    strips_after: ClassVar[tuple[str, ...]] = ()
    # The AWS services (botocore client names) its reads and writes call.
    services: ClassVar[tuple[str, ...]]
    # Whether `read` and `locate` use the account ID (an ARN built from it). False: they use
    # only names, so the engine starts them before STS has answered, with a wanted value
    # built from a stack whose account is not known yet (Stack.known); the reads must then be
    # the same whatever the account (tests/test_read_graph.py checks every such kind).
    needs_account: ClassVar[bool] = True
    # How many calls its read sends at once, first thing: for a kind that needs the account,
    # the engine opens that many connections while STS is asked (aws/connections.py).
    reads_at_once: ClassVar[int] = 1
    # True for a global (IAM) resource: one per account, listed by every Region.
    is_global: ClassVar[bool] = False
    # The kind whose resource this one is a setting of (no ARN, no tags of its own: the
    # tagging API never lists it, and `recognise` claims no ARN). The host's ownership is its
    # ownership: the engine leaves it alone wherever the host is not this stack's. Deleting
    # the host removes it too, so where a plan deletes both, the host's delete does not wait
    # for its delete (engine.dependencies), whose "not found" then counts as done.
    host: ClassVar[str | None] = None
    # What the operator needs to manage it, each action with its scope, commands and why
    # (`deployer-policy`); no default, so a kind cannot forget it (tests/test_kind_contract.py).
    operator: ClassVar[tuple[Need, ...]]
    # `audit`: a changed field of this kind -> the rule that words the finding ("tags" ->
    # findings.tags). A field with no rule is reported as "drifted".
    audit_rules: ClassVar[Mapping[str, Rule]]
    # `permissions`: why the function's role holds each action this kind's resource needs it
    # to have (action -> why); empty when the function needs no grant for it.
    grants: ClassVar[Mapping[str, str]]

    # pure -----------------------------------------------------------------------------------
    @abstractmethod
    def physical_name(self, stack: Stack) -> str:
        """The resource's name in AWS, derived from the stack's name (and Region) alone."""

    @abstractmethod
    def recognise(self, arn: str) -> str | None:
        """The resource's name when `arn` (as the Resource Groups Tagging API, ListRoles or
        ListRules gives it) is one of this kind's; None otherwise."""

    def matches(self, found: str, stack: Stack) -> bool:
        """Whether `down` of this stack removes the resource `recognise` named `found` (and
        that carries the stack's tags): by default, when it has the kind's physical name."""
        return found == self.physical_name(stack)

    @abstractmethod
    def wanted(self, stack: Stack) -> W:
        """The frozen wanted value, built once per run from the stack."""

    @abstractmethod
    def changes(self, wanted: W, observed: O | None) -> Changes:
        """Every field (and sub-item) that differs; observed None means 'create all of it'."""

    def given(self, wanted: W, written: frozenset[str]) -> W:
        """The wanted value, told which kinds this plan writes (e.g. the function waits for
        a role this run wrote to propagate, and only then)."""
        return wanted

    def clients(self, wanted: W, mode: Mode) -> tuple[str, ...]:
        """The clients its read (or, tearing down, its locate) of `wanted` calls, which the
        engine creates before the reads need them; by default every one of `services`. A
        client left out is still made when first used, after the reads began."""
        return self.services

    def notes(self, wanted: W, observed: O | None) -> tuple[str, ...]:
        """Facts worth telling the user that are not changes (e.g. a pending confirmation)."""
        return ()

    @abstractmethod
    def cost(self, stack: Stack, runs: int) -> tuple[Line, ...]:
        """`cost`: this kind's priced lines for a month with `runs` scheduled runs, named as
        the kind names its resource and only where the config makes it; () when keeping it
        costs nothing. `stack` carries names, not an account (features/cost/estimate.py)."""

    @abstractmethod
    def summary(self, observed: O | None) -> dict[str, Any]:
        """Key attributes for `status`."""

    @abstractmethod
    def cloudformation(self, wanted: W) -> Fragment:
        """The resources (parameters, conditions) `export` writes for the wanted value, built
        with sentinel names (export/cloudformation.py turns them into Fn::Sub)."""

    def audit_rule(self, changed: str) -> Rule | None:
        """The audit rule for a changed field of this kind; None: report it as drifted."""
        return self.audit_rules.get(changed)

    def inspect(self, stack: Stack, action: Action[W, O]) -> list[Finding]:
        """`audit`: findings about the whole observed resource that no single changed field
        words (a trust policy opened to others, a function in a Failed state), judged from
        this kind's action in the plan `up` would make (its wanted and observed values, op
        and notes). audit makes no read of its own. None by default."""
        return []

    def diff(self, wanted: W, observed: O | None, mode: Mode,
             adopt: bool = False) -> Action[W, O]:
        """The shared state machine: absent, foreign, unwanted, changed or in sync.

        Mode.DOWN plans against "nothing wanted": what carries the stack's tags is deleted."""
        def action(op: Op, reason: str, changes: Changes = (),
                   notes: tuple[str, ...] = (), owner: Owner | None = None) -> Action[W, O]:
            return Action(kind=self.name, name=wanted.name, op=op, wanted=wanted,
                          observed=observed, changes=changes, reason=reason, notes=notes,
                          owner=owner)

        teardown = mode.teardown
        if observed is None:
            if teardown:
                return action(Op.NOOP, Reason.ABSENT)
            return action(Op.CREATE, Reason.MISSING, self.changes(wanted, None))
        if observed.tags is not None:
            owner = ownership(wanted.tags, observed.tags, adopt)
            if not owner.ours:
                return action(Op.CONFLICT, f"{FOREIGN} {owner}", owner=owner.owner)
        if teardown:
            return action(Op.DELETE, Reason.OWNED)
        found = self.changes(wanted, observed)
        if not found:
            return action(Op.NOOP, Reason.IN_SYNC, (), self.notes(wanted, observed))
        reason, record = why_update(wanted, observed)
        return action(Op.UPDATE, reason, found + record, self.notes(wanted, observed))

    # AWS ------------------------------------------------------------------------------------
    @abstractmethod
    def read(self, aws: Aws, wanted: W) -> O | None:
        """Read-only calls; None when the resource does not exist. Safe to run concurrently."""

    @abstractmethod
    def locate(self, aws: Aws, wanted: W) -> O | None:
        """For teardown: find what this stack made, from its name and ownership tags alone.
        `wanted` is built from `Stack.teardown()` (no config beyond the name), so nothing the
        config says now (or no longer says) can hide a resource from 'down' or 'sweep'.
        Read-only and safe to run concurrently, like `read`."""

    @abstractmethod
    def create(self, aws: Aws, wanted: W) -> None:
        """Make the resource as wanted, tags included, with as few calls as AWS allows."""

    @abstractmethod
    def update(self, aws: Aws, wanted: W, observed: O, changes: Changes) -> None:
        """Write exactly the listed changes, nothing more."""

    @abstractmethod
    def delete(self, aws: Aws, wanted: W, observed: O) -> None:
        """Remove the resource and what hangs on it; 'not found' counts as done."""

    def apply(self, aws: Aws, action: Action[W, O]) -> None:
        """Carry out a writing action, from the action alone."""
        if action.op is Op.CREATE:
            self.create(aws, action.wanted)
        elif action.op is Op.UPDATE and action.observed is not None:
            self.update(aws, action.wanted, action.observed, action.changes)
        elif action.op is Op.DELETE and action.observed is not None:
            self.delete(aws, action.wanted, action.observed)


def unused(kind: str, wanted: W, observed: O | None, why: str,
           adopt: bool = False) -> Action[W, O]:
    """The shared state machine for a resource the config does not use (one of two forms of
    the same thing, e.g. the schedule's rule or its market-time schedule), outside teardown:
    absent is fine, this stack's is deleted ('up' runs deletes after every create and update,
    so its replacement exists first), anything else is left alone."""
    def action(op: Op, reason: str) -> Action[W, O]:
        return Action(kind=kind, name=wanted.name, op=op, wanted=wanted, observed=observed,
                      reason=reason)

    if observed is None:
        return action(Op.NOOP, f"{Reason.ABSENT}: {why}")
    if observed.tags is not None:
        owner = ownership(wanted.tags, observed.tags, adopt)
        if not owner.ours:
            return action(Op.NOOP, f"{Reason.UNUSED} ({why}) and {owner}; left alone")
    return action(Op.DELETE, f"{Reason.UNUSED} ({why})")


AnyKind = Kind[Any, Any]
