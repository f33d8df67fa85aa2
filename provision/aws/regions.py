"""A Region that is not enabled in the account, told apart from bad credentials.

Regions launched since 2019 are opt-in. Until an account enables one, every call there answers
"The security token included in the request is invalid": UnrecognizedClientException (json
services), InvalidClientTokenId (STS, IAM, SNS), AuthFailure (EC2)
(github.com/aws/chalice/issues/1445, github.com/99designs/aws-vault/issues/543). A token from
the global STS endpoint is refused there the same way, which is why sessions use regional STS
(aws.py; botocore defaults to it only from 1.40, github.com/boto/boto3/issues/4583). When the
same credentials work in us-east-1, the Region is the cause, not a permission.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from provision.errors import AwsError

if TYPE_CHECKING:
    from provision.aws.client import Aws

TOKEN_INVALID = frozenset({"UnrecognizedClientException", "InvalidClientTokenId",
                           "AuthFailure"})
HOME = "us-east-1"  # enabled in every account of the aws partition


def not_enabled(aws: Aws, code: str) -> AwsError | None:
    """'Region X is not enabled in account Y' when `code` says the token is invalid in this
    Region and the same credentials work in us-east-1 (one STS call, on this error only);
    None otherwise (bad credentials are bad everywhere)."""
    if code not in TOKEN_INVALID or aws.region == HOME or "-" not in aws.region or (
            aws.region.startswith(("cn-", "us-gov-", "us-iso"))):
        return None
    try:
        account = aws.sibling(HOME).call("sts", "get_caller_identity")["Account"]
    except AwsError:
        return None
    return AwsError(
        f"Region {aws.region} is not enabled in account {account}: AWS answered {code} (\"The "
        f"security token included in the request is invalid\") there, while the same "
        f"credentials work in {HOME}.", code=code,
        hint=f"Enable the Region in the AWS console (account menu, Account, AWS Regions) or "
        f"with 'aws account enable-region --region-name {aws.region}' (it takes a few minutes; "
        "check with 'aws account get-region-opt-status'), or use an enabled Region; then run "
        "the same command again.")
