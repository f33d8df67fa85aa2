"""What to do about a refusal: the hint for AWS's access-denied answers, in our words.

Pure: (code, message) -> hint. Never advises a grant that cannot help: an explicit Deny (a
service control policy, a permissions boundary, a resource policy) beats any Allow (IAM user
guide, "Policy evaluation logic"), so such a refusal names the Deny instead.
"""

from __future__ import annotations

import re

DENIED = frozenset({"AccessDenied", "AccessDeniedException", "AuthorizationError",
                    "UnauthorizedOperation", "Client.UnauthorizedOperation"})
# Lambda, for a function with VpcConfig, checks the caller's own EC2 reads: "Your access has
# been denied by EC2, please make sure your request credentials have permission to
# DescribeSecurityGroups for sg-... EC2 Error Code: UnauthorizedOperation." (github.com/
# Miserlou/Zappa/issues/2151, github.com/serverless/serverless/issues/8209).
_LAMBDA_EC2 = re.compile(r"denied by EC2, please make sure your request credentials have "
                         r"permission to (\w+)", re.IGNORECASE)
# EC2's own: "User: arn:... is not authorized to perform: ec2:DescribeVpcs because ..."
_NOT_AUTHORIZED = re.compile(r"not authorized to perform: ([a-z0-9-]+):(\w+)", re.IGNORECASE)
GENERIC = ("Your AWS identity lacks this permission or its credentials are invalid; "
           "'stock-alert deployer-policy' prints the permissions the operator needs for this "
           "config (docs/reference/operator-permissions.md explains each).")


def denial_hint(code: str, message: str) -> str | None:
    """The hint for an access-denied answer; None when `code` is not one."""
    if code not in DENIED:
        return None
    action = _action(message)
    if "explicit deny" in message.lower():
        what = action or "this action"
        return (f"An explicit Deny refuses {what} (the message says where: a service control "
                "policy, a permissions boundary or a resource-based policy). No Allow can "
                "override it, so granting the permission will not help: ask the owner of "
                "that policy to exempt this identity, or use one it does not cover.")
    lambda_ec2 = _LAMBDA_EC2.search(message)
    if lambda_ec2:
        return (f"Grant ec2:{lambda_ec2.group(1)} to the AWS identity running stock-alert: "
                "for a function in a VPC, Lambda checks that the caller may read its subnets, "
                "security groups and VPC (ec2:DescribeSubnets, ec2:DescribeSecurityGroups, "
                "ec2:DescribeVpcs). 'stock-alert deployer-policy' includes them.")
    if action:
        return (f"Your AWS identity lacks the permission {action}: grant {action} to the "
                "AWS identity running stock-alert ('stock-alert deployer-policy' prints every "
                "action this config needs, with its scope).")
    return GENERIC


def _action(message: str) -> str | None:
    found = _NOT_AUTHORIZED.search(message)
    if found:
        return f"{found.group(1).lower()}:{found.group(2)}"
    lambda_ec2 = _LAMBDA_EC2.search(message)
    return f"ec2:{lambda_ec2.group(1)}" if lambda_ec2 else None
