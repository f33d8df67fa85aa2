"""What exists of the kinds a stack uses, listed through the public AWS APIs.

Used by `demo` to check that `down` left nothing; it works against any endpoint (the emulator
or a real account) because it reads only what every AWS client can read.
"""

from __future__ import annotations

from provision.aws.client import Aws

# section -> (service, operation, list key, item key)
_LISTINGS = {
    "roles": ("iam", "list_roles", "Roles", "RoleName"),
    "functions": ("lambda", "list_functions", "Functions", "FunctionName"),
    "topics": ("sns", "list_topics", "Topics", "TopicArn"),
    "subscriptions": ("sns", "list_subscriptions", "Subscriptions", "SubscriptionArn"),
    "rules": ("events", "list_rules", "Rules", "Name"),
    "log_groups": ("logs", "describe_log_groups", "logGroups", "logGroupName"),
    "alarms": ("cloudwatch", "describe_alarms", "MetricAlarms", "AlarmName"),
}


def inventory(aws: Aws) -> dict[str, list[str]]:
    found = {section: sorted(item[key] for page in aws.pages(service, operation)
                             for item in page.get(listing, []))
             for section, (service, operation, listing, key) in _LISTINGS.items()}
    found["security_groups"] = security_groups(aws)
    found["schedule_groups"] = schedule_groups(aws)
    return found


def schedule_groups(aws: Aws) -> list[str]:
    """EventBridge Scheduler groups (market-time schedules), but the account's 'default' one,
    which always exists."""
    return sorted(g["Name"] for page in aws.pages("scheduler", "list_schedule_groups")
                  for g in page.get("ScheduleGroups", []) if g["Name"] != "default")


def security_groups(aws: Aws) -> list[str]:
    """Groups stock-alert made (network:, issue 12): only tagged ones, since every VPC holds a
    'default' group that nobody can delete."""
    tagged = [{"Name": "tag:managed-by", "Values": ["stock-alert"]}]
    return sorted(f"{g['GroupName']} ({g['GroupId']})"
                  for page in aws.pages("ec2", "describe_security_groups", Filters=tagged)
                  for g in page.get("SecurityGroups", []))
