"""permissions, deployer-policy and audit: the security promises, checkable from the shell."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from provision.cli import stack_report
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


@app.command()
def permissions(config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
                output: OutputOpt = Output.human, debug: DebugOpt = False) -> None:
    """List every permission the function's role grants, its exact resource and why; then what
    is deliberately not granted. Reads the deployed role, or shows the plan before 'up'.

    Grants that stock-alert would not make (added by hand) are flagged.
    """
    def body() -> None:
        from provision.features.security import permissions as perms
        from provision.features.security import tables
        from provision.output import render

        target = resolve(config, profile, region)
        where = stack_report.announce("permissions", target, output)
        report = perms.report(target)
        if output is Output.json:
            render.emit_json({**report.to_dict(), **where})
            return
        out = render.console()
        out.print(tables.grants_table(report))
        out.print(tables.not_granted_table())
        for line in tables.permissions_notes(report):
            out.print(line, markup=False)
    run(debug, body, output, "permissions")


class PolicyFormat(StrEnum):
    json = "json"
    explain = "explain"
    markdown = "markdown"


@app.command("deployer-policy")
def deployer_policy(
        config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
        account: Annotated[str | None, typer.Option(
            "--account", help="The 12-digit account ID; with it (and a region) no AWS call is "
            "made. Default: read with sts:GetCallerIdentity.", show_default=False)] = None,
        fmt: Annotated[PolicyFormat, typer.Option(
            "--format", help="json: the IAM policy document; explain: each action, its "
            "resource, the commands that need it and why; markdown: that table as the "
            "documentation's operator permissions page shows it.",
        )] = PolicyFormat.json,
        debug: DebugOpt = False) -> None:
    """Print the least-privilege IAM policy the operator needs for up, down, status, invoke and
    logs with this config: scoped to this stack's ARNs, PassRole only to Lambda."""
    def body() -> None:
        from provision.features.security import deployer, tables
        from provision.output import render

        stack, source = deployer.operator_stack(resolve(config, profile, region), account)
        typer.echo(f"Policy for stack {stack.name} in {stack.region}: {source}.", err=True)
        if fmt is PolicyFormat.json:
            render.emit_json(deployer.policy(stack))
        elif fmt is PolicyFormat.markdown:
            typer.echo(deployer.markdown(stack), nl=False)
        else:
            render.console().print(tables.deployer_table(stack))
    run(debug, body)


@app.command()
def audit(config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
          output: OutputOpt = Output.human, debug: DebugOpt = False) -> None:
    """Compare what is deployed with the config and the security rules; print each finding
    with its fix. Exit 1 when anything is found, 0 when clean. Reads only; writes nothing.

    Finds extra or changed role policies, wildcard grants, an opened trust policy, extra
    invoke permissions, extra subscriptions, an opened topic policy, removed encryption,
    changed log retention and removed tags.
    """
    def body() -> None:
        from provision.features.security import audit as rules
        from provision.features.security import tables
        from provision.output import render
        from provision.output.progress import spinner

        target = resolve(config, profile, region)
        where = stack_report.announce("audit", target, output)
        with spinner("reading the stack from AWS"):
            the_plan, found = rules.run(target)
        if output is Output.json:
            render.emit_json({"command": "audit", "stack": the_plan.stack,
                              "region": the_plan.region, **where,
                              "clean": not found, "findings": [f.to_dict() for f in found]})
        else:
            render.console().print(tables.audit_table(the_plan.stack, found))
        if found:
            raise typer.Exit(1)
    run(debug, body, output, "audit")
