"""reference/role-permissions.md and reference/operator-permissions.md: the IAM tables, from
what `stock-alert permissions --output json`, `plan --output json` and `deployer-policy` print
(the same functions the commands use), for the example config and for configs that add an API
key, customer KMS keys and a VPC."""

from __future__ import annotations

import json
from typing import Any

from gen_common import ACCOUNT, EXAMPLE_CONFIG, HEADER, REGION, Cli, code, json_block, prose, table

KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BASE = f"name: stock-alert\nregion: {REGION}\nstocks: [TSLA]\nnotify: {{email: [you@example.com]"
# (title, what it adds to the example, config text)
SCENARIOS = (
    ("With an API key in SSM", "`quotes.provider: alphavantage` (the key in the default "
     "parameter `/stock-alert/NAME/api-key`)",
     BASE + "}\nquotes: {provider: alphavantage}\n"),
    ("With the key in Secrets Manager and customer KMS keys",
     "`quotes.api_key_secret`, `quotes.api_key_kms_key` and `notify.kms_key`",
     BASE + f", kms_key: '{KEY}'}}\nquotes: {{provider: alphavantage, api_key_secret: "
     f"stock-alert/api-key, api_key_kms_key: '{KEY}'}}\n"),
    ("With a VPC", "`network: {subnet_ids: [subnet-0123456789abcdef0]}`",
     BASE + "}\nnetwork: {subnet_ids: [subnet-0123456789abcdef0]}\n"),
)


def role_page() -> str:
    with Cli() as cli:
        base = cli.run("permissions", "-o", "json", "-c", str(EXAMPLE_CONFIG)).json()
        plan = cli.run("plan", "-o", "json", "-c", str(EXAMPLE_CONFIG)).json()
        extra = []
        for title, adds, text in SCENARIOS:
            path = cli.write("scenario.yaml", text)
            found = cli.run("permissions", "-o", "json", "-c", path).json()
            documents = ({} if "network" in text else
                         _documents(cli.run("plan", "-o", "json", "-c", path).json()))
            extra.append((title, adds, found, documents))
    seen = {(g["action"], g["resource"]) for g in base["grants"]}
    known = _documents(plan)
    out = [HEADER, "# The function's permissions (its IAM role)\n\n",
           "What the function's execution role may do, and nothing else: each grant with its "
           "exact resource and why, as `stock-alert permissions` prints it (before `up` it "
           "shows the plan; after, what the deployed role holds). Everything here is "
           "generated from the same code, for the stack `stock-alert` in account "
           f"{ACCOUNT}, Region {REGION}.\n\n",
           "## The example config\n\n", _grants(base["grants"]), "\n"]
    for title, adds, found, documents in extra:
        new = [g for g in found["grants"] if (g["action"], g["resource"]) not in seen]
        out += [f"## {title}\n\n", f"Adding {adds} adds these grants:\n\n", _grants(new), "\n"]
        for name, document in documents.items():
            if name not in known:
                out += [f"Inline policy {code(name)}:\n\n", json_block(document), "\n"]
    out += ["## Deliberately not granted\n\n",
            table(["Action", "Resource", "Why not"],
                  [[code(n["action"]), code(n["resource"]), prose(n["why"])]
                   for n in base["not_granted"]]), "\n",
            "## The exact documents\n\n",
            "What `up` writes for the example config, from `stock-alert plan --output json`. "
            "No managed policy is attached.\n\n"]
    for name, document in known.items():
        out += [f"### {name}\n\n", json_block(document), "\n"]
    return "".join(out).rstrip("\n") + "\n"


def _grants(grants: list[dict[str, Any]]) -> str:
    return table(["Policy", "Action", "Resource", "Why"],
                 [[code(g["policy"]), code(g["action"]), code(g["resource"]), prose(g["why"])]
                  for g in grants])


def _documents(plan: dict[str, Any]) -> dict[str, Any]:
    """Trust policy, inline policies and the topic's access policy, from a plan's creates."""
    found: dict[str, Any] = {}
    for action in plan["actions"]:
        for change in action["changes"]:
            if action["kind"] == "role" and change["field"] == "trust_policy":
                found["Trust policy"] = json.loads(change["new"])
            elif action["kind"] == "role" and change["field"] == "policy":
                found[f"Inline policy {change['item']}"] = json.loads(change["new"])
            elif action["kind"] == "topic" and change.get("item") == "Policy":
                found["The topic's access policy"] = json.loads(change["new"])
    return found


OPERATOR_INTRO = """\
# Permissions the operator needs

What the identity that runs `stock-alert` (you, or CI) must be allowed, scoped to the one stack.
`stock-alert deployer-policy` prints it as an IAM policy for your config
(`--format explain` as a table with the reasons; `--account ID` to make no AWS call). Every
table on this page is generated from the same function. The tests prove the list is enough:
a user holding exactly these actions runs `up`, `status` and `down` under moto's IAM
enforcement, and one action fewer fails.

"""

OPERATOR_NOTES = """\
## Beyond the stack commands

- `stock-alert sweep` also needs, account-wide: `tag:GetResources`, `iam:ListRoles`,
  `events:ListRules`, `scheduler:ListScheduleGroups` and `lambda:ListFunctions`, and to read the
  tags of each role, rule and schedule group those list (`iam:ListRoleTags`,
  `events:ListTagsForResource`, `scheduler:ListTagsForResource`); `export --package-bucket`
  needs `s3:PutObject` on that bucket.
- With `--assume-role`, the identity you run stock-alert as needs only `sts:AssumeRole` on the
  listed role ARNs. Each role needs the permissions above in its own account
  (`stock-alert deployer-policy --account <id>`), and a trust policy that lets your identity
  assume it.
- `invoke --local` runs the function's code with your credentials: it then also needs what
  the function reads (`ssm:GetParameter` or `secretsmanager:GetSecretValue` for an API key).
- After upgrading stock-alert, print the policy again and attach it. Since the market-time
  schedule and the on-failure notifier, every `up`, `status` and `down` also reads the
  scheduler's role and the schedule group (whichever form the config's schedule has, to find
  one left by the other form) and the notifier `NAME_notify`, and `up` writes them; an older
  policy does not allow that.
"""


def operator_page() -> str:
    account = ["--account", ACCOUNT]
    with Cli() as cli:
        base = cli.run("deployer-policy", "--format", "markdown", *account,
                       "-c", str(EXAMPLE_CONFIG)).stdout
        policy = cli.run("deployer-policy", *account, "-c", str(EXAMPLE_CONFIG)).json()
        extra = []
        for title, adds, text in SCENARIOS[1:]:
            path = cli.write("scenario.yaml", text)
            extra.append((title, adds, cli.run("deployer-policy", "--format", "markdown",
                                               *account, "-c", path).stdout))
    rows = set(_rows(base))
    out = [HEADER, OPERATOR_INTRO, "## For the example config\n\n", base, "\n"]
    for title, adds, text in extra:
        new = [r for r in _rows(text) if r not in rows]
        out += [f"## {title}\n\n", f"Adding {adds} adds (for that config's names):\n\n",
                "| Action | Resource | Commands | Why |\n|---|---|---|---|\n", *new, "\n"]
    out += [OPERATOR_NOTES, "\n## The policy document for the example config\n\n",
            "What `stock-alert deployer-policy --account 123456789012` prints:\n\n",
            json_block(policy)]
    return "".join(out).rstrip("\n") + "\n"


def _rows(markdown: str) -> list[str]:
    return [line + "\n" for line in markdown.splitlines()
            if line.startswith("| `") and line.count("|") >= 5]
