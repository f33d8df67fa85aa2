"""Do the tests that changed form for speed still catch what they guarded?

Issue 18 moved most CLI tests in-process (tests/support/clirunner.py), put the tool's waits on a
fake clock, cached the zip, and checked the default timeout bound from the client settings. A
faster test is worth nothing if it no longer fails when the fix it guards is undone. For each
sample below this script undoes one fix in the working tree (a plain text replacement), runs
the converted test that guards it in one process, expects it to FAIL, then restores the file
and expects it to pass again. It prints one line per sample and a summary.

    .venv/bin/python bench/reverted_fixes.py            # every sample (a few minutes)
    .venv/bin/python bench/reverted_fixes.py --only 3   # one sample

The working tree must be clean for the files it touches; each file is restored even when the
run is interrupted.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Sample:
    what: str  # the fix that is undone
    path: str
    old: str
    new: str
    test: str  # the converted test that must fail without the fix


SAMPLES = [
    Sample("a key given twice in the config is refused (exit 2)",
           "provision/config/yamlfile.py", "        if key in keys:\n",
           "        if False:\n",
           "tests/test_cli_input.py::test_bad_config_is_rejected_before_any_aws_call"
           "[duplicate-key]"),
    Sample("status --exit-code exits 3 when anything is not in sync",
           "provision/cli/stack_commands.py",
           "if exit_code and any(r.state not in IN_ORDER for r in rows):", "if False:",
           "tests/test_truth_output.py::test_status_exit_code_is_0_in_sync_and_3_otherwise"),
    Sample("IAM propagation ('cannot be assumed by Lambda') is waited out",
           "provision/aws/retry.py", '_PROPAGATION = ("cannot be assumed by lambda",)',
           '_PROPAGATION = ("no such text",)',
           "tests/test_cli_faults.py::"
           "test_iam_propagation_and_update_in_progress_are_waited_out"),
    Sample("the retry deadline bounds the tool's own waiting",
           "provision/aws/retry.py", "return self.clock() - start >= limit",
           "return False",
           "tests/test_cli_faults.py::test_retry_deadline_exceeded_fails_with_a_bounded_wait"),
    Sample("an unchanged up writes nothing ('Nothing to do')",
           "provision/output/render.py",
           'return f"Nothing to do: stack {plan.stack} already matches',
           'return f"Done: stack {plan.stack} already matches',
           "tests/test_cli_e2e.py::test_lifecycle_up_twice_then_down_twice"),
    Sample("a silent endpoint is given up on within 30 s by default",
           "provision/aws/endpoint.py", "READ_TIMEOUT_S = 5.0", "READ_TIMEOUT_S = 30.0",
           "tests/test_cli_timeouts.py::"
           "test_by_default_a_silent_endpoint_is_given_up_on_within_30_seconds"),
    Sample("the zip is rebuilt when function_code/ changes (cache keyed by content)",
           "provision/core/package.py",
           "    return _zipped(tuple(closure(folder or code_dir()).items()))",
           "    return _zipped(tuple(closure(code_dir()).items()))",
           "tests/test_package.py::test_code_change_changes_sha"),
    Sample("a create whose answer was lost is adopted when the retry meets 'already exists'",
           "provision/aws/client.py",
           '"EntityAlreadyExists", "ResourceAlreadyExistsException", "ResourceConflictException",',
           '"NoSuchCode",',
           "tests/test_cli_faults.py::"
           "test_lost_responses_are_adopted_or_repeated_within_the_same_up"),
    Sample("a bad AWS_REGION is exit 2 before any call",
           "provision/core/target.py", "    check_environment_variables()\n", "",
           "tests/test_cli_input.py::test_bad_environment_is_rejected_before_any_aws_call"),
    Sample("down refuses without --yes and without a terminal",
           "provision/cli/stack_commands.py", "if not yes and not sys.stdin.isatty():",
           "if False:",
           "tests/test_cli_e2e.py::test_lifecycle_up_twice_then_down_twice"),
    Sample("deployer-policy's table names the command that needs each action",
           "provision/kinds/role.py",
           'Need("iam:ListAttachedRolePolicies", ROLE_SCOPE, READ,',
           'Need("iam:ListAttachedRolePolicies", ROLE_SCOPE, ("invoke",),',
           "tests/test_deployer_actions.py::"
           "test_every_action_is_needed_by_the_call_that_asks_for_it"
           "[iam:ListAttachedRolePolicies]"),
    Sample("a fleet stack that fails is reported failed, and the others go on",
           "provision/features/fleet.py",
           'result.ok, result.error, result.summary = False, err, f"failed: {err.message}"',
           'result.ok, result.error, result.summary = True, None, "done"',
           "tests/test_fleet_cli.py::"
           "test_one_failure_does_not_stop_the_others_and_a_rerun_finishes"),
]


def _pytest(tests: str) -> int:
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-n", "0", "-p", "no:cacheprovider",
               *tests.split()]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True).returncode


def check(sample: Sample) -> tuple[bool, str]:
    path = ROOT / sample.path
    original = path.read_text()
    if sample.old not in original:
        return False, f"the fix's text is not in {sample.path}: update this sample"
    path.write_text(original.replace(sample.old, sample.new, 1))
    try:
        reverted = _pytest(sample.test)
    finally:
        path.write_text(original)
    restored = _pytest(sample.test)
    ok = reverted != 0 and restored == 0
    return ok, f"without the fix: exit {reverted}; with it: exit {restored}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", type=int, help="run only sample N (1-based)")
    args = parser.parse_args()
    chosen = [SAMPLES[args.only - 1]] if args.only else SAMPLES
    failures = 0
    for number, sample in enumerate(chosen, start=args.only or 1):
        started = time.monotonic()
        ok, detail = check(sample)
        failures += not ok
        print(f"{number:2}. {'caught ' if ok else 'MISSED '} {sample.what}: {detail} "
              f"({time.monotonic() - started:.0f} s)", flush=True)
    print(f"{len(chosen) - failures} of {len(chosen)} reverted fixes caught by the converted "
          "tests")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
