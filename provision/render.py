"""Human output (rich tables on stdout, progress on stderr) and JSON output for scripts."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from provision.plan import AnyAction, Op, Plan

if TYPE_CHECKING:
    from provision.invoke import InvokeResult
    from provision.pipelines import StatusRow

_STYLE = {Op.CREATE: "green", Op.UPDATE: "yellow", Op.DELETE: "red", Op.NOOP: "dim",
          Op.CONFLICT: "bold red"}
_MAX_VALUE = 100


def escape(text: str) -> str:
    """User data (names, values, messages) must never be read as rich markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    tty = (sys.stderr if stderr else sys.stdout).isatty()
    return Console(stderr=stderr, highlight=False, emoji=False, soft_wrap=stderr,
                   width=None if tty else 120)


def emit_json(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def describe_changes(action: AnyAction) -> str:
    if action.op is Op.CONFLICT:
        return action.reason
    if action.op is Op.DELETE:
        return "delete it and everything attached to it"
    lines = []
    for change in action.changes:
        if action.op is Op.CREATE:
            lines.append(change.label)
        else:
            lines.append(f"{change.label}: {_short(change.old)} -> {_short(change.new)}")
    lines += [f"note: {n}" for n in action.notes]
    return "\n".join(lines)


def plan_table(plan: Plan, title: str) -> Any:
    from rich.table import Table

    table = Table(title=f"{title}: stack {plan.stack} in {plan.region} (account {plan.account})",
                  title_justify="left")
    table.add_column("kind")
    table.add_column("name")
    table.add_column("action")
    table.add_column("details", overflow="fold")
    for a in plan.actions:
        table.add_row(a.kind, escape(a.name), f"[{_STYLE[a.op]}]{a.op.value}[/]",
                      escape(describe_changes(a)))
    return table


def status_table(plan: Plan, rows: list[StatusRow]) -> Any:
    from rich.table import Table

    table = Table(title=f"status: stack {plan.stack} in {plan.region} (account {plan.account})",
                  title_justify="left")
    for column in ("kind", "name", "state", "details"):
        table.add_column(column, overflow="fold")
    colours = {"in sync": "green", "drifted": "yellow", "missing": "red", "foreign": "bold red"}
    for row in rows:
        details = [f"{k}: {_short(v)}" for k, v in row.attributes.items()
                   if k != "subscriptions"]
        for sub in row.attributes.get("subscriptions", []):
            details.append(f"{sub['protocol']} {sub['endpoint']}: {sub['state']}")
        if row.drift:
            details.append("drifted: " + ", ".join(row.drift))
        details += [f"note: {n}" for n in row.notes]
        colour = colours.get(row.state, "white")
        table.add_row(row.kind, escape(row.name), f"[{colour}]{row.state}[/]",
                      escape("\n".join(details)))
    return table


def summary_line(plan: Plan, done: list[AnyAction], verb: str) -> str:
    skipped = [f"{a.kind} {a.name}" for a in plan.conflicts]
    tail = f" Left alone (not owned by this stack): {', '.join(skipped)}." if skipped else ""
    if not done:
        if verb == "up":
            return f"Nothing to do: stack {plan.stack} already matches the config.{tail}"
        return f"Nothing to delete: stack {plan.stack} has no resources left.{tail}"
    counts: dict[Op, int] = {}
    for action in done:
        counts[action.op] = counts.get(action.op, 0) + 1
    parts = ", ".join(f"{n} {op.value}d" for op, n in counts.items())
    return f"{'Done' if verb == 'up' else 'Removed'}: {parts}.{tail}"


def print_invoke(run: InvokeResult) -> None:
    out = console()
    log_lines = list(run.log)
    if run.local:
        out.print(f"[bold]Local run[/] (exit code {run.exit_code})")
        log_lines += run.stderr.splitlines()
    else:
        out.print(f"[bold]Invoked[/] (status {run.status}"
                  + (f", function error {escape(run.error)}" if run.error else "") + ")")
    out.print("[bold]Result[/]")
    out.print(json.dumps(run.result, indent=2), markup=False)
    out.print("[bold]Log tail[/]")
    for line in log_lines[-30:]:
        out.print(line, markup=False)


def print_log_event(event: dict[str, Any]) -> None:
    import datetime

    when = datetime.datetime.fromtimestamp(event["timestamp"] / 1000, datetime.UTC)
    message = event.get("message", "").rstrip("\n")
    sys.stdout.write(f"{when:%Y-%m-%d %H:%M:%S} {message}\n")
    sys.stdout.flush()


class DemoReporter:
    """Prints the demo's steps as they happen, with a check mark or a cross for each check."""

    def __init__(self, out: Any) -> None:
        self.console = out
        self.failures = 0

    def step(self, title: str) -> None:
        self.console.rule(f"[bold]{title}[/]", align="left")

    def show(self, what: Any) -> None:
        if isinstance(what, str):
            self.console.print(what, markup=False)
        else:
            self.console.print(what)

    def check(self, ok: bool, message: str) -> bool:
        mark = "[green]ok[/]" if ok else "[bold red]FAILED[/]"
        self.console.print(f"{mark} {escape(message)}")
        self.failures += 0 if ok else 1
        return ok
