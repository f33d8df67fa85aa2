"""Catalogue of real-AWS behaviours: the notifier's LoggingConfig (issue 21).

GetFunction on AWS reports every function's LoggingConfig: the group it logs to, the default
/aws/lambda/<function name> when none was set (Lambda API reference, FunctionConfiguration
LoggingConfig; Lambda Developer Guide, "Configuring CloudWatch log groups"). The notifier logs
into the stack's own group /aws/lambda/NAME. moto 5.2 accepts LoggingConfig and reports none,
so the kind does not compare what it cannot see there (function.UNREPORTED); here GetFunction's
answer is edited on the wire to say what Lambda says, so the comparison runs as on AWS.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from provision.core import pipelines
from provision.core.plan import Op
from tests.real_aws.wire import every_session_answers
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import no_retry_backoff
from tests.support.inprocess import target


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[Path]:
    with mock_aws(), no_retry_backoff():
        config = write_config(tmp_path, MINIMAL)
        pipelines.up(target(config)[0])
        yield config


def logs_to(groups: dict[str, str]) -> Callable[..., None]:
    """An after-call edit: GetFunction reports LoggingConfig as Lambda does, the group by
    function name, else the default /aws/lambda/<name>."""
    def edit(parsed: dict[str, Any], **_: Any) -> None:
        conf = parsed.get("Configuration", {})
        name = conf.get("FunctionName", "")
        conf["LoggingConfig"] = {"LogFormat": "Text",
                                 "LogGroup": groups.get(name, f"/aws/lambda/{name}")}
    return edit


def _plan_and_up(config: Path, groups: dict[str, str]) -> tuple[Any, list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []
    with every_session_answers("after-call.lambda.GetFunction", logs_to(groups)):
        prepared, _ = target(config)
        the_plan, _ = pipelines.plan(prepared)
        prepared, _ = target(config)
        prepared.aws.events.register(
            "provide-client-params.lambda.UpdateFunctionConfiguration",
            lambda params, **_: sent.append(copy.deepcopy(params)))
        pipelines.up(prepared)
    return {a.kind: a for a in the_plan.actions}, sent


def test_the_notifier_logging_into_the_stacks_group_is_in_sync(deployed: Path) -> None:
    """As AWS reports the stack after 'up': the function in its default group, the notifier
    in the function's."""
    actions, sent = _plan_and_up(deployed, {"t1_notify": "/aws/lambda/t1"})
    assert actions["notifier"].op is Op.NOOP and actions["function"].op is Op.NOOP
    assert sent == []


def test_the_notifier_sent_back_to_its_default_group_is_drift_and_put_back(
        deployed: Path) -> None:
    """Someone reset the notifier's logging in the console: it would log to a group 'up' never
    made (Lambda creates it untagged, with no retention, if the role may; this role may not, so
    its lines would be lost)."""
    actions, sent = _plan_and_up(deployed, {})
    notifier = actions["notifier"]
    assert notifier.op is Op.UPDATE
    assert [(c.field, c.old, c.new) for c in notifier.changes] == [
        ("log_group", "/aws/lambda/t1_notify", "/aws/lambda/t1")]
    assert sent == [{"FunctionName": "t1_notify",
                     "LoggingConfig": {"LogGroup": "/aws/lambda/t1"}}]
