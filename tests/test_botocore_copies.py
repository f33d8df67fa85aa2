"""botocore's data files read from marshal copies (issue 22, provision/aws/models.py): the
same data as botocore's JSON, a new copy whenever the JSON changes, and never a reason to
fail (damaged, unwritable or turned off)."""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from pathlib import Path

import botocore.session
import pytest
from botocore.loaders import JSONFileLoader

from provision.aws import models
from provision.aws.client import Aws
from tests.support import loader


def _json(folder: Path, name: str, data: object) -> str:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)[: -len(".json")]


def test_a_copy_reads_back_what_botocore_reads(tmp_path: Path) -> None:
    stem = _json(tmp_path, "model", {"b": [1, {"c": None}], "a": "x"})
    loader = models.MarshalCopies(tmp_path / "copies")
    first = loader.load_file(stem)
    assert list((tmp_path / "copies").iterdir())  # the copy was written
    assert first == loader.load_file(stem) == JSONFileLoader().load_file(stem)
    assert list(loader.load_file(stem)) == ["b", "a"]  # the document's order is kept


def test_a_changed_file_gets_a_new_copy(tmp_path: Path) -> None:
    stem = _json(tmp_path, "model", {"version": 1})
    loader = models.MarshalCopies(tmp_path / "copies")
    assert loader.load_file(stem) == {"version": 1}
    _json(tmp_path, "model", {"version": 22})  # another size
    assert loader.load_file(stem) == {"version": 22}
    _json(tmp_path, "model", {"version": 23})  # the same size, a later modification time
    stamp = os.stat(stem + ".json").st_mtime_ns
    os.utime(stem + ".json", ns=(stamp + 10**9, stamp + 10**9))
    assert loader.load_file(stem) == {"version": 23}


def test_a_damaged_or_unwritable_copy_only_means_parsing_the_json(tmp_path: Path) -> None:
    stem = _json(tmp_path, "model", {"ok": True})
    loader = models.MarshalCopies(tmp_path / "copies")
    loader.load_file(stem)
    for copy in (tmp_path / "copies").iterdir():
        copy.write_bytes(b"\xff not marshal")
    assert loader.load_file(stem) == {"ok": True}
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    assert models.MarshalCopies(tmp_path / "a-file" / "copies").load_file(stem) == {"ok": True}
    assert models.MarshalCopies(tmp_path / "none").load_file(str(tmp_path / "missing")) is None


def test_plain_turns_ordered_dicts_into_dicts_in_order() -> None:
    data = OrderedDict([("z", [OrderedDict([("y", 1)])]), ("a", 2)])
    out = models.plain(data)
    assert out == {"z": [{"y": 1}], "a": 2} and list(out) == ["z", "a"]
    assert type(out) is dict and type(out["z"][0]) is dict


@pytest.fixture
def own_loaders(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each botocore session with a loader of its own, as in the tool's process (the test
    process shares one: tests/support/loader.py)."""
    monkeypatch.setattr(botocore.session, "create_loader", loader._ORIGINAL)


def test_the_tools_clients_read_the_copies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           own_loaders: None) -> None:
    monkeypatch.setenv(models.CACHE_ENV, str(tmp_path))
    made = Aws("us-east-1").client("sns")
    parsed: list[str] = []
    original = JSONFileLoader.load_file

    def parse(self: JSONFileLoader, file_path: str) -> object:
        parsed.append(file_path)
        return original(self, file_path)

    monkeypatch.setattr(JSONFileLoader, "load_file", parse)
    again = Aws("us-east-1").client("sns")  # a new session: everything read from the copies
    assert parsed == []
    assert again.meta.service_model.operation_names == made.meta.service_model.operation_names
    assert (again.meta.service_model.operation_model("Publish").input_shape.members.keys()
            == made.meta.service_model.operation_model("Publish").input_shape.members.keys())


def test_turned_off_it_leaves_botocore_alone(monkeypatch: pytest.MonkeyPatch,
                                             own_loaders: None) -> None:
    monkeypatch.setenv(models.CACHE_ENV, "off")
    session = botocore.session.Session()
    models.install(session)
    assert type(session.get_component("data_loader").file_loader) is JSONFileLoader
    monkeypatch.delenv(models.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", "/elsewhere")
    assert models.cache_dir() is not None and str(models.cache_dir()).startswith(
        "/elsewhere/stock-alert/botocore/")


def test_the_lists_of_services_are_read_from_a_copy_until_a_search_path_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own_loaders: None) -> None:
    """botocore lists every service's folder once per process and kind of file (service-2,
    paginators-1, ...): ~1,400 system calls each. The copy answers instead, until a folder
    botocore searches (here AWS_DATA_PATH's) is changed."""
    from botocore.loaders import Loader

    extra = tmp_path / "models"
    extra.mkdir()
    monkeypatch.setenv("AWS_DATA_PATH", str(extra))
    monkeypatch.setenv(models.CACHE_ENV, str(tmp_path / "cache"))
    made = Aws("us-east-1").client("sns")
    listed: list[str] = []
    original = Loader.list_available_services

    def count(self: Loader, type_name: str) -> list[str]:
        listed.append(type_name)
        return original(self, type_name)

    monkeypatch.setattr(Loader, "list_available_services", count)
    session = botocore.session.Session()
    models.install(session)
    loader = session.get_component("data_loader")
    assert "sns" in loader.list_available_services("service-2") and listed == []
    Aws("us-east-1").client("sns")  # a new session, a new loader: its lists from the copies
    assert listed == [] and made.meta.service_model.service_name == "sns"
    stamp = os.stat(extra).st_mtime_ns
    os.utime(extra, ns=(stamp + 10**9, stamp + 10**9))
    session = botocore.session.Session()
    models.install(session)
    assert "sns" in session.get_component("data_loader").list_available_services("service-2")
    assert listed == ["service-2"]
