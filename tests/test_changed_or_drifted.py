"""A change the config asks for is told apart from a change made outside the tool.

With no local state, every write records stock-alert:applied, a digest of the wanted value it
wrote. moto in-process: the whole pipeline, with out-of-band edits through boto3.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from provision.core import pipelines
from provision.core.plan import Op
from provision.kinds.contract import CHANGED_IN_CONFIG, DIFFERS, DRIFTED
from tests.support.configs import MINIMAL, write_config
from tests.support.inprocess import target


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws():
        path = write_config(tmp_path, MINIMAL)
        pipelines.up(target(path)[0])
        yield path


def _function_row(config: Path) -> pipelines.StatusRow:
    _, rows = pipelines.status(target(config)[0])
    return next(r for r in rows if r.kind == "function")


def test_a_config_change_is_changed_in_config_and_up_records_it(config: Path) -> None:
    config.write_text(MINIMAL + "function: {memory_mb: 256}\n", encoding="utf-8")
    row = _function_row(config)
    assert (row.state, row.drift) == (CHANGED_IN_CONFIG, ("memory_mb",))
    prepared, calls = target(config)
    the_plan, _ = pipelines.up(prepared)
    fn = next(a for a in the_plan.actions if a.kind == "function")
    assert fn.reason == CHANGED_IN_CONFIG
    # the new digest goes with the update, in one tag call, and nothing else is written
    assert calls.writes() == ["lambda:UpdateFunctionConfiguration", "lambda:TagResource"]
    assert _function_row(config).state == "in sync"


def test_a_change_by_hand_is_drift(config: Path) -> None:
    boto3.client("lambda", region_name="us-east-1").update_function_configuration(
        FunctionName="t1", MemorySize=512)
    row = _function_row(config)
    assert (row.state, row.drift) == ("drifted", ("memory_mb",))
    prepared, calls = target(config)
    the_plan, _ = pipelines.up(prepared)
    fn = next(a for a in the_plan.actions if a.kind == "function")
    assert (fn.op, fn.reason) == (Op.UPDATE, DRIFTED)
    assert calls.writes() == ["lambda:UpdateFunctionConfiguration"]  # the digest still holds


def test_a_resource_without_the_record_differs_and_gets_one(config: Path) -> None:
    """A stack made by an older stock-alert has no applied tag: neither kind is claimed."""
    arn = "arn:aws:lambda:us-east-1:123456789012:function:t1"
    client = boto3.client("lambda", region_name="us-east-1")
    client.untag_resource(Resource=arn, TagKeys=["stock-alert:applied"])
    client.update_function_configuration(FunctionName="t1", Timeout=99)
    the_plan, _ = pipelines.plan(target(config)[0])
    fn = next(a for a in the_plan.actions if a.kind == "function")
    assert (fn.op, fn.reason) == (Op.UPDATE, DIFFERS)
    pipelines.up(target(config)[0])
    assert "stock-alert:applied" in client.list_tags(Resource=arn)["Tags"]
    assert _function_row(config).state == "in sync"


def test_the_record_alone_never_causes_a_write(config: Path) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:t1"
    boto3.client("lambda", region_name="us-east-1").tag_resource(
        Resource=arn, Tags={"stock-alert:applied": "0000000000000000"})
    prepared, calls = target(config)
    _, done = pipelines.up(prepared)
    assert done == [] and calls.writes() == []
