"""The editable install compiles the package's bytecode (issue 22): with PYTHONDONTWRITEBYTECODE
set, as on these machines and in CI, nothing else ever writes it, and every command compiled
some 70 modules again at start-up."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support.configs import REPO

pytestmark = pytest.mark.process


def test_pyproject_builds_with_the_backend_that_compiles() -> None:
    build = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]
    assert (build["build-backend"], build["backend-path"]) == ("build_backend", [".ci"])
    assert "include .ci/build_backend.py" in (REPO / "MANIFEST.in").read_text(encoding="utf-8")


def test_the_editable_build_writes_every_modules_bytecode_despite_dontwritebytecode(
        tmp_path: Path) -> None:
    for folder in ("provision", "function_code", ".ci"):
        shutil.copytree(REPO / folder, tmp_path / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    script = ("import sys; from pathlib import Path; sys.path.insert(0, '.ci'); "
              "import build_backend; sys.exit(0 if build_backend.compile_sources(Path('.')) "
              "else 1)")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, check=True,
                   timeout=120)
    sources = [p for folder in ("provision", "function_code")
               for p in (tmp_path / folder).rglob("*.py")]
    assert len(sources) > 50
    missing = [p for p in sources if not Path(importlib.util.cache_from_source(str(p))).exists()]
    assert missing == []
