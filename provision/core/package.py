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

Each module's imports and the zip are kept in the cache folder (provision/cache.py) by content:
a run reads the files every time, so an edited module is always shipped, but parses and
compresses only what it has not seen.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.util
import io
import logging
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from provision import cache
from provision.cache import cache_root
from provision.errors import InputError

log = logging.getLogger("provision.core.package")

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


def _cache_folder() -> Path | None:
    root = cache_root()
    return None if root is None else root / "function-code" / "v1"


@functools.lru_cache(maxsize=64)
def _imports(name: str, source: bytes) -> frozenset[str]:
    """Top-level module names imported anywhere in `source` (absolute imports only).

    Pure, so remembered by content, in the process and in the cache folder: parsing is most
    of what a build costs (~40 ms a run), and a process that plans many stacks (a fleet, a
    test run) builds the same sources again."""
    folder = _cache_folder()
    key = hashlib.sha256(name.encode() + b"\0" + source).hexdigest()[:40]
    found = None if folder is None else cache.read(folder / f"{key}.imports")
    if found is not None:
        check, _, names = found.partition(b"\n")
        if check == _checksum(names):  # whole, as written: a damaged list would ship too little
            return frozenset(names.decode().split())
        log.debug("ignoring the damaged import list of %s.py", name)
    parsed = _parsed_imports(name, source)
    if folder is not None:
        names = "\n".join(sorted(parsed)).encode()
        cache.write(folder / f"{key}.imports", _checksum(names) + b"\n" + names)
    return parsed


def _checksum(data: bytes) -> bytes:
    return hashlib.sha256(data).hexdigest()[:32].encode()


def _parsed_imports(name: str, source: bytes) -> frozenset[str]:
    import ast  # only when the cache folder has no answer

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
    """The zip, remembered by the files' names and contents (and zlib's version, which could
    compress them otherwise) in the process and in the cache folder; a copy from the folder
    is checked like a new one, and a damaged one is made again."""
    folder = _cache_folder()
    copy = None if folder is None else folder / f"{_files_key(files)}.zip"
    found = None if copy is None else cache.read(copy)
    if found is not None:
        try:
            _check(CodePackage(found), dict(files))
            return CodePackage(found)
        except (InputError, zipfile.BadZipFile, zlib.error, EOFError, ValueError) as exc:
            log.debug("ignoring %s: %r", copy, exc)
    code = _zip(files)
    if copy is not None:
        cache.write(copy, code.zip_bytes)
    return code


def _files_key(files: tuple[tuple[str, bytes], ...]) -> str:
    digest = hashlib.sha256(zlib.ZLIB_RUNTIME_VERSION.encode())
    for name, content in files:
        digest.update(f"\0{name}\0{len(content)}\0".encode() + content)
    return digest.hexdigest()[:40]


def _zip(files: tuple[tuple[str, bytes], ...]) -> CodePackage:
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
