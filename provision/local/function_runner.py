"""Run function_code/ on this machine, in a subprocess, with the deployed function's environment.

The subprocess sees exactly the environment variables Lambda would give the function, plus the
caller's AWS credentials, region and endpoint, so it publishes to the same topic (on AWS or on
the local emulator). Its stdout is the function's log, as Lambda would ship it to CloudWatch.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provision.errors import StockAlertError

_RUNNER = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
timeout_s = float(sys.argv[3])
deadline = time.monotonic() + timeout_s
class Context:
    function_name = sys.argv[4]
    aws_request_id = "local-invoke"
    def get_remaining_time_in_millis(self):
        return max(0, int((deadline - time.monotonic()) * 1000))
import handler
try:
    result = handler.handler({"source": "stock-alert.invoke-local"}, Context())
except Exception as exc:
    # What Lambda answers for an unhandled error: the exception's type and message.
    with open(sys.argv[2] + ".error", "w", encoding="utf-8") as out:
        json.dump({"errorType": type(exc).__name__, "errorMessage": str(exc)}, out)
    raise
with open(sys.argv[2], "w", encoding="utf-8") as out:
    json.dump(result, out)
"""


@dataclass(frozen=True)
class LocalResult:
    result: dict[str, Any] | None
    log_lines: list[str]
    exit_code: int
    stderr: str
    error: dict[str, str] | None = None  # the handler raised: errorType and errorMessage

    @property
    def error_message(self) -> str | None:
        """'QuotesUnavailable: no quote fetched ...', or the last stderr line of a crash."""
        if self.error:
            return f"{self.error.get('errorType')}: {self.error.get('errorMessage')}"
        if self.result is None:
            lines = self.stderr.strip().splitlines()
            return lines[-1] if lines else f"exit code {self.exit_code}, no result"
        return None


def run(code: Path, function_env: dict[str, str], aws_env: dict[str, str],
        function_name: str, timeout_s: int) -> LocalResult:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "STOCK_ALERT_"))}
    env.update(aws_env)
    env.update(function_env)
    env["AWS_LAMBDA_FUNCTION_NAME"] = function_name
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    with tempfile.TemporaryDirectory(prefix="stock-alert-invoke-") as tmp:
        out = Path(tmp) / "result.json"
        try:
            proc = subprocess.run(
                [sys.executable, "-c", _RUNNER, str(code), str(out), str(timeout_s),
                 function_name],
                env=env, cwd=tmp, capture_output=True, text=True, timeout=timeout_s + 15,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise StockAlertError(
                f"The function ran past its {timeout_s} s timeout on this machine.",
                hint="Raise function.timeout_s, or check that the quote provider answers.",
            ) from None
        result = json.loads(out.read_text(encoding="utf-8")) if out.exists() else None
        failed = out.with_name(out.name + ".error")
        error = json.loads(failed.read_text(encoding="utf-8")) if failed.exists() else None
    return LocalResult(result, proc.stdout.splitlines(), proc.returncode, proc.stderr, error)
