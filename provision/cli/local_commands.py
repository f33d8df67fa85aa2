"""emulator and demo: local stand-ins, no AWS account needed."""

from __future__ import annotations

from typing import Annotated

import typer

from provision.cli.app import DebugOpt, app, run

QUOTES_PORT = 8765


@app.command()
def emulator(port: Annotated[int, typer.Option(
        "--port", "-p", min=0, max=65535, help="Port on 127.0.0.1 (0 picks a free one).")] = 4566,
        quotes: Annotated[bool, typer.Option(
            "--quotes", help="Also run the local quote server (Yahoo chart, Stooq CSV and Alpha "
            "Vantage GLOBAL_QUOTE answers, offline) and print the quotes.base_url to put in "
            "the config.")] = False,
        quotes_port: Annotated[int, typer.Option(
            "--quotes-port", min=0, max=65535,
            help="Port of the quote server on 127.0.0.1 (0 picks a free one).")] = QUOTES_PORT,
        price: Annotated[list[str] | None, typer.Option(
            "--price", metavar="SYMBOL=PRICE[:CHANGE%]",
            help="Fix a ticker's quote on the quote server, e.g. --price TSLA=310:+4% (price "
            "310, up 4% on the day), to try above/below and change_percent rules. "
            "Repeatable; implies --quotes.", show_default=False)] = None,
        refuse: Annotated[list[str] | None, typer.Option(
            "--refuse", metavar="SOURCE[=STATUS|quota]",
            help="Make the quote server refuse every request to one source (yahoo, stooq or "
            "alphavantage) with an HTTP status (429 by default) or its used-up daily quota, to "
            "watch the function fall back to the next source in quotes.providers. "
            "Repeatable; implies --quotes.", show_default=False)] = None,
        debug: DebugOpt = False) -> None:
    """Run a local AWS emulator (moto) on 127.0.0.1 until Ctrl-C, to try stock-alert offline.

    With --quotes, also a local quote server whose prices you can set with --price, and whose
    sources you can make refuse with --refuse.
    """
    def body() -> None:
        from provision.local.emulator import parse_prices, parse_refusals, serve

        prices = parse_prices(price or [])  # checked before anything starts
        refusals = parse_refusals(refuse or [])
        wanted = quotes_port if quotes or prices or refusals else None
        serve(port, lambda line: typer.echo(line), quotes_port=wanted, prices=prices,
              refuse=refusals)
    run(debug, body)


@app.command()
def demo(debug: DebugOpt = False) -> None:
    """The whole story offline in one command, checked step by step.

    Starts a local AWS emulator and a local quote server on 127.0.0.1, then runs up, up again
    (nothing to do), status, invoke --local, shows the SMS and e-mail SNS accepted, runs down and
    checks that nothing is left. Exit 0 only when every check passed.
    """
    def body() -> None:
        from provision.features import demo as story
        from provision.output import render

        reporter = render.DemoReporter(render.console())
        if not story.run(reporter, render.plan_table, render.status_table):
            raise typer.Exit(1)
        reporter.console.print("[bold green]Demo complete: every step checked out.[/]")
    run(debug, body)
