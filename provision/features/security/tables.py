"""Rich tables and text for the security commands (built here, printed by the CLI)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from provision.features.security.grants import NOT_GRANTED

if TYPE_CHECKING:
    from provision.core.stack import Stack
    from provision.features.security.permissions import PermissionsReport


def _table(title: str, *columns: str) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_lines=True)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def grants_table(report: PermissionsReport) -> Any:
    from rich.text import Text

    where = ("deployed role" if report.source == "deployed"
             else "plan (the role does not exist yet; run 'stock-alert up')")
    table = _table(f"Granted to {report.stack.role_name}, from the {where}",
                   "", "Action", "Resource", "Why")
    for g in report.grants:
        flag = Text("!", style="bold red") if not g.planned else Text("")
        action = g.action if g.effect == "Allow" else f"{g.effect} {g.action}"
        table.add_row(flag, Text(action), Text(g.resource), Text(g.why or "UNEXPLAINED"))
    return table


def not_granted_table() -> Any:
    from rich.text import Text

    table = _table("Deliberately not granted", "Action", "Resource", "Why not")
    for action, resource, why in NOT_GRANTED:
        table.add_row(Text(action), Text(resource), Text(why))
    return table


def permissions_notes(report: PermissionsReport) -> list[str]:
    lines = [f"Source: {report.source} ({report.stack.role_arn})."]
    if not report.owned:
        lines.append("Warning: the role exists but is not tagged as this stack's; "
                     "stock-alert does not manage it.")
    extra = report.extra
    if extra:
        lines.append(f"Warning: {len(extra)} grant(s) marked ! are not made by stock-alert; "
                     "'stock-alert up' removes them ('stock-alert audit' explains).")
    for arn in report.managed:
        lines.append(f"Warning: managed policy {arn} is attached; stock-alert attaches none "
                     "and 'stock-alert up' detaches it.")
    return lines


def deployer_table(stack: Stack) -> Any:
    from rich.text import Text

    from provision.features.security.deployer import NOT_NEEDED, rows

    table = _table(f"Operator permissions for stack {stack.name}", "Action", "Resource",
                   "Commands", "Why")
    for action, resource, commands, why in rows(stack):
        table.add_row(Text(action), Text(resource), Text(commands), Text(why))
    for action, why in NOT_NEEDED:
        table.add_row(Text(action), Text("-"), Text("not granted"), Text(why))
    return table


def audit_table(stack: str, found: list[Any]) -> Any:
    from rich.text import Text

    if not found:
        return Text(f"Stack {stack}: no findings; what is deployed keeps every promise.")
    table = _table(f"Stack {stack}: {len(found)} finding(s)", "Rule", "Resource", "Found",
                   "Fix")
    for f in found:
        table.add_row(Text(f.rule), Text(f.resource), Text(f.detail), Text(f.fix))
    return table
