"""The AWS account and partition this stack runs in (STS GetCallerIdentity needs no permission)."""

from ..errors import PreflightError, quote
from .clients import client, partition


def caller_account(region: str) -> str:
    return client("sts", region).get_caller_identity()["Account"]


def require_this_account(arn: str, region: str, field: str) -> None:
    """PreflightError unless ``arn`` names a principal of this stack's own account and partition."""
    parts = arn.split(":")
    found = (parts[1], parts[4]) if len(parts) > 4 else (None, None)
    expected = (partition(region), caller_account(region))
    if found != expected:
        raise PreflightError(
            f"{field}: {quote(arn, 80)} is not a principal of this stack's account ({expected[0]} account {expected[1]}); "
            f'a deployment grants access only to a user or role of its own account, e.g. "arn:{expected[0]}:iam::{expected[1]}:user/acme-edxapp"'
        )
