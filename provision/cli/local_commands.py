"""emulator and demo: local stand-ins, no AWS account needed."""

from __future__ import annotations

from typing import Annotated

import typer

from provision.cli.app import DebugOpt, app, run


@app.command()
def emulator(port: Annotated[int, typer.Option(
        "--port", "-p", min=0, max=65535, help="Port on 127.0.0.1 (0 picks a free one).")] = 4566,
        debug: DebugOpt = False) -> None:
    """Run a local AWS emulator (moto) on 127.0.0.1 until Ctrl-C, to try stock-alert offline."""
    def body() -> None:
        from provision.local.emulator import serve

        serve(port, lambda line: typer.echo(line))
    run(debug, body)


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
    run(debug, body)
