"""The shape of the package: typed kind contract enforced by mypy, layering, small files."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from provision.kinds import BY_NAME, KINDS
from provision.kinds.contract import Kind
from tests.support.configs import REPO

PACKAGE = REPO / "provision"


def _modules() -> dict[str, Path]:
    return {".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): p
            for p in PACKAGE.rglob("*.py")}


def _imports(path: Path, top_level_only: bool) -> set[str]:
    """Modules of this package that `path` imports (at module level, or anywhere). Imports
    under `if TYPE_CHECKING:` are for the type checker only: they never run."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            if not top_level_only:
                visit([child for child in ast.iter_child_nodes(node)
                       if isinstance(child, ast.stmt)])

    visit(tree.body)
    return {m for m in found if m.startswith("provision")}


def test_registry_holds_every_kind_once_in_creation_order() -> None:
    # security-group (issue 12): before the function, whose VpcConfig names it; the errors
    # alarm (issue 9) watches the function and notifies the topic; the notifier (issue 21)
    # words failed runs for the topic, and the on-failure destination sits on the function
    # and sends them to the notifier; the schedules last, so no run starts before its failure
    # can be told; the market-time schedule (issue 23) invokes the function with the
    # scheduler's role, made first
    assert [k.name for k in KINDS] == ["role", "scheduler-role", "log-group", "topic",
                                       "security-group", "function", "alarm", "notifier",
                                       "on-failure", "schedule", "market-schedule"]
    assert all(isinstance(k, Kind) for k in KINDS) and set(BY_NAME) == {k.name for k in KINDS}


@pytest.mark.parametrize("top_level_only", [True, False], ids=["module-level", "anywhere"])
def test_no_import_cycles(top_level_only: bool) -> None:
    """Issue 19: no cycle, counting the imports inside functions too (the old
    policies -> security.deployer -> policies cycle hid in one)."""
    modules = _modules()
    graph = {name: {m for m in _imports(path, top_level_only) if m in modules and m != name}
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


def test_the_top_of_the_package_shows_the_architecture() -> None:
    """Issue 19: a few packages (aws, core, kinds, features, output, cli, config, local) and at
    most 12 modules at the top, instead of 21 flat ones mixing plumbing, engine and features."""
    top = sorted(p.name for p in PACKAGE.iterdir()
                 if p.name != "__pycache__" and (p.suffix == ".py" or (p / "__init__.py").exists()))
    assert len(top) <= 12, top
    assert {"aws", "core", "kinds", "features", "cli"} <= set(top)


# (package, what it must never import, counting imports inside functions): each layer uses
# only the layers below it. core's engine and pipelines drive the kinds, so kinds may use
# core's vocabulary (stack, plan, policies, findings, needs) but never the engine.
LAYERS = [
    ("provision.aws.client", ("provision.core", "provision.kinds", "provision.features",
                       "provision.output", "provision.cli", "provision.config")),
    ("provision.config", ("provision.aws.client", "provision.core", "provision.kinds",
                          "provision.features", "provision.output", "provision.cli")),
    ("provision.kinds", ("provision.core.engine", "provision.core.pipelines",
                         "provision.features", "provision.output", "provision.cli")),
    ("provision.core", ("provision.features", "provision.output", "provision.cli")),
    ("provision.features", ("provision.cli",)),
    ("provision.output", ("provision.cli",)),
]


@pytest.mark.parametrize(("package", "forbidden"), LAYERS, ids=[p for p, _ in LAYERS])
def test_each_layer_uses_only_the_layers_below(package: str, forbidden: tuple[str, ...]) -> None:
    wrong = {name: sorted(m for m in _imports(path, top_level_only=False)
                          if m.startswith(forbidden))
             for name, path in _modules().items() if name.startswith(package)}
    assert {n: w for n, w in wrong.items() if w} == {}


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
    module = copy / "kinds" / "log_group.py"
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


# -- no kind name outside its kind (issue 19) ---------------------------------------------------
KIND_NAMES = frozenset(kind.name for kind in KINDS)
# What holds kinds or values by kind name: Observation.found/.wanted, the registry, maps built
# from it (by_kind, kinds).
KIND_MAPS = frozenset({"found", "wanted", "by_name", "by_kind", "kinds"})
# What names a kind: Action.kind, Kind.name / Kind.host, and variables called kind, kind_name...
KIND_REFS = frozenset({"kind", "name", "host", "kind_name"})


def _identifier(node: ast.AST) -> str:
    """The last name in `a.b.c` or `c` (lowercase); '' for anything else."""
    if isinstance(node, ast.Attribute):
        return node.attr.lower()
    return node.id.lower() if isinstance(node, ast.Name) else ""


def _kind_names(node: ast.AST) -> set[str]:
    """The kind names a literal holds: a string constant, or a tuple/list/set of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value} & KIND_NAMES
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return {n for element in node.elts for n in _kind_names(element)}
    return set()


def _names_a_kind(node: ast.AST) -> bool:
    name = _identifier(node)
    return name in KIND_REFS or name.endswith("_kind") or name.startswith("kind_")


def _is_kind_map(node: ast.AST) -> bool:
    name = _identifier(node)
    return name in KIND_MAPS or name.endswith("_by_kind")


def kind_name_uses(source: str) -> list[str]:
    """Where `source` uses a kind's name as a kind: `action.kind == "topic"`,
    `kind.name in ("role", "alarm")`, `found["role"]`, `observation.wanted.get("alarm")`,
    `{"role": ..., "topic": ..., "rule": ...}` (most keys kind names), `Action(kind="x")`.

    A config key that happens to be a kind's word is not a kind name, and is told apart by
    what surrounds it: `key == "schedule"` compares with a variable that is not a kind (only
    `.kind`, `.name`, `.host` and variables named kind/kind_*/*_kind are); `props["schedule"]`
    and `params.get("function")` index a map that is not a kind map (only found, wanted,
    by_name, by_kind, kinds and *_by_kind are); a dict is a table of kinds when more than half
    of its keys are kind names, so a config's `{"schedule": ..., "function": ..., "name": ...,
    "stocks": ...}` is not (a dict whose only key is a kind's word is taken for one)."""
    out = []
    for node in ast.walk(ast.parse(source)):
        found: set[str] = set()
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_names_a_kind(o) for o in operands):
                found = {n for o in operands for n in _kind_names(o)}
        elif isinstance(node, ast.Subscript) and _is_kind_map(node.value):
            found = _kind_names(node.slice)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("get", "pop", "setdefault") and node.args
              and _is_kind_map(node.func.value)):
            found = _kind_names(node.args[0])
        elif isinstance(node, ast.Dict):
            keys = [k for k in node.keys if isinstance(k, ast.Constant)]
            names = [n for k in keys for n in _kind_names(k)]
            found = set(names) if len(names) * 2 > len(keys) or len(names) == 1 == len(
                keys) else set()
        elif isinstance(node, ast.keyword) and node.arg == "kind":
            found = _kind_names(node.value)
        if found:
            out.append(f"line {getattr(node, 'lineno', '?')}: {ast.unparse(node)[:80]}")
    return out


def test_no_kind_name_is_used_outside_its_kind() -> None:
    """A kind is the one place that knows its resource type: outside provision/kinds/, code
    refers to a kind through the registry or its class (`Topic.name`), never by its name as
    a dict key or in a comparison."""
    used = {str(path.relative_to(REPO)): found for path in PACKAGE.rglob("*.py")
            if "kinds" not in path.relative_to(PACKAGE).parts
            and (found := kind_name_uses(path.read_text(encoding="utf-8")))}
    assert used == {}


def test_the_kind_name_check_tells_kinds_from_config_keys() -> None:
    """The check above can fail, and does not mistake a config key for a kind."""
    kinds = ['action.kind == "topic"', 'k.name in ("role", "alarm")', 'found["role"]',
             'observation.wanted.get("alarm")', 'x = {"role": 1, "topic": 2}',
             'Action(kind="schedule", name="x")', 'plan.by_kind["on-failure"]',
             '"security-group" != kind',
             'x = {"role": r, "function": f, "log-group": g, "topic": t, "rule": u}']
    config = ['key == "schedule"', 'props["schedule"]["pattern"] = 1',
              'x = {"schedule": 1, "mode": 2}',
              'x = {"function": 1, "schedule": 2, "name": 3, "stocks": 4}',
              'params.get("function") != "GLOBAL_QUOTE"',
              'x = f"{name} function"', 'Topic.name == kind', 'found[Topic.name]']
    assert [bool(kind_name_uses(code)) for code in kinds] == [True] * len(kinds)
    assert [kind_name_uses(code) for code in config] == [[]] * len(config)
