"""`sweep`: group what tagged.list_tagged found by stack, pick the stacks the filters select,
and tear each one down through the engine, exactly as `down` would.

Grouping and filtering are pure. The deletion builds, for each selected stack name, the same
Stack `down` tears down (`Stack.bare`: teardown needs only the name and place; every name
derives from them), then runs engine.observe / make_plan in Mode.DOWN / execute. So the order
(alarm, schedule, function, topic, security group, log group, roles last) and the ownership
checks (the tags, each kind's `locate`, foreign resources left alone) are the engine's, not a
second implementation. What is reported is what the engine did: each deletion, each resource
left alone and why, or "nothing to delete".

Safety rules, each a reason a stack is shown but not deleted:
- a resource without the stock-alert:stack tag belongs to no stack: never deleted;
- a stack name that no config could have (so no engine names) is never deleted;
- IAM is global: a Region's listing holds only the roles tagged with its Region (and legacy
  roles with no Region tag, which no Region's teardown deletes: they are reported), and a
  stack of which a Region holds only a role is not deleted from that Region;
- --tag k=v selects a stack only when every resource found for it carries every pair;
- --older-than selects a stack only when at least one of its resources reports a creation
  time and every one that does is older than the limit. SNS topics and EventBridge rules
  report none: they are marked "age unknown" and never make a stack old by themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from provision.config.model import FLEET_TAG, STACK_TAG
from provision.core.plan import AnyAction, Mode, Op, Plan
from provision.core.stack import Stack
from provision.errors import StockAlertError
from provision.kinds.contract import AnyKind
from provision.kinds.tagged import Found, Listing

NO_STACK = "(no stack tag)"


class Result(StrEnum):
    """What became of one stack."""

    SKIPPED = "skipped"  # not selected, or cancelled
    DELETED = "deleted"  # at least one resource deleted
    NOTHING = "nothing to delete"  # selected, but the engine found nothing of it left
    WOULD_DELETE = "would delete"  # --dry-run: planned, nothing deleted
    FAILED = "failed"


@dataclass(frozen=True)
class Filters:
    prefix: str = ""
    older_than_s: int | None = None
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Group:
    """One stack's tagged resources as found, and whether the filters select it."""

    stack: str
    resources: tuple[Found, ...]
    selected: bool
    reasons: tuple[str, ...] = ()  # why it is not selected
    notes: tuple[str, ...] = ()  # facts worth saying either way (unknown ages, strays)

    def to_dict(self) -> dict[str, Any]:
        return {"stack": self.stack, "selected": self.selected, "reasons": list(self.reasons),
                "notes": list(self.notes), "resources": [r.to_dict() for r in self.resources]}


def stack_for(name: str, listing: Listing, items: tuple[Found, ...] = ()) -> Stack | None:
    """The Stack `down` would tear down for this name in this place (with the fleet its
    resources' tags name, if they agree on one); None if no config could have this name (then
    the engine has no names for it and nothing is deleted)."""
    fleets = {f.tags.get(FLEET_TAG) for f in items}
    fleet = fleets.pop() if len(fleets) == 1 else None
    return Stack.bare(name, listing.account, listing.region, listing.partition, fleet)


def _kind(found: Found) -> AnyKind | None:
    from provision.kinds import BY_NAME

    return BY_NAME.get(found.kind)


def group(listing: Listing, filters: Filters, now: datetime) -> list[Group]:
    """Pure: the stacks (sorted) whose names start with the prefix, each judged by the filters."""
    by_stack: dict[str, list[Found]] = {}
    for found in listing.resources:
        by_stack.setdefault(found.tags.get(STACK_TAG) or NO_STACK, []).append(found)
    return [judge(name, tuple(items), listing, filters, now)
            for name, items in sorted(by_stack.items())
            if name == NO_STACK or name.startswith(filters.prefix)]


def judge(name: str, items: tuple[Found, ...], listing: Listing, filters: Filters,
          now: datetime) -> Group:
    if name == NO_STACK:
        return Group(name, items, False, ("no stock-alert:stack tag, so no stack owns them; "
                                          "never deleted",))
    stack = stack_for(name, listing, items)
    if stack is None:
        return Group(name, items, False, (f"{name!r} is not a stack name stock-alert can "
                                          "make; never deleted",))
    reasons = [*_tag_reasons(items, filters), *_age_reasons(items, filters, now)]
    if all((k := _kind(f)) is not None and k.is_global for f in items):
        roles = "role was" if len(items) == 1 else "roles were"
        reasons.append(f"only its IAM {roles} found, and IAM is global: the stack lives in "
                       "another Region or its regional resources are gone; delete it with "
                       "'down' in its Region, or the role by hand")
    return Group(name, items, not reasons, tuple(reasons),
                 (*_unknown_ages(items, filters), *_strays(items, stack)))


def _tag_reasons(items: tuple[Found, ...], filters: Filters) -> list[str]:
    return [f"not every resource has tag {k}={v}" for k, v in filters.tags
            if any(f.tags.get(k) != v for f in items)]


def _age_reasons(items: tuple[Found, ...], filters: Filters, now: datetime) -> list[str]:
    if filters.older_than_s is None:
        return []
    limit = now - timedelta(seconds=filters.older_than_s)
    dated = [f for f in items if f.created is not None]
    if not dated:
        return ["no resource reports a creation time, so its age is unknown: not old enough"]
    young = [f for f in dated if f.created is not None and f.created > limit]
    return [f"{f.kind} {f.name} is younger ({f.created:%Y-%m-%d %H:%M} UTC)" for f in young]


def _unknown_ages(items: tuple[Found, ...], filters: Filters) -> list[str]:
    if filters.older_than_s is None:
        return []
    return [f"{f.kind} {f.name}: age unknown (AWS reports no creation time for it)"
            for f in items if f.created is None]


def _strays(items: tuple[Found, ...], stack: Stack) -> list[str]:
    """The listed resources that tearing the stack down does not remove, each said once."""
    return [f"{f.kind} {f.name} carries this stack's tags but is not one of its resources; "
            "left alone" for f in items if not _removed_by_down(f, stack)]


def _removed_by_down(found: Found, stack: Stack) -> bool:
    kind = _kind(found)
    return kind is not None and kind.matches(found.name, stack)


# deletion, through the engine ------------------------------------------------------------
@dataclass
class Outcome:
    """One stack's result: deleted, failed, or skipped (not selected, or cancelled)."""

    region: str
    group: Group
    result: Result = Result.SKIPPED
    plan: Plan | None = None
    applied: list[AnyAction] = field(default_factory=list)
    error: StockAlertError | None = None

    @property
    def left_alone(self) -> list[str]:
        actions = self.plan.actions if self.plan else ()
        return [f"{a.kind} {a.name}: {a.reason}" for a in actions if a.op is Op.CONFLICT]

    def to_dict(self) -> dict[str, Any]:
        err = self.error
        planned = [a.to_dict() for a in self.plan.actions if a.writes] if self.plan else []
        return {"region": self.region, **self.group.to_dict(), "result": self.result.value,
                "applied": [a.to_dict() for a in self.applied],
                "would_delete": planned if self.result is Result.WOULD_DELETE else [],
                "left_alone": self.left_alone,
                "error": {"message": err.message, "hint": err.hint,
                          "code": getattr(err, "code", "")} if err else None}


Progress = Callable[[AnyAction, str], None]


def delete_stack(aws: Any, listing: Listing, outcome: Outcome,
                 progress: Progress | None = None, dry_run: bool = False) -> Outcome:
    """Tear one selected stack down as `down` does (or, dry_run, only plan it); an error
    fails this stack only."""
    from provision.core.engine import execute, make_plan, observe

    stack = stack_for(outcome.group.stack, listing, outcome.group.resources)
    assert stack is not None, "only selected stacks are deleted, and those have a Stack"
    def record(action: AnyAction, stage: str) -> None:
        if stage == "done":
            outcome.applied.append(action)  # kept even when a later step fails
        if progress:
            progress(action, stage)

    try:
        outcome.plan = make_plan(observe(aws, stack, Mode.DOWN))
        if not outcome.plan.has_writes:
            outcome.result = Result.NOTHING
        elif dry_run:
            outcome.result = Result.WOULD_DELETE
        else:
            execute(aws, outcome.plan, record)
            outcome.result = Result.DELETED
    except StockAlertError as err:
        outcome.result, outcome.error = Result.FAILED, err
    return outcome


# one Region ------------------------------------------------------------------------------
@dataclass
class Scan:
    """What one Region holds and what became of each stack; error when listing failed."""

    region: str
    aws: Any = None
    listing: Listing | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    error: StockAlertError | None = None
    role_arn: str | None = None  # --assume-role: the role this Region was swept as

    @property
    def where(self) -> str:
        """The Region, and the account when it is known (several accounts: which one)."""
        account = self.listing.account if self.listing else self.role_arn
        return f"{self.region} ({account})" if account else self.region

    def to_dict(self) -> dict[str, Any]:
        err = self.error
        return {"region": self.region, "assumed_role": self.role_arn,
                "account": self.listing.account if self.listing else None,
                "stacks": [o.to_dict() for o in self.outcomes],
                "error": {"message": err.message, "hint": err.hint} if err else None}


def scan(aws: Any, filters: Filters, now: datetime, roles: list[Found] | None = None) -> Scan:
    """List and judge one Region (reads only); a listing failure fails this Region only.
    `roles`: the account's tagged IAM roles, read once for all its Regions."""
    from provision.kinds.tagged import list_tagged

    found = Scan(aws.region, aws)
    try:
        found.listing = list_tagged(aws, filters.prefix, roles)
    except StockAlertError as err:
        found.error = err
        return found
    found.outcomes = [Outcome(aws.region, g) for g in group(found.listing, filters, now)]
    return found


def delete_selected(found: Scan, progress: Progress | None = None,
                    dry_run: bool = False) -> None:
    for outcome in found.outcomes:
        if outcome.group.selected and found.listing is not None:
            delete_stack(found.aws, found.listing, outcome, progress, dry_run)


def failed(scans: list[Scan]) -> bool:
    return any(s.error or any(o.result is Result.FAILED for o in s.outcomes) for s in scans)
