"""Record, from one lifecycle, which IAM action each API call of each command asked moto to
authorise; then replay one recorded call alone, as another caller.

The deployer-policy proof used to run the whole lifecycle once per action with that action
removed (79 lifecycles). The same proof, made from one lifecycle (issue 18):
- the recording shows, per action, the first command whose call needed it (the one that would
  fail first without it: every earlier call was authorised by other actions);
- replaying that single call as a caller holding every action but that one is refused with
  AccessDenied naming the action, and replaying it as a caller holding all of them is not.

moto decides each call's action in ``IAMRequestBase.check_action_permitted`` (AWS-NOTES, "IAM
enforcement"), in the thread that made the call: the recorder wraps that method and botocore's
``BaseClient._make_api_call``, and pairs them by thread, so concurrent reads are told apart.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from moto import mock_aws, settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam.access_control import IAMRequest, IAMRequestBase

DENIED = ("AccessDenied", "AccessDeniedException")


@dataclass(frozen=True)
class Checked:
    """One authorised call: the command it belonged to, moto's action, and the call itself."""

    command: str
    action: str  # as moto names it, e.g. "lambda:Invoke", "monitoring:PutMetricAlarm"
    service: str  # botocore's service name, for a client to replay it
    operation: str
    params: dict[str, Any]


@dataclass
class Recorder:
    """Collects the calls of one principal (its ARN ends with ``principal``)."""

    principal: str = ":user/operator"
    command: str = ""
    checked: list[Checked] = field(default_factory=list)
    _last: dict[int, tuple[str, str, dict[str, Any]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextlib.contextmanager
    def recording(self) -> Iterator[Recorder]:
        make_call, check = BaseClient._make_api_call, IAMRequestBase.check_action_permitted
        recorder = self

        def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            recorder._last[threading.get_ident()] = (
                client.meta.service_model.service_name, operation, copy.deepcopy(params))
            return make_call(client, operation, params)

        def checked(request: Any, resource: str) -> None:
            arn = getattr(getattr(request, "_access_key", None), "arn", "")
            last = recorder._last.get(threading.get_ident())
            if arn.endswith(recorder.principal) and last is not None:
                with recorder._lock:
                    recorder.checked.append(Checked(recorder.command, request._action, *last))
            check(request, resource)

        BaseClient._make_api_call = call  # type: ignore[method-assign]
        IAMRequestBase.check_action_permitted = checked  # type: ignore[method-assign]
        try:
            yield self
        finally:
            BaseClient._make_api_call = make_call  # type: ignore[method-assign]
            IAMRequestBase.check_action_permitted = check  # type: ignore[method-assign]

    def first(self, action: str) -> Checked | None:
        """The first recorded call that needed ``action`` (moto's name)."""
        return next((c for c in self.checked if c.action == action), None)


def replay(checked: Checked, credentials: dict[str, Any]) -> ClientError | None:
    """Send the recorded call again, alone, as ``credentials``; the error it got, if any."""
    client = boto3.client(checked.service, region_name="us-east-1", **credentials)
    try:
        client._make_api_call(checked.operation, copy.deepcopy(checked.params))
    except ClientError as err:
        return err
    except NotImplementedError:  # authorised, then moto lacks the operation (SMS sandbox list)
        return None
    return None


def is_denied(err: ClientError | None, action: str) -> bool:
    """AccessDenied naming ``action`` (moto: "... is not authorized to perform: ACTION").

    moto answers it in XML whatever the protocol, so a JSON or REST client reads the code as
    "403" and the message as the XML document: the status and the text are what count."""
    if err is None:
        return False
    error, status = err.response["Error"], err.response["ResponseMetadata"]["HTTPStatusCode"]
    refused = error.get("Code") in DENIED or status == 403
    return refused and f"is not authorized to perform: {action}" in str(err)


@contextlib.contextmanager
def enforcing_moto(home: Path, setup_calls: int) -> Iterator[pytest.MonkeyPatch]:
    """moto in-process, checking every call's IAM action after the first ``setup_calls``, with
    the isolated test environment, for a module-scoped fixture (the per-test ones are not yet
    active when it starts)."""
    from tests.conftest import isolated_environment

    with pytest.MonkeyPatch.context() as patch:
        isolated_environment(patch, home)
        # moto 5.2 recomputes Lambda GET signatures wrongly in-process (SignatureDoesNotMatch
        # for a correctly signed GetFunction); the action check stays.
        patch.setattr(IAMRequest, "check_signature", lambda self: None)
        saved = settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count
        settings.INITIAL_NO_AUTH_ACTION_COUNT = setup_calls
        ActionAuthenticatorMixin.request_count = 0
        try:
            with mock_aws():
                yield patch
        finally:
            settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count = saved


# (folder, granted actions, monkeypatch, recorder) -> the command refused first, or None
Lifecycle = Callable[[Path, set[str], pytest.MonkeyPatch, "Recorder"], "str | None"]


@contextlib.contextmanager
def recorded_lifecycle(tmp: pytest.TempPathFactory, setup_calls: int, granted: set[str],
                       run: Lifecycle) -> Iterator[Recorder]:
    """`run` once as an operator holding `granted`, every authorised call recorded; moto stays
    active, and enforcing, for the replays that follow."""
    with enforcing_moto(tmp.mktemp("aws-home"), setup_calls) as patch:
        recorder = Recorder()
        with recorder.recording():
            failed_in = run(tmp.mktemp("recorded"), granted, patch, recorder)
        assert failed_in is None, f"the whole policy was refused in {failed_in}"
        yield recorder
