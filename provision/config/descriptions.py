"""What each config key does and takes, in words: the `description` of every property of the
JSON Schema (`stock-alert config schema`), so editors show it on hover and the config reference
(docs/reference/config.md, generated from that schema) says it. Keyed by the key's path as the
reference writes it (`stocks[].above` for a field of each list item).

tests/test_schema.py fails when a key of the model has no entry here, or an entry no key.
"""

from __future__ import annotations

DESCRIPTIONS: dict[str, str] = {
    "name": (
        "Stack name and the prefix of every AWS name. A letter, then ASCII letters, digits or "
        "'-', not ending in '-', at most 55 characters (so '<name>-schedule' fits AWS's 64)."),
    "region": (
        "An AWS Region botocore knows, e.g. us-east-1. Without it: --region, AWS_REGION, "
        "AWS_DEFAULT_REGION, then the profile's Region."),
    "schedule": (
        "When the function runs. Either the market's local time, {at: \"16:30\", timezone: "
        "America/New_York, days: MON-FRI}, which becomes an EventBridge Scheduler schedule "
        "that follows the zone's daylight saving (what init and the example config write); or "
        "an EventBridge rule's expression, checked locally and evaluated in UTC: cron(...) takes "
        "6 fields (Minutes Hours Day-of-month Month Day-of-week Year; no seconds) with '?' in "
        "exactly one of day-of-month or day-of-week; day-of-month takes L, LW and 15W, "
        "day-of-week L, 6L and 3#2; ranges may wrap (FRI-MON). It must fire within the next 50 "
        "years. rate(N unit) takes 1 minute to one year, with a singular unit for 1 "
        "(rate(1 hour)) and a plural one otherwise (rate(15 minutes)). Without the key: "
        "cron(30 21 ? * MON-FRI *), 21:30 UTC on weekdays, after the New York close in winter "
        "and summer. Changing from one form to the other makes the new schedule first, then "
        "deletes the old one."),
    "schedule.at": (
        "The local time of day, 24-hour HH:MM in quotes (\"16:30\": YAML reads an unquoted "
        "16:30 as a number)."),
    "schedule.timezone": (
        "An IANA time zone from the tz database, e.g. America/New_York or Europe/London; "
        "EventBridge Scheduler follows its daylight-saving changes."),
    "schedule.days": (
        "The days it runs: day names, ranges and commas (MON-FRI, MON,WED,FRI), or '*' or "
        "daily for every day. Default MON-FRI."),
    "enabled": (
        "true or false (not 1/0 or quoted text). false keeps the stack but sets the schedule "
        "(the rule, or the market-time schedule) to DISABLED, so it pauses."),
    "stocks": (
        "1 to 25 tickers: strings (TSLA) or mappings {symbol, name, above, below}. Each ticker "
        "once. Quote tickers YAML reads as booleans, e.g. \"ON\". All stocks together must fit "
        "the function's 4 KB environment."),
    "stocks[].symbol": (
        "The ticker: 1 to 12 of A-Z 0-9 . - = ^; lower case is upper-cased."),
    "stocks[].name": (
        "A display name for messages, 1 to 40 characters on one line."),
    "stocks[].above": (
        "Alert when the price is at or above this (a finite price greater than 0; threshold "
        "mode)."),
    "stocks[].below": (
        "Alert when the price is at or below this (a finite price greater than 0, below "
        "'above'; threshold mode)."),
    "notify": "Who receives the alerts: each entry becomes an SNS subscription of the topic.",
    "notify.email": (
        "At most 25 e-mail addresses, each once (letter case ignored), local@domain, at most "
        "254 characters; quoted local parts are not supported. AWS first sends each one a "
        "confirmation link; 'status' shows those still pending."),
    "notify.sms": (
        "At most 25 phone numbers, each once, in E.164: '+', the country code and the number, "
        "7 to 15 ASCII digits, e.g. \"+15555550100\". A new account is in the SMS sandbox and "
        "texts only verified numbers."),
    "notify.kms_key": (
        "A customer managed KMS key for the topic, as a key ARN (arn:aws:kms:REGION:ACCOUNT:"
        "key/UUID or .../key/mrk-...) or an alias ARN; AWS-managed aliases (alias/aws/...) are "
        "refused. Default: the AWS-managed alias/aws/sns. The role then gets "
        "kms:GenerateDataKey* and kms:Decrypt on that key only, through SNS only. Only with "
        "such a key does stock-alert make the errors alarm: CloudWatch cannot publish to a "
        "topic encrypted with alias/aws/sns."),
    "function": "The Lambda function's settings.",
    "function.runtime": "The Lambda Python runtime, python3.10 to python3.14.",
    "function.memory_mb": "Memory in MB, a whole number from 128 to 10240.",
    "function.timeout_s": "Timeout of one run in seconds, a whole number from 1 to 900.",
    "function.log_retention_days": (
        "How long CloudWatch Logs keeps the function's log: a value CloudWatch accepts. "
        "stock-alert creates the log group itself, so Lambda never makes one without "
        "retention."),
    "function.reserved_concurrency": (
        "Executions reserved for (and the most allowed of) the function: 1 to 900, or null to "
        "reserve nothing. New accounts often have a concurrency limit of 10 that must stay "
        "unreserved: Lambda then refuses any reservation and 'up' says to set null."),
    "quotes": (
        "Where the function fetches quotes: a chain of sources asked in order for each symbol, "
        "and the API key of a source that needs one."),
    "quotes.providers": (
        "Quote sources, each once, asked in this order for each symbol: yahoo and stooq need "
        "no key, alphavantage needs one (api_key_parameter, api_key_secret, or the default "
        "parameter). The next source is asked when one refuses (HTTP 429, 403), answers an "
        "error, times out, or gives an implausible quote (over 10x or under a tenth of the "
        "previous close, a trading day over 7 days old or in the future, another symbol's "
        "answer). Default [yahoo, stooq]."),
    "quotes.provider": (
        "The older form of a chain of one source: provider: X is providers: [X]. Not together "
        "with providers."),
    "quotes.api_key_parameter": (
        "An SSM SecureString parameter that holds the API key: letters, digits, _ . -; a name "
        "with '/' starts with '/'; at most 15 levels and 1011 characters; not beginning with "
        "aws or ssm. Default, when the chain holds alphavantage and api_key_secret is not set: "
        "/stock-alert/NAME/api-key. Adds ssm:GetParameter on exactly that parameter. Store "
        "the key with 'stock-alert secret set'."),
    "quotes.api_key_secret": (
        "A Secrets Manager secret that holds the API key instead: its name (1 to 512 of "
        "letters, digits and /_+=.@-, not ending in '-' and 6 characters) or its full ARN. "
        "Not together with api_key_parameter. Adds secretsmanager:GetSecretValue on exactly "
        "that secret (NAME-?????? for a name)."),
    "quotes.api_key_kms_key": (
        "The ARN of a customer KMS key (arn:aws:kms:REGION:ACCOUNT:key/ID, in the stack's "
        "Region; aliases and bare key IDs are refused) that encrypts the parameter or secret. "
        "'secret set' encrypts with it; the role gets kms:Decrypt on exactly that key, only "
        "through SSM or Secrets Manager (kms:ViaService)."),
    "quotes.base_url": (
        "An http:// or https:// URL without spaces that replaces the scheme and host of every "
        "source's URL, e.g. a local quote server (stock-alert emulator --quotes), which "
        "answers for all of them."),
    "alert": "When a message is sent.",
    "alert.mode": "summary: every run sends the quotes; threshold: only when a rule fires.",
    "alert.when": (
        "Price rules (above/below): crossed (the default) fires when the previous close was on "
        "the other side of the level and the price is now on this side, once per crossing; "
        "beyond fires on every run while the price is past the level."),
    "alert.change_percent": (
        "The daily-change rule: fires when the absolute change is at least this many percent; "
        "greater than 0, at most 1000; null for no change rule."),
    "iam": (
        "Where the stack's roles live and what caps them: the function's role and, with a "
        "market-time schedule, the scheduler's."),
    "iam.path": (
        "The roles' IAM path: / or text that starts and ends with / (e.g. /stock-alert/), "
        "printable ASCII without spaces or //, at most 512 characters. IAM cannot move a role, "
        "so changing it on a deployed stack is refused before any write: run 'down', then "
        "'up'."),
    "iam.permissions_boundary": (
        "The ARN of a managed policy that caps what each of the stack's roles can ever do. Set "
        "at creation and "
        "restored if removed by hand; null makes 'up' remove a boundary attached by hand. It "
        "must allow what 'stock-alert permissions' lists. With it, 'deployer-policy' lets the "
        "operator create the role only with this boundary."),
    "schedule_delivery": (
        "EventBridge's (or EventBridge Scheduler's) retries when it cannot invoke the "
        "function."),
    "schedule_delivery.max_retry_attempts": (
        "RetryPolicy.MaximumRetryAttempts of the schedule's target (the rule's, or the "
        "market-time schedule's): how often EventBridge retries "
        "when Lambda throttles the function or is unavailable, 0 to 185 (AWS's own default is "
        "185)."),
    "schedule_delivery.max_event_age_s": (
        "RetryPolicy.MaximumEventAgeInSeconds: give up on a run's event after this many "
        "seconds, 60 to 86400. A closing-price alert hours late is worth little."),
    "tags": (
        "At most 40 extra tags for every resource. Keys 1 to 128 characters, values at most "
        "256, of letters, digits, spaces and _ . : / = + - @. Keys may not start with aws:; "
        "managed-by, stock-alert:stack and stock-alert:applied are reserved in any letter "
        "case; two keys that differ only in case are refused (IAM treats them as one)."),
    "network": (
        "Attach the function to a VPC. Without it no EC2 call is made. Use private subnets "
        "with a route to a NAT gateway (or VPC endpoints): a function in a VPC has no internet "
        "access of its own."),
    "network.subnet_ids": (
        "1 to 16 subnet ids (subnet- and 8 or 17 hex digits), each once, all in one VPC in "
        "the stack's Region; 'plan' and 'up' check them against AWS first."),
    "network.security_group_ids": (
        "0 to 5 security group ids (sg-...) of the subnets' VPC, used as they are. Without "
        "them, 'up' makes NAME-fn-sg."),
    "network.egress_cidrs": (
        "1 to 50 IPv4 or IPv6 CIDR blocks, written as their network (10.1.0.0/16): the only "
        "outbound rules of NAME-fn-sg, TCP 443 to each. Not with security_group_ids."),
}
