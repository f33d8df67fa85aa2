"""secret set: store the quote provider's API key, read from a hidden prompt or stdin.

The key is never an argument or an option (shell history and `ps` would show it) and never in
the config file. It is printed nowhere, logged nowhere and put in no error message.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated, Any

import typer

from provision.cli import ask, stack_report
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
from provision.core.plan import Owner
from provision.errors import ConflictError, InputError

KEY_MAX = 4096  # bytes: an SSM standard-tier parameter's value limit (PutParameter's Value)
READ_MAX = 64 * 1024  # bytes read from stdin at most: whitespace around a key is dropped, a
# longer input is refused whole (never cut: a cut could hide the end of a key, or split a
# UTF-8 character)

secret_app = typer.Typer(name="secret", no_args_is_help=True, add_completion=False,
                         rich_markup_mode=None,
                         help="Store the quote provider's API key (SSM or Secrets Manager).")
app.add_typer(secret_app)


class Store(StrEnum):
    ssm = "ssm"
    secretsmanager = "secretsmanager"


@secret_app.command("set")
def set_(config: ConfigOpt = None, profile: ProfileOpt = None, region: RegionOpt = None,
         store: Annotated[Store | None, typer.Option(
             "--store", help="ssm: an SSM SecureString parameter (default); secretsmanager: a "
             "Secrets Manager secret. Must agree with the config when it names one.",
             show_default=False)] = None,
         stdin: Annotated[bool, typer.Option(
             "--stdin", help="Read the key from stdin (the default when stdin is not a "
             "terminal), e.g. 'stock-alert secret set --stdin < key.txt'.")] = False,
         overwrite: Annotated[bool, typer.Option(
             "--overwrite", help="Replace a key that is already stored, without asking "
             "(for scripts).")] = False,
         output: OutputOpt = Output.human, debug: DebugOpt = False) -> None:
    """Store the quote provider's API key where the function reads it: the config's
    quotes.api_key_parameter (an SSM SecureString, by default /stock-alert/NAME/api-key) or
    quotes.api_key_secret (a Secrets Manager secret, by default stock-alert/NAME/api-key).

    The key is read from a hidden prompt (typed twice) or from stdin, never from the command
    line or the config. It is encrypted with quotes.api_key_kms_key when set, else the
    AWS-managed key, and tagged as this stack's. An existing key is replaced only after you
    confirm, or with --overwrite. 'stock-alert down --delete-secret' deletes it.
    """
    def body() -> None:
        from provision.kinds import secret

        target = resolve(config, profile, region)
        where = secret.locate(target.config, store.value if store else None)
        piped = stdin or not sys.stdin.isatty()
        value = _from_stdin() if piped else None  # read and checked before any AWS call
        where_to = stack_report.announce("secret set", target, output)
        found = secret.read(target.aws, where)
        whose = secret.owner(found.tags, target.config.name) if found is not None else None
        foreign = whose is not None and whose.owner is Owner.UNTAGGED
        if found is not None and not overwrite:
            _confirm_replace(where.label, piped, foreign)
        if value is None:
            value = _checked(ask.prompt("API key (hidden)", hidden=True,
                                        repeat=True), "the prompt")
        from provision.core.stack import Stack

        tags = Stack(target.config, "", target.aws.region).tags
        outcome = secret.store(target.aws, where, value, tags, target.config.name, found)
        _report(outcome, output, where_to)
        if foreign:
            typer.echo(f"note: {where.label} is not tagged as stack {target.config.name!r}'s "
                       "(it was made outside stock-alert): its value was replaced and its "
                       "tags were left as they were.", err=True)
    run(debug, body, output, "secret set")


def _from_stdin() -> str:
    raw = sys.stdin.buffer.read(READ_MAX + 1)
    if len(raw) > READ_MAX:
        raise InputError(f"The API key read from stdin is longer than {KEY_MAX} bytes (stdin "
                         f"holds more than {READ_MAX // 1024} KiB).",
                         hint="Check that you piped the key and not another file.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("The API key read from stdin is not UTF-8 text.",
                         hint="Pipe the key as plain text, e.g. "
                         "'stock-alert secret set < key.txt'.") from None
    return _checked(text, "stdin")


def _checked(text: str, source: str) -> str:
    value = text.strip()
    if not value:
        raise InputError(f"The API key read from {source} is empty.",
                         hint="Pipe the key in, e.g. 'stock-alert secret set < key.txt', or "
                         "run 'stock-alert secret set' on a terminal and type it at the prompt.")
    if len(value.encode("utf-8")) > KEY_MAX:
        raise InputError(f"The API key read from {source} is longer than {KEY_MAX} bytes.",
                         hint="Check that you piped the key and not another file.")
    if not value.isprintable() or any(c.isspace() for c in value):
        raise InputError(f"The API key read from {source} holds spaces, line breaks or "
                         "control characters, which no provider's key has.",
                         hint="Pipe only the key, on one line.")
    return value


def _confirm_replace(label: str, piped: bool, foreign: bool) -> None:
    whose = " that is not tagged as this stack's" if foreign else ""
    if piped:  # stdin holds the key: there is no terminal to ask on
        raise ConflictError(f"{label} already holds a key{whose}; nothing was changed.",
                            hint="Pass --overwrite to replace it.")
    if not ask.confirm(f"{label} already holds a key{whose}. Replace it?"):
        typer.echo("Cancelled; the stored key was not changed.", err=True)
        raise typer.Exit(0)


def _report(outcome: Any, output: Output, where_to: dict[str, Any]) -> None:
    from provision.output import render

    where = outcome.where
    if output is Output.json:
        render.emit_json({"command": "secret set", **outcome.to_dict(), **where_to})
    else:
        key = where.kms_key or ("the AWS-managed key alias/aws/ssm" if where.store == "ssm"
                                else "the AWS-managed key aws/secretsmanager")
        version = f", version {outcome.version}" if outcome.version else ""
        typer.echo(f"Stored the API key in {where.label} ({outcome.action}{version}), "
                   f"encrypted with {key}.")
    if not where.configured:
        source = "api_key_parameter" if where.store == "ssm" else "api_key_secret"
        typer.echo(f"note: the config does not read it yet; add 'quotes: {{{source}: "
                   f"{where.name}}}' (and alphavantage, the source that needs it, to "
                   "quotes.providers), then run 'up'.", err=True)


def after_down(target: Any, delete_secret: bool, yes: bool, asked: bool) -> None:
    """What 'down' does with the stored API key: keep it (and say so) or, with
    --delete-secret, delete it when this stack owns it."""
    from provision.kinds import secret

    where = secret.locate(target.config)
    if not delete_secret:
        from provision.kinds.key_state import key_state

        state = key_state(target.aws, target.config)  # None: the function reads no key
        if state is not None and state.stored:  # only a key that exists can be kept
            typer.echo(f"note: the API key in {where.label} was kept; "
                       "'stock-alert down --delete-secret' deletes it.", err=True)
        return
    if not (yes or asked) and not ask.confirm(f"Delete the API key in {where.label}?"):
        typer.echo("Kept the API key.", err=True)
        return
    from provision.core import pipelines

    configured = target.config.quotes.api_key_parameter or target.config.quotes.api_key_secret
    # with no source configured, 'secret set' may have used either store's default name
    places = [where] if configured else [where, secret.locate(target.config, "secretsmanager")]
    outcomes = [pipelines.delete_secret(target, place) for place in places]
    for outcome in outcomes:
        label = outcome.where.label
        if outcome.action == "deleted":
            typer.echo(f"Deleted the API key in {label}.", err=True)
        elif outcome.action == "kept":
            typer.echo(f"Left {label} alone: it is not tagged as this stack's.", err=True)
    if all(o.action == "absent" for o in outcomes):
        names = " or ".join(o.where.label for o in outcomes)
        typer.echo(f"No API key to delete: {names} does not exist.", err=True)
