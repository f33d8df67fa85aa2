"""Issue 21, item 10: `init` writes only regular files, and nothing when any part would fail.

(/dev/null is only tried without --force here: with the fix reverted, --force would replace it
on a machine where the tests run as root.)"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from tests.support.fixtures import cli_environment, run_cli

ARGS = ["--no-input", "--stock", "TSLA"]


def _init(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(["init", *args, *ARGS], cli_environment("http://127.0.0.1:9"), folder)


def _refused(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Unexpected error" not in result.stderr and "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, (fragment, result.stderr)
    assert "Nothing was written." in result.stderr


def test_a_fifo_is_never_replaced_even_with_force(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "c.yaml")
    _refused(_init(tmp_path, "c.yaml", "--force"), "c.yaml is a named pipe (FIFO)")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "c.yaml").st_mode)
    assert not (tmp_path / "stock-alert.schema.json").exists()


def test_a_device_is_refused_as_a_device(tmp_path: Path) -> None:
    _refused(_init(tmp_path, "/dev/null"), "/dev/null is a character device",
             "never replaces anything else, even with --force")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_dangling_symlink_is_not_followed_or_replaced(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").symlink_to(tmp_path / "elsewhere" / "x.yaml")
    for args in (("c.yaml",), ("c.yaml", "--force")):
        _refused(_init(tmp_path, *args), "c.yaml is a symbolic link")
        assert (tmp_path / "c.yaml").is_symlink()
    assert not (tmp_path / "elsewhere").exists()


def test_a_directory_is_refused_and_so_is_a_schema_path_that_is_one(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    _refused(_init(tmp_path, "d", "--force"), "d is a directory")
    (tmp_path / "stock-alert.schema.json").mkdir()
    _refused(_init(tmp_path, "c.yaml", "--force"), "stock-alert.schema.json is a directory")
    assert not (tmp_path / "c.yaml").exists()  # the config was not written first


def test_an_unwritable_place_writes_nothing(tmp_path: Path) -> None:
    _refused(_init(tmp_path, "/proc/c.yaml"), "cannot write /proc/")
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "stock-alert.schema.json").write_text("{}")  # differs: would be replaced
    os.chmod(folder, 0o500)
    try:
        if os.access(folder, os.W_OK):  # root ignores the mode: /proc stands for it above
            return
        _refused(_init(tmp_path, "ro/c.yaml", "--force"), "cannot write ro/")
        assert sorted(p.name for p in folder.iterdir()) == ["stock-alert.schema.json"]
    finally:
        os.chmod(folder, 0o700)


def test_an_unchanged_schema_is_not_said_to_be_written(tmp_path: Path) -> None:
    assert _init(tmp_path, "c.yaml").returncode == 0
    again = _init(tmp_path, "c.yaml", "--force")
    assert again.returncode == 0, again.stderr
    assert "Wrote c.yaml (stock-alert.schema.json was already up to date)." in again.stderr
