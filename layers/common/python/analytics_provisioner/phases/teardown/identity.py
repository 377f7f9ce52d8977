"""IAM: our users (keys, inline and attached policies), our roles and instance profiles (the analytics
instance's and the EMR instances'), our managed policies (detached from everything first, the shared
EMR EC2 role an earlier version attached one to included). Shared EMR roles stay."""

from ...aws import iam
from ...aws import tags as tagging
from ...aws.clients import client
from .request import TeardownRequest


def run(request: TeardownRequest) -> dict:
    deployment = request.deployment
    names, region, owner = deployment.names, deployment.region, deployment.deployment_id
    users = [u for u in (names.es_user, names.reports_user) if tagging.belongs_to(iam.user_tags(u, region) or {}, owner)]
    for user in users:
        delete_user(user, region)
    policies = [p for p in (names.emr_provisioning_policy, names.es_write_policy, names.emr_instance_policy)
                if tagging.belongs_to(iam.policy_tags(p, region, names.iam_path) or {}, owner)]
    roles = [r for r in (names.analytics_role, names.emr_instance_role) if tagging.belongs_to(iam.role_tags(r, region) or {}, owner)]
    profiles = [p for p in (names.analytics_instance_profile, names.emr_instance_profile)
                if tagging.belongs_to(iam.instance_profile_tags(p, region) or {}, owner)]
    for name in profiles:
        delete_instance_profile(name, region)
    for role in roles:
        delete_role(role, region)
    for policy in policies:
        delete_policy(iam.policy_arn(policy, region, names.iam_path), region)
    return {"users_deleted": users, "roles_deleted": roles, "instance_profiles_deleted": profiles, "policies_deleted": policies}


def delete_user(name: str, region: str) -> None:
    api = client("iam", region)
    for key in api.list_access_keys(UserName=name)["AccessKeyMetadata"]:
        api.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    for policy in api.list_user_policies(UserName=name)["PolicyNames"]:
        api.delete_user_policy(UserName=name, PolicyName=policy)
    for policy in api.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
        api.detach_user_policy(UserName=name, PolicyArn=policy["PolicyArn"])
    iam.absent_on_404(lambda: api.delete_login_profile(UserName=name))
    iam.absent_on_404(lambda: api.delete_user(UserName=name))


def delete_instance_profile(name: str, region: str) -> None:
    api = client("iam", region)
    profile = iam.instance_profile(name, region)
    if profile is None:
        return
    for role in profile["Roles"]:
        api.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=role["RoleName"])
    api.delete_instance_profile(InstanceProfileName=name)


def delete_role(name: str, region: str) -> None:
    api = client("iam", region)
    for profile in api.list_instance_profiles_for_role(RoleName=name)["InstanceProfiles"]:
        api.remove_role_from_instance_profile(InstanceProfileName=profile["InstanceProfileName"], RoleName=name)
    for policy in api.list_role_policies(RoleName=name)["PolicyNames"]:
        api.delete_role_policy(RoleName=name, PolicyName=policy)
    for policy_arn in iam.attached_policy_arns(name, region):
        api.detach_role_policy(RoleName=name, PolicyArn=policy_arn)
    api.delete_role(RoleName=name)


def delete_policy(arn: str, region: str) -> None:
    """Detach from every user, group and role (the shared EMR EC2 role too), drop old versions, delete."""
    api = client("iam", region)
    entities = api.list_entities_for_policy(PolicyArn=arn)
    for role in entities["PolicyRoles"]:
        api.detach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
    for user in entities["PolicyUsers"]:
        api.detach_user_policy(UserName=user["UserName"], PolicyArn=arn)
    for group in entities["PolicyGroups"]:
        api.detach_group_policy(GroupName=group["GroupName"], PolicyArn=arn)
    for version in api.list_policy_versions(PolicyArn=arn)["Versions"]:
        if not version["IsDefaultVersion"]:
            api.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
    api.delete_policy(PolicyArn=arn)
