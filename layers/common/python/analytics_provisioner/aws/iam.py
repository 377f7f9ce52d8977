"""IAM lookups and small ensure helpers (IAM is global: the region only picks the endpoint)."""

import contextlib
import json

from botocore.exceptions import ClientError

from ..errors import TransientAwsError
from . import secrets
from . import tags as tagging
from .clients import client, partition
from .errors import absent_on, aws_call, classify, error_code, gone_is_success, unless_exists

EXISTS = "EntityAlreadyExists"  # ``create_*`` answer None then: a look-up moments before did not show it


def absent_on_404(call):
    """``call()``, or None when IAM answers NoSuchEntity."""
    return absent_on(call, "NoSuchEntity")


def _gone_ok(call) -> bool:
    """A delete, detach or removal: True when it took effect now, False when IAM had nothing to remove."""
    return gone_is_success(call, "NoSuchEntity")


def _listed(call) -> list:
    """What a list call answers about a user, role or policy; nothing when it is gone (a delete's first step)."""
    return absent_on_404(call) or []


def _tags_of(resource: dict | None) -> dict | None:
    return None if resource is None else tagging.from_list(resource.get("Tags"))


def role_tags(name: str, region: str) -> dict | None:
    return _tags_of(role(name, region))


def user_tags(name: str, region: str) -> dict | None:
    return _tags_of(user(name, region))


def account_id(region: str) -> str:
    return client("sts", region).get_caller_identity()["Account"]


def policy_arn(name: str, region: str, path: str = "/") -> str:
    return f"arn:{partition(region)}:iam::{account_id(region)}:policy{path}{name}"


def role_arn(name: str, region: str, path: str = "/") -> str:
    return f"arn:{partition(region)}:iam::{account_id(region)}:role{path}{name}"


def policy_tags(name: str, region: str, path: str = "/") -> dict | None:
    return _tags_of(managed_policy(policy_arn(name, region, path), region))


def instance_profile_tags(name: str, region: str) -> dict | None:
    return _tags_of(instance_profile(name, region))


# --- ensure helpers (the Identity phase) -----------------------------------------------------------
# Policy documents are compared as parsed JSON: boto3 hands IAM's URL-encoded documents back decoded.
POLICY_VERSION_LIMIT = 5


@contextlib.contextmanager
def _propagating(doing: str):
    """IAM is eventually consistent: a role, profile or user created a moment ago can still be
    NoSuchEntity to the next call. That is retryable (the state machine's Retry is bounded)."""
    try:
        yield
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            raise TransientAwsError(f"{classify(exc, doing)}; it may still be propagating, retrying") from exc
        raise


def role(name: str, region: str) -> dict | None:
    iam = client("iam", region)
    return absent_on_404(lambda: iam.get_role(RoleName=name)["Role"])


def create_role(name: str, path: str, trust: dict, description: str, tags: dict[str, str], region: str) -> dict | None:
    iam = client("iam", region)
    created = unless_exists(
        lambda: iam.create_role(
            RoleName=name,
            Path=path,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description=description,
            Tags=tagging.as_list(tags),
        ),
        EXISTS,
    )
    return created and created["Role"]


def delete_role(name: str, region: str) -> bool:
    """``create_role``'s partner: out of its instance profiles, its inline policies deleted and managed
    ones detached, then deleted; False when it was already gone."""
    iam = client("iam", region)
    for profile in _listed(lambda: iam.list_instance_profiles_for_role(RoleName=name)["InstanceProfiles"]):
        _gone_ok(lambda p=profile: iam.remove_role_from_instance_profile(InstanceProfileName=p["InstanceProfileName"], RoleName=name))
    for policy in _listed(lambda: iam.list_role_policies(RoleName=name)["PolicyNames"]):
        _gone_ok(lambda p=policy: iam.delete_role_policy(RoleName=name, PolicyName=p))
    for policy_arn in _listed(lambda: attached_policy_arns(name, region)):
        _gone_ok(lambda a=policy_arn: iam.detach_role_policy(RoleName=name, PolicyArn=a))
    return _gone_ok(lambda: iam.delete_role(RoleName=name))


def ensure_trust(existing_role: dict, trust: dict, region: str) -> bool:
    """Set the role's trust policy to ``trust`` when it differs; True when it was changed."""
    if existing_role.get("AssumeRolePolicyDocument") == trust:
        return False
    with _propagating(f"update the trust policy of IAM role {existing_role['RoleName']}"):
        client("iam", region).update_assume_role_policy(RoleName=existing_role["RoleName"], PolicyDocument=json.dumps(trust))
    return True


def ensure_role_policy_attached(role_name: str, managed_policy_arn: str, region: str) -> bool:
    """Attach a managed policy unless it already is; True when it was attached now."""
    with _propagating(f"attach policy {managed_policy_arn} to IAM role {role_name}"):
        if managed_policy_arn in attached_policy_arns(role_name, region):
            return False
        client("iam", region).attach_role_policy(RoleName=role_name, PolicyArn=managed_policy_arn)
    return True


def ensure_role_policy_detached(role_name: str, managed_policy_arn: str, region: str) -> bool:
    """``ensure_role_policy_attached``'s partner: the policy is not attached to the role (a role that
    does not exist holds nothing); True when it was detached now."""
    attached = absent_on_404(lambda: attached_policy_arns(role_name, region))
    if not attached or managed_policy_arn not in attached:
        return False
    return _gone_ok(lambda: client("iam", region).detach_role_policy(RoleName=role_name, PolicyArn=managed_policy_arn))


def attached_policy_arns(role_name: str, region: str) -> set[str]:
    pages = client("iam", region).get_paginator("list_attached_role_policies").paginate(RoleName=role_name)
    return {policy["PolicyArn"] for page in pages for policy in page["AttachedPolicies"]}


def instance_profile(name: str, region: str) -> dict | None:
    iam = client("iam", region)
    return absent_on_404(lambda: iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"])


def create_instance_profile(name: str, path: str, tags: dict[str, str], region: str) -> dict | None:
    iam = client("iam", region)
    created = unless_exists(lambda: iam.create_instance_profile(InstanceProfileName=name, Path=path, Tags=tagging.as_list(tags)), EXISTS)
    return created and created["InstanceProfile"]


def delete_instance_profile(name: str, region: str) -> bool:
    """``create_instance_profile``'s partner: its role taken out, then deleted; False when it was already gone."""
    iam, profile = client("iam", region), instance_profile(name, region)
    if profile is None:
        return False
    for held in profile["Roles"]:
        _gone_ok(lambda r=held: iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=r["RoleName"]))
    return _gone_ok(lambda: iam.delete_instance_profile(InstanceProfileName=name))


def ensure_profile_holds_role(profile: dict, role_name: str, region: str) -> bool:
    """Put ``role_name`` into an empty instance profile; True when it was added now.

    A profile holds at most one role: one that holds another role is left as it is (the caller
    decides whether that is an error)."""
    name = profile["InstanceProfileName"]
    if profile.get("Roles"):
        return False
    with _propagating(f"add IAM role {role_name} to instance profile {name}"):
        try:
            client("iam", region).add_role_to_instance_profile(InstanceProfileName=name, RoleName=role_name)
        except ClientError as exc:
            if error_code(exc) != "LimitExceeded":
                raise
            # Full: the SDK's retry of a call whose answer was lost, or a look-up that lagged. With our role that is done.
            held = [held_role["RoleName"] for held_role in (instance_profile(name, region) or {}).get("Roles", [])]
            if held == [role_name]:
                return True
            if not held:
                raise TransientAwsError(
                    f"instance profile {name}: IAM answered LimitExceeded (it holds a role) but lists none yet; retried"
                ) from exc
            raise
    return True


def managed_policy(arn: str, region: str) -> dict | None:
    """The customer-managed policy with its ``Tags``, or None."""
    iam = client("iam", region)
    policy = absent_on_404(lambda: iam.get_policy(PolicyArn=arn)["Policy"])
    if policy is not None and "Tags" not in policy:
        policy["Tags"] = iam.list_policy_tags(PolicyArn=arn).get("Tags", [])
    return policy


def create_policy(name: str, path: str, document: dict, description: str, tags: dict[str, str], region: str) -> dict | None:
    iam = client("iam", region)
    created = unless_exists(
        lambda: iam.create_policy(
            PolicyName=name,
            Path=path,
            PolicyDocument=json.dumps(document),
            Description=description,
            Tags=tagging.as_list(tags),
        ),
        EXISTS,
    )
    return created and created["Policy"]


def delete_policy(arn: str, region: str) -> bool:
    """``create_policy``'s partner: detached from every user, group and role (a shared one too), its
    old versions deleted, then deleted; False when it was already gone."""
    iam = client("iam", region)
    entities = absent_on_404(lambda: iam.list_entities_for_policy(PolicyArn=arn)) or {}
    for role in entities.get("PolicyRoles", []):
        _gone_ok(lambda r=role: iam.detach_role_policy(RoleName=r["RoleName"], PolicyArn=arn))
    for user in entities.get("PolicyUsers", []):
        _gone_ok(lambda u=user: iam.detach_user_policy(UserName=u["UserName"], PolicyArn=arn))
    for group in entities.get("PolicyGroups", []):
        _gone_ok(lambda g=group: iam.detach_group_policy(GroupName=g["GroupName"], PolicyArn=arn))
    for version in _listed(lambda: iam.list_policy_versions(PolicyArn=arn)["Versions"]):
        if not version["IsDefaultVersion"]:
            _gone_ok(lambda v=version: iam.delete_policy_version(PolicyArn=arn, VersionId=v["VersionId"]))
    return _gone_ok(lambda: iam.delete_policy(PolicyArn=arn))


def policy_document(policy: dict, region: str) -> dict:
    """The document of the policy's default version."""
    return client("iam", region).get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])["PolicyVersion"][
        "Document"
    ]


def ensure_policy_document(policy: dict, document: dict, region: str) -> bool:
    """Make ``document`` the policy's default version when it differs; True when a version was added.

    IAM keeps at most five versions: the oldest non-default one is deleted to make room."""
    iam, arn = client("iam", region), policy["Arn"]
    if policy_document(policy, region) == document:
        return False
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    if len(versions) >= POLICY_VERSION_LIMIT:
        oldest = min((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
        _gone_ok(lambda: iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"]))
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True)
    return True


def user(name: str, region: str) -> dict | None:
    iam = client("iam", region)
    return absent_on_404(lambda: iam.get_user(UserName=name)["User"])


def create_user(name: str, path: str, tags: dict[str, str], region: str) -> dict | None:
    iam = client("iam", region)
    created = unless_exists(lambda: iam.create_user(UserName=name, Path=path, Tags=tagging.as_list(tags)), EXISTS)
    return created and created["User"]


def delete_user(name: str, region: str) -> bool:
    """``create_user``'s partner: its access keys and inline policies deleted, managed policies
    detached, login profile deleted, then deleted; False when it was already gone."""
    iam = client("iam", region)
    for key in _listed(lambda: access_keys(name, region)):
        delete_access_key(name, key["AccessKeyId"], region)
    for policy in _listed(lambda: iam.list_user_policies(UserName=name)["PolicyNames"]):
        _gone_ok(lambda p=policy: iam.delete_user_policy(UserName=name, PolicyName=p))
    for policy in _listed(lambda: iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]):
        _gone_ok(lambda p=policy: iam.detach_user_policy(UserName=name, PolicyArn=p["PolicyArn"]))
    _gone_ok(lambda: iam.delete_login_profile(UserName=name))
    return _gone_ok(lambda: iam.delete_user(UserName=name))


def access_keys(user_name: str, region: str) -> list[dict]:
    """The user's access keys (ids and status only: IAM never returns a secret twice)."""
    return client("iam", region).list_access_keys(UserName=user_name)["AccessKeyMetadata"]


def delete_access_key(user_name: str, access_key_id: str, region: str) -> bool:
    """``create_access_key_into_secret``'s partner; False when the key was already gone."""
    return _gone_ok(lambda: client("iam", region).delete_access_key(UserName=user_name, AccessKeyId=access_key_id))


def create_access_key_into_secret(user_name: str, secret_name: str, deployment_id: str, region: str) -> dict:
    """Create an access key for ``user_name`` and store ``{access_key_id, secret_access_key, user_name}``
    in ``secret_name``. Returns ``{"access_key_id", "secret_arn"}``, never the secret key. When the
    secret cannot be stored the key is deleted again, so no key exists that nobody holds. The call is
    sent once: after a lost answer (TransientAwsError) the SDK would mint a second key, while the
    phase's retry deletes the one whose secret was lost before it makes a new one."""
    doing = f"create an access key for IAM user {user_name}"
    with aws_call(doing), _propagating(doing):
        created = client("iam", region, retries=False).create_access_key(UserName=user_name)["AccessKey"]
    key_id = created["AccessKeyId"]
    value = {"access_key_id": key_id, "secret_access_key": created.pop("SecretAccessKey"), "user_name": user_name}
    try:
        secret_arn = secrets.put_json(secret_name, value, region, deployment_id, f"access key of IAM user {user_name}")
    except Exception:
        with aws_call(f"delete the access key of IAM user {user_name} after it could not be stored"):
            delete_access_key(user_name, key_id, region)
        raise
    return {"access_key_id": key_id, "secret_arn": secret_arn}


def user_inline_policy(user_name: str, policy_name: str, region: str) -> dict | None:
    iam = client("iam", region)
    return absent_on_404(lambda: iam.get_user_policy(UserName=user_name, PolicyName=policy_name)["PolicyDocument"])


def ensure_user_inline_policy(user_name: str, policy_name: str, document: dict, region: str) -> bool:
    """Put the inline policy when it is missing or differs; True when it was written."""
    if user_inline_policy(user_name, policy_name, region) == document:
        return False
    with _propagating(f"put inline policy {policy_name} on IAM user {user_name}"):
        client("iam", region).put_user_policy(UserName=user_name, PolicyName=policy_name, PolicyDocument=json.dumps(document))
    return True
