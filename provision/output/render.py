"""Human output (rich tables on stdout, progress on stderr) and JSON output for scripts."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from typing import TYPE_CHECKING, Any

from provision.core.plan import LEFT_OVER, NOT_USED, AnyAction, Op, Plan
from provision.output import diff_text

if TYPE_CHECKING:
    from provision.core.pipelines import StatusRow
    from provision.features.invoke import InvokeResult

log = logging.getLogger("provision.output.render")
_STYLE = {Op.CREATE: "green", Op.UPDATE: "yellow", Op.DELETE: "red", Op.NOOP: "dim",
          Op.CONFLICT: "bold red"}
EMAIL_PENDING_NOTE = (
    "the emulator confirms e-mail subscriptions at once; on real AWS they stay pending "
    "confirmation until the link in the e-mail AWS sends is clicked, and nothing is delivered "
    "to them before that")


def preload() -> threading.Thread:
    """Import rich's console and table in a daemon thread, started once the input is checked:
    human output needs them (~20 ms of imports) only after the reads, while the main thread
    only waits for AWS's answers. Whoever imports them first waits for the other (Python's
    per-module import locks), so it is never slower than importing them when needed."""
    def load() -> None:
        try:
            import rich.console
            import rich.markup
            import rich.table  # noqa: F401 - imported for later
        except Exception as exc:  # noqa: BLE001 - the main thread imports (and reports) them
            log.debug("preloading rich failed: %r", exc)

    thread = threading.Thread(target=load, daemon=True, name="preload-rich")
    thread.start()
    return thread


def escape(text: str) -> str:
    """User data (names, values, messages) must never be read as rich markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    tty = (sys.stderr if stderr else sys.stdout).isatty()
    return Console(stderr=stderr, highlight=False, emoji=False, soft_wrap=stderr,
                   width=None if tty else 120)


def endpoint() -> str | None:
    """The endpoint every AWS call goes to when it is not AWS's own (AWS_ENDPOINT_URL, the
    only place stock-alert takes it from)."""
    return os.environ.get("AWS_ENDPOINT_URL") or None


def place(plan: Plan) -> str:
    """'stack t1 in us-east-1 (account 123456789012)', plus the endpoint when it is not
    AWS's own, so a table never hides where it was read."""
    return stack_place(plan.stack, plan.region, plan.account)


def stack_place(stack: str, region: str, account: str | None) -> str:
    """place() for commands that have no plan: invoke, logs, audit, secret set, ..."""
    return f"stack {stack} in {region} ({_account_and_endpoint(account)})"


def endpoint_note() -> str:
    """' (endpoint URL, not AWS)' when the endpoint is not AWS's own, else '': for titles over
    rows that each name their account (fleets, sweep)."""
    url = endpoint()
    return f" (endpoint {url}, not AWS)" if url else ""


def _account_and_endpoint(account: str | None) -> str:
    url = endpoint()
    return f"account {account or 'unknown'}" + (f", endpoint {url}, not AWS" if url else "")


def where_fields(account: str | None) -> dict[str, Any]:
    """The JSON twin of stack_place(): every document of a command that talks to AWS."""
    return {"account": account, "endpoint": endpoint()}


def emit_json(payload: dict[str, Any]) -> None:
    """One JSON document on stdout, flushed now: a stdout that refuses it (a full disk,
    /dev/full, a closed pipe) is an OSError here, which the error boundary reports."""
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    sys.stdout.flush()


def stdout_refuses_writes() -> str | None:
    """Why stdout cannot take a JSON document, known before anything runs: Linux's /dev/full
    (character device 1,7) refuses every write; None when nothing says so in advance."""
    import stat

    try:
        info = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError):  # no descriptor (a test runner's buffer): nothing to tell
        return None
    if stat.S_ISCHR(info.st_mode) and (os.major(info.st_rdev), os.minor(info.st_rdev)) == (1, 7):
        return "stdout is /dev/full, which refuses every write"
    return None


def describe_changes(action: AnyAction) -> str:
    """The details cell: every change in config terms, whole (the table wraps long lines)."""
    if action.op is Op.CONFLICT:
        return action.reason
    if action.op is Op.DELETE and action.reason.startswith(NOT_USED):
        return f"{action.reason}: deleted once what replaces it exists"
    if action.op is Op.DELETE:
        return "delete it and everything attached to it"
    lines = diff_text.describe(action) if action.op in (Op.CREATE, Op.UPDATE) else []
    if action.op is Op.UPDATE:
        lines.insert(0, f"({action.reason})")  # changed in config, or drifted outside
    if _absent(action) and action.reason != "absent":
        lines.append(action.reason)  # the action cell says "absent"; this says why it is fine
    lines += [f"note: {n}" for n in action.notes]
    return "\n".join(lines)


def _absent(action: AnyAction) -> bool:
    """A no-op of a teardown plan: there is nothing to delete, which is not 'no change'."""
    return action.op is Op.NOOP and action.reason.startswith("absent")


def _action_cell(action: AnyAction) -> str:
    if _absent(action):
        return "[dim]absent[/]"
    return f"[{_STYLE[action.op]}]{action.op.value}[/]"


def plan_counts(plan: Plan) -> str:
    """'Plan: 2 to create, 1 to update, 0 to delete, 2 unchanged.' (conflicts, absent: if any)."""
    def count(op: Op) -> int:
        return sum(1 for a in plan.actions if a.op is op and not _absent(a))
    absent = sum(1 for a in plan.actions if _absent(a))
    parts = [f"{count(Op.CREATE)} to create", f"{count(Op.UPDATE)} to update",
             f"{count(Op.DELETE)} to delete", f"{count(Op.NOOP)} unchanged"]
    if absent:
        parts.append(f"{absent} absent")
    conflicts = count(Op.CONFLICT)
    if conflicts:
        parts.append(f"{conflicts} conflict{'s' if conflicts > 1 else ''} "
                     "(not owned by this stack)")
    return "Plan: " + ", ".join(parts) + "."


def status_counts(rows: list[StatusRow]) -> str:
    """'5 in sync, 0 drifted, 0 missing' (and foreign, if any)."""
    def count(state: str) -> int:
        return sum(1 for r in rows if r.state == state)
    changed = count("changed in config")
    line = (f"{count('in sync')} in sync, " + (f"{changed} changed in config, " if changed
                                                 else "")
            + f"{count('drifted')} drifted, {count('missing')} missing")
    foreign, left = count("foreign"), count(LEFT_OVER)
    return (line + (f", {foreign} foreign (not owned by this stack)" if foreign else "")
            + (f", {left} {LEFT_OVER} ('up' deletes it)" if left else "") + ".")


def plan_table(plan: Plan, title: str) -> Any:
    from rich.table import Table

    table = Table(title=f"{title}: {place(plan)}",
                  title_justify="left", caption=plan_counts(plan), caption_justify="left")
    table.add_column("kind")
    table.add_column("name")
    table.add_column("action")
    table.add_column("details", overflow="fold")
    for a in plan.actions:
        table.add_row(a.kind, escape(a.name), _action_cell(a), escape(describe_changes(a)))
    return table


def status_table(plan: Plan, rows: list[StatusRow], emulator: bool | None = None) -> Any:
    """emulator: the endpoint is the built-in emulator (None: judge from AWS_ENDPOINT_URL and
    the mark its export line sets), so confirmed e-mail subscriptions get a note."""
    from rich.table import Table

    if emulator is None:  # only the built-in emulator confirms e-mail subscriptions at once
        from provision.local.emulator import is_builtin

        emulator = is_builtin(os.environ.get("AWS_ENDPOINT_URL"))
    table = Table(title=f"status: {place(plan)}",
                  title_justify="left", caption=status_counts(rows), caption_justify="left")
    for column in ("kind", "name", "state", "details"):
        table.add_column(column, overflow="fold")
    colours = {"in sync": "green", "not used": "dim", "changed in config": "yellow",
               "drifted": "magenta", "missing": "red", "foreign": "bold red"}
    for row in rows:
        colour = colours.get(row.state, "white")
        table.add_row(row.kind, escape(row.name), f"[{colour}]{row.state}[/]",
                      escape("\n".join(_status_details(row, emulator))))
    return table


def _status_details(row: StatusRow, emulator: bool) -> list[str]:
    details = [f"{k}: {diff_text.text(v)}" for k, v in row.attributes.items()
               if k != "subscriptions"]
    subs = row.attributes.get("subscriptions", [])
    for sub in subs:
        details.append(f"{sub['protocol']} {sub['endpoint']}: {sub['state']}")
    if row.drift:
        details.append(("to update: " if row.state == "changed in config" else "drifted: ")
                       + ", ".join(row.drift))
    details += [f"note: {n}" for n in row.notes]
    if emulator and any(s["protocol"] == "email" and s["state"] == "confirmed" for s in subs):
        details.append(f"note: {EMAIL_PENDING_NOTE}")
    return details


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


def published_texts(message: dict[str, str]) -> list[str]:
    """The SMS and the e-mail exactly as published, for people to read."""
    sms = message.get("sms", "")
    return [f"SMS ({len(sms)} characters):\n  {sms}",
            f"E-mail subject: {message.get('email_subject', '')}\n{message.get('email', '')}"]


def print_invoke(run: InvokeResult) -> None:
    out = console()
    log_lines = list(run.log)
    if run.local:
        used = "the config's" if run.settings_from == "config" else "the deployed function's"
        out.print(f"[bold]Local run[/] (exit code {run.exit_code}) with {used} settings; its "
                  "log is below only: local runs are not in CloudWatch")
        log_lines += run.stderr.splitlines()
    else:
        out.print(f"[bold]Invoked[/] (status {run.status}"
                  + (f", function error {escape(run.error)}" if run.error else "") + ")")
    if run.failed:
        out.print(f"[bold red]The function failed:[/] {escape(run.error_message or '')}")
    if run.result is not None:
        out.print("[bold]Result[/]")
        out.print(json.dumps(run.result, indent=2), markup=False)
    if run.message:
        out.print("[bold]Published[/]")
        for text in published_texts(run.message):
            out.print(text, markup=False)
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


def fleet_table(verb: str, results: list[Any]) -> Any:
    """The end of a fleet command: one row per stack, where it ran, and how it ended."""
    from rich.table import Table

    failed = sum(1 for r in results if not r.ok)
    table = Table(title=f"{verb}: {len(results)} stack(s), {failed} failed{endpoint_note()}",
                  title_justify="left")
    for column in ("stack", "account", "region", "result", "summary"):
        table.add_column(column, overflow="fold")
    for r in results:
        account = r.account or (r.job.place.role_arn or "-")
        table.add_row(escape(r.job.config.name), escape(account), r.job.place.region,
                      "[green]ok[/]" if r.ok else "[bold red]failed[/]",
                      escape(r.summary if r.ok or r.error is None else
                             f"{r.error.message} {r.error.hint}".strip()))
    return table


def fleet_document(verb: str, results: list[Any]) -> dict[str, Any]:
    """One JSON document: a result per stack, and the totals per account and Region."""
    places: dict[tuple[str, str], dict[str, Any]] = {}
    for r in results:
        key = (r.job.place.role_arn or r.account, r.job.place.region)
        place = places.setdefault(key, {"account": r.account or None, "region": key[1],
                                        "assumed_role": r.job.place.role_arn,
                                        "ok": 0, "failed": 0})
        place["ok" if r.ok else "failed"] += 1
    failed = sum(1 for r in results if not r.ok)
    return {"command": verb, "endpoint": endpoint(), "stacks": [r.to_dict() for r in results],
            "places": list(places.values()), "failed": failed, "exit_code": 1 if failed else 0}
