"""plan, up, down and status: the stack commands."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from provision.cli import ask, stack_report
from provision.cli.app import (
    ConfigOpt,
    DebugOpt,
    Output,
    OutputOpt,
    ProfileOpt,
    RegionOpt,
    Reported,
    app,
    error_document,
    run,
)
from provision.cli.stack_fleet import Fleet, StackContext, run_fleet
from provision.core.plan import Mode
from provision.errors import InputError

_FLEET = "Many stacks"
CountOpt = Annotated[int | None, typer.Option(
    "--count", help="Run on N stacks <name>-1 ... <name>-N, each with the config's subscribers.",
    show_default=False, rich_help_panel=_FLEET)]
ParticipantsOpt = Annotated[Path | None, typer.Option(
    "--participants", metavar="FILE", help="CSV (header id,email,phone) or YAML list of "
    "{id, email, phone}: one stack <name>-<id> per participant, whose own e-mail and phone "
    "are its only subscribers.", show_default=False, rich_help_panel=_FLEET)]
ParallelOpt = Annotated[int, typer.Option(
    "--parallel", help="Stacks worked on at once (1-64); AWS throttling is met by slowing "
    "down, not by failing.", rich_help_panel=_FLEET)]
RegionsOpt = Annotated[str | None, typer.Option(
    "--regions", help="Comma-separated Regions: run in each, results per Region. With more "
    "than one, each Region's stacks are named <name>-<region> (IAM role names are global).",
    show_default=False, rich_help_panel=_FLEET)]
AssumeOpt = Annotated[list[str] | None, typer.Option(
    "--assume-role", metavar="ARN", help="Run in the account of this IAM role, through STS "
    "AssumeRole; repeatable, results per account.", show_default=False, rich_help_panel=_FLEET)]
AdoptOpt = Annotated[bool, typer.Option(
    "--adopt", help="Let the fleet take over stacks of its names that no fleet made (e.g. "
    "deployed on their own); without it, such a stack is refused, never changed.",
    rich_help_panel=_FLEET)]
AssumeFileOpt = Annotated[Path | None, typer.Option(
    "--assume-role-file", metavar="FILE", help="A file of role ARNs, one a line ('#' starts "
    "a comment).",
    show_default=False, rich_help_panel=_FLEET)]


def _context(config: Path | None, profile: str | None, region: str | None, output: Output,
             debug: bool, count: int | None, participants: Path | None, parallel: int,
             regions: str | None, assume_role: list[str] | None, assume_role_file: Path | None,
             adopt: bool = False) -> StackContext:
    """The one options object of a stack command, from its flags."""
    return StackContext(config, profile, region, output, debug, Fleet(
        count, participants, parallel, regions, tuple(assume_role or ()), assume_role_file,
        adopt))


@app.command()
def plan(config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
         output: OutputOpt = Output.human, debug: DebugOpt = False,
         count: CountOpt = None, participants: ParticipantsOpt = None, parallel: ParallelOpt = 8,
         regions: RegionsOpt = None, assume_role: AssumeOpt = None,
         assume_role_file: AssumeFileOpt = None, adopt: AdoptOpt = False) -> None:
    """Show what 'up' would change, resource by resource. Reads only; writes nothing."""
    context = _context(config, profile, region, output, debug, count, participants, parallel,
                       regions, assume_role, assume_role_file, adopt)

    def body() -> None:
        if context.fleet.wanted:
            return run_fleet("plan", context)
        from provision.core import pipelines
        from provision.core.engine import conflict_error
        from provision.features.cost.estimate import monthly
        from provision.output import render
        from provision.output.progress import spinner

        target = context.target()
        with spinner("reading the stack from AWS"):
            the_plan, _ = pipelines.plan(target)
        stack_report.warn_no_subscribers(target.config)
        conflict = conflict_error(the_plan)
        cost = monthly(target.config)
        if context.output is Output.json:
            failure = error_document(conflict) if conflict else {}
            render.emit_json({"command": "plan", **the_plan.to_dict(),
                              "endpoint": render.endpoint(), "cost": cost.to_dict(), **failure})
        else:
            render.console().print(render.plan_table(the_plan, "plan"))
            render.console().print(cost.summary(), markup=False)
        if conflict:
            raise Reported(conflict)  # 'up' would refuse: the plan is not one it can apply
    run(context.debug, body, context.output, "plan")


@app.command()
def up(config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
       yes: Annotated[bool, typer.Option(
           "--yes", "-y", help="Create a stack the account has never seen without asking "
           "(on a terminal 'up' asks first; without one it does not ask).")] = False,
       output: OutputOpt = Output.human, debug: DebugOpt = False,
       count: CountOpt = None, participants: ParticipantsOpt = None, parallel: ParallelOpt = 8,
       regions: RegionsOpt = None, assume_role: AssumeOpt = None,
       assume_role_file: AssumeFileOpt = None, adopt: AdoptOpt = False) -> None:
    """Create or update the stack so it matches the config exactly; safe to run again.

    Running it twice changes nothing the second time. After a crash or a dropped connection,
    run it again: it reads what exists and finishes the job. Resources with the stack's names
    but without its tags are never touched: 'up' stops before any write and names them.

    With --count or --participants (and --regions, --assume-role) it works on many stacks at
    once; one stack's failure does not stop the others, and running it again finishes what
    is left.
    """
    context = _context(config, profile, region, output, debug, count, participants, parallel,
                       regions, assume_role, assume_role_file, adopt)

    def body() -> None:
        if context.fleet.wanted:
            return run_fleet("up", context, yes or not sys.stdin.isatty())
        from provision.core import pipelines
        from provision.output.progress import spinner, step_printer

        target = context.target()
        with spinner("reading the stack from AWS"):
            the_plan, _ = pipelines.plan(target)
        stack_report.warn_no_subscribers(target.config)
        if not yes and sys.stdin.isatty() and pipelines.never_seen(the_plan):
            stack_report.confirm_first_up(the_plan, context.output)
        with spinner("applying") as status:
            done = pipelines.apply(target, the_plan, step_printer(status))
            key = pipelines.key_state(target)
        stack_report.report("up", the_plan, done, context.output,
                            {"api_key": key.to_dict()} if key else {})
        if key and key.warning:
            typer.echo(f"warning: {key.warning}.", err=True)
    run(context.debug, body, context.output, "up")


@app.command()
def down(config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
         yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
         output: OutputOpt = Output.human, debug: DebugOpt = False,
         count: CountOpt = None, participants: ParticipantsOpt = None, parallel: ParallelOpt = 8,
         regions: RegionsOpt = None, assume_role: AssumeOpt = None,
         assume_role_file: AssumeFileOpt = None,
         delete_secret: Annotated[bool, typer.Option(
             "--delete-secret", help="Also delete the stored API key ('secret set'), if this "
             "stack owns it. Without it the key is kept.")] = False) -> None:
    """Delete everything this stack owns, newest first; leaves what it does not own alone.

    Needs only the config (no local state). Asks for confirmation unless --yes; without a
    terminal it refuses unless --yes is given. Running it again when nothing is left is fine.
    """
    context = _context(config, profile, region, output, debug, count, participants, parallel,
                       regions, assume_role, assume_role_file)

    def body() -> None:
        from provision.core import pipelines
        from provision.output import render
        from provision.output.progress import spinner, step_printer

        if not yes and not sys.stdin.isatty():
            raise InputError("'down' deletes the whole stack and needs confirmation, but "
                             "there is no terminal to ask on.",
                             hint="Pass --yes to confirm in scripts.")
        if context.fleet.wanted and delete_secret:
            raise InputError("--delete-secret works on one stack at a time; it cannot be "
                             "combined with --count, --participants, --regions or "
                             "--assume-role.",
                             hint="Run 'down' for the stacks, then 'down --delete-secret' with "
                             "the config of the stack whose stored key should go.")
        if context.fleet.wanted:
            return run_fleet("down", context, yes)
        target = context.target()
        with spinner("reading the stack from AWS"):
            the_plan, _ = pipelines.plan(target, mode=Mode.DOWN)
        if the_plan.has_writes and not yes:
            render.console(stderr=True).print(render.plan_table(the_plan, "down"))
            key = " and its API key" if delete_secret else ""
            if not ask.confirm(f"Delete stack {the_plan.stack}{key} in {the_plan.region}?"):
                stack_report.cancelled(context.output)
        with spinner("deleting") as status:
            done = pipelines.down(target, the_plan, step_printer(status))
        stack_report.report("down", the_plan, done, context.output)
        from provision.cli.secret_commands import after_down

        after_down(target, delete_secret, yes, the_plan.has_writes)
    run(context.debug, body, context.output, "down")


@app.command()
def status(config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
           output: OutputOpt = Output.human, debug: DebugOpt = False,
           count: CountOpt = None, participants: ParticipantsOpt = None,
           parallel: ParallelOpt = 8, regions: RegionsOpt = None,
           assume_role: AssumeOpt = None, assume_role_file: AssumeFileOpt = None,
           exit_code: Annotated[bool, typer.Option(
               "--exit-code", help="Exit 3 when anything is missing, drifted, changed in "
               "config, foreign or failed, 0 when everything is in sync (as terraform plan "
               "-detailed-exitcode), for scripts and monitoring.")] = False) -> None:
    """Show each resource: missing, in sync, drifted or foreign; subscriptions and their state."""
    context = _context(config, profile, region, output, debug, count, participants, parallel,
                       regions, assume_role, assume_role_file)

    def body() -> None:
        if context.fleet.wanted:
            return run_fleet("status", context)
        from provision.core import pipelines
        from provision.output import render
        from provision.output.progress import spinner

        target = context.target()
        with spinner("reading the stack from AWS"):
            the_plan, rows = pipelines.status(target)
        if context.output is Output.json:
            render.emit_json({"command": "status", "stack": the_plan.stack,
                              "region": the_plan.region, "account": the_plan.account,
                              "endpoint": render.endpoint(),
                              "resources": [r.to_dict() for r in rows]})
        else:
            render.console().print(render.status_table(the_plan, rows))
        if exit_code and any(r.state not in IN_ORDER for r in rows):
            raise typer.Exit(3)
    run(context.debug, body, context.output, "status")


IN_ORDER = ("in sync", "not used")  # status --exit-code: any other state is exit 3
