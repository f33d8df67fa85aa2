"""Benchmark the Lambda function: flat zip size and cold import time of ``handler``.

Run: ``.venv/bin/python bench/bench_function.py [--runs 5]``. Not a test; prints figures.

The zip is built like the deployer builds it: every ``*.py`` directly in function_code/ except
``__init__.py``, sorted by name, fixed timestamp (1980-01-01) and mode 0644, deflate level 9.
The import is timed in fresh interpreters started with ``-I -S`` (no site-packages, as on a
cold Lambda where only the standard library is needed to import the handler), from a folder
holding the unzipped files, like /var/task.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

FUNCTION_DIR = Path(__file__).resolve().parents[1] / "function_code"
SIZE_TARGET = 20 * 1024
IMPORT_SNIPPET = (
    "import sys, time; sys.path.insert(0, sys.argv[1]); t = time.perf_counter(); "
    "import handler; print(time.perf_counter() - t)"
)


def build_zip(folder: Path = FUNCTION_DIR) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in folder.glob("*.py") if p.name != "__init__.py"):
            info = zipfile.ZipInfo(path.name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return buffer.getvalue()


def time_imports(task_root: Path, runs: int) -> list[float]:
    """Seconds to ``import handler`` in ``runs`` fresh interpreters (no .pyc cache)."""
    command = [sys.executable, "-I", "-S", "-B", "-c", IMPORT_SNIPPET, str(task_root)]
    return [
        float(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
        for _ in range(runs)
    ]


def time_process(task_root: Path, runs: int) -> list[float]:
    """Wall seconds for a whole interpreter start plus ``import handler``."""
    code = "import sys; sys.path.insert(0, sys.argv[1]); import handler"
    command = [sys.executable, "-I", "-S", "-B", "-c", code, str(task_root)]
    snippet = (
        "import subprocess, sys, time; t = time.perf_counter(); "
        "subprocess.run(sys.argv[1:], check=True); print(time.perf_counter() - t)"
    )
    return [
        float(
            subprocess.run(
                [sys.executable, "-c", snippet, *command],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(runs)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    data = build_zip()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        raw = sum(info.file_size for info in archive.infolist())
        with tempfile.TemporaryDirectory() as task_root:
            archive.extractall(task_root)
            imports = time_imports(Path(task_root), args.runs)
            process = time_process(Path(task_root), args.runs)

    verdict = "OK" if len(data) < SIZE_TARGET else "OVER TARGET"
    print(
        f"zip: {len(data)} bytes ({raw} uncompressed, {len(names)} files) "
        f"target < {SIZE_TARGET} bytes: {verdict}"
    )
    print(f"zip sha256: {hashlib.sha256(data).hexdigest()}")
    print(f"files: {', '.join(names)}")
    print(
        f"import handler (cold, no .pyc), median of {args.runs}: "
        f"{statistics.median(imports) * 1000:.1f} ms "
        f"(min {min(imports) * 1000:.1f}, max {max(imports) * 1000:.1f})"
    )
    print(
        f"interpreter start + import, median of {args.runs}: "
        f"{statistics.median(process) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
