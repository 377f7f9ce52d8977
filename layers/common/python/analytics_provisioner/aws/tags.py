"""Our tags: every resource we create carries the deployment id; ownership is read from them."""

import json
import shlex
from collections.abc import Callable

from .. import naming
from ..errors import NotOptedInError, OwnershipError, quote
from .clients import client

# Values of the allow tag that admit every deployment. RDS (and other services) refuse "*" in a tag
# value (letters, digits, spaces and _ . : / = + - @ only), so "@all" says the same everywhere.
EVERY_DEPLOYMENT = ("*", "@all")


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


def tagged_arns(region: str, deployment_id: str) -> list[str]:
    """Every resource in ``region`` that carries the deployment's tag, by ARN, whatever created it:
    what a failure report must list even when a parallel branch never handed its output on."""
    pages = (
        client("resourcegroupstaggingapi", region)
        .get_paginator("get_resources")
        .paginate(TagFilters=[{"Key": naming.TAG_DEPLOYMENT, "Values": [deployment_id]}])
    )
    return sorted(item["ResourceARN"] for page in pages for item in page["ResourceTagMappingList"])


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


# --- opt-in: resources that existed before the deployment -----------------------------------------
def allows(tags: dict[str, str], deployment_id: str) -> bool:
    """The resource's owner opted it in for ``deployment_id``: its allow tag is "*" (or "@all") or a
    space-separated list naming the id. A resource carrying our own deployment tag needs no opt-in."""
    listed = tags.get(naming.TAG_ALLOW, "").split()
    return belongs_to(tags, deployment_id) or deployment_id in listed or any(word in listed for word in EVERY_DEPLOYMENT)


def allow_value(tags: dict[str, str], deployment_id: str) -> str:
    """The allow tag's value once ``deployment_id`` is added to what it lists now."""
    listed = tags.get(naming.TAG_ALLOW, "").split()
    return " ".join(listed + [deployment_id])


def allow_tags_argument(value: str) -> str:
    """The allow tag as the AWS CLI's ``--tags`` takes it (JSON), quoted for a POSIX shell."""
    return shlex.quote(json.dumps([{"Key": naming.TAG_ALLOW, "Value": value}], separators=(",", ":")))


def require_opted_in(tags: dict[str, str], deployment_id: str, field: str, what: str, command: Callable[[str], str]) -> None:
    """NotOptedInError unless ``tags`` admit ``deployment_id``. The one message for every kind of
    resource: the field, the resource, what its tag says, and ``command(value)``, the exact AWS CLI
    command that sets the allow tag to ``value`` (its current list plus this deployment)."""
    if allows(tags, deployment_id):
        return
    current = tags.get(naming.TAG_ALLOW)
    found = f"its tag {naming.TAG_ALLOW} is {quote(current)}" if current is not None else f"it has no tag {naming.TAG_ALLOW}"
    raise not_opted_in(field, what, deployment_id, found, command(allow_value(tags, deployment_id)))


def not_opted_in(field: str, what: str, deployment_id: str, found: str, command: str) -> NotOptedInError:
    return NotOptedInError(
        f"{field}: {what} is not opted in for deployment {deployment_id} ({found}). A deployment uses a resource that "
        f'existed before it only when its owner tags it {naming.TAG_ALLOW} = "*" (or "@all") or a space-separated '
        f'list of deployment ids (README, "Trust model"). The owner opts it in with: {command}'
    )
