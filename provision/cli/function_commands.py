"""invoke and logs: working with the deployed function."""

from __future__ import annotations

from typing import Annotated

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


@app.command()
def invoke(config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
           local: Annotated[bool, typer.Option(
               "--local", help="Run function_code/ on this machine, in a subprocess, with the "
               "deployed function's environment, against the configured AWS endpoint.")] = False,
           output: OutputOpt = Output.human, debug: DebugOpt = False) -> None:
    """Run the deployed function once and print its result and the tail of its log."""
    def body() -> None:
        from provision import invoke as runs
        from provision import render

        target = resolve(config, profile, region)
        outcome = runs.invoke_local(target) if local else runs.invoke_remote(target)
        if output is Output.json:
            render.emit_json(outcome.to_dict())
        else:
            render.print_invoke(outcome)
        if outcome.failed:
            raise typer.Exit(1)
    run(debug, body, output, "invoke")


@app.command()
def logs(config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
         since: Annotated[str, typer.Option(
             "--since", help="How far back: a number and s, m, h or d, e.g. 30m or 2d.")] = "1h",
         follow: Annotated[bool, typer.Option(
             "--follow", "-f", help="Keep printing new events until Ctrl-C.")] = False,
         debug: DebugOpt = False) -> None:
    """Print the function's log events, oldest first (newest last)."""
    def body() -> None:
        from provision import logs as log_events
        from provision import render

        seconds = log_events.parse_since(since)
        target = resolve(config, profile, region)
        try:
            log_events.stream(target, seconds, follow, render.print_log_event)
        except KeyboardInterrupt:
            if not follow:
                raise  # Ctrl-C is how --follow ends; elsewhere it is an interruption
    run(debug, body)
