"""The Typer app, the options every command shares, and the one error boundary."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from provision.errors import StockAlertError

# Pydantic scans every installed distribution's entry points for plugins the first time a
# model or a Typer parameter adapter is built: ~85 ms of each command's start-up, for plugins
# stock-alert never uses. A user who sets the variable keeps their value.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

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
    you: an EventBridge Scheduler schedule in the market's own time zone (or an EventBridge
    rule in UTC) runs a Lambda function, which publishes to an SNS topic; its IAM role may only
    write its own logs and publish to its own topic.

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


class Reported(Exception):
    """An error whose JSON document the command already printed (e.g. plan with conflicts):
    the boundary still says it on stderr and exits with its code, but prints no second one."""

    def __init__(self, error: StockAlertError) -> None:
        super().__init__(str(error))
        self.error = error


class ErrorKind(StrEnum):
    """The 'kind' of a failing command's JSON document."""

    INPUT = "input"
    CONFLICT = "conflict"
    AWS = "aws"
    INTERRUPTED = "interrupted"
    RUNTIME = "runtime"


def error_kind(err: StockAlertError) -> ErrorKind:
    """By the exception's class (isinstance), never by its name."""
    from provision.errors import AwsError, ConflictError, InputError

    kinds: tuple[tuple[type[StockAlertError], ErrorKind], ...] = (
        (InputError, ErrorKind.INPUT), (ConflictError, ErrorKind.CONFLICT),
        (AwsError, ErrorKind.AWS), (Interrupted, ErrorKind.INTERRUPTED))
    return next((kind for cls, kind in kinds if isinstance(err, cls)), ErrorKind.RUNTIME)


def error_document(err: StockAlertError) -> dict[str, Any]:
    """The 'error' part of a failing command's JSON document."""
    return {"error": {"kind": error_kind(err).value, "message": err.message,
                      "hint": err.hint},
            "exit_code": err.exit_code}


class Interrupted(StockAlertError):
    exit_code = 130

    def __init__(self) -> None:
        super().__init__("Interrupted.", hint="Run the same command again to finish; it "
                         "continues where it stopped.")


def run(debug: bool, body: Callable[[], None], output: Output = Output.human,
        command: str = "") -> None:
    """The one error boundary: every failure becomes a message on stderr (and, with
    --output json, one JSON document on stdout) and an exit code, never a traceback."""
    setup_logging(debug)
    try:
        if output is Output.json:
            _check_stdout()
        body()
    except Reported as done:
        _fail(done.error, debug, None, command)
    except StockAlertError as err:
        _fail(err, debug, output, command)
    except typer.Exit:
        raise
    except (KeyboardInterrupt, typer.Abort):  # click turns Ctrl-C at a prompt into Abort
        _fail(Interrupted(), debug, output, command)
    except OSError as err:
        if debug or not _is_stdout_error(err):
            _unexpected(err, debug, output, command)
        _mute_stdout()
        _fail(StockAlertError(f"The result could not be written to stdout "
                              f"({err.strerror or err}).", hint="Redirect stdout to a file or "
                              "a pipe that can be written; 'stock-alert status' shows the "
                              "stack."), debug, None, command)
    except Exception as err:  # noqa: BLE001 - the last line of defence against tracebacks
        _unexpected(err, debug, output, command)


def _is_stdout_error(err: OSError) -> bool:
    """An OSError from writing to stdout (emit_json flushes at once): no file name, an errno
    a refused stream gives, and stdout still refuses what it holds."""
    import errno
    import sys

    from provision.output.render import stdout_refuses_writes

    if err.filename is not None or err.errno not in (errno.ENOSPC, errno.EPIPE, errno.EBADF,
                                                     errno.EIO):
        return False
    if stdout_refuses_writes():
        return True
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        return True
    return False


def _unexpected(err: Exception, debug: bool, output: Output, command: str) -> None:
    if debug:
        raise err
    text = f"{type(err).__name__}: {err}"
    _fail(StockAlertError(f"Unexpected error: {text[:300]}.", hint="Run again with "
                          "--debug for the traceback, and please report it."),
          debug, output, command)


def _check_stdout() -> None:
    """--output json needs a stdout that takes writes: say so before any AWS call."""
    from provision.errors import InputError
    from provision.output.render import stdout_refuses_writes

    why = stdout_refuses_writes()
    if why:
        _mute_stdout()
        raise InputError(f"--output json writes its result to stdout, but {why}.",
                         hint="Redirect stdout to a file or a pipe that can be written.")


def _mute_stdout() -> None:
    """Stop Python from flushing a refused stdout again at exit (a traceback-like warning)."""
    import sys

    sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the process


def _fail(err: StockAlertError, debug: bool, output: Output | None, command: str) -> None:
    if debug:
        logging.getLogger("provision").exception("failed")
    error(str(err))
    if output is Output.json:
        from provision.output.render import emit_json

        try:
            emit_json({"command": command, **error_document(err)})
        except OSError as refused:
            _mute_stdout()
            error(f"The JSON error document could not be written to stdout either "
                  f"({refused.strerror or refused}).")
    raise typer.Exit(err.exit_code) from None


def error(message: str) -> None:
    from provision.output.render import console, escape

    console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", markup=True)


def setup_logging(debug: bool) -> None:
    from provision.output.progress import StderrHandler

    logger = logging.getLogger("provision")
    logger.handlers[:] = [StderrHandler()]
    logger.setLevel(logging.DEBUG if debug else logging.INFO)
    logger.propagate = False


def resolve(config: Path | None, profile: str | None, region: str | None,
            shared_gates: bool = False) -> Any:
    """Config, flags and environment checked and resolved; no AWS call yet. `shared_gates`:
    a fleet's Aws, whose stacks share one client per service (and so one rate limiter)."""
    from provision.config.model import config_path
    from provision.core.target import Options, prepare

    return prepare(Options(config_path(str(config) if config else None), profile, region,
                           shared_gates=shared_gates))
