"""Lambda's network interfaces (ENIs) in the function's subnets, and waiting for their release.

Lambda deletes a VPC function's ENIs itself, with the execution role, up to tens of minutes
after the function is deleted or leaves the VPC (AWS Knowledge Center, "lambda-eni-find-delete";
github.com/terraform-aws-modules/terraform-aws-lambda/issues/310). Until then EC2 refuses to
delete their security group (DependencyViolation).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from provision.aws.client import Aws
from provision.core import policies
from provision.errors import AwsError

log = logging.getLogger("provision.kinds.enis")

# Terraform's AWS provider waits up to 45 minutes for Lambda's ENIs before deleting a group
# (github.com/hashicorp/terraform-provider-aws/pull/10347); reports of longer waits exist
# (github.com/hashicorp/terraform-provider-aws/issues/32130).
ENI_RELEASE_WAIT_S = 45 * 60
ENI_POLL_FIRST_S = 10.0
ENI_POLL_CAP_S = 60.0
DESCRIPTION = "AWS Lambda VPC ENI-{function}*"  # how Lambda describes a function's ENIs


def delete_waiting_for_enis(aws: Aws, group_id: str, name: str) -> None:
    """DeleteSecurityGroup, retried on DependencyViolation while Lambda releases its ENIs:
    capped exponential waits on the injected clock, at most ENI_RELEASE_WAIT_S in all."""
    policy = aws.retry
    start, delay = policy.clock(), ENI_POLL_FIRST_S
    while True:
        try:
            aws.call("ec2", "delete_security_group", GroupId=group_id)
            return
        except AwsError as err:
            if err.code == "InvalidGroup.NotFound":
                return  # gone already: done
            if err.code != "DependencyViolation":
                raise
        waited = policy.clock() - start
        if waited + delay > ENI_RELEASE_WAIT_S:
            raise AwsError(
                f"security group {name} ({group_id}) is still in use after "
                f"{waited / 60:.0f} minutes (DependencyViolation).",
                code="DependencyViolation",
                hint="Lambda has not released its network interfaces yet, or something else "
                "uses the group. List them with 'aws ec2 describe-network-interfaces "
                f"--filters Name=group-id,Values={group_id}', then run 'down' again.")
        log.info("security group %s: Lambda still holds network interfaces in it "
                 "(DependencyViolation; it releases them up to 45 minutes after the function "
                 "is deleted); waited %.0fs, next try in %.0fs", name, waited, delay)
        policy.sleep(delay)
        delay = min(delay * 2, ENI_POLL_CAP_S)



def lambda_enis(aws: Aws, function: str) -> dict[str, str]:
    """The function's Lambda-managed ENIs, as EC2 lists them now: id -> subnet id. Found by
    interface type and by the description Lambda gives them (AWS Knowledge Center,
    "lambda-eni-find-delete"), whoever owns their security groups."""
    filters = [{"Name": "interface-type", "Values": ["lambda"]},
               {"Name": "description", "Values": [DESCRIPTION.format(function=function)]}]
    return {eni["NetworkInterfaceId"]: eni.get("SubnetId", "")
            for page in aws.pages("ec2", "describe_network_interfaces", Filters=filters)
            for eni in page.get("NetworkInterfaces", [])}


def wait_released(aws: Aws, function: str, role: str) -> None:
    """Wait, bounded, until EC2 lists no ENI of `function`: Lambda deletes them with the
    execution role, so the role (and its ENI grant) must outlive them. Capped exponential
    polls on the injected clock, a progress line each, at most ENI_RELEASE_WAIT_S."""
    policy = aws.retry
    start, delay = policy.clock(), ENI_POLL_FIRST_S
    while True:
        held = lambda_enis(aws, function)
        if not held:
            return
        waited = policy.clock() - start
        if waited + delay > ENI_RELEASE_WAIT_S:
            raise AwsError(
                f"Lambda still holds {len(held)} network interface(s) of function {function} "
                f"({', '.join(sorted(held))}) after {waited / 60:.0f} minutes; role {role} "
                "was kept, as Lambda deletes them with it.", code="EnisNotReleased",
                hint="List them with 'aws ec2 describe-network-interfaces --filters "
                "Name=interface-type,Values=lambda "
                f"\"Name=description,Values={DESCRIPTION.format(function=function)}\"', "
                "then run 'down' again once they are gone.")
        log.info("role %s: Lambda still holds %d network interface(s) of function %s (it "
                 "deletes them with the role, up to ~45 minutes after the function leaves "
                 "the VPC); waited %.0fs, next check in %.0fs", role, len(held), function,
                 waited, delay)
        policy.sleep(delay)
        delay = min(delay * 2, ENI_POLL_CAP_S)


def grant_kept(inline: Mapping[str, Any], grant: str, held: tuple[str, ...],
               observed_inline: Mapping[str, str]) -> dict[str, Any]:
    """The role's inline policies to have now: `inline`, except that the ENI grant keeps every
    subnet in `held` (where EC2 still lists ENIs of the function, which Lambda deletes with
    this role, up to tens of minutes after the function leaves them), and is kept, as it is,
    while any is listed even when the config no longer wants it."""
    documents: dict[str, Any] = dict(inline)
    if not held:
        return documents
    if grant in documents:
        documents[grant] = policies.widen_eni_grant(documents[grant], held)
    elif grant in observed_inline:
        documents[grant] = json.loads(observed_inline[grant])
    return documents


def grant_note(grant: str, held: tuple[str, ...], function: str) -> str:
    return (f"{grant} keeps subnets {', '.join(held)}: EC2 still lists network interfaces of "
            f"function {function} there, which Lambda deletes with this role; a later 'up' "
            "narrows it once they are gone")
