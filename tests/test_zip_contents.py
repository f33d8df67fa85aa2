"""Pure: the zip holds exactly the import closure of handler.py and notifier.py (the on-failure
notifier runs the same zip, issue 21), and is built before any AWS call.

Before: every *.py of function_code/ was zipped, so `ln -s /etc/passwd function_code/evil.py`
shipped /etc/passwd, scratch_notes.py and .hidden.py were shipped, and an editor's dangling lock
file (.#handler.py) made `plan` fail with "Unexpected error: FileNotFoundError" after sts
GetCallerIdentity.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from provision.core import package
from provision.core.target import Options, prepare
from provision.errors import InputError
from tests.support.configs import MINIMAL, write_config


@pytest.fixture()
def code(tmp_path: Path) -> Path:
    copy = tmp_path / "code"
    shutil.copytree(package.code_dir(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def test_clean_copy_ships_the_same_modules_as_installed(code: Path) -> None:
    assert package.build(code).zip_bytes == package.build().zip_bytes
    assert "handler.py" in package.build(code).names()


def test_strays_symlinks_and_editor_files_are_not_shipped(code: Path, tmp_path: Path) -> None:
    before = package.build(code).zip_bytes
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0\n")
    (code / "evil.py").symlink_to(secret)  # leaves the folder
    (code / "scratch_notes.py").write_text("print('not for Lambda')\n")
    (code / ".hidden.py").write_text("x = 1\n")
    (code / ".#handler.py").symlink_to("user@host.1234:1700000000")  # emacs lock: dangling
    (code / "handler.py~").write_text("backup\n")
    (code / "#handler.py#").write_text("autosave\n")
    (code / "handler.py.swp").write_bytes(b"\x00vim")
    assert package.build(code).zip_bytes == before
    assert "evil.py" not in package.build(code).names()


def test_a_module_imported_transitively_is_shipped(code: Path) -> None:
    # handler -> rules -> helpers (a new module, imported inside a function) -> more_helpers
    (code / "helpers.py").write_text("import more_helpers\n\nVALUE = more_helpers.X\n")
    (code / "more_helpers.py").write_text("X = 1\n")
    (code / "unused.py").write_text("Y = 2\n")
    _append(code / "rules.py",
            "\n\ndef _late():\n    from helpers import VALUE\n    return VALUE\n")
    names = package.build(code).names()
    assert {"helpers.py", "more_helpers.py"} <= set(names)
    assert "unused.py" not in names
    assert names == sorted(names)


def test_both_entry_points_and_what_only_the_notifier_imports_are_shipped(code: Path) -> None:
    """The notifier (notifier.handler) runs the stack's one zip: it, and a module only it
    imports, are shipped although handler.py imports neither; without it nothing is built."""
    (code / "only_notifier.py").write_text("W = 4\n")
    _append(code / "notifier.py", "\nimport only_notifier  # noqa\n")
    names = package.build(code).names()
    assert {"handler.py", "notifier.py", "only_notifier.py", "messages.py"} <= set(names)
    (code / "notifier.py").unlink()
    with pytest.raises(InputError, match=r"notifier\.py is missing"):
        package.build(code)


def test_a_symlink_inside_the_folder_is_followed(code: Path) -> None:
    (code / "real_helper.py").write_text("Z = 3\n")
    (code / "alias_helper.py").symlink_to("real_helper.py")
    _append(code / "handler.py", "\nimport alias_helper  # noqa\n")
    archive = package.build(code)
    assert "alias_helper.py" in archive.names()
    assert "real_helper.py" not in archive.names()


def test_an_imported_symlink_leaving_the_folder_is_refused(code: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("SECRET = 1\n")
    (code / "evil.py").symlink_to(outside)
    _append(code / "handler.py", "\nimport evil  # noqa\n")
    with pytest.raises(InputError) as caught:
        package.build(code)
    assert caught.value.exit_code == 2
    assert "evil.py" in str(caught.value) and "outside" in str(caught.value)


def test_syntax_error_and_missing_handler_are_input_errors(code: Path) -> None:
    (code / "broken.py").write_text("def (:\n")
    _append(code / "handler.py", "\nimport broken  # noqa\n")
    with pytest.raises(InputError, match=r"broken\.py does not parse \(line 1\)"):
        package.build(code)
    (code / "handler.py").unlink()
    with pytest.raises(InputError, match=r"handler\.py is missing"):
        package.build(code)


def test_prepare_builds_and_checks_the_zip_before_any_client_exists(
        code: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_config(tmp_path, MINIMAL)
    monkeypatch.setattr(package, "code_dir", lambda: code)
    target = prepare(Options(config))
    assert target.code.zip_bytes == package.build(code).zip_bytes
    assert target.aws._session is None  # no botocore session yet: no AWS call was possible

    (code / "evil.py").symlink_to(os.devnull)
    _append(code / "handler.py", "\nimport evil  # noqa\n")
    with pytest.raises(InputError, match="evil.py is a symlink"):
        prepare(Options(config))
