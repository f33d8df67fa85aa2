"""What the stack commands tell the user besides their tables: the report of a run, the
question before a first 'up', a cancelled run, the warning about a stack that notifies no one,
and where a command without a plan table works (announce)."""

from __future__ import annotations

from typing import Any

import typer

from provision.cli import ask
from provision.cli.app import Output


def report(verb: str, the_plan: Any, done: list[Any], output: Output,
           extra: dict[str, Any] | None = None) -> None:
    from provision.output import render

    if output is Output.json:
        render.emit_json({"command": verb, **the_plan.to_dict(), "endpoint": render.endpoint(),
                          "applied": [a.to_dict() for a in done], **(extra or {})})
        return
    out = render.console()
    out.print(render.plan_table(the_plan, verb))
    out.print(render.summary_line(the_plan, done, verb), markup=False)


def cancelled(output: Output, verb: str = "down") -> None:
    """Answering no is a choice, not an error: exit 0, no red."""
    from provision.output import render

    typer.echo(f"Cancelled; nothing was {'created' if verb == 'up' else 'deleted'}.", err=True)
    if output is Output.json:
        render.emit_json({"command": verb, "cancelled": True, "applied": [],
                          "exit_code": 0})
    raise typer.Exit(0)


def confirm_first_up(the_plan: Any, output: Output) -> None:
    """A stack this account has never seen: show where, what, and ask (a new shell that lost
    AWS_ENDPOINT_URL would otherwise deploy to the real account of ~/.aws)."""
    from provision.output import render

    render.console(stderr=True).print(render.plan_table(the_plan, "up would create"))
    if not ask.confirm(f"Nothing of stack {the_plan.stack} exists in {render.place(the_plan)}"
                       f"; create it in {the_plan.region}?"):
        cancelled(output, "up")


def confirm_first_fleet_up(runner: Any, jobs: list[Any], target: Any, parallel: int,
                           output: Output) -> None:
    """confirm_first_up for a fleet: read every stack's plan; when an account holds nothing of
    the fleet's stacks, show what would be created there and ask once."""
    from provision.core.pipelines import never_seen
    from provision.output import render
    from provision.output.progress import spinner

    with spinner(f"reading {len(jobs)} stack(s) from AWS"):
        found = runner.run("plan", jobs, target.aws, target.code, parallel)
    seen = {r.account for r in found if r.ok and r.plan is not None and not never_seen(r.plan)}
    new = [r for r in found if r.ok and r.account not in seen]
    if not new:
        return
    render.console(stderr=True).print(render.fleet_table("up would create", new))
    accounts = sorted({r.account for r in new})
    regions = sorted({r.job.place.region for r in new})
    if not ask.confirm(f"Nothing of these stacks exists in account {', '.join(accounts)} "
                       f"({', '.join(regions)}){render.endpoint_note()}; create "
                       f"{len(new)} stack(s) there?"):
        cancelled(output, "up")


def warn_no_subscribers(config: Any) -> None:
    warning = config.notify.no_subscribers()
    if warning:
        typer.echo(f"warning: {warning}.", err=True)


def announce(verb: str, target: Any, output: Output = Output.human) -> dict[str, Any]:
    """Say on stderr where a command without a plan table works (the account, and the endpoint
    when it is not AWS's own: issue 21's guard of the real account); return the same for its
    JSON document, which says it instead of stderr."""
    from provision.output import render

    account = target.aws.account()[0]
    if output is Output.human:
        typer.echo(f"{verb}: "
                   f"{render.stack_place(target.config.name, target.aws.region, account)}",
                   err=True)
    return render.where_fields(account)
