"""The role's permissions boundary (iam.permissions_boundary): given at creation, put back when
removed by hand, removed only when the config says null, and IAM's refusal of one explained in
terms of the config key. Used by both of the stack's roles (role.py, scheduler_role.py)."""

from __future__ import annotations

from typing import Any

from provision.aws.client import Aws
from provision.errors import AwsError


def params(boundary: str | None) -> dict[str, Any]:
    """CreateRole's parameter for the boundary, if the config names one."""
    return {"PermissionsBoundary": boundary} if boundary else {}


def put(aws: Aws, role: str, boundary: str | None) -> None:
    """Set the config's boundary on the role, or remove the one it has (config: null)."""
    if boundary:
        try:
            aws.call("iam", "put_role_permissions_boundary", RoleName=role,
                     PermissionsBoundary=boundary)
        except AwsError as err:
            explain_refusal(err, role, boundary)
            raise
    else:
        aws.call("iam", "delete_role_permissions_boundary", RoleName=role, missing_ok=True)


def explain_refusal(err: AwsError, role: str, boundary: str | None) -> None:
    """IAM refuses a boundary it does not have or cannot use (a service-role policy): name the
    config key, not just IAM's words."""
    if boundary and (err.code == "PolicyNotAttachable" or (
            err.code in ("NoSuchEntity", "InvalidInput") and boundary in err.message)):
        raise AwsError(
            f"IAM refused iam.permissions_boundary {boundary} for role {role}: "
            f"{err.message}", code=err.code,
            hint="The boundary must be a managed policy that exists in this account (or an AWS "
            "managed policy) and is not a service-role policy: fix the ARN in the config, or "
            "remove iam.permissions_boundary.") from err
