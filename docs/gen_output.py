"""reference/json-output.md and reference/exit-codes.md: what `--output json` prints and how
each command exits, from real runs of the CLI against moto (the example config, a stack that
goes up, is read, audited and taken down)."""

from __future__ import annotations

from typing import Any

from gen_common import EXAMPLE_CONFIG, HEADER, Cli, Ran, code, prose, table

# Keys whose value is data whose own keys vary (one per kind, per config key, ...): shown as a
# mapping, not expanded.
OPEN = {"attributes", "config", "environment", "old", "new", "price_table"}
SSM_CONFIG = "name: stock-alert\nstocks: [TSLA]\nquotes: {provider: alphavantage}\n"
BAD_CONFIG = "name: stock-alert\nstocks: [TSLA]\nfunction: {memory_mb: 64}\n"


def _runs(cli: Cli) -> list[tuple[str, Ran]]:
    config = ["-c", str(EXAMPLE_CONFIG)]
    ssm = ["-c", cli.write("ssm.yaml", SSM_CONFIG)]
    json_out = ["-o", "json"]
    return [
        ("config check", cli.run("config", "check", *config, *json_out)),
        ("cost", cli.run("cost", *config, *json_out)),
        ("plan", cli.run("plan", *config, *json_out)),
        ("up", cli.run("up", "--yes", *config, *json_out)),
        ("status", cli.run("status", *config, *json_out)),
        ("audit", cli.run("audit", *config, *json_out)),
        ("permissions", cli.run("permissions", *config, *json_out)),
        ("secret set", cli.run("secret", "set", *ssm, *json_out, input="an-api-key\n")),
        ("sweep --dry-run", cli.run("sweep", "--dry-run", *json_out)),
        ("down", cli.run("down", "--yes", *config, *json_out)),
        ("plan, up, status, down with --count, --participants, --regions or --assume-role",
         cli.run("status", "--count", "2", *config, *json_out)),
    ]


def json_page() -> str:
    with Cli() as cli:
        runs = _runs(cli)
        failed = cli.run("plan", "-c", cli.write("bad.yaml", BAD_CONFIG), "-o", "json", ok=False)
    out = [HEADER, "# JSON output\n\n",
           "With `--output json` (`-o json`) a command prints exactly one JSON document on "
           "stdout, also when it fails; progress and errors go to stderr. The keys below are "
           "what each command printed on the example config against the emulator (generated "
           "from those runs). A key shown as `null` holds a value in other situations: "
           "`endpoint`, for example, names the endpoint when it is not AWS's own.\n\n",
           "Every document has `command`. A failing command's document has `error` "
           "(`kind`, `message`, `hint`) and `exit_code`; see [exit codes](exit-codes.md).\n\n"]
    for title, ran in runs:
        out += [f"## {title}\n\n", f"`stock-alert {_shown(ran.args)}`:\n\n",
                _tree(ran.json()), "\n"]
    out += ["## A failing command\n\n",
            f"`stock-alert {_shown(failed.args)}` (a config with `memory_mb: 64`) exits "
            f"{failed.exit_code} and prints:\n\n", _tree(failed.json()), "\n",
            "## invoke\n\n",
            "`stock-alert invoke --output json` runs the function, which the emulator cannot "
            "do without Docker, so its keys are described in "
            "[invoke and logs](../guides/invoke-and-logs.md) instead.\n"]
    return "".join(out).rstrip("\n") + "\n"


def _shown(args: tuple[str, ...]) -> str:
    """The command as a user types it: the example config's path as config.yaml."""
    shown = []
    for arg in args:
        shown.append("config.yaml" if arg == str(EXAMPLE_CONFIG) else
                     arg.rsplit("/", 1)[-1] if arg.endswith(".yaml") else arg)
    return " ".join(shown)


def _type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "whole number"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        inner = " or ".join(dict.fromkeys(_type(v) for v in value))
        return f"list of {inner}" if inner else "list"
    return "mapping"


def _merge(values: list[Any]) -> dict[str, list[Any]]:
    """Each key of the mappings among `values`, with every value it had (first-seen order)."""
    merged: dict[str, list[Any]] = {}
    for value in values:
        if isinstance(value, dict):
            for key, item in value.items():
                merged.setdefault(key, []).append(item)
    return merged


def _tree(document: Any, depth: int = 0) -> str:
    lines = []
    for key, values in _merge([document]).items():
        lines += _key(key, values, depth)
    return "\n".join(lines) + "\n"


def _key(key: str, values: list[Any], depth: int) -> list[str]:
    types = " or ".join(dict.fromkeys(_type(v) for v in values))
    indent = "    " * depth
    lines = [f"{indent}- {code(key)}: {prose(types)}"]
    if key in OPEN:
        return lines
    children = [v for v in values if isinstance(v, dict)]
    children += [i for v in values if isinstance(v, list) for i in v if isinstance(i, dict)]
    for child, items in _merge(children).items():
        lines += _key(child, items, depth + 1)
    return lines


# (exit code, what it means, the command run to show it, its config text or None: example)
EXAMPLES = (
    (0, "Success, including \"nothing to do\".", ("plan",), None),
    (1, "AWS or runtime failure, or a conflict with a resource the stack does not own; the "
        "message says what to do next. `audit` also exits 1 when it finds anything.",
     ("up", "--yes"), "foreign"),
    (2, "Bad input (config, flags or environment). Input is checked before the first AWS call, "
        "so a bad config costs no AWS call.", ("plan",), BAD_CONFIG),
    (3, "`status --exit-code` only: something is missing, drifted, changed in config, foreign "
        "or failed (like `terraform plan -detailed-exitcode`).", ("status", "--exit-code"),
     None),
)


def exit_codes_page() -> str:
    from provision.cli.app import ErrorKind, Interrupted

    rows = []
    with Cli() as cli:
        for number, meaning, args, text in EXAMPLES:
            config = str(EXAMPLE_CONFIG)
            if text == "foreign":  # a role of the stack's name that the stack did not make
                import boto3

                boto3.client("iam").create_role(
                    RoleName="stock-alert-us-east-1-role", AssumeRolePolicyDocument="{}")
            elif text:
                config = cli.write("input.yaml", text)
            ran = cli.run(*args, "-c", config, ok=False)
            if ran.exit_code != number:
                raise RuntimeError(f"{args} exited {ran.exit_code}, not {number}: {ran.stderr}")
            rows.append([code(number), meaning,  # Markdown as written above
                         code(f"stock-alert {_shown(ran.args)}")])
    rows.append([code(Interrupted().exit_code), "Interrupted (Ctrl-C). Run the same command "
                 "again to finish; it continues where it stopped.", "Ctrl-C"])
    kinds = ", ".join(code(k.value) for k in ErrorKind)
    return "".join([
        HEADER, "# Exit codes\n\n",
        "Each code below was produced by running the example command (generated from those "
        "runs, except Ctrl-C).\n\n",
        table(["code", "meaning", "for example"], rows), "\n",
        "Errors are one paragraph on stderr that says what went wrong, where (the key, the "
        "resource) and the fix; no traceback unless `--debug`. With `--output json` the "
        "failing command also prints one document on stdout with `error.kind` (one of "
        f"{kinds}), `error.message`, `error.hint` and `exit_code` "
        "([JSON output](json-output.md#a-failing-command)).\n"])
