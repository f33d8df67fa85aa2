"""The project's build backend: setuptools', plus compiled bytecode for an editable install.

`pip install -e .` (the README's and .ci/run's install) leaves provision/ and function_code/
where they are, and pip compiles only the files it copies into site-packages. Where
PYTHONDONTWRITEBYTECODE is set (these machines, CI), Python then never writes the .pyc files
either, so every command compiled some 70 modules again: about 85 ms of an unchanged `up`
and 12 ms of `--help` (bench/RESULTS.md). The editable build compiles them once, as pip does
for an ordinary install. Python still checks each .pyc against its source, so an edited
module is compiled again in memory (not written) until the next install, never run stale.
"""

from __future__ import annotations

import compileall
from pathlib import Path
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403 - every other hook is setuptools' own

ROOT = Path(__file__).resolve().parent.parent
COMPILED = ("provision", "function_code")


def build_editable(wheel_directory: str, config_settings: dict[str, Any] | None = None,
                   metadata_directory: str | None = None) -> str:
    wheel = _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
    compile_sources()
    return wheel


def compile_sources(root: Path = ROOT) -> bool:
    """Write the .pyc of every module of the package (PYTHONDONTWRITEBYTECODE or not)."""
    return all(compileall.compile_dir(root / folder, quiet=1) for folder in COMPILED)
