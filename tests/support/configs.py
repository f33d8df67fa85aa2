"""Config files for tests: the repo's example and a minimal valid one."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
EXAMPLE_CONFIG = REPO / "config.yaml"


def write_config(folder: Path, text: str, name: str = "config.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """\
name: t1
region: us-east-1
stocks: [TSLA, F, GM]
notify:
  email: [you@example.com]
  sms: ["+15555550100"]
"""
