"""Catalogue: IAM reads just after a write are stale (moto is always consistent).

Sources:
- IAM is eventually consistent; Terraform had to handle read-after-create NoSuchEntity for roles
  and their inline policies: https://github.com/hashicorp/terraform-provider-aws/pull/18435
  (closes #12127, #16247, #18457), and
  https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency
- prowler hit NoSuchEntity on role reads that a listing had just named:
  https://github.com/prowler-cloud/prowler/pull/2857
The injected answers are IAM's own: 404 NoSuchEntity in the query protocol's XML ErrorResponse.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from provision.core import pipelines
from provision.core.plan import Mode
from provision.core.target import Target
from provision.errors import AwsError
from tests.support.awsproxy import Error
from tests.support.configs import MINIMAL, write_config
from tests.support.faults import no_retry_backoff
from tests.support.inprocess import ClientCalls, FakeClock, target
from tests.support.inventory import inventory
from tests.support.wire_where import FaultsWhere

ROLE_GONE = Error(404, "NoSuchEntity", "The role with name t1-us-east-1-role cannot be found.")
POLICY_GONE = Error(404, "NoSuchEntity",
                    "The role policy with name t1-write-logs cannot be found.")
KINDS = ("roles", "log_groups", "topics", "subscriptions", "functions", "rules")


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with mock_aws(), no_retry_backoff():
        path = write_config(tmp_path, MINIMAL)
        pipelines.up(target(path)[0])  # the first up; each test runs the next one "at once"
        yield path


class FunctionRoleFaults(FaultsWhere):
    """Faults and counts for the function's role only: the scheduler's role (issue 23), read
    alongside it and absent with this cron config, is answered by moto untouched."""

    def dispatch(self, request: Any, event_name: str, forward: Any) -> Any:
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        if b"RoleName=t1-us-east-1-scheduler" in body:
            return forward()
        return super().dispatch(request, event_name, forward)


def _stale(config: Path, clock: FakeClock | None = None,
           ) -> tuple[Target, ClientCalls, FunctionRoleFaults]:
    prepared, log = target(config, clock)
    faults = FunctionRoleFaults()
    faults.attach_session(prepared.aws)
    return prepared, log, faults


def _no_writes_left(config: Path) -> None:
    prepared, log = target(config)
    pipelines.up(prepared)
    assert log.writes() == []


def _nothing_left() -> None:
    inv = inventory(boto3.Session(region_name="us-east-1"))
    assert [inv[k] for k in KINDS] == [[]] * len(KINDS)


def test_listed_policy_not_yet_readable_is_written_again(config: Path) -> None:
    prepared, log, faults = _stale(config)
    faults.inject_where("PolicyName=t1-write-logs", POLICY_GONE, "iam", "GetRolePolicy")
    _, done = pipelines.up(prepared)  # before the fix: AwsError NoSuchEntity, exit 1
    assert log.writes() == ["iam:PutRolePolicy"]  # the same document again: harmless
    assert [(a.kind, [c.item for c in a.changes]) for a in done] == [("role", ["t1-write-logs"])]
    _no_writes_left(config)


def test_status_under_a_stale_policy_read_explains_instead_of_failing(config: Path) -> None:
    prepared, _, faults = _stale(config)
    faults.inject_where("PolicyName=t1-write-logs", POLICY_GONE, "iam", "GetRolePolicy")
    _, rows = pipelines.status(prepared)
    role = next(r for r in rows if r.kind == "role")
    assert role.state == "drifted" and role.drift == ("policy t1-write-logs",)
    assert any("could not return it yet" in n for n in role.notes)
    assert role.attributes["inline_policies"] == ["t1-invoke-notifier", "t1-publish-alerts",
                                                  "t1-write-logs"]


def test_down_deletes_a_listed_policy_even_when_its_read_is_stale(config: Path) -> None:
    prepared, log, faults = _stale(config)
    faults.inject_where("PolicyName=t1-write-logs", POLICY_GONE, "iam", "GetRolePolicy")
    the_plan, _ = pipelines.plan(prepared, mode=Mode.DOWN)
    pipelines.down(prepared, the_plan)  # else DeleteRole answers DeleteConflict
    assert log.writes().count("iam:DeleteRolePolicy") == 3
    _nothing_left()


@pytest.mark.parametrize("stale_reads", [1, 2, 3])
def test_role_not_yet_visible_after_create_is_adopted(config: Path, stale_reads: int) -> None:
    """GetRole answers NoSuchEntity for a role that exists: the plan says create, CreateRole
    answers EntityAlreadyExists, and the role is waited for (bounded) and adopted."""
    clock = FakeClock()
    prepared, log, faults = _stale(config, clock)
    faults.inject(ROLE_GONE, "iam", "GetRole", times=stale_reads)
    _, done = pipelines.up(prepared)  # before the fix: 2+ stale reads fail with EntityAlreadyExists
    assert log.writes() == ["iam:CreateRole"]  # refused, then adopted: nothing else written
    assert [a.kind for a in done] == ["role"] and done[0].changes == ()
    # observe read + the bounded wait's attempts + the engine's re-read that adopts it
    assert faults.count("iam", "GetRole") == stale_reads + 2
    assert len(clock.sleeps) == stale_reads - 1 and clock.now <= 2.0 * stale_reads
    _no_writes_left(config)
    the_plan, _ = pipelines.plan(target(config)[0], mode=Mode.DOWN)
    pipelines.down(target(config)[0], the_plan)
    _nothing_left()


# ---- paging (issue 22: Aws.pages asks for the first page before it loads the model) ------
# IAM's List* calls page by Marker: "IsTruncated: A flag that indicates whether there are more
# items to return. If your results were truncated, you can make a subsequent pagination request
# using the Marker request parameter" (IAM API Reference, ListRolePolicies; botocore's iam
# paginators-1.json: input_token Marker, output_token Marker, more_results IsTruncated). IAM
# "might return fewer than the MaxItems number of results even when there are more results
# available". moto answers in one page: the first answer is split here.


def _split_first_page(prepared: Any, operation: str, key: str) -> list[dict[str, Any]]:
    """The first answer of `operation` keeps one item of `key`, with a Marker; asked again
    with that Marker, moto (which knows no marker) gives the whole list, of which the page
    then holds the rest."""
    seen: list[dict[str, Any]] = []

    def split(parsed: dict[str, Any], **_: Any) -> None:
        if key not in parsed:  # an error's answer (the scheduler's role is absent)
            return
        if not seen:
            seen.append(dict(parsed))
            parsed[key], parsed["IsTruncated"], parsed["Marker"] = (
                parsed[key][:1], True, "page-2")
        elif len(seen) == 1:
            seen.append(dict(parsed))
            parsed[key] = parsed[key][1:]

    def resume(params: dict[str, Any], **_: Any) -> None:
        if params.pop("Marker", None) is not None:
            seen.append({"asked with": "page-2"})

    prepared.aws.events.register(f"after-call.iam.{operation}", split)
    prepared.aws.events.register(f"provide-client-params.iam.{operation}", resume)
    return seen


def test_down_deletes_the_inline_policies_of_every_page(tmp_path: Path) -> None:
    with mock_aws():
        config = write_config(tmp_path, MINIMAL)
        pipelines.up(target(config)[0])
        prepared, calls = target(config)
        seen = _split_first_page(prepared, "ListRolePolicies", "PolicyNames")
        the_plan, _ = pipelines.plan(prepared, Mode.DOWN)
        pipelines.down(prepared, the_plan)
        assert {"asked with": "page-2"} in seen
        assert calls.writes().count("iam:DeleteRolePolicy") == 3
        assert boto3.client("iam").list_roles()["Roles"] == []


def test_a_page_token_given_twice_ends_the_read_with_a_clear_error(tmp_path: Path) -> None:
    """botocore's Paginator refuses a token it has already been given; so does Aws.pages
    (otherwise a read would loop for ever)."""
    with mock_aws():
        config = write_config(tmp_path, MINIMAL)
        pipelines.up(target(config)[0])
        prepared, _ = target(config)

        def again(parsed: dict[str, Any], **_: Any) -> None:
            parsed["IsTruncated"], parsed["Marker"] = True, "same"

        prepared.aws.events.register("after-call.iam.ListAttachedRolePolicies", again)
        prepared.aws.events.register(  # moto reads a Marker as a number: it gets none
            "provide-client-params.iam.ListAttachedRolePolicies",
            lambda params, **_: params.pop("Marker", None) and None)
        with pytest.raises(AwsError, match="gave the same page token twice"):
            list(prepared.aws.pages("iam", "list_attached_role_policies",
                                    RoleName="t1-us-east-1-role"))


def test_the_first_page_is_asked_for_before_the_paging_model_is_loaded(
        tmp_path: Path) -> None:
    with mock_aws():
        config = write_config(tmp_path, MINIMAL)
        pipelines.up(target(config)[0])
        prepared, _ = target(config)
        order: list[str] = []
        session = prepared.aws.session()
        load = session.get_paginator_model
        session.get_paginator_model = lambda *a, **k: order.append("model") or load(*a, **k)
        prepared.aws.events.register("before-send.iam.ListRolePolicies",
                                     lambda **_: order.append("sent"))
        names = [n for page in prepared.aws.pages("iam", "list_role_policies",
                                                  RoleName="t1-us-east-1-role")
                 for n in page["PolicyNames"]]
        assert len(names) == 3 and order[:2] == ["sent", "model"]
