"""reference/environment.md: the environment variables stock-alert reads, sets or hands to the
function. What each bad value gets is what the CLI answered when the generator set it; the
function's environment is the one `plan --output json` shows for the example config.
tests/test_docs.py checks that every variable named in the code is on the page."""

from __future__ import annotations

from gen_common import EXAMPLE_CONFIG, HEADER, Cli, code, prose, table

# (variable, what it does, default, a value the CLI refuses or None)
READ = (
    ("STOCK_ALERT_CONFIG", "The config file when no `--config/-c` is given.",
     "`./config.yaml`", "missing.yaml"),
    ("AWS_PROFILE", "The AWS profile (credentials and Region), like `--profile`.",
     "the default profile", None),
    ("AWS_REGION", "The Region when neither `--region` nor the config's `region` says.",
     "`AWS_DEFAULT_REGION`, then the profile's", "mars-1"),
    ("AWS_DEFAULT_REGION", "The Region, after `AWS_REGION`.", "the profile's", None),
    ("AWS_ENDPOINT_URL", "Send every AWS call there instead of AWS, e.g. the emulator's "
     "`http://127.0.0.1:4566`. Tables and JSON documents name it. An `http://` or `https://` "
     "URL with a host and an optional port from 1 to 65535.", "AWS's own endpoints",
     "ftp://127.0.0.1"),
    ("AWS_ENDPOINT_URL_<SERVICE>", "The same for one service (botocore's own variable, e.g. "
     "`AWS_ENDPOINT_URL_SNS`), checked the same way.", "`AWS_ENDPOINT_URL`", None),
    ("AWS_MAX_ATTEMPTS", "botocore's attempts per call (standard retry mode), 1 to 20.", "4",
     "0"),
    ("AWS_RETRY_MODE", "botocore's retry mode: `standard`, `adaptive` or `legacy`. `adaptive` "
     "was measured and not chosen: it slows every stack down on each throttling answer.",
     "`standard`", "fast"),
    ("STOCK_ALERT_TIMEOUT_S", "Read timeout of every AWS call, in seconds, 1 to 300; it also "
     "caps the connect timeout (3 s). An endpoint that accepts connections but never answers "
     "ends the command in about 25 s (4 attempts). Raise it for a slow link.", "5", "0"),
    ("STOCK_ALERT_RETRY_DEADLINE_S", "How long stock-alert's own retries (IAM propagation, "
     "throttling, updates in progress) go on before giving up, in seconds, above 0 and at "
     "most 3600.", "300", "0"),
    ("STOCK_ALERT_CACHE_DIR", "Where stock-alert keeps what a run can compute again: copies "
     "of botocore's data files (service models, endpoints) that Python reads several times "
     "faster than botocore's JSON (and botocore's lists of services), about 3 MB; the function "
     "zip with its modules' imports, by their content (an edited module is always shipped); "
     "and the config file's parsed YAML, by the file's bytes (it is still validated on every "
     "run). A copy is remade whenever its "
     "source, botocore or Python changes; one that cannot be written or read only costs time. "
     "Deleting the folder is always safe. `off` turns it off.",
     "`$XDG_CACHE_HOME/stock-alert`, else `~/.cache/stock-alert`", None),
    ("STOCK_ALERT_EMULATOR", "Set by the export line `stock-alert emulator` prints: marks "
     "that endpoint as the built-in emulator (for example, only there does a note say e-mail "
     "subscriptions are confirmed at once).", "not set", None),
    ("AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN", "Credentials, read by "
     "botocore's usual chain (also SSO, profiles, instance roles). `invoke --local` hands the "
     "ones in use to the function it runs. With the emulator's test key (`testing`) and no "
     "`AWS_ENDPOINT_URL`, a refused call's hint says to set `AWS_ENDPOINT_URL`.",
     "botocore's chain", None),
)
SET = (
    ("PYDANTIC_DISABLE_PLUGINS", "Set to `__all__` unless you set it: stock-alert uses no "
     "pydantic plugin, and looking for them costs start-up time."),
    ("_STOCK_ALERT_COMPLETE", "Shell completion's protocol: the script `stock-alert "
     "completion SHELL` prints sets it when the shell asks for completions."),
    ("AWS_EC2_METADATA_DISABLED", "Set by `stock-alert demo` while it runs, with test "
     "credentials, so nothing looks for real AWS."),
    ("AWS_LAMBDA_FUNCTION_NAME", "Set for the function's process by `invoke --local`, as "
     "Lambda sets it."),
)
FUNCTION_ONLY = (
    ("STOCK_ALERT_HTTP_TIMEOUT_S", "Optional: the function's timeout for one quote request, "
     "in seconds (not set by `up`; the function's default applies)."),
)


def page() -> str:
    with Cli() as cli:
        refused = [_refused(cli, name, value) for name, _, _, value in READ]
        plan = cli.run("plan", "-o", "json", "-c", str(EXAMPLE_CONFIG)).json()
    environment = next(c["new"] for a in plan["actions"] if a["kind"] == "function"
                       for c in a["changes"] if c["field"] == "environment")
    rows = [[", ".join(code(n) for n in name.split(", ")), text, default]
            for name, text, default, _ in READ]
    out = [HEADER, "# Environment variables\n\n",
           "## What stock-alert reads\n\n",
           "The standard AWS environment is honoured. The Region comes from the first of "
           "these that is set: `--region`, the config's `region`, `AWS_REGION`, "
           "`AWS_DEFAULT_REGION`, then the profile's Region.\n\n",
           table(["variable", "what it does", "default"], rows), "\n",
           "A value stock-alert cannot use stops the command with exit code 2 before any AWS "
           "call, naming the variable. What it says, for example:\n\n",
           table(["set", "stock-alert says"], [r for r in refused if r]), "\n",
           "## What stock-alert sets\n\n",
           table(["variable", "when and why"], [[code(n), t] for n, t in SET]), "\n",
           "## The function's environment\n\n",
           "`up` hands the function its settings as environment variables (never the API "
           "key: only the name of its parameter or secret). Lambda allows 4 KB for all of "
           "them together, which `config check` and `plan` check first. For the example "
           "config (from `stock-alert plan --output json`):\n\n",
           table(["variable", "value"], [[code(k), code(v)] for k, v in environment.items()]),
           "\n`STOCK_ALERT_API_KEY_PARAMETER` or `STOCK_ALERT_API_KEY_SECRET` (with a key "
           "source) and `STOCK_ALERT_QUOTES_BASE_URL` (with `quotes.base_url`) are added when "
           "the config asks for them.\n\n",
           table(["variable", "meaning"], [[code(n), t] for n, t in FUNCTION_ONLY])]
    return "".join(out).rstrip("\n") + "\n"


def _refused(cli: Cli, name: str, value: str | None) -> list[str] | None:
    if value is None:
        return None
    args = ["plan"] if name == "STOCK_ALERT_CONFIG" else ["plan", "-c", str(EXAMPLE_CONFIG)]
    if name == "AWS_REGION":  # the example config names its region, which comes first
        args = ["plan", "-c", cli.write("no-region.yaml", "name: x\nstocks: [TSLA]\n")]
    ran = cli.run(*args, env={name: value}, ok=False)
    if ran.exit_code != 2:
        raise RuntimeError(f"{name}={value} gave exit {ran.exit_code}, not 2: {ran.stderr}")
    said = ran.stderr.strip().removeprefix("error:").strip()
    return [code(f"{name}={value}"), prose(said)]

