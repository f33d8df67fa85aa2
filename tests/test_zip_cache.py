"""The function zip's closure and zip, kept in the cache folder by content (issue 22: parsing
function_code/ and compressing it cost ~50 ms of every run's CPU, the largest share of an
unchanged `up` the tool could remove).

A new process is simulated by clearing the in-process memory (the lru caches); a run that
finds everything in the folder neither parses (ast.parse fails here if called) nor compresses.
"""

from __future__ import annotations

import ast
import io
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provision.cache import CACHE_ENV
from provision.core import package


@pytest.fixture()
def code(tmp_path: Path) -> Path:
    copy = tmp_path / "code"
    shutil.copytree(package.code_dir(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


@pytest.fixture()
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    new_process()
    yield tmp_path / "cache"
    new_process()


def new_process() -> None:
    package._imports.cache_clear()  # noqa: SLF001
    package._zipped.cache_clear()  # noqa: SLF001


def _no_work(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    done: list[str] = []

    def parse(*_: Any, **__: Any) -> Any:
        done.append("parse")
        raise AssertionError("parsed")

    real = zipfile.ZipFile.writestr

    def writestr(self: Any, *args: Any, **kwargs: Any) -> Any:
        done.append("compress")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", parse)
    monkeypatch.setattr(zipfile.ZipFile, "writestr", writestr)
    return done


def test_a_second_process_neither_parses_nor_compresses(
        code: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = package.build(code)
    assert sorted(p.suffix for p in (folder / "function-code" / "v1").iterdir()).count(".zip") == 1
    new_process()
    done = _no_work(monkeypatch)
    again = package.build(code)
    assert done == [] and again.zip_bytes == first.zip_bytes


def test_an_edited_module_is_shipped_at_once(
        code: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = package.build(code)
    new_process()
    (code / "handler.py").write_text((code / "handler.py").read_text() + "\nEDITED = 1\n")
    after = package.build(code)
    assert after.sha256 != before.sha256
    assert b"EDITED = 1" in zipfile.ZipFile(io.BytesIO(after.zip_bytes)).read(
        "handler.py")


def test_a_new_import_in_an_edited_module_is_followed(code: Path, folder: Path) -> None:
    package.build(code)
    new_process()
    (code / "extra_helper.py").write_text("VALUE = 1\n")
    assert "extra_helper.py" not in package.build(code).names()
    (code / "handler.py").write_text("import extra_helper\n" + (code / "handler.py").read_text())
    assert "extra_helper.py" in package.build(code).names()


@pytest.mark.parametrize("damage", [b"\xff\xfe not what was written", b"json\nsys\n"],
                         ids=["unreadable", "a plausible list"])
def test_a_damaged_copy_is_made_again(code: Path, folder: Path, damage: bytes) -> None:
    """A list of imports that reads well but is not what was written (here: no local module)
    would leave modules out of the zip; it is parsed again instead."""
    first = package.build(code)
    for copy in (folder / "function-code" / "v1").iterdir():
        copy.write_bytes(damage)
    new_process()
    assert package.build(code).zip_bytes == first.zip_bytes
    new_process()
    assert package.build(code).zip_bytes == first.zip_bytes  # and written again whole


def test_an_unwritable_folder_only_costs_time(
        code: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(CACHE_ENV, str(blocker))
    new_process()
    assert "handler.py" in package.build(code).names()


def test_turned_off_nothing_is_written(
        code: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    new_process()
    package.build(code)
    new_process()
    done = _no_work(monkeypatch)
    with pytest.raises(AssertionError, match="parsed"):
        package.build(code)
    assert done == ["parse"] and not (tmp_path / "xdg").exists()
