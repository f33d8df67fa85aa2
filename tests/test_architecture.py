"""The shape of the package: typed kind contract enforced by mypy, layering, small files."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from provision.resources import BY_NAME, KINDS
from provision.resources.contract import Kind
from tests.support.configs import REPO

PACKAGE = REPO / "provision"


def _modules() -> dict[str, Path]:
    return {".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): p
            for p in PACKAGE.rglob("*.py")}


def _imports(path: Path, top_level_only: bool) -> set[str]:
    """Modules of this package that `path` imports (at module level, or anywhere)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m.startswith("provision")}


def test_registry_holds_every_kind_once_in_creation_order() -> None:
    # security-group (issue 12): before the function, whose VpcConfig names it; the errors
    # alarm (issue 9) watches the function and notifies the topic; the on-failure destination
    # (issue 21) sits on the function and sends to the topic
    assert [k.name for k in KINDS] == ["role", "log-group", "topic", "security-group",
                                       "function", "schedule", "alarm", "on-failure"]
    assert all(isinstance(k, Kind) for k in KINDS) and set(BY_NAME) == {k.name for k in KINDS}


def test_no_import_cycles_at_module_level() -> None:
    modules = _modules()
    graph = {name: {m for m in _imports(path, True) if m in modules and m != name}
             for name, path in modules.items()}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        assert name not in visiting, f"import cycle: {' -> '.join(visiting + [name])}"
        if name in done:
            return
        visiting.append(name)
        for dep in graph[name]:
            if not name.startswith(dep + "."):  # a package's own __init__ is not a cycle
                visit(dep)
        visiting.pop()
        done.add(name)

    for module in graph:
        visit(module)


def test_resources_never_import_the_face() -> None:
    for name, path in _modules().items():
        if name.startswith("provision.resources"):
            used = _imports(path, top_level_only=False)
            assert not {m for m in used if m.startswith(("provision.cli", "provision.render"))}


def test_no_module_over_400_lines() -> None:
    """The quality bar's ~400 lines. Issue 19: split files by concept, not by a line cap, and
    one kind is one module knowing everything about its resource type (its rendering, the
    operator's needs, its audit rules), which takes the larger kinds past 300."""
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines())
             for name, path in _modules().items()}
    assert {n: s for n, s in sizes.items() if s > 400} == {}


@pytest.mark.timeout(240)
@pytest.mark.process
def test_mypy_rejects_a_kind_that_breaks_the_contract(tmp_path: Path) -> None:
    """A deliberately wrong signature in one kind fails `mypy provision`."""
    copy = tmp_path / "provision"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    module = copy / "resources" / "log_group.py"
    text = module.read_text(encoding="utf-8")
    wrong = text.replace("    def delete(self, aws: Aws, wanted: WantedLogGroup, "
                         "observed: ObservedLogGroup) -> None:",
                         "    def delete(self, aws: Aws, wanted: WantedLogGroup) -> None:")
    assert wrong != text
    module.write_text(wrong, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(REPO / "pyproject.toml"),
         "--cache-dir", str(tmp_path / "cache"), "provision"],
        cwd=tmp_path, capture_output=True, text=True, timeout=230, check=False)
    assert result.returncode == 1, result.stdout
    assert "log_group.py" in result.stdout
    assert 'Signature of "delete" incompatible with supertype' in result.stdout
