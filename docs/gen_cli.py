"""reference/cli.md: every command, its usage, text and options, from the Typer app's Click
command (typer.main.get_command), so it says exactly what `--help` says."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from gen_common import HEADER, code, prose


def page() -> str:
    import typer.main

    from provision.cli import app

    root = typer.main.get_command(app)
    context = root.context_class(root, info_name="stock-alert")
    commands = list(_commands(root, context))
    out = [HEADER, "# CLI reference\n\n",
           "Every command and option, generated from the CLI itself: what "
           "`stock-alert COMMAND --help` prints, in one place. Options shared by the stack "
           "commands (`--config`, `--profile`, `--region`, `--output`, `--debug`) are listed "
           "with each command. See also [exit codes](exit-codes.md) and the "
           "[JSON documents](json-output.md) of `--output json`.\n\n",
           _section(root, context, level=2, title="stock-alert"),
           "## Commands\n\n",
           "| command | what it does |\n|---|---|\n"]
    out += [f"| [{code(ctx.command_path)}](#{_anchor(ctx.command_path)}) | "
            f"{_first_sentence(cmd)} |\n" for cmd, ctx in commands if not _is_group(cmd)]
    out.append("\n")
    out += [_section(cmd, ctx, level=2 if ctx.parent is context else 3,
                     title=ctx.command_path) for cmd, ctx in commands]
    return "".join(out).rstrip("\n") + "\n"


def _commands(group: Any, context: Any) -> Iterator[tuple[Any, Any]]:
    """(command, context) for every visible command below `group`, in --help's order."""
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if command is None or command.hidden:
            continue
        child = command.context_class(command, info_name=name, parent=context)
        yield command, child
        if _is_group(command):
            yield from _commands(command, child)


def _is_group(command: Any) -> bool:
    return hasattr(command, "list_commands")


def _anchor(path: str) -> str:
    return path.replace(" ", "-")


def _first_sentence(command: Any) -> str:
    text = _help(command).split("\n\n")[0]
    sentence = " ".join(text.split()).split(". ")[0].rstrip(".")
    return prose(sentence) + "."


def _help(command: Any) -> str:
    return inspect.cleandoc(command.help or "").split("\f")[0]


def _section(command: Any, context: Any, level: int, title: str) -> str:
    usage = " ".join([context.command_path, *command.collect_usage_pieces(context)])
    parts = [f"{'#' * level} `{title}` {{#{_anchor(title)}}}\n\n",
             f"```text\nUsage: {usage}\n```\n\n"]
    text = _help(command)
    if text:
        parts.append(_paragraphs(text) + "\n\n")
    options = [_option(param, context) for param in command.params
               if not getattr(param, "hidden", False)]
    options = [o for o in options if o]
    if options:
        parts.append("**Arguments and options**\n\n" + "".join(options) + "\n")
    if _is_group(command) and command is not context.find_root().command:
        names = ", ".join(f"[`{context.command_path} {n}`](#{_anchor(context.command_path)}-{n})"
                          for n in command.list_commands(context))
        parts.append(f"Subcommands: {names}.\n\n")
    return "".join(parts)


def _paragraphs(text: str) -> str:
    """The command's text as Markdown paragraphs (Click's own line breaks dropped)."""
    return "\n\n".join(_paragraph(p) for p in text.split("\n\n") if p.strip())


def _paragraph(text: str) -> str:
    """Click's \\b marks a paragraph it prints as written: a text block here too."""
    if text.startswith("\b\n"):
        return "```text\n" + text[2:].rstrip() + "\n```"
    return prose(text)


def _option(param: Any, context: Any) -> str:
    record = param.get_help_record(context)
    if record is None:
        return ""
    names, text = record
    return f"- {code(names)}" + (f": {prose(text)}" if text.strip() else "") + "\n"
