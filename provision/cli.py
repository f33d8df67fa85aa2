"""The stock-alert command: the only place that prints, prompts and chooses exit codes.

Exit codes: 0 success (also when there is nothing to do), 1 AWS or runtime failure,
2 invalid input (config, flags, environment). --debug shows tracebacks.
"""

from __future__ import annotations

import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from provision.errors import InputError, StockAlertError

app = typer.Typer(
    name="stock-alert",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from provision import __version__

        typer.echo(f"stock-alert {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print the version and exit.")] = False) -> None:
    """Provision a small AWS stack that checks stock prices on a schedule and texts or e-mails
    you: an EventBridge rule runs a Lambda function, which publishes to an SNS topic; its IAM
    role may only write its own logs and publish to its own topic.

    Typical use: 'stock-alert plan' to preview, 'stock-alert up' to create or update,
    'stock-alert status' to check, 'stock-alert down --yes' to remove everything.

    No AWS account? 'stock-alert emulator' runs a local one; 'stock-alert demo' shows the
    whole story offline.
    """


class Output(StrEnum):
    human = "human"
    json = "json"


ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", "-c", help="Config file. Default: $STOCK_ALERT_CONFIG, else ./config.yaml.",
    show_default=False)]
ProfileOpt = Annotated[str | None, typer.Option(
    "--profile", help="AWS profile to use (default: $AWS_PROFILE or the default profile).",
    show_default=False)]
RegionOpt = Annotated[str | None, typer.Option(
    "--region", help="AWS region; overrides the config's 'region', $AWS_REGION and the profile.",
    show_default=False)]
OutputOpt = Annotated[Output, typer.Option(
    "--output", "-o", help="human: tables; json: one JSON document on stdout for scripts.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Log every step and show tracebacks.")]


def _run(debug: bool, body: Any) -> None:
    """The one error boundary: StockAlertError -> message and exit code, never a traceback."""
    _setup_logging(debug)
    try:
        body()
    except StockAlertError as err:
        if debug:
            logging.getLogger("provision").exception("failed")
        _error(str(err))
        raise typer.Exit(err.exit_code) from None
    except (typer.Exit, typer.Abort):
        raise
    except KeyboardInterrupt:
        _error("Interrupted. Run the same command again to finish; it continues where it "
               "stopped.")
        raise typer.Exit(130) from None
    except Exception as err:  # noqa: BLE001 - the last line of defence against tracebacks
        if debug:
            raise
        _error(f"Unexpected error: {type(err).__name__}: {err}. Run again with --debug for "
               "the traceback, and please report it.")
        raise typer.Exit(1) from None


def _error(message: str) -> None:
    from provision.render import console, escape

    console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", markup=True)


def _setup_logging(debug: bool) -> None:
    from provision.progress import StderrHandler

    logger = logging.getLogger("provision")
    logger.handlers[:] = [StderrHandler()]
    logger.setLevel(logging.DEBUG if debug else logging.INFO)
    logger.propagate = False


def _target(config: Path | None, profile: str | None, region: str | None) -> Any:
    """Config, flags and environment checked and resolved; no AWS call yet."""
    from provision.config.model import config_path
    from provision.target import Options, prepare

    return prepare(Options(config_path(str(config) if config else None), profile, region))


@app.command()
def plan(config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
         output: OutputOpt = Output.human, debug: DebugOpt = False) -> None:
    """Show what 'up' would change, resource by resource. Reads only; writes nothing."""
    def body() -> None:
        from provision import pipelines, render
        from provision.progress import spinner

        target = _target(config, profile, region)
        with spinner("reading the stack from AWS"):
            the_plan, _ = pipelines.plan(target)
        if output is Output.json:
            render.emit_json({"command": "plan", **the_plan.to_dict()})
        else:
            render.console().print(render.plan_table(the_plan, "plan"))
    _run(debug, body)


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

        target = _target(config, profile, region)
        with spinner("reading the stack from AWS") as status:
            the_plan, done = pipelines.up(target, step_printer(status))
        _report("up", the_plan, done, output)
    _run(debug, body)


@app.command()
def down(config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
         yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
         output: OutputOpt = Output.human, debug: DebugOpt = False) -> None:
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
        target = _target(config, profile, region)
        with spinner("reading the stack from AWS"):
            the_plan, _ = pipelines.plan(target, keep=False)
        if the_plan.has_writes and not yes:
            render.console(stderr=True).print(render.plan_table(the_plan, "down"))
            if not typer.confirm(f"Delete stack {the_plan.stack} in {the_plan.region}?",
                                 err=True):
                raise InputError("Cancelled; nothing was deleted.")
        with spinner("deleting") as status:
            done = pipelines.down(target, the_plan, step_printer(status))
        _report("down", the_plan, done, output)
    _run(debug, body)


@app.command()
def status(config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
           output: OutputOpt = Output.human, debug: DebugOpt = False) -> None:
    """Show each resource: missing, in sync, drifted or foreign; subscriptions and their state."""
    def body() -> None:
        from provision import pipelines, render
        from provision.progress import spinner

        target = _target(config, profile, region)
        with spinner("reading the stack from AWS"):
            the_plan, rows = pipelines.status(target)
        if output is Output.json:
            render.emit_json({"command": "status", "stack": the_plan.stack,
                              "region": the_plan.region, "account": the_plan.account,
                              "resources": [r.to_dict() for r in rows]})
        else:
            render.console().print(render.status_table(the_plan, rows))
    _run(debug, body)


@app.command()
def emulator(port: Annotated[int, typer.Option(
        "--port", "-p", min=0, max=65535, help="Port on 127.0.0.1 (0 picks a free one).")] = 4566,
        debug: DebugOpt = False) -> None:
    """Run a local AWS emulator (moto) on 127.0.0.1 until Ctrl-C, to try stock-alert offline."""
    def body() -> None:
        from provision.local.emulator import serve

        serve(port, lambda line: typer.echo(line))
    _run(debug, body)


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

        target = _target(config, profile, region)
        run = runs.invoke_local(target) if local else runs.invoke_remote(target)
        if output is Output.json:
            render.emit_json(run.to_dict())
        else:
            render.print_invoke(run)
        if run.failed:
            raise typer.Exit(1)
    _run(debug, body)


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
        target = _target(config, profile, region)
        try:
            log_events.stream(target, seconds, follow, render.print_log_event)
        except KeyboardInterrupt:
            if not follow:
                raise  # Ctrl-C is how --follow ends; elsewhere it is an interruption
    _run(debug, body)


@app.command()
def demo(debug: DebugOpt = False) -> None:
    """The whole story offline in one command, checked step by step.

    Starts a local AWS emulator and a local quote server on 127.0.0.1, then runs up, up again
    (nothing to do), status, invoke --local, shows the SMS and e-mail SNS accepted, runs down and
    checks that nothing is left. Exit 0 only when every check passed.
    """
    def body() -> None:
        from provision import demo as story
        from provision import render

        reporter = render.DemoReporter(render.console())
        if not story.run(reporter, render.plan_table, render.status_table):
            raise typer.Exit(1)
        reporter.console.print("[bold green]Demo complete: every step checked out.[/]")
    _run(debug, body)


def _report(verb: str, the_plan: Any, done: list[Any], output: Output) -> None:
    from provision import render

    if output is Output.json:
        render.emit_json({"command": verb, **the_plan.to_dict(),
                          "applied": [a.to_dict() for a in done]})
        return
    out = render.console()
    out.print(render.plan_table(the_plan, verb))
    out.print(render.summary_line(the_plan, done, verb), markup=False)


def main() -> None:
    app()
