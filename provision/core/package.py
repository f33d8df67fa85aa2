"""A byte-for-byte reproducible zip of the Lambda code and its SHA-256 as Lambda reports it.

What goes in: exactly the import closure of the two entry points, handler.py (the stack's
function) and notifier.py (its on-failure notifier, kinds/notifier.py, which runs the same zip),
over the modules of function_code/, found by parsing imports with ast (nothing is imported or
run). Why a closure rather than a list or a glob: a glob shipped whatever lay in the folder
(scratch_notes.py, .hidden.py, a symlink to /etc/passwd) and choked on an editor's dangling lock
file; a hand-kept list goes stale when someone adds a module. The closure follows the code: a
new module is shipped as soon as an entry point (or a module it imports) imports it, and
nothing else is.

Rules: a candidate module is a file named like a Python identifier + ".py" (so dotfiles,
".#handler.py" lock files, "x.py~" and "#x.py#" are never candidates); a symlink is followed
only when it resolves to a regular file inside function_code/; imports inside functions count;
dynamic imports (importlib.import_module) are not seen and must not be used by the handler.
"""

from __future__ import annotations

import ast
import base64
import functools
import hashlib
import importlib.util
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from provision.errors import InputError

ENTRIES = ("handler", "notifier")  # the handler modules: handler.handler, notifier.handler
MAX_ZIP_BYTES = 50 * 1024 * 1024  # Lambda's limit for a zip uploaded directly
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_MODE = 0o644 << 16
_MODULE_FILE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\.py\Z", re.ASCII)
_HINT = "Fix the function code in function_code/ (or reinstall stock-alert), then run again."


@dataclass(frozen=True)
class CodePackage:
    zip_bytes: bytes

    @property
    def sha256(self) -> str:
        """Base64 of the SHA-256 digest: the form of Lambda's CodeSha256."""
        return base64.b64encode(hashlib.sha256(self.zip_bytes).digest()).decode()

    @property
    def size(self) -> int:
        return len(self.zip_bytes)

    def names(self) -> list[str]:
        return zipfile.ZipFile(io.BytesIO(self.zip_bytes)).namelist()


def code_dir() -> Path:
    """The function's source: function_code/ of the repo, installed as provision.function_code."""
    spec = importlib.util.find_spec("provision.function_code")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("the function code (provision.function_code) is not installed.",
                         hint="Reinstall stock-alert (pip install stock-alert).")
    return Path(next(iter(spec.submodule_search_locations)))


def _candidates(folder: Path) -> dict[str, Path]:
    """Module name -> file, for the names that could be imported from a flat Lambda zip."""
    return {p.name[:-3]: p for p in folder.iterdir()
            if _MODULE_FILE.match(p.name) and p.name != "__init__.py"}


def _checked(folder: Path, path: Path) -> Path:
    """The real file behind `path`, refused when it is missing or lies outside the folder."""
    real = path.resolve()
    if not real.is_relative_to(folder.resolve()):
        raise InputError(f"function code {path.name} is a symlink to {real}, outside "
                         f"{folder}; stock-alert never ships files from elsewhere.", hint=_HINT)
    if not real.is_file():
        raise InputError(f"function code {path.name} is not a readable file.", hint=_HINT)
    return real


@functools.lru_cache(maxsize=64)
def _imports(name: str, source: bytes) -> frozenset[str]:
    """Top-level module names imported anywhere in `source` (absolute imports only).

    Pure, so remembered by content: parsing is most of what a build costs (~90 ms), and a
    process that plans many stacks (a fleet, a test run) builds the same sources again."""
    try:
        tree = ast.parse(source, filename=f"{name}.py")
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None) or "?"
        raise InputError(f"function code {name}.py does not parse (line {line}): "
                         f"{getattr(exc, 'msg', exc)}.", hint=_HINT) from None
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.partition(".")[0])
    return frozenset(found)


def closure(folder: Path) -> dict[str, bytes]:
    """File name -> content of each entry point and every local module they import,
    transitively."""
    candidates = _candidates(folder)
    for entry in ENTRIES:
        if entry not in candidates:
            raise InputError(f"function code {entry}.py is missing from {folder}.", hint=_HINT)
    files: dict[str, bytes] = {}
    pending = list(ENTRIES)
    while pending:
        name = pending.pop()
        if f"{name}.py" in files:
            continue
        source = _checked(folder, candidates[name]).read_bytes()
        files[f"{name}.py"] = source
        pending.extend(m for m in _imports(name, source) if m in candidates)
    return dict(sorted(files.items()))


def build(folder: Path | None = None) -> CodePackage:
    """The zip of `folder`'s closure. The files are read on every call, so an edited module is
    always shipped; the zip itself is remembered by the files' names and contents."""
    return _zipped(tuple(closure(folder or code_dir()).items()))


@functools.lru_cache(maxsize=8)
def _zipped(files: tuple[tuple[str, bytes], ...]) -> CodePackage:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in files:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.external_attr = _MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content, compresslevel=9)
    code = CodePackage(buffer.getvalue())
    _check(code, dict(files))
    return code


def _check(code: CodePackage, files: dict[str, bytes]) -> None:
    """Read the zip back: exactly the closure, byte for byte, and within Lambda's size limit."""
    archive = zipfile.ZipFile(io.BytesIO(code.zip_bytes))
    if archive.testzip() is not None or {n: archive.read(n) for n in archive.namelist()} != files:
        raise InputError("the function zip did not read back as written.", hint=_HINT)
    if code.size > MAX_ZIP_BYTES:
        raise InputError(f"the function zip is {code.size} bytes, over Lambda's "
                         f"{MAX_ZIP_BYTES}-byte limit for a direct upload.", hint=_HINT)
