"""plan, up, down and status: the stack commands."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

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
    resolve,
    run,
)
from provision.errors import InputError


@app.command()
def plan(config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
         output: OutputOpt = Output.human, debug: DebugOpt = False) -> None:
    """Show what 'up' would change, resource by resource. Reads only; writes nothing."""
    def body() -> None:
        from provision import pipelines, render
        from provision.cost.estimate import monthly
        from provision.engine import conflict_error
        from provision.progress import spinner

        target = resolve(config, profile, region)
        with spinner("reading the stack from AWS"):
            the_plan, _ = pipelines.plan(target)
        conflict = conflict_error(the_plan)
        cost = monthly(target.config)
        if output is Output.json:
            failure = error_document(conflict) if conflict else {}
            render.emit_json({"command": "plan", **the_plan.to_dict(), "cost": cost.to_dict(),
                              **failure})
        else:
            render.console().print(render.plan_table(the_plan, "plan"))
            render.console().print(cost.summary(), markup=False)
        if conflict:
            raise Reported(conflict)  # 'up' would refuse: the plan is not one it can apply
    run(debug, body, output, "plan")


@app.command()
def up(config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
       output: OutputOpt = Output.human, debug: DebugOpt = False) -> None:
    """Create or update the stack so it matches the config exactly; safe to run again.

    Running it twice changes nothing the second time. After a crash or a dropped connection,
    run it again: it reads what exists and finishes the job. Resources with the stack's names
    but without its tags are never touched: 'up' stops before any write and names them.
    """
    def body() -> None:
        from provision import pipelines
        from provision.progress import spinner, step_printer

        target = resolve(config, profile, region)
        with spinner("reading the stack from AWS") as status:
            the_plan, done = pipelines.up(target, step_printer(status))
        _report("up", the_plan, done, output)
    run(debug, body, output, "up")


@app.command()
def down(config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
         yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
         output: OutputOpt = Output.human, debug: DebugOpt = False,
         delete_secret: Annotated[bool, typer.Option(
             "--delete-secret", help="Also delete the stored API key ('secret set'), if this "
             "stack owns it. Without it the key is kept.")] = False) -> None:
    """Delete everything this stack owns, newest first; leaves what it does not own alone.

    Needs only the config (no local state). Asks for confirmation unless --yes; without a
    terminal it refuses unless --yes is given. Running it again when nothing is left is fine.
    """
    def body() -> None:
        from provision import pipelines, render
        from provision.progress import spinner, step_printer

        if not yes and not sys.stdin.isatty():
            raise InputError("'down' deletes the whole stack and needs confirmation, but "
                             "there is no terminal to ask on.",
                             hint="Pass --yes to confirm in scripts.")
        target = resolve(config, profile, region)
        with spinner("reading the stack from AWS"):
            the_plan, _ = pipelines.plan(target, keep=False)
        if the_plan.has_writes and not yes:
            render.console(stderr=True).print(render.plan_table(the_plan, "down"))
            key = " and its API key" if delete_secret else ""
            if not typer.confirm(f"Delete stack {the_plan.stack}{key} in {the_plan.region}?",
                                 err=True):
                _cancelled(output)
        with spinner("deleting") as status:
            done = pipelines.down(target, the_plan, step_printer(status))
        _report("down", the_plan, done, output)
        from provision.cli.secret_commands import after_down

        after_down(target, delete_secret, yes, the_plan.has_writes)
    run(debug, body, output, "down")


@app.command()
def status(config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
           output: OutputOpt = Output.human, debug: DebugOpt = False) -> None:
    """Show each resource: missing, in sync, drifted or foreign; subscriptions and their state."""
    def body() -> None:
        from provision import pipelines, render
        from provision.progress import spinner

        target = resolve(config, profile, region)
        with spinner("reading the stack from AWS"):
            the_plan, rows = pipelines.status(target)
        if output is Output.json:
            render.emit_json({"command": "status", "stack": the_plan.stack,
                              "region": the_plan.region, "account": the_plan.account,
                              "resources": [r.to_dict() for r in rows]})
        else:
            render.console().print(render.status_table(the_plan, rows))
    run(debug, body, output, "status")


def _cancelled(output: Output) -> None:
    """Answering no is a choice, not an error: exit 0, no red."""
    from provision import render

    typer.echo("Cancelled; nothing was deleted.", err=True)
    if output is Output.json:
        render.emit_json({"command": "down", "cancelled": True, "applied": [],
                          "exit_code": 0})
    raise typer.Exit(0)


def _report(verb: str, the_plan: Any, done: list[Any], output: Output) -> None:
    from provision import render

    if output is Output.json:
        render.emit_json({"command": verb, **the_plan.to_dict(),
                          "applied": [a.to_dict() for a in done]})
        return
    out = render.console()
    out.print(render.plan_table(the_plan, verb))
    out.print(render.summary_line(the_plan, done, verb), markup=False)
