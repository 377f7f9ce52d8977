"""IAM lookups (IAM is global: the region only picks the endpoint)."""

from botocore.exceptions import ClientError

from . import tags as tagging
from .clients import client
from .errors import error_code


def _absent_on_404(call):
    try:
        return call()
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise


def role_tags(name: str, region: str) -> dict | None:
    iam = client("iam", region)
    role = _absent_on_404(lambda: iam.get_role(RoleName=name)["Role"])
    return None if role is None else tagging.from_list(role.get("Tags"))


def user_tags(name: str, region: str) -> dict | None:
    iam = client("iam", region)
    user = _absent_on_404(lambda: iam.get_user(UserName=name)["User"])
    return None if user is None else tagging.from_list(user.get("Tags"))


def account_id(region: str) -> str:
    return client("sts", region).get_caller_identity()["Account"]


def policy_arn(name: str, region: str, path: str = "/") -> str:
    partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    return f"arn:{partition}:iam::{account_id(region)}:policy{path}{name}"


def policy_tags(name: str, region: str, path: str = "/") -> dict | None:
    iam = client("iam", region)
    arn = policy_arn(name, region, path)
    policy = _absent_on_404(lambda: iam.get_policy(PolicyArn=arn)["Policy"])
    if policy is None:
        return None
    return tagging.from_list(iam.list_policy_tags(PolicyArn=arn).get("Tags"))


def instance_profile_tags(name: str, region: str) -> dict | None:
    iam = client("iam", region)
    profile = _absent_on_404(lambda: iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"])
    return None if profile is None else tagging.from_list(profile.get("Tags"))
