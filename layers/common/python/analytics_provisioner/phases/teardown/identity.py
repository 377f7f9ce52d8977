"""Identity's partner: our users (keys, inline and attached policies), our roles and instance profiles
(the analytics instance's and the EMR instances'), our managed policies (detached from everything
first, the shared EMR EC2 role an earlier version attached one to included). Shared EMR roles stay."""

from ...aws import iam
from ...aws import tags as tagging
from .request import TeardownRequest


def run(request: TeardownRequest) -> dict:
    deployment = request.deployment
    names, region, owner = deployment.names, deployment.region, deployment.deployment_id
    users = [u for u in (names.es_user, names.reports_user) if tagging.belongs_to(iam.user_tags(u, region) or {}, owner)]
    for user in users:
        iam.delete_user(user, region)
    policies = [
        p
        for p in (names.emr_provisioning_policy, names.es_write_policy, names.emr_instance_policy)
        if tagging.belongs_to(iam.policy_tags(p, region, names.iam_path) or {}, owner)
    ]
    roles = [r for r in (names.analytics_role, names.emr_instance_role) if tagging.belongs_to(iam.role_tags(r, region) or {}, owner)]
    profiles = [
        p
        for p in (names.analytics_instance_profile, names.emr_instance_profile)
        if tagging.belongs_to(iam.instance_profile_tags(p, region) or {}, owner)
    ]
    for name in profiles:
        iam.delete_instance_profile(name, region)
    for role in roles:
        iam.delete_role(role, region)
    for policy in policies:
        iam.delete_policy(iam.policy_arn(policy, region, names.iam_path), region)
    return {"users_deleted": users, "roles_deleted": roles, "instance_profiles_deleted": profiles, "policies_deleted": policies}
