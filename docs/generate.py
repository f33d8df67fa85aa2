"""Write the generated reference pages, docs/reference/*.md, from the code.

    python docs/generate.py          # rewrite the pages that differ
    python docs/generate.py --check  # write nothing; exit 1 naming each stale page

Each page asks the CLI for its data, as a user would: the Typer app runs in this process
(typer.testing.CliRunner) against moto's in-process AWS, e.g. `config schema`,
`permissions --output json`, `deployer-policy --format markdown`, `plan --output json`. Only
`provision.cli` is imported (and the Typer app's Click command read), so the pages follow the
code wherever its modules live. Needs moto: `pip install -e '.[docs]'` (or `.[test]`).
tests/test_docs.py regenerates every page and fails when a committed one differs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_cli  # noqa: E402 - the sibling modules, found through the path above
import gen_config  # noqa: E402
import gen_env  # noqa: E402
import gen_iam  # noqa: E402
import gen_output  # noqa: E402
from gen_common import REPO  # noqa: E402

DOCS = REPO / "docs"
PAGES: dict[str, Callable[[], str]] = {
    "reference/cli.md": gen_cli.page,
    "reference/config.md": gen_config.page,
    "reference/environment.md": gen_env.page,
    "reference/exit-codes.md": gen_output.exit_codes_page,
    "reference/json-output.md": gen_output.json_page,
    "reference/role-permissions.md": gen_iam.role_page,
    "reference/operator-permissions.md": gen_iam.operator_page,
}


def render_all() -> dict[str, str]:
    """Every generated page's path under docs/ and its text."""
    return {path: make() for path, make in PAGES.items()}


def stale(pages: dict[str, str]) -> list[str]:
    """The pages whose committed text differs from `pages`."""
    return [path for path, text in pages.items()
            if not (DOCS / path).exists()
            or (DOCS / path).read_text(encoding="utf-8") != text]


def main(argv: list[str]) -> int:
    pages = render_all()
    differ = stale(pages)
    if "--check" in argv:
        for path in differ:
            print(f"docs/{path} is stale: run python docs/generate.py", file=sys.stderr)
        return 1 if differ else 0
    for path in differ:
        (DOCS / path).parent.mkdir(parents=True, exist_ok=True)
        (DOCS / path).write_text(pages[path], encoding="utf-8")
        print(f"wrote docs/{path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
