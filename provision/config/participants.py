"""--participants FILE and --count N -> the stacks of a fleet, checked before any AWS call.

FILE is CSV (a header row naming `id` and optionally `email`, `phone`) or YAML (a list of
mappings with those keys, or a mapping with one key `participants` holding that list). Every
problem is an InputError naming the file, the line and the field, and the fix (exit 2).

Each participant becomes the stack `<name>-<id>`, whose only subscribers are that participant's
own e-mail address and phone number. `--count N` makes `<name>-1` ... `<name>-N`, each with the
config's own subscribers.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provision.config import validators as v
from provision.config.model import NAME_MAX, Config, Notify
from provision.errors import ConfigError, InputError

_ID = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?", re.ASCII)
COUNT_MAX = 500  # far above a workshop; well below what one account's quotas allow
ROLES_MAX = 100  # --assume-role and --assume-role-file together: accounts of one fleet
STACKS_MAX = 2000  # stacks x Regions x accounts of one run


def check_fleet_size(stacks: int, regions: int, accounts: int) -> None:
    total = stacks * regions * accounts
    if total > STACKS_MAX:
        raise InputError(f"{stacks} stack(s) in {regions} Region(s) and {accounts} account(s) "
                         f"make {total:,} stacks, more than the {STACKS_MAX:,} one run works on.",
                         hint="Split the run: fewer participants, Regions or roles at a time.")
FIELDS = ("id", "email", "phone")
_HINT = ("Each participant needs an id of letters, digits and '-' (not starting or ending "
         "with '-'), and may have an email and an E.164 phone; see 'stock-alert up --help'.")


@dataclass(frozen=True)
class Participant:
    id: str
    email: str | None = None
    phone: str | None = None
    line: int = 0  # where it is in the file, for messages


def stack_configs(base: Config, count: int | None, path: Path | None) -> list[Config]:
    """The config of each stack of the fleet, in order; [] when neither option is given."""
    if count is not None and path is not None:
        raise InputError("--count and --participants were both given.",
                         hint="Use --count N for N identical stacks, or --participants FILE "
                         "for one stack per participant.")
    if count is not None:
        check_count(count)
        return [_named(base, str(i), base.notify, f"--count {count}")
                for i in range(1, count + 1)]
    if path is not None:
        people = read(path)
        return [_named(base, p.id, _notify(p), f"{path}: line {p.line}: id") for p in people]
    return []


def check_count(count: int) -> None:
    if not 1 <= count <= COUNT_MAX:
        raise InputError(f"--count {count} is not a number of stacks from 1 to {COUNT_MAX}.",
                         hint="Pass --count 10 for the stacks <name>-1 to <name>-10.")


def _notify(person: Participant) -> Notify:
    return Notify(email=(person.email,) if person.email else (),
                  sms=(person.phone,) if person.phone else ())


def with_suffix(base: Config, suffix: str, where: str) -> Config:
    """The same stack named <name>-<suffix> (e.g. one per Region)."""
    return _named(base, suffix, base.notify, where)


def _named(base: Config, suffix: str, notify: Notify, where: str) -> Config:
    name = f"{base.name}-{suffix}"
    if len(name) > NAME_MAX:
        raise InputError(
            f"{where}: the stack name {name!r} would be {len(name)} characters, over the "
            f"{NAME_MAX} allowed (so that '<name>-schedule' fits AWS's 64-character limit).",
            hint=f"Shorten the config's name ({base.name!r}) or the id by "
            f"{len(name) - NAME_MAX} characters.")
    return base.model_copy(update={"name": name, "notify": notify})


def read(path: Path) -> list[Participant]:
    """The participants in the file, checked: valid fields, unique ids, at least one."""
    text = _text(path)
    rows = _yaml_rows(path, text) if path.suffix.lower() in (".yaml", ".yml") else \
        _csv_rows(path, text)
    people = [_participant(path, line, row) for line, row in rows]
    if not people:
        raise InputError(f"{path} lists no participants.", hint=_HINT)
    if len(people) > COUNT_MAX:
        raise InputError(f"{path} lists {len(people)} participants, more than {COUNT_MAX}.",
                         hint="Split the file and run the command once per part.")
    _unique(path, people)
    return people


def _text(path: Path) -> str:
    from provision.config.yamlfile import read_text

    try:
        return read_text(path, f"a list of at most {COUNT_MAX} participants needs far less")
    except ConfigError as exc:  # its wording is the config's; say which file this is
        raise InputError(exc.message.replace("config file", "participants file"),
                         hint="Pass --participants PATH of a CSV or YAML file.") from None


def _csv_rows(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _csv_read(path, reader)
    except csv.Error as exc:  # e.g. "field larger than field limit (131072)"
        why = (f"a field is longer than {csv.field_size_limit():,} characters, far more than "
               "any id, e-mail or phone" if "field limit" in str(exc) else str(exc))
        raise InputError(f"{path}: the row after line {reader.line_num} cannot be read as "
                         f"CSV: {why}.",
                         hint="Check the quotes after that line: an unclosed quote runs on to "
                         "the end of the file.") from None


def _csv_read(path: Path, reader: csv.DictReader[str]) -> list[tuple[int, dict[str, Any]]]:
    header = [h.strip() for h in reader.fieldnames or []]
    unknown = [h for h in header if h not in FIELDS]
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise InputError(f"{path}: line 1: the header names {', '.join(twice)} twice; each "
                         "column may appear once.", hint="Start the file with the line: "
                         "id,email,phone")
    if "id" not in header or unknown:
        raise InputError(
            f"{path}: line 1: the header row must name the column id, and may name email and "
            f"phone; it has {', '.join(repr(h) for h in header) or 'nothing'}.",
            hint="Start the file with the line: id,email,phone")
    reader.fieldnames = header
    rows = []
    for row in reader:
        if None in row:  # more cells than header columns
            raise InputError(f"{path}: line {reader.line_num}: more cells than the header has "
                             "columns.", hint="Quote a value that holds a comma.")
        if any((value or "").strip() for value in row.values()):
            rows.append((reader.line_num, {k: (row[k] or "").strip() for k in row}))
    return rows


def _yaml_rows(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    import yaml

    from provision.config.yamlfile import load_yaml

    data = load_yaml(path)
    node: Any = yaml.compose(text, Loader=yaml.SafeLoader)
    if isinstance(data, dict) and list(data) == ["participants"]:
        data = data["participants"]
        node = node.value[0][1]
    if not isinstance(data, list):
        raise InputError(f"{path}: the file must be a YAML list of participants (or a mapping "
                         "with the one key participants holding that list).",
                         hint="Write one entry per participant, like:  - {id: ana, email: "
                         "ana@example.com}")
    rows = []
    for index, item in enumerate(data):
        line = node.value[index].start_mark.line + 1
        if not isinstance(item, dict) or set(map(str, item)) - set(FIELDS):
            raise InputError(f"{path}: line {line}: participant {index + 1} must be a mapping "
                             "with the keys id and optionally email and phone; it is "
                             f"{v.shown(item)}.", hint=_HINT)
        values = {str(k): "" if val is None else val for k, val in item.items()}
        if isinstance(values.get("id"), int):  # YAML 1.1 reads 0x10, 017, 1_000 as numbers
            values["id"] = _raw_id(node.value[index])
        rows.append((line, values))
    return rows


def _raw_id(item: Any) -> str:
    """The id exactly as written (0x10 stays '0x10', not 16)."""
    return next(str(value.value) for key, value in item.value if key.value == "id")


def _participant(path: Path, line: int, row: dict[str, Any]) -> Participant:
    where = f"{path}: line {line}"
    for key, value in row.items():
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise InputError(f"{where}: {key} {v.shown(value)} is not text.",
                             hint=f"Write {key} as a plain value, quoted if need be.")
    ident, email, phone = (str(row.get(k, "")).strip() for k in FIELDS)
    if not ident:
        raise InputError(f"{where}: id is empty.", hint=_HINT)
    if not _valid_id(ident):
        raise InputError(f"{where}: id {v.shown(ident)} cannot be part of a stack name: use "
                         "letters, digits and '-', starting and ending with a letter or digit.",
                         hint=_HINT)
    for key, value, check in (("email", email, v.check_email), ("phone", phone, v.check_phone)):
        if value:
            try:
                check(value)
            except ValueError as exc:
                raise InputError(f"{where}: {key} {exc}.", hint=_HINT) from None
    return Participant(ident, email or None, phone or None, line)


def _valid_id(ident: str) -> bool:
    return _ID.fullmatch(ident) is not None


def _unique(path: Path, people: list[Participant]) -> None:
    """IAM role names are case-insensitive: ids `Ana` and `ana` would name one role."""
    first: dict[str, Participant] = {}
    for person in people:
        earlier = first.setdefault(person.id.casefold(), person)
        if earlier is not person:
            raise InputError(
                f"{path}: line {person.line}: id {person.id!r} is already used on line "
                f"{earlier.line} ({earlier.id!r}); ids must differ, ignoring case, because "
                "IAM role names ignore case.", hint="Give each participant their own id.")


_ROLE_ARN = re.compile(r"arn:aws(-cn|-us-gov|-iso|-iso-b)?:iam::([0-9]{12}):role/"
                       r"(/?[\x21-\x7e]{0,510}/)?[A-Za-z0-9+=,.@_-]{1,64}", re.ASCII)


def role_arns(flags: list[str], path: Path | None) -> list[str]:
    """--assume-role ARN (repeatable) and --assume-role-file FILE (one ARN a line, '#'
    comments), checked: real IAM role ARNs, each account once."""
    found = [(f"--assume-role {arn!r}", arn.strip()) for arn in flags]
    if path is not None:
        for number, line in enumerate(_text(path).splitlines(), start=1):
            text = line.split("#", 1)[0].strip()
            if text:
                found.append((f"{path}: line {number}", text))
    if len(found) > ROLES_MAX:
        raise InputError(f"{len(found)} roles were given (--assume-role, --assume-role-file), "
                         f"more than {ROLES_MAX}, the most accounts one run works on.",
                         hint="Split the accounts over several runs.")
    accounts: dict[str, str] = {}
    for where, arn in found:
        match = _ROLE_ARN.fullmatch(arn)
        if not match:
            raise InputError(f"{where}: {v.shown(arn)} is not an IAM role ARN.",
                             hint="Write it like arn:aws:iam::123456789012:role/stock-alert-"
                             "deployer (12-digit account id, then role/ and the role's name).")
        earlier = accounts.setdefault(match.group(2), where)
        if earlier != where:
            raise InputError(f"{where}: account {match.group(2)} is already given by {earlier}; "
                             "two roles in one account would deploy the same stacks twice at "
                             "once.", hint="Give each account once.")
    return [arn for _, arn in found]
