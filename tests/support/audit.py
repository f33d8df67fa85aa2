"""`stock-alert audit --output json` in-process, for the audit tests: its exit code and its
findings, checked to agree with the document's `clean` flag."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from provision.cli import app


def run_audit(config: Path) -> tuple[int, list[dict[str, Any]]]:
    result = CliRunner().invoke(app, ["audit", "-c", str(config), "--output", "json"])
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout)
    assert doc["clean"] is (result.exit_code == 0)
    return result.exit_code, doc["findings"]
