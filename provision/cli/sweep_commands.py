"""sweep: find every stack by its tags (no config), and delete the selected ones as 'down'
would, or with --dry-run only list what would go."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from provision.cli import ask
from provision.cli.app import (
    DebugOpt,
    Output,
    OutputOpt,
    ProfileOpt,
    RegionOpt,
    app,
    run,
)
from provision.errors import InputError

_DURATION = re.compile(r"^([0-9]+)([smhd])\Z")
MAX_AGE_S = 3653 * 86400  # ten years: older than any stack this tool can have made
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_TAG = re.compile(r"^([^=]+)=(.*)$")


def parse_age(text: str) -> int:
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) == 0:
        raise InputError(f"--older-than {text!r} is not a duration.",
                         hint="Write a whole number and a unit: 90s, 30m, 12h or 2d.")
    seconds = int(match.group(1)) * _UNIT_S[match.group(2)]
    if seconds > MAX_AGE_S:
        raise InputError(f"--older-than {text!r} is more than 3653 days (ten years); no stack "
                         "is that old.", hint="Pass at most --older-than 3653d.")
    return seconds


def parse_tags(items: list[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in items:
        match = _TAG.match(item)
        if not match or not match.group(1).strip():
            raise InputError(f"--tag {item!r} is not a key=value pair.",
                             hint="Write it like --tag team=quant; repeat --tag for more.")
        pairs.append((match.group(1), match.group(2)))
    return tuple(pairs)


@app.command()
def sweep(
    stack_prefix: Annotated[str, typer.Option(
        "--stack-prefix", help="Only stacks whose name starts with this.")] = "",
    older_than: Annotated[str | None, typer.Option(
        "--older-than", help="Only stacks older than this (90s, 30m, 12h, 2d), by the creation "
        "times AWS reports; a stack whose age is unknown is never old enough.",
        show_default=False)] = None,
    tag: Annotated[list[str] | None, typer.Option(
        "--tag", help="Only stacks whose every resource has this tag, as key=value; "
        "repeatable.", show_default=False)] = None,
    regions: Annotated[str | None, typer.Option(
        "--regions", help="Comma-separated Regions to sweep, reported per Region.",
        show_default=False)] = None,
    region: RegionOpt = None, profile: ProfileOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="List what would be deleted, by stack, and delete nothing (needs no "
        "terminal; works with --output json).")] = False,
    output: OutputOpt = Output.human, debug: DebugOpt = False,
    assume_role: Annotated[list[str] | None, typer.Option(
        "--assume-role", metavar="ARN", help="Sweep the account of this IAM role, through STS "
        "AssumeRole; repeatable, results per account.", show_default=False)] = None,
    assume_role_file: Annotated[Path | None, typer.Option(
        "--assume-role-file", metavar="FILE", help="A file of role ARNs, one a line ('#' "
        "starts a comment).", show_default=False)] = None,
) -> None:
    """Find every resource tagged managed-by=stock-alert (no config needed), grouped by stack,
    and delete the selected stacks as 'down' would, after confirmation.

    Only resources tagged managed-by=stock-alert AND stock-alert:stack=<name>, at the names
    that stack derives, are ever deleted. One stack's failure does not stop the others; the
    exit code is 1 if any failed. Without a terminal it refuses unless --yes or --dry-run is
    given.
    """
    def body() -> None:
        from provision.cli.fleet_commands import parse_regions
        from provision.config.participants import role_arns
        from provision.features.sweep import Filters

        filters = Filters(stack_prefix, parse_age(older_than) if older_than else None,
                          parse_tags(tag or []))
        names = parse_regions(regions, region, profile)
        roles: list[str | None] = [*role_arns(assume_role or [], assume_role_file)] or [None]
        if not yes and not dry_run and not sys.stdin.isatty():
            raise InputError("'sweep' deletes stacks and needs confirmation, but there is no "
                             "terminal to ask on.", hint="Pass --yes to confirm in scripts, "
                             "or --dry-run to list what would be deleted.")
        _sweep(filters, names, roles, profile, yes, output, dry_run)
    run(debug, body, output, "sweep")


def _sweep(filters: Any, names: list[str], roles: list[str | None], profile: str | None,
           yes: bool, output: Output, dry_run: bool = False) -> None:
    from datetime import UTC, datetime

    from provision.aws.client import Aws
    from provision.aws.retry import RetryPolicy
    from provision.core.target import deadline_from_env
    from provision.features import sweep
    from provision.output import render

    endpoint = render.endpoint()
    deadline = deadline_from_env(RetryPolicy().deadline_s)  # as 'down' reads it
    now = datetime.now(UTC)
    base = Aws(names[0], profile, endpoint, RetryPolicy(deadline_s=deadline))
    homes = {role: _home(base, role) for role in roles}  # one AssumeRole per account
    iam = {role: _account_roles(homes[role], filters) for role in roles}  # IAM is global
    scans = [_scan(sweep, homes[role], role, name, filters, now, iam[role]) for role in roles
             for name in names]
    if dry_run:
        return _dry_run(sweep, scans, output)
    chosen = sorted({f"{o.group.stack} ({s.where})" for s in scans for o in s.outcomes
                     if o.group.selected})
    if output is Output.human or (chosen and not yes):
        render.console(stderr=output is Output.json or not yes).print(_found_table(scans))
    if chosen and not yes and not ask.confirm(
            f"Delete {len(chosen)} stack(s): {', '.join(chosen)}?"):
        typer.echo("Cancelled; nothing was deleted.", err=True)
        if output is Output.json:
            render.emit_json({"command": "sweep", "endpoint": render.endpoint(),
                              "cancelled": True,
                              "regions": [s.to_dict() for s in scans], "exit_code": 0})
        raise typer.Exit(0)
    for found in scans:
        sweep.delete_selected(found)
    failed = sweep.failed(scans)
    if output is Output.json:
        render.emit_json({"command": "sweep", "endpoint": render.endpoint(),
                          "regions": [s.to_dict() for s in scans],
                          "exit_code": 1 if failed else 0})
    else:
        render.console().print(_result_table(scans))
    if failed:
        raise typer.Exit(1)


def _dry_run(sweep: Any, scans: list[Any], output: Output) -> None:
    """Plan each selected stack's teardown (reads only) and show it; delete nothing."""
    from provision.output import render

    for found in scans:
        sweep.delete_selected(found, dry_run=True)
    failed = sweep.failed(scans)
    if output is Output.json:
        render.emit_json({"command": "sweep", "endpoint": render.endpoint(), "dry_run": True,
                          "regions": [s.to_dict() for s in scans],
                          "exit_code": 1 if failed else 0})
    else:
        render.console().print(_found_table(scans))
        render.console().print(_result_table(scans, "sweep --dry-run: nothing was deleted"))
    if failed:
        raise typer.Exit(1)


def _account_roles(home: Any, filters: Any) -> Any:
    """The account's tagged IAM roles, read once for all its Regions; None when the listing
    fails (each Region's own listing then reports the error)."""
    from provision.errors import StockAlertError
    from provision.kinds.tagged import tagged_roles

    if isinstance(home, StockAlertError):
        return None
    try:
        return tagged_roles(home, filters.prefix)
    except StockAlertError:
        return None


def _home(base: Any, role: str | None) -> Any:
    """The account's Aws (one botocore session for all), or why AssumeRole was refused."""
    from provision.errors import StockAlertError

    try:
        return base.assume(role) if role else base
    except StockAlertError as err:
        return err


def _scan(sweep: Any, home: Any, role: str | None, region: str, filters: Any,
          now: Any, roles: Any = None) -> Any:
    """One Region of one account; a refused AssumeRole fails that account's Regions only."""
    from provision.errors import StockAlertError

    if isinstance(home, StockAlertError):
        return sweep.Scan(region, error=home, role_arn=role)
    found = sweep.scan(home if home.region == region else home.sibling(region), filters, now,
                       roles)
    found.role_arn = role
    return found


def _found_table(scans: list[Any]) -> Any:
    from rich.table import Table

    from provision.output.render import endpoint_note

    table = Table(title=f"Tagged managed-by=stock-alert, by stack{endpoint_note()}")
    for column in ("region", "stack", "resources", "selected"):
        table.add_column(column)
    for found in scans:
        if found.error:
            table.add_row(found.where, "-", f"listing failed: {found.error}", "no")
        if not found.outcomes and not found.error:
            table.add_row(found.where, "-", "nothing tagged managed-by=stock-alert", "-")
        for outcome in found.outcomes:
            g = outcome.group
            lines = [f"{r.kind} {r.name}" + (f" (created {r.created:%Y-%m-%d})" if r.created
                                             else " (age unknown)") for r in g.resources]
            why = "yes" if g.selected else "no: " + "; ".join(g.reasons)
            table.add_row(found.where, g.stack, "\n".join(lines + [f"note: {n}"
                                                                   for n in g.notes]), why)
    return table


def _result_table(scans: list[Any], title: str = "sweep") -> Any:
    from rich.table import Table

    from provision.output.render import endpoint_note

    table = Table(title=title + endpoint_note())
    for column in ("region", "stack", "result", "detail"):
        table.add_column(column)
    for found in scans:
        if found.error:
            table.add_row(found.where, "-", "failed", str(found.error))
        for o in found.outcomes:
            table.add_row(found.where, o.group.stack, str(o.result), "\n".join(_detail(o)))
    return table


def _detail(outcome: Any) -> list[str]:
    """Exactly what happened to one stack: each deletion (or, dry run, each planned one),
    each resource left alone and why."""
    from provision.features.sweep import Result

    planned = outcome.plan.actions if outcome.plan else ()
    detail = [f"deleted {a.kind} {a.name}" for a in outcome.applied]
    if outcome.result is Result.WOULD_DELETE:
        detail += [f"would delete {a.kind} {a.name}" for a in planned if a.writes]
    detail += [f"left alone: {x}" for x in outcome.left_alone]
    if outcome.error:
        detail.append(str(outcome.error))
    if outcome.result is Result.SKIPPED:
        detail += list(outcome.group.reasons)
    return detail
