"""init, config schema/check, cost and completion: the first five minutes, all offline."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from provision.cli import ask
from provision.cli.app import ConfigOpt, DebugOpt, Output, OutputOpt, app, run
from provision.errors import InputError

if TYPE_CHECKING:
    from provision.config.template import Answers

COMPLETE_VAR = "_STOCK_ALERT_COMPLETE"
if os.environ.get(COMPLETE_VAR):  # the shell is asking for completions: only then load Typer's
    from typer._completion_classes import completion_init

    completion_init()

config_app = typer.Typer(name="config", no_args_is_help=True, add_completion=False,
                         rich_markup_mode=None,
                         help="Check config.yaml, or print the JSON Schema editors use for it.")
app.add_typer(config_app)

_LIST = "; repeat the flag, or separate values with commas"
StockOpt = Annotated[list[str] | None, typer.Option(
    help=f"A ticker to watch{_LIST}. Required when there is no terminal to ask on.",
    show_default=False)]
EmailOpt = Annotated[list[str] | None, typer.Option(
    help=f"An e-mail address to notify{_LIST}.", show_default=False)]
SmsOpt = Annotated[list[str] | None, typer.Option(
    help=f"A phone number to text, E.164 like +15555550100{_LIST}.", show_default=False)]


@app.command()
def init(path: Annotated[Path | None, typer.Argument(
            help="Where to write the config. Default: ./config.yaml.", show_default=False)] = None,
         stock: StockOpt = None, email: EmailOpt = None, sms: SmsOpt = None,
         schedule: Annotated[str | None, typer.Option(
             help="'HH:MM ZONE [DAYS]' in the market's local time (default '16:30 "
             "America/New_York MON-FRI'), or cron(...) in UTC or rate(...).",
             show_default=False)] = None,
         name: Annotated[str | None, typer.Option(
             help="Stack name, the prefix of every AWS name. Default: stock-alert.",
             show_default=False)] = None,
         mode: Annotated[str | None, typer.Option(help="summary or threshold.",
                                                  show_default=False)] = None,
         force: Annotated[bool, typer.Option("--force", help="Replace existing files.")] = False,
         no_input: Annotated[bool, typer.Option(
             "--no-input", help="Never ask, even on a terminal; take the flags only.")] = False,
         debug: DebugOpt = False) -> None:
    """Write a commented config.yaml (and the JSON Schema editors use next to it).

    On a terminal it asks for the stack name, tickers, e-mail addresses, phone numbers, schedule
    and alert mode, checking each answer as you type. Without one (or with --no-input) it takes
    --stock, --email and --sms (each repeatable), --schedule, --name and --mode. It never
    replaces an existing file unless --force. Makes no AWS call.
    """
    def body() -> None:
        from provision.config import template
        from provision.config.writing import write_all

        target = path or Path("config.yaml")
        schema_path = target.parent / template.SCHEMA_FILE
        schema_text = _schema_text()
        files = _destinations(target, schema_path, schema_text, force)
        flags = {"name": name, "stocks": tuple(stock or ()), "email": tuple(email or ()),
                 "sms": tuple(sms or ()), "schedule": schedule, "mode": mode}
        given = _checked_flags(flags)
        interactive = sys.stdin.isatty() and not no_input
        answers = _ask(given) if interactive else _from_flags(given)
        # the config first: should its rename fail, nothing at all has changed
        write_all({target: _checked_text(target, template.render(answers)), **files})
        schema_done = (f"and {schema_path}" if schema_path in files
                       else f"({schema_path} was already up to date)")
        typer.echo(f"Wrote {target} {schema_done}. Next: 'stock-alert cost -c {target}' "
                   f"to see what it costs, then 'stock-alert plan -c {target}'.", err=True)
    run(debug, body)


_FLAG = {"name": "--name", "stocks": "--stock", "email": "--email", "sms": "--sms",
         "schedule": "--schedule", "mode": "--mode"}


def _checked_flags(flags: dict[str, Any]) -> dict[str, Any]:
    """The flags that were given, each checked by the config model: a bad one is exit 2."""
    from provision.config.template import check, split_list

    given: dict[str, Any] = {}
    for key, value in flags.items():
        if value is None or value == ():
            continue
        if isinstance(value, tuple):
            value = tuple(item for raw in value for item in split_list(raw))
        try:
            given[key] = check(key, value)
        except ValueError as exc:
            raise InputError(f"{_FLAG[key]}: {exc}",
                             hint=f"Fix the {_FLAG[key]} value; nothing was written.") from None
    return given


def _from_flags(given: dict[str, Any]) -> Answers:
    from provision.config.template import Answers

    if "stocks" not in given:
        raise InputError("--stock is required when there is no terminal to ask on (or with "
                         "--no-input).", hint="Pass --stock TICKER, once per ticker, e.g. "
                         "--stock TSLA --stock F; nothing was written.")
    return Answers(**given)


_QUESTIONS = (  # key, question, default (None: an answer is required), is a list
    ("name", "Stack name (prefix of every AWS name)", "stock-alert", False),
    ("stocks", "Ticker symbols, separated by commas", None, True),
    ("email", "E-mail addresses to notify, separated by commas (empty: none)", "", True),
    ("sms", "Phone numbers for SMS, E.164 like +15555550100 (empty: none)", "", True),
    ("schedule", "Schedule: the market's local time 'HH:MM ZONE DAYS', or an EventBridge "
     "cron(...) in UTC or rate(...)", None, False),
    ("mode", "Alert mode: summary (every run) or threshold (only when a rule fires)",
     "summary", False),
)


def _ask(given: dict[str, Any]) -> Answers:
    """Ask on the terminal for what the flags did not give; a bad answer is asked again."""
    from provision.cli.app import error
    from provision.config.template import DEFAULT_SCHEDULE, Answers, check, split_list

    answers = dict(given)
    for key, question, default, is_list in _QUESTIONS:
        if key in answers:
            continue
        default = DEFAULT_SCHEDULE if key == "schedule" else default
        while key not in answers:
            raw = ask.prompt(question, default=default)
            try:
                answers[key] = check(key, split_list(raw) if is_list else raw.strip())
            except ValueError as exc:
                error(f"{exc} Try again.")
    return Answers(**answers)


def _schema_text() -> str:
    import json

    from provision.config.schema import config_schema

    return json.dumps(config_schema(), indent=2) + "\n"


def _destinations(target: Path, schema: Path, schema_text: str, force: bool,
                  ) -> dict[Path, str]:
    """Check both destinations before anything is asked or written; the schema file to write
    ({} when an identical one is there already)."""
    from provision.config.writing import check_destination

    check_destination(target, force)
    if schema.resolve() == target.resolve():
        raise InputError(f"{target} is where 'init' writes the JSON Schema.",
                         hint="Give the config another name, e.g. config.yaml.")
    try:
        same = os.path.isfile(schema) and not os.path.islink(schema) and \
            schema.read_text(encoding="utf-8") == schema_text
    except (OSError, UnicodeDecodeError):
        same = False
    if same:
        return {}
    check_destination(schema, force, "a schema file with different content")
    return {schema: schema_text}


def _checked_text(path: Path, text: str) -> str:
    """Check the text with load_config (as every command does) before anything is written."""
    import tempfile

    from provision.config.model import load_config

    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "config.yaml"
        probe.write_text(text, encoding="utf-8")
        try:
            load_config(probe)
        except InputError as exc:
            raise InputError(str(exc).replace(str(probe), str(path)),
                             hint="Nothing was written.") from None
    return text


@config_app.command("schema")
def config_schema_command(debug: DebugOpt = False) -> None:
    """Print the JSON Schema of config.yaml (generated from the model that validates it)."""
    run(debug, lambda: typer.echo(_schema_text(), nl=False))


@config_app.command("check")
def config_check(config: ConfigOpt = None, output: OutputOpt = Output.human,
                 debug: DebugOpt = False) -> None:
    """Validate a config and print it with every default filled in. Makes no AWS call."""
    def body() -> None:
        import yaml

        from provision.config.model import config_path, load_config
        from provision.output import render

        path = config_path(str(config) if config else None)
        loaded = load_config(path)
        effective = loaded.model_dump(mode="json")
        warning = loaded.notify.no_subscribers()
        if warning:
            typer.echo(f"warning: {warning}.", err=True)
        if output is Output.json:
            render.emit_json({"command": "config check", "path": str(path), "valid": True,
                              "config": effective})
        else:
            typer.echo(f"# {path} is valid. The effective config, defaults filled in:")
            typer.echo(yaml.safe_dump(effective, sort_keys=False, allow_unicode=True), nl=False)
    run(debug, body, output, "config check")


@app.command()
def cost(config: ConfigOpt = None, output: OutputOpt = Output.human,
         debug: DebugOpt = False) -> None:
    """Estimate what the stack costs a month, before you pay: runs, messages, USD by channel.

    Counts the schedule's runs exactly over the next full calendar month (UTC, or a market-time
    schedule's own zone, across its daylight-saving changes), prices SMS by
    the destination's country from a table shipped with stock-alert, and states every
    assumption. An estimate, not a quote. Makes no AWS call.
    """
    def body() -> None:
        from provision.config.model import config_path, load_config
        from provision.features.cost.estimate import monthly
        from provision.output import render

        loaded = load_config(config_path(str(config) if config else None))
        est = monthly(loaded)
        if output is Output.json:
            render.emit_json({"command": "cost", "stack": loaded.name, **est.to_dict()})
        else:
            typer.echo("\n".join(est.report(loaded.name)))
    run(debug, body, output, "cost")


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


@app.command()
def completion(shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.")],
               debug: DebugOpt = False) -> None:
    """Print the shell completion script for bash, zsh or fish.

    Where to put it (docs/guides/shell-and-editor.md says more):

    \b
    bash: stock-alert completion bash > ~/.local/share/bash-completion/completions/stock-alert
    zsh:  stock-alert completion zsh > "${fpath[1]}/_stock-alert"
    fish: stock-alert completion fish > ~/.config/fish/completions/stock-alert.fish
    """
    def body() -> None:
        from typer._completion_shared import get_completion_script

        typer.echo(get_completion_script(prog_name="stock-alert", complete_var=COMPLETE_VAR,
                                         shell=shell.value))
    run(debug, body)
