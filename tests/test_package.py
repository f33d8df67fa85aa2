"""Pure: the function zip is byte-for-byte reproducible and holds only the flat handler modules."""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

from provision.core import package


def test_zip_is_reproducible_across_copies_and_mtimes(tmp_path: Path) -> None:
    copy = tmp_path / "code"
    shutil.copytree(package.code_dir(), copy)
    for path in copy.glob("*.py"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
        path.chmod(0o600)
    assert package.build(copy).zip_bytes == package.build().zip_bytes
    assert package.build().sha256 == package.build().sha256


def test_zip_content_is_flat_sorted_and_fixed() -> None:
    archive = zipfile.ZipFile(io.BytesIO(package.build().zip_bytes))
    names = archive.namelist()
    assert {"handler.py", "notifier.py"} <= set(names)  # both entry points (issue 21)
    assert names == sorted(names)
    assert "__init__.py" not in names
    assert all("/" not in n for n in names)
    for info in archive.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == 0o644


def test_code_change_changes_sha(tmp_path: Path) -> None:
    copy = tmp_path / "code"
    shutil.copytree(package.code_dir(), copy)
    before = package.build(copy).sha256
    (copy / "handler.py").write_text((copy / "handler.py").read_text() + "\n# changed\n")
    assert package.build(copy).sha256 != before


def test_stray_files_are_not_shipped(tmp_path: Path) -> None:
    copy = tmp_path / "code"
    shutil.copytree(package.code_dir(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = package.build(copy).zip_bytes
    (copy / "notes.txt").write_text("x")
    (copy / "__pycache__").mkdir()
    (copy / "__pycache__" / "handler.cpython-311.pyc").write_bytes(b"x")
    assert package.build(copy).zip_bytes == before
