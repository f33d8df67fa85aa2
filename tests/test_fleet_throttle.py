"""Under parallel load IAM and Lambda throttle; many stacks at once must slow down, not fail.

Real answers, injected at the wire by the proxy for every fifth call of each service:
- IAM (query protocol): 400 `Throttling` "Rate exceeded" (AWS-NOTES; IAM quotas page:
  docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html);
- Lambda: 429 `TooManyRequestsException` (botocore lambda service model, e.g. CreateFunction
  errors: "The request throughput limit was exceeded");
- Logs, EventBridge: 400 `ThrottlingException`; SNS, STS: 400 `Throttling`.
Other tools failed on exactly these answers when they ran IAM calls in parallel:
github.com/gruntwork-io/cloud-nuke/issues/371 (IAM role deletes, "Throttling: Rate exceeded"),
github.com/legion-platform/legion/issues/807 (the IAM XML ErrorResponse, Code Throttling), and
github.com/hashicorp/terraform/issues/1051 (a provider-wide limiter, not only parallelism).
The fleet's shared clients each carry one ThrottleGate (provision/aws/retry.py), so after a
throttling answer every stack's next call to that service waits; botocore's standard mode and
the retry policy retry the throttled call itself. (botocore's adaptive mode, one CUBIC token
bucket per client in botocore/retries/adaptive.py, was measured 4.4x slower: bench/fleet.py.)
"""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import pytest

from tests.support.awsproxy import AwsProxy, Rule, throttling
from tests.support.configs import MINIMAL, write_config
from tests.support.inventory import is_empty

pytestmark = pytest.mark.server
SERVICES = ("sts", "iam", "logs", "sns", "lambda", "events")
STACKS = "10"


def every_fifth(proxy: AwsProxy) -> list[Rule]:
    """Throttle one call in five of each service (the 5th, 10th, ...), retries included."""
    def take(self: Rule, available: bool = True) -> bool:
        self.seen += 1
        if available and self.seen % 5 == 0:
            self.applied += 1
            return True
        return False

    rules = []
    for service in SERVICES:
        rule = proxy.inject(throttling(service), service, times=None)
        rule.take = types.MethodType(take, rule)  # type: ignore[method-assign]
        rules.append(rule)
    return rules


def _forwarded(proxy: AwsProxy) -> int:
    return sum(1 for c in proxy.calls if c.fault is None)


def _run(cli: Any, *args: str) -> dict[str, Any]:
    done = cli(*args, "--count", STACKS, "-o", "json", timeout=600)
    assert "Traceback" not in done.stderr
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["failed"] == 0
    return doc


def test_ten_stacks_under_20_percent_throttling_finish_with_bounded_attempts(
        cli, aws_proxy: AwsProxy, tmp_path: Path, inventory_now) -> None:
    write_config(tmp_path, MINIMAL)
    _run(cli, "up")  # a clean run first: how many calls the work takes
    clean_noop = _forwarded(aws_proxy)
    aws_proxy.reset_calls()
    _run(cli, "up")
    clean_noop = _forwarded(aws_proxy)
    assert cli("down", "--count", STACKS, "--yes").returncode == 0
    aws_proxy.reset_calls()
    _run(cli, "up")
    clean_up = _forwarded(aws_proxy)
    assert cli("down", "--count", STACKS, "--yes").returncode == 0
    assert is_empty(inventory_now())

    rules = every_fifth(aws_proxy)
    aws_proxy.reset_calls()
    _run(cli, "up")
    throttled = sum(r.applied for r in rules)
    # Every throttled call was sent again and nothing else was: the work is the clean run's.
    assert _forwarded(aws_proxy) == clean_up
    assert throttled == len(aws_proxy.calls) - clean_up
    assert throttled >= clean_up // 5  # one in five of all attempts, retries included
    assert len(aws_proxy.calls) <= clean_up * 5 // 4 + len(SERVICES)

    aws_proxy.reset_calls()
    noop = _run(cli, "up")  # still throttled: the no-op pass writes nothing, for every stack
    assert [c for c in aws_proxy.calls if c.is_write] == []
    assert _forwarded(aws_proxy) == clean_noop
    assert all(s["summary"].startswith("Nothing to do") for s in noop["stacks"])

    _run(cli, "down", "--yes")
    assert is_empty(inventory_now())
