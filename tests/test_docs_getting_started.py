"""Every shell example in docs/getting-started/ runs, and prints what the page shows.

Each page is read as a reader would type it (tests/support/doc_examples.py): its commands in
order, in a folder of its own, against the moto server (or the emulator the page itself
starts), each output compared with the lines the page shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.doc_examples import REPO, Reader, shown_in, steps
from tests.support.fixtures import cli_environment

PAGES = sorted((REPO / "docs" / "getting-started").glob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_the_page_runs_as_shown(page: Path, moto_server: str, tmp_path: Path) -> None:
    found = steps(page)
    reader = Reader(tmp_path, cli_environment(moto_server))
    try:
        for step in found:
            reader.run(step)
    finally:
        reader.close()


def test_every_page_has_examples_and_says_what_they_print() -> None:
    """The pages with commands show output for each (nothing shown would check nothing)."""
    commands = {p.name: steps(p) for p in PAGES}
    assert {"install.md", "demo.md", "init.md", "emulator.md", "real-account.md"} <= set(commands)
    quiet = [s.where for found in commands.values() for s in found
             if not [line for line in s.shown if line.strip() not in ("", "...")]
             and not s.command.startswith(("export ", "cat > ", "python3 -m venv", "source "))
             and "pip install" not in s.command]
    assert quiet == []


def test_shown_lines_are_compared_not_assumed() -> None:
    """The comparison can fail: a line the output lacks, or a wrong number, is named."""
    output = "Plan: 6 to create, 0 to update\n│ role   │ x-role │ create │ trust\n"
    assert shown_in(["Plan: 6 to create, ...", "│ role │ x-role │ create", "..."], output) == []
    assert shown_in(["Plan: 5 to create, ..."], output) == ["Plan: 5 to create, ..."]
    assert shown_in(["Done: 6 created."], output) == ["Done: 6 created."]
