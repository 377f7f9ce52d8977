"""Our tags: every resource we create carries the deployment id; ownership is read from them."""

from .. import naming
from ..errors import OwnershipError


def ours(deployment_id: str, **extra: str) -> dict[str, str]:
    tags = {naming.TAG_DEPLOYMENT: deployment_id, naming.TAG_MANAGED_BY: naming.TOOL}
    tags.update(extra)
    return tags


def as_list(tags: dict[str, str]) -> list[dict[str, str]]:
    """``[{"Key": k, "Value": v}]``: the shape EC2, IAM, S3, RDS and Secrets Manager take."""
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def from_list(tag_list: list[dict] | None) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in tag_list or []}


def owner(tags: dict[str, str]) -> str | None:
    """The deployment id a resource belongs to, or None when it is not ours."""
    return tags.get(naming.TAG_DEPLOYMENT)


def belongs_to(tags: dict[str, str], deployment_id: str) -> bool:
    return owner(tags) == deployment_id


def shared(deployment_id: str) -> dict[str, str]:
    """Tags for account- or VPC-wide resources we create for every deployment to use (the EMR default
    roles and security groups): they record which deployment created them, but carry no deployment
    tag, so no teardown counts them as its own."""
    return {naming.TAG_SHARED: deployment_id, naming.TAG_MANAGED_BY: naming.TOOL}


def require_ours(tags: dict[str, str], deployment_id: str, what: str) -> None:
    """OwnershipError naming ``what`` (e.g. "IAM role 'x'") unless ``tags`` carry our deployment tag."""
    if not belongs_to(tags, deployment_id):
        found = f"deployment {owner(tags)}" if owner(tags) else "no deployment tag"
        raise OwnershipError(
            f"{what} exists and is not ours ({found}; expected the tag {naming.TAG_DEPLOYMENT}={deployment_id}); "
            "delete or rename it, or choose another deployment_id"
        )
