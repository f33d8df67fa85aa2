"""invoke and logs: working with the deployed function."""

from __future__ import annotations

import datetime as dt
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
    Reported,
    app,
    resolve,
    run,
)
from provision.errors import InputError, StockAlertError


@app.command()
def invoke(config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
           local: Annotated[bool, typer.Option(
               "--local", help="Run function_code/ on this machine, in a subprocess, with the "
               "deployed function's settings (environment, timeout), against the configured "
               "AWS endpoint. Says so when the config differs from what is deployed. Its log "
               "is printed here only: local runs are not in CloudWatch.")] = False,
           from_config: Annotated[bool, typer.Option(
               "--from-config", help="With --local: run with the settings the config would "
               "deploy instead of the deployed ones (try a change before 'up').")] = False,
           output: OutputOpt = Output.human, debug: DebugOpt = False) -> None:
    """Run the deployed function once and print its result, the texts it published and the
    tail of its log. Exit 1 when the function failed (e.g. no quote could be fetched)."""
    def body() -> None:
        from provision.features import invoke as runs
        from provision.output import render

        if from_config and not local:
            raise InputError("--from-config works with --local only: Lambda runs the deployed "
                             "settings.", hint="Add --local, or run 'stock-alert up' first.")
        target = resolve(config, profile, region)
        place = stack_report.announce("invoke", target, output)
        outcome = (runs.invoke_local(target, from_config) if local
                   else runs.invoke_remote(target))
        note = runs.settings_note(outcome)
        if note:
            typer.echo(f"note: {note}", err=True)
        if output is Output.json:
            render.emit_json({**outcome.to_dict(), **place})
        else:
            render.print_invoke(outcome)
        if outcome.failed:
            where = "on this machine" if local else "on Lambda"
            raise Reported(StockAlertError(
                f"The function failed {where}: {outcome.error_message}",
                hint="Its log above says more." if output is Output.human else ""))
    run(debug, body, output, "invoke")


@app.command()
def logs(config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
         since: Annotated[str, typer.Option(
             "--since", help="How far back: a number and s, m, h or d, e.g. 30m or 2d.")] = "1h",
         follow: Annotated[bool, typer.Option(
             "--follow", "-f", help="Keep printing new events until Ctrl-C.")] = False,
         debug: DebugOpt = False) -> None:
    """Print the function's log events from CloudWatch Logs, oldest first (newest last).

    Shows runs on Lambda (scheduled, or 'invoke') only: local runs are not in CloudWatch
    ('invoke --local' prints their log itself).
    """
    def body() -> None:
        from provision.features import logs as log_events
        from provision.output import render

        seconds = log_events.parse_since(since)
        target = resolve(config, profile, region)
        stack_report.announce("logs", target)
        shown: list[int] = []

        def emit(event: dict[str, object]) -> None:
            shown.append(1)
            render.print_log_event(event)
        start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds)
        try:
            log_events.stream(target, seconds, follow, emit)
        except KeyboardInterrupt:
            if not follow:
                raise  # Ctrl-C is how --follow ends; elsewhere it is an interruption
        if not shown:
            typer.echo(f"No log events in the function's log group over the last {since.strip()}"
                       f" (since {start:%Y-%m-%d %H:%M} UTC).", err=True)
    run(debug, body)
