"""The documentation says what the code does: generated pages are current, every environment
variable the code reads is documented, the README stays short with working links, and the
questions people ask are answered from the site's navigation.

The generated pages are made by running the CLI against moto in this process (docs/generate.py),
so conftest marks this module 'moto': it is not part of the fast loop."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
README = REPO / "README.md"
_ENV_NAME = re.compile(r"""["']((?:AWS|STOCK_ALERT|_STOCK_ALERT)_[A-Z0-9_]*[A-Z0-9])["']""")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _generator() -> object:
    sys.path.insert(0, str(DOCS))
    try:
        import generate
    finally:
        sys.path.remove(str(DOCS))
    return generate


def _generated() -> list[str]:
    return sorted(str(p.relative_to(DOCS)) for p in (DOCS / "reference").glob("*.md")
                  if p.read_text(encoding="utf-8").startswith("<!-- Generated"))


def test_every_generated_page_has_its_generator() -> None:
    assert _generated() == sorted(_generator().PAGES)  # type: ignore[attr-defined]


@pytest.mark.parametrize("page", _generated())
def test_generated_page_is_current(page: str) -> None:
    """Regenerate the reference page from the code and compare: a change to the CLI, the
    config model, the permissions or the JSON documents without `python docs/generate.py`
    fails here."""
    generate = _generator()
    text = generate.PAGES[page]()  # type: ignore[attr-defined]
    assert generate.stale({page: text}) == [], (  # type: ignore[attr-defined]
        f"docs/{page} is stale: run python docs/generate.py")


def test_a_stale_page_is_found() -> None:
    """The comparison above can fail: a page that differs from the code is named."""
    generate = _generator()
    page = "reference/exit-codes.md"
    text = (DOCS / page).read_text(encoding="utf-8")
    assert generate.stale({page: text}) == []  # type: ignore[attr-defined]
    assert generate.stale({page: text.replace("`2`", "`7`")}) == [page]  # type: ignore[attr-defined]


def _names_in_code() -> set[str]:
    names: set[str] = set()
    for folder in ("provision", "function_code"):
        for path in (REPO / folder).rglob("*.py"):
            names |= set(_ENV_NAME.findall(path.read_text(encoding="utf-8")))
    return names


def test_every_environment_variable_the_code_names_is_documented() -> None:
    names = _names_in_code()
    assert {"STOCK_ALERT_TIMEOUT_S", "AWS_ENDPOINT_URL", "STOCK_ALERT_STOCKS"} <= names
    page = (DOCS / "reference" / "environment.md").read_text(encoding="utf-8")
    assert sorted(n for n in names if f"`{n}" not in page and f"{n}`" not in page) == []


def _headings(page: Path) -> set[str]:
    """The anchors a Markdown page offers, as GitHub and MkDocs make them."""
    found = set()
    for line in page.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"#+ (.*?)(?: \{#([\w-]+)\})?$", line)
        if heading:
            text = re.sub(r"[^\w\- ]", "", heading.group(1).lower()).strip()
            found |= {heading.group(2) or "", re.sub(r"[ ]+", "-", text)}
        found |= set(re.findall(r'id="([\w-]+)"', line))
    return found - {""}


def test_readme_is_short_and_every_link_works() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    links = [link for link in _LINK.findall(text) if not link.startswith(("http://",
                                                                         "https://"))]
    assert len(links) >= 10  # it points into the site
    broken = []
    for link in links:
        path, _, anchor = link.partition("#")
        target = REPO / path if path else README
        if not target.exists() or (anchor and target.suffix == ".md"
                                   and anchor not in _headings(target)):
            broken.append(link)
    assert broken == []


def test_readme_keeps_the_two_fresh_machine_commands() -> None:
    """The demo and test commands, exactly as CI runs the second (.ci/run)."""
    text = README.read_text(encoding="utf-8")
    demo = ("python3 -m venv .venv && .venv/bin/pip install -q -e '.[emulator]' && "
            ".venv/bin/stock-alert demo")
    tests = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/pytest"
    assert demo in text and tests in text
    assert tests in (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert demo in (DOCS / "getting-started" / "demo.md").read_text(encoding="utf-8")
    assert "mkdocs serve" in text and "pip install -e '.[docs]'" in text


def test_readme_walkthrough_is_the_tested_one() -> None:
    """The README's five minutes are the emulator page's commands, which
    tests/test_docs_getting_started.py runs: same commands, same config, same order."""
    from tests.support.doc_examples import steps

    text = README.read_text(encoding="utf-8")
    block = text.split("## Five minutes on the emulator", 1)[1].split("```sh\n", 1)[1]
    block = block.split("\n```", 1)[0].replace("\\\n", "")
    readme = [" ".join(line.split("#", 1)[0].split()) if not line.startswith("#") else ""
              for line in block.splitlines()]
    page = []
    for step in steps(DOCS / "getting-started" / "emulator.md"):
        page += [" ".join(step.command.split())] + step.body
        page += ["EOF"] if step.body else []
    assert [line for line in readme if line] == page


def _nav() -> list[tuple[str, str]]:
    """(title path, page) for every page in mkdocs.yml's navigation."""
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    out: list[tuple[str, str]] = []

    def walk(items: list[object], trail: str) -> None:
        for item in items:
            assert isinstance(item, dict)
            for title, value in item.items():
                if isinstance(value, list):
                    walk(value, f"{trail}{title} > ")
                else:
                    out.append((f"{trail}{title}", str(value)))
    walk(config["nav"], "")
    return out


@pytest.mark.parametrize(("question", "title_words", "answer"), [
    ("what does `absent` mean", "absent", "There is nothing to do"),
    ("why does the alarm need a customer key", "customer key",
     "CloudWatch cannot publish to a topic encrypted with the AWS-managed key"),
    ("what permissions do I need", "permissions you need", "What the identity that runs"),
])
def test_questions_are_answered_from_the_navigation(question: str, title_words: str,
                                                    answer: str) -> None:
    """A nav title names the question's subject, its page answers it, and the FAQ (in the
    navigation) asks it as a heading."""
    pages = [page for title, page in _nav() if title_words in title.lower()]
    assert pages, f"no navigation title mentions {title_words!r}"
    assert any(answer in (DOCS / page).read_text(encoding="utf-8") for page in pages)
    assert ("FAQ", "faq.md") in _nav()
    faq = (DOCS / "faq.md").read_text(encoding="utf-8").lower()
    assert f"## {question.lower()}?" in faq


def test_the_function_kind_is_documented_as_the_code_says() -> None:
    """The contributing guide quotes the function's `after`: it once drifted from the code."""
    from provision.kinds import BY_NAME

    page = (DOCS / "contributing" / "adding-a-kind.md").read_text(encoding="utf-8")
    assert f"the function has `after = {BY_NAME['function'].after!r}`".replace("'", '"') \
        in page.replace("'", '"')


def test_what_it_creates_names_every_kind() -> None:
    """The resources page names what each kind makes, as the code names it for a stack NAME in
    Region REGION: a new kind without its row (the notifier and the scheduler's role once
    lacked theirs) fails here."""
    from provision.core.stack import Stack
    from provision.kinds import KINDS

    stack = Stack.bare("NAME", "123456789012", "REGION")
    assert stack is not None
    page = (DOCS / "reference" / "resources.md").read_text(encoding="utf-8")
    named = {kind.name: kind.physical_name(stack) for kind in KINDS}
    assert named["notifier"] == "NAME_notify"  # the names are the code's, not assumed
    assert sorted(k for k, name in named.items() if f"`{name}`" not in page) == []
