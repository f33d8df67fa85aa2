"""The config file's parsed document kept by the file's bytes (issue 22,
provision/config/document.py): a file read again with the same bytes is not parsed again,
changed bytes are, a file YAML refuses is refused every time, and a copy that is damaged,
turned off or cannot hold the document only means parsing the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from provision import cache
from provision.config import document, yamlfile
from provision.config.model import load_config
from provision.errors import ConfigError
from tests.support.configs import MINIMAL, write_config


@pytest.fixture
def parses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Each parse of a config file, with the cache in a folder of the test's own."""
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    seen: list[Path] = []
    original = yamlfile.parse

    def parse(text: str, path: Path) -> Any:
        seen.append(path)
        return original(text, path)

    monkeypatch.setattr(yamlfile, "parse", parse)
    return seen


def test_the_same_bytes_are_parsed_once(tmp_path: Path, parses: list[Path]) -> None:
    config = write_config(tmp_path, MINIMAL)
    first = load_config(config)
    again = load_config(config)
    assert again == first and again.name == "t1" and parses == [config]
    elsewhere = write_config(tmp_path, MINIMAL, name="copy.yaml")  # same bytes, other file
    assert load_config(elsewhere) == first and parses == [config]


def test_changed_bytes_are_parsed_again(tmp_path: Path, parses: list[Path]) -> None:
    config = write_config(tmp_path, MINIMAL)
    load_config(config)
    write_config(tmp_path, MINIMAL.replace("t1", "t2"))
    assert load_config(config).name == "t2" and len(parses) == 2


def test_a_file_yaml_refuses_is_refused_every_time(tmp_path: Path, parses: list[Path]) -> None:
    config = write_config(tmp_path, MINIMAL + "stocks: [A\n")
    for _ in range(2):
        with pytest.raises(ConfigError, match="not valid YAML|twice"):
            load_config(config)
    assert len(parses) == 2


def test_the_file_is_still_checked_when_its_document_is_kept(
        tmp_path: Path, parses: list[Path]) -> None:
    config = write_config(tmp_path, MINIMAL)
    load_config(config)
    config.unlink()
    config.mkdir()
    with pytest.raises(ConfigError, match="Is a directory"):
        load_config(config)


def test_a_document_marshal_cannot_hold_is_parsed_every_time(
        tmp_path: Path, parses: list[Path]) -> None:
    config = write_config(tmp_path, "when: 2026-12-05\n")  # a YAML timestamp: a date
    assert document.load(config) == document.load(config)
    assert len(parses) == 2


def test_a_damaged_or_turned_off_copy_only_means_parsing(
        tmp_path: Path, parses: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_config(tmp_path, MINIMAL)
    load_config(config)
    for copy in (tmp_path / "cache" / "config").iterdir():
        copy.write_bytes(b"\xff not marshal")
    assert load_config(config).name == "t1" and len(parses) == 2
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    load_config(config)
    load_config(config)
    assert len(parses) == 4


def test_a_kept_document_needs_no_yaml(tmp_path: Path) -> None:
    """The point of it: on the second run PyYAML is not even imported."""
    config = write_config(tmp_path, MINIMAL)
    code = ("import sys; from pathlib import Path; from provision.config.model import "
            f"load_config; load_config(Path({str(config)!r})); print('yaml' in sys.modules)")
    env = {"STOCK_ALERT_CACHE_DIR": str(tmp_path / "cache"), "PYTHONDONTWRITEBYTECODE": "1"}
    runs = [subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, timeout=60, check=True).stdout.strip() for _ in range(2)]
    assert runs == ["True", "False"]
