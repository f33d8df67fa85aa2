"""How `init` writes its files: only regular files, all of them or none.

- Every destination is checked before anything is written: a directory, a device (/dev/null),
  a FIFO, a socket or a symbolic link (dangling or not) is refused, with or without --force;
  an existing regular file is replaced only with --force.
- Each file is first written in full to a temporary file next to it (where a read-only
  filesystem, a missing permission or a full disk shows), and only when every one was written
  are they renamed into place. A rename within one folder is atomic: each destination holds its
  old content or its new one, never half.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from provision.errors import InputError, StockAlertError

_NOT_REGULAR = ((stat.S_ISDIR, "a directory"), (stat.S_ISLNK, "a symbolic link"),
                (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
                (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
NOTHING = "Nothing was written."


def check_destination(path: Path, force: bool, replaces: str = "a config") -> bool:
    """Whether `path` exists (a regular file that --force lets init replace); InputError for
    anything init must not write to. Symbolic links are not followed."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        _check_folder(path.parent)
        return False
    except OSError as exc:
        raise InputError(f"cannot use {path}: {exc.strerror or exc}.", hint=NOTHING) from None
    kind = next((name for test, name in _NOT_REGULAR if test(info.st_mode)), None)
    if kind is not None:
        raise InputError(f"{path} is {kind}; 'init' writes only regular files, and never "
                         "replaces anything else, even with --force.",
                         hint=f"Give a path for a new file, e.g. ./config.yaml. {NOTHING}")
    if not force:
        raise InputError(f"{path} already exists; 'init' never replaces {replaces}.",
                         hint=f"Pass --force to replace it, or give another PATH. {NOTHING}")
    return True


def _check_folder(folder: Path) -> None:
    """The nearest existing ancestor must be a directory (init creates the missing ones)."""
    for place in (folder, *folder.parents):
        try:
            info = os.stat(place)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise InputError(f"cannot use the folder {place}: {exc.strerror or exc}.",
                             hint=NOTHING) from None
        if not stat.S_ISDIR(info.st_mode):
            raise InputError(f"{place} is not a directory, so {folder} cannot be made.",
                             hint=f"Give a path inside a folder. {NOTHING}")
        return


def write_all(files: dict[Path, str]) -> None:
    """Write every file, or (when any cannot be written) none: temporary files first, then
    one rename each."""
    staged: list[tuple[str, Path]] = []
    for path, text in files.items():
        try:
            staged.append((_stage(path, text), path))
        except OSError as exc:
            for tmp, _ in staged:
                Path(tmp).unlink(missing_ok=True)
            raise InputError(f"cannot write {path}: {exc.strerror or exc}.",
                             hint=f"Choose a folder you may write to. {NOTHING}") from None
    done: list[Path] = []
    for tmp, path in staged:
        try:
            os.replace(tmp, path)
        except OSError as exc:
            for left, _ in staged[len(done):]:
                Path(left).unlink(missing_ok=True)
            written = f"; {', '.join(map(str, done))} was written" if done else \
                "; nothing was replaced"
            raise StockAlertError(f"cannot write {path}: {exc.strerror or exc}{written}.",
                                  hint="Free some space or choose another folder, then run "
                                  "'init' again.") from None
        done.append(path)


def _stage(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, _mode(path))
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def _mode(path: Path) -> int:
    """The replaced file's mode, else what open() would give (mkstemp's 0600 is too private)."""
    try:
        return os.lstat(path).st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
