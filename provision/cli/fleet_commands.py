"""sweep and export: commands that work across stacks, or on a stack without deploying it."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from provision.cli.app import (
    ConfigOpt,
    DebugOpt,
    Output,
    OutputOpt,
    ProfileOpt,
    RegionOpt,
    app,
    resolve,
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


def parse_regions(regions: str | None, region: str | None, profile: str | None) -> list[str]:
    """--regions a,b, else --region, else AWS_REGION / AWS_DEFAULT_REGION, else the profile's."""
    from provision.config.regions import check_region

    if regions and region:
        raise InputError("--regions and --region were both given.",
                         hint="Use --regions a,b for several Regions, or --region for one.")
    names = [r.strip() for r in (regions or region or "").split(",") if r.strip()]
    if regions is not None and not names:
        raise InputError(f"--regions {regions!r} names no Region.",
                         hint="Name Regions like --regions us-east-1,eu-west-1, or leave "
                         "--regions out to use AWS_REGION.")
    if not names:
        env = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        names = [env] if env else [_profile_region(profile)]
    try:
        return list(dict.fromkeys(check_region(n) for n in names))
    except ValueError as exc:
        raise InputError(f"--regions: {exc}.", hint="Name Regions like us-east-1,eu-west-1.",
                         ) from None


def _profile_region(profile: str | None) -> str:
    import botocore.session
    from botocore.exceptions import ProfileNotFound

    try:
        found = botocore.session.Session(profile=profile).get_config_variable("region")
    except ProfileNotFound:
        raise InputError(f"AWS profile {profile or os.environ.get('AWS_PROFILE')!r} is not in "
                         "your AWS config files.", hint="Check --profile / AWS_PROFILE.") from None
    if not found:
        raise InputError("No AWS region given.", hint="Pass --regions a,b or --region, or set "
                         "AWS_REGION.")
    return str(found)


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
    exit code is 1 if any failed. Without a terminal it refuses unless --yes is given.
    """
    def body() -> None:
        from provision.config.participants import role_arns
        from provision.sweep import Filters

        filters = Filters(stack_prefix, parse_age(older_than) if older_than else None,
                          parse_tags(tag or []))
        names = parse_regions(regions, region, profile)
        roles: list[str | None] = [*role_arns(assume_role or [], assume_role_file)] or [None]
        if not yes and not sys.stdin.isatty():
            raise InputError("'sweep' deletes stacks and needs confirmation, but there is no "
                             "terminal to ask on.", hint="Pass --yes to confirm in scripts.")
        _sweep(filters, names, roles, profile, yes, output)
    run(debug, body, output, "sweep")


def _sweep(filters: Any, names: list[str], roles: list[str | None], profile: str | None,
           yes: bool, output: Output) -> None:
    from datetime import UTC, datetime

    from provision import render, sweep
    from provision.aws import Aws
    from provision.retry import RetryPolicy
    from provision.target import deadline_from_env

    endpoint = os.environ.get("AWS_ENDPOINT_URL") or None
    deadline = deadline_from_env(RetryPolicy().deadline_s)  # as 'down' reads it
    now = datetime.now(UTC)
    base = Aws(names[0], profile, endpoint, RetryPolicy(deadline_s=deadline))
    homes = {role: _home(base, role) for role in roles}  # one AssumeRole per account
    scans = [_scan(sweep, homes[role], role, name, filters, now) for role in roles
             for name in names]
    chosen = sorted({f"{o.group.stack} ({s.where})" for s in scans for o in s.outcomes
                     if o.group.selected})
    if output is Output.human or (chosen and not yes):
        render.console(stderr=output is Output.json or not yes).print(_found_table(scans))
    if chosen and not yes and not typer.confirm(
            f"Delete {len(chosen)} stack(s): {', '.join(chosen)}?", err=True):
        typer.echo("Cancelled; nothing was deleted.", err=True)
        if output is Output.json:
            render.emit_json({"command": "sweep", "cancelled": True,
                              "regions": [s.to_dict() for s in scans], "exit_code": 0})
        raise typer.Exit(0)
    for found in scans:
        sweep.delete_selected(found)
    failed = sweep.failed(scans)
    if output is Output.json:
        render.emit_json({"command": "sweep", "regions": [s.to_dict() for s in scans],
                          "exit_code": 1 if failed else 0})
    else:
        render.console().print(_result_table(scans))
    if failed:
        raise typer.Exit(1)


def _home(base: Any, role: str | None) -> Any:
    """The account's Aws (one botocore session for all), or why AssumeRole was refused."""
    from provision.errors import StockAlertError

    try:
        return base.assume(role) if role else base
    except StockAlertError as err:
        return err


def _scan(sweep: Any, home: Any, role: str | None, region: str, filters: Any,
          now: Any) -> Any:
    """One Region of one account; a refused AssumeRole fails that account's Regions only."""
    from provision.errors import StockAlertError

    if isinstance(home, StockAlertError):
        return sweep.Scan(region, error=home, role_arn=role)
    found = sweep.scan(home if home.region == region else home.sibling(region), filters, now)
    found.role_arn = role
    return found


def _found_table(scans: list[Any]) -> Any:
    from rich.table import Table

    table = Table(title="Tagged managed-by=stock-alert, by stack")
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


def _result_table(scans: list[Any]) -> Any:
    from rich.table import Table

    table = Table(title="sweep")
    for column in ("region", "stack", "result", "detail"):
        table.add_column(column)
    for found in scans:
        if found.error:
            table.add_row(found.where, "-", "failed", str(found.error))
        for o in found.outcomes:
            detail = [f"deleted {a.kind} {a.name}" for a in o.applied] + [
                f"left alone: {x}" for x in o.left_alone]
            if o.error:
                detail.append(str(o.error))
            if o.result == "skipped":
                detail += list(o.group.reasons)
            table.add_row(found.where, o.group.stack, o.result,
                          "\n".join(detail) or "nothing left to delete")
    return table


@app.command()
def export(
    fmt: Annotated[str, typer.Option(
        "--format", help="Template format: cloudformation (YAML).")] = "cloudformation",
    package_bucket: Annotated[str | None, typer.Option(
        "--package-bucket", help="Upload the function's zip to this S3 bucket and make it the "
        "template's CodeBucket/CodeKey defaults.", show_default=False)] = None,
    template_format: Annotated[str, typer.Option(
        "--template-format", help="yaml (default, readable, comments) or json.")] = "yaml",
    config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Print this stack as a CloudFormation template built from the same wanted values 'up'
    uses (role and inline policies, log group, encrypted topic and subscriptions, function,
    schedule and invoke permission, tags). Reads no AWS unless --package-bucket is given."""
    def body() -> None:
        from provision.export import cloudformation

        if fmt != "cloudformation":
            raise InputError(f"--format {fmt!r} is not supported.",
                             hint="Use --format cloudformation.")
        if template_format not in ("yaml", "json"):
            raise InputError(f"--template-format {template_format!r} is not supported.",
                             hint="Use --template-format yaml or json.")
        location, sha = None, None
        if package_bucket:
            target = resolve(config, profile, region)
            location, sha = cloudformation.upload_code(target.aws, package_bucket,
                                                       target.config)
            loaded = target.config
        else:  # no AWS call, so no Region needed
            from provision.config.model import config_path, load_config

            loaded = load_config(config_path(str(config) if config else None))
        template = cloudformation.template(loaded, location, sha)
        typer.echo(cloudformation.dump(template, template_format), nl=False)
    run(debug, body)
