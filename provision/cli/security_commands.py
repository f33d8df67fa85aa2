"""permissions, deployer-policy and audit: the security promises, checkable from the shell."""

from __future__ import annotations

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
        from provision import render
        from provision.security import permissions as perms
        from provision.security import tables

        report = perms.report(resolve(config, profile, region))
        if output is Output.json:
            render.emit_json(report.to_dict())
            return
        out = render.console()
        out.print(tables.grants_table(report))
        out.print(tables.not_granted_table())
        for line in tables.permissions_notes(report):
            out.print(line, markup=False)
    run(debug, body, output, "permissions")
