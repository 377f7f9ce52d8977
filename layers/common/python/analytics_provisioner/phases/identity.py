"""Identity: the runbook's IAM steps ("Provision EMR Clusters", "ElasticSearch User and Role",
"EMR Roles", "Analytics API Reports") as one idempotent ensure.

Top to bottom: the account-wide EMR service role, the deployment's own EMR instance role and
profile (its search-write and bucket policies), the EMR-provisioning policy and the analytics
role + instance profile, the Elasticsearch user and its key, and (features.reports) the reports
user and its key.

- Our own roles, profiles, policies and users live under ``Names.iam_path``, carry the deployment
  tag and are refused (OwnershipError) when the name is taken by anything else.
- The EMR service role is shared by every deployment in the account. It is created through the
  API when missing (never by launching a throw-away cluster) and tagged ``TAG_SHARED`` with the
  creating deployment; a role found without that tag is left exactly as it is.
- The EMR cluster instances run with the deployment's own role (emr-vars.yml's ``role``), not the
  shared ``EMR_EC2_DefaultRole``: it may write only the deployment's search domain and its own
  buckets, so one deployment's clusters cannot reach another's. A search-write policy an earlier
  version attached to the shared role comes off it.
- Access keys go straight into Secrets Manager. The secret names the key in use; a re-run keeps
  that key, deletes any other key of the user (at most one active key), and mints a new key only
  when the stored one is gone or deactivated.
"""

from dataclasses import dataclass

from .. import policies
from ..aws import clients, iam, secrets
from ..aws import search as es
from ..aws import tags as tagging
from ..aws.errors import aws_call
from ..deployment import Deployment, ResolvedDeployment
from ..errors import PreflightError, ResourceStateError
from ..naming import EMR_EC2_ROLE, EMR_SERVICE_ROLE, TAG_SHARED
from ..plan import Change, create, keep, modify, unless_absent
from ..state import IdentityOutput
from . import polling, storage

EMR_ROLE_PATH = "/"  # where `aws emr create-default-roles` puts them; EMR looks them up by name


@dataclass(frozen=True)
class EmrRoles:
    service_role_arn: str
    created: list[str]  # the shared roles this deployment created (in this run or an earlier one)


def run(deployment: ResolvedDeployment) -> IdentityOutput:
    names, region = deployment.names, deployment.region
    with aws_call("ensure IAM roles and users"):
        # The EMR roles come first: the provisioning policy names their ARNs.
        emr = ensure_emr_service_role(deployment)
        es_policy_arn = ensure_policy(
            deployment,
            names.es_write_policy,
            policies.es_write(es.domain_arn(names.es_domain, region)),
            "EMR instances write the learner index (runbook: elasticsearch_all)",
        )
        instance_policy_arn = ensure_policy(
            deployment,
            names.emr_instance_policy,
            emr_instance_document(deployment),
            "EMR instances read and write this deployment's buckets only",
        )
        emr_role, emr_profile = ensure_instance_role(
            deployment,
            names.emr_instance_role,
            names.emr_instance_profile,
            "EMR cluster instances of one deployment",
            [es_policy_arn, instance_policy_arn],
        )
        iam.ensure_role_policy_detached(EMR_EC2_ROLE, es_policy_arn, region)  # where earlier versions attached it
        provisioning_arn = ensure_policy(
            deployment,
            names.emr_provisioning_policy,
            policies.emr_provisioning(emr.service_role_arn, emr_role["Arn"]),
            "Start and end EMR clusters with the deployment's instance role (runbook: provision_emr_clusters)",
        )
        analytics_role, analytics_profile = ensure_instance_role(
            deployment,
            names.analytics_role,
            names.analytics_instance_profile,
            "Analytics instance: provisions EMR clusters",
            [provisioning_arn],
        )
        es_user = ensure_user(deployment, names.es_user)
        es_key_secret_arn = ensure_access_key(deployment, names.es_user, names.es_user_key_secret)
        reports = ensure_reports_user(deployment) if deployment.features.reports else {}
    return IdentityOutput(
        analytics_role_arn=analytics_role["Arn"],
        analytics_instance_profile_name=analytics_profile["InstanceProfileName"],
        analytics_instance_profile_arn=analytics_profile["Arn"],
        emr_provisioning_policy_arn=provisioning_arn,
        es_write_policy_arn=es_policy_arn,
        emr_instance_policy_arn=instance_policy_arn,
        emr_service_role=EMR_SERVICE_ROLE,
        emr_ec2_role=emr_role["RoleName"],
        emr_ec2_role_arn=emr_role["Arn"],
        emr_ec2_instance_profile=emr_profile["InstanceProfileName"],
        emr_roles_created=emr.created,
        es_user_name=es_user["UserName"],
        es_user_arn=es_user["Arn"],
        es_key_secret_arn=es_key_secret_arn,
        reports_user_name=reports.get("user_name"),
        reports_user_arn=reports.get("user_arn"),
        reports_key_secret_arn=reports.get("key_secret_arn"),
    )


# The EMR service role: account-wide, shared ------------------------------------------------------
def ensure_emr_service_role(deployment: Deployment) -> EmrRoles:
    partition = clients.partition(deployment.region)
    service = ensure_emr_role(
        deployment,
        EMR_SERVICE_ROLE,
        policies.trust(policies.EMR_SERVICE),
        policies.aws_managed_policy_arn(partition, policies.EMR_SERVICE_MANAGED_POLICY),
        "EMR service role (EMR default)",
    )
    created = [service["RoleName"]] if _shared_tag(service) == deployment.deployment_id else []
    return EmrRoles(service["Arn"], created)


def ensure_emr_role(deployment: Deployment, name: str, trust: dict, managed_policy_arn: str, description: str) -> dict:
    region = deployment.region
    tags = tagging.shared(deployment.deployment_id)
    role, created = polling.found_or_created(
        lambda: iam.role(name, region), lambda: iam.create_role(name, EMR_ROLE_PATH, trust, description, tags, region), f"IAM role {name!r}"
    )
    role = {**role, "Tags": tagging.as_list(tags)} if created else role
    if _shared_tag(role) is not None:
        # Ours (any deployment's): finish what an interrupted run started. Others' are left alone.
        iam.ensure_role_policy_attached(name, managed_policy_arn, region)
    return role


def _shared_tag(resource: dict) -> str | None:
    return tagging.from_list(resource.get("Tags")).get(TAG_SHARED)


def emr_instance_document(deployment: Deployment) -> dict:
    buckets = storage.bucket_names(deployment)
    return policies.emr_instance(
        clients.partition(deployment.region), deployment.region, storage.our_buckets(buckets), buckets["tracking_logs"]
    )


# Our policies, the analytics role and instance profile -------------------------------------------
def ensure_policy(deployment: Deployment, name: str, document: dict, description: str) -> str:
    """The customer-managed policy ``name`` with exactly ``document`` as its default version."""
    region, path = deployment.region, deployment.names.iam_path
    arn = iam.policy_arn(name, region, path)
    policy, created = polling.found_or_created(
        lambda: iam.managed_policy(arn, region),
        lambda: iam.create_policy(name, path, document, description, tagging.ours(deployment.deployment_id), region),
        f"IAM policy {name!r}",
    )
    if created:
        return policy["Arn"]
    tagging.require_ours(tagging.from_list(policy["Tags"]), deployment.deployment_id, f"IAM policy {name!r}")
    iam.ensure_policy_document(policy, document, region)
    return arn


def ensure_instance_role(
    deployment: Deployment, role_name: str, profile_name: str, description: str, policy_arns: list[str]
) -> tuple[dict, dict]:
    """A role EC2 instances assume (the analytics instance's ``edxanalytics``, the EMR instances'),
    holding ``policy_arns``, and its instance profile."""
    region, names, deployment_id = deployment.region, deployment.names, deployment.deployment_id
    trust = policies.trust(policies.EC2_SERVICE)
    role, created = polling.found_or_created(
        lambda: iam.role(role_name, region),
        lambda: iam.create_role(role_name, names.iam_path, trust, description, tagging.ours(deployment_id), region),
        f"IAM role {role_name!r}",
    )
    if not created:
        tagging.require_ours(tagging.from_list(role.get("Tags")), deployment_id, f"IAM role {role_name!r}")
        iam.ensure_trust(role, trust, region)
    for policy_arn in policy_arns:
        iam.ensure_role_policy_attached(role_name, policy_arn, region)

    profile, created = polling.found_or_created(
        lambda: iam.instance_profile(profile_name, region),
        lambda: iam.create_instance_profile(profile_name, names.iam_path, tagging.ours(deployment_id), region),
        f"IAM instance profile {profile_name!r}",
    )
    if not created:
        tagging.require_ours(tagging.from_list(profile.get("Tags")), deployment_id, f"IAM instance profile {profile_name!r}")
    held = [held_role["RoleName"] for held_role in profile.get("Roles", [])]
    if held and held != [role_name]:
        raise ResourceStateError(
            f"IAM instance profile {profile_name!r} holds the role {held[0]!r} instead of {role_name!r}; "
            f"remove it (aws iam remove-role-from-instance-profile --instance-profile-name {profile_name} --role-name {held[0]}) and re-run"
        )
    iam.ensure_profile_holds_role(profile, role_name, region)
    return role, profile


# Users and their access keys ---------------------------------------------------------------------
def ensure_user(deployment: Deployment, name: str) -> dict:
    region, deployment_id = deployment.region, deployment.deployment_id
    user, created = polling.found_or_created(
        lambda: iam.user(name, region),
        lambda: iam.create_user(name, deployment.names.iam_path, tagging.ours(deployment_id), region),
        f"IAM user {name!r}",
    )
    if created:
        return user
    tagging.require_ours(tagging.from_list(user.get("Tags")), deployment_id, f"IAM user {name!r}")
    return user


def ensure_access_key(deployment: Deployment, user_name: str, secret_name: str) -> str:
    """The ARN of the secret holding the user's one access key; mints a key only when none is usable."""
    region, deployment_id = deployment.region, deployment.deployment_id
    secret_arn = secrets.arn_if_ours(secret_name, region, deployment_id)
    stored = _stored_access_key_id(secret_name, region) if secret_arn else None
    keys = iam.access_keys(user_name, region)
    kept = next((key for key in keys if key["AccessKeyId"] == stored and key["Status"] == "Active"), None)
    for key in keys:
        if key is not kept:
            # Not the key the rendered configuration uses: nobody should hold it.
            iam.delete_access_key(user_name, key["AccessKeyId"], region)
    if kept and secret_arn:
        return secret_arn
    return iam.create_access_key_into_secret(user_name, secret_name, deployment_id, region)["secret_arn"]


def _stored_access_key_id(secret_name: str, region: str) -> str | None:
    try:
        return secrets.read_json(secret_name, region, ("access_key_id",))["access_key_id"]
    except PreflightError:
        return None  # unreadable or malformed: a new key replaces it


def ensure_reports_user(deployment: Deployment) -> dict:
    """The runbook's ``analytics_reports`` user: read-only on the reports bucket, key in Secrets Manager."""
    names, region = deployment.names, deployment.region
    user = ensure_user(deployment, names.reports_user)
    bucket = policies.bucket_arn(clients.partition(region), names.reports_bucket)
    iam.ensure_user_inline_policy(names.reports_user, names.reports_inline_policy, policies.reports_read(bucket), region)
    return {
        "user_name": user["UserName"],
        "user_arn": user["Arn"],
        "key_secret_arn": ensure_access_key(deployment, names.reports_user, names.reports_user_key_secret),
    }


# The plan: what run() would do, found with reads only ---------------------------------------------
def plan(deployment: Deployment) -> list[Change]:
    names, region, partition = deployment.names, deployment.region, clients.partition(deployment.region)
    changes: list[Change] = []
    service_role_arn = plan_emr_role(
        deployment, EMR_SERVICE_ROLE, policies.aws_managed_policy_arn(partition, policies.EMR_SERVICE_MANAGED_POLICY), changes
    )
    es_policy_arn = iam.policy_arn(names.es_write_policy, region, names.iam_path)
    changes.append(plan_policy(deployment, names.es_write_policy, policies.es_write(es.domain_arn(names.es_domain, region))))
    changes.append(plan_policy(deployment, names.emr_instance_policy, emr_instance_document(deployment)))
    emr_policies = [
        (names.es_write_policy, es_policy_arn),
        (names.emr_instance_policy, iam.policy_arn(names.emr_instance_policy, region, names.iam_path)),
    ]
    emr_role_arn = plan_instance_role(
        deployment,
        names.emr_instance_role,
        names.emr_instance_profile,
        "the EMR cluster instances' role (EC2 trust)",
        emr_policies,
        changes,
    )
    if es_policy_arn in (iam.absent_on_404(lambda: iam.attached_policy_arns(EMR_EC2_ROLE, region)) or set()):
        changes.append(
            modify(
                "IAM policy attachment",
                f"{names.es_write_policy} on {EMR_EC2_ROLE}",
                "detached: an earlier version attached it to the shared role",
            )
        )
    provisioning = policies.emr_provisioning(service_role_arn, emr_role_arn)
    changes.append(plan_policy(deployment, names.emr_provisioning_policy, provisioning))
    plan_instance_role(
        deployment,
        names.analytics_role,
        names.analytics_instance_profile,
        "the analytics instances' role (EC2 trust): provisions EMR clusters",
        [(names.emr_provisioning_policy, iam.policy_arn(names.emr_provisioning_policy, region, names.iam_path))],
        changes,
    )
    changes += plan_user(deployment, names.es_user, names.es_user_key_secret)
    if deployment.features.reports:
        changes += plan_user(deployment, names.reports_user, names.reports_user_key_secret)
        bucket = policies.bucket_arn(partition, names.reports_bucket)
        inline = (
            iam.user_inline_policy(names.reports_user, names.reports_inline_policy, region)
            if iam.user(names.reports_user, region)
            else None
        )
        kind, name = "IAM user policy", f"{names.reports_user}/{names.reports_inline_policy}"
        if inline is None:
            changes.append(create(kind, name, f"read-only on the reports bucket {names.reports_bucket}"))
        elif inline != policies.reports_read(bucket):
            changes.append(modify(kind, name, "its document differs: rewritten"))
        else:
            changes.append(keep(kind, name, f"read-only on the reports bucket {names.reports_bucket}"))
    return changes


def plan_emr_role(deployment: Deployment, name: str, managed_policy_arn: str, changes: list[Change]) -> str:
    """Appends the shared role's changes; returns its ARN (the provisioning policy names it)."""
    region = deployment.region
    role = iam.role(name, region)
    if role is None:
        changes.append(
            create("IAM role", name, "the account's EMR default role (shared by every deployment, tagged as created by this one)")
        )
        changes.append(plan_attachment(name, managed_policy_arn, managed_policy_arn.rsplit("/", 1)[-1], region))
        return iam.role_arn(name, region, EMR_ROLE_PATH)
    creator = _shared_tag(role)
    if creator is None:
        changes.append(keep("IAM role", name, "the account's EMR default role, not created by analytics-provisioner: left as it is"))
    else:
        changes.append(keep("IAM role", name, f"the account's EMR default role, shared (created by deployment {creator})"))
        changes.append(plan_attachment(name, managed_policy_arn, managed_policy_arn.rsplit("/", 1)[-1], region))
    return role["Arn"]


def plan_attachment(role_name: str, managed_policy_arn: str, policy_name: str, region: str) -> Change:
    kind, name = "IAM policy attachment", f"{policy_name} on {role_name}"
    attached = managed_policy_arn in (iam.absent_on_404(lambda: iam.attached_policy_arns(role_name, region)) or set())
    return keep(kind, name, f"{managed_policy_arn} is attached") if attached else create(kind, name, f"attaches {managed_policy_arn}")


def plan_policy(deployment: Deployment, name: str, document: dict) -> Change:
    region = deployment.region
    policy = iam.managed_policy(iam.policy_arn(name, region, deployment.names.iam_path), region)
    if policy is None:
        return create("IAM policy", name, f"customer-managed, under {deployment.names.iam_path}")
    if iam.policy_document(policy, region) != document:
        return modify("IAM policy", name, "its document differs: a new default version replaces it")
    return keep("IAM policy", name, "exists and is ours, document as wanted")


def plan_instance_role(
    deployment: Deployment, role_name: str, profile_name: str, what: str, held_policies: list[tuple[str, str]], changes: list[Change]
) -> str:
    """Appends ``ensure_instance_role``'s changes: the role, its policies, its profile. Returns the role's ARN."""
    region, path = deployment.region, deployment.names.iam_path
    role = iam.role(role_name, region)
    if role is None:
        changes.append(create("IAM role", role_name, what))
    elif role.get("AssumeRolePolicyDocument") != policies.trust(policies.EC2_SERVICE):
        changes.append(modify("IAM role", role_name, "its trust policy differs: set back to EC2"))
    else:
        changes.append(keep("IAM role", role_name, "exists and is ours"))
    changes += [plan_attachment(role_name, arn, policy_name, region) for policy_name, arn in held_policies]
    profile, kind = iam.instance_profile(profile_name, region), "IAM instance profile"
    held = [held_role["RoleName"] for held_role in (profile or {}).get("Roles", [])]
    if profile is None:
        changes.append(create(kind, profile_name, f"holds {role_name}"))
    elif not held:
        changes.append(modify(kind, profile_name, f"empty: {role_name} is put into it"))
    elif held != [role_name]:
        changes.append(keep(kind, profile_name, f"holds {held[0]}: Identity stops here until it is removed"))
    else:
        changes.append(keep(kind, profile_name, f"exists and is ours, holds {role_name}"))
    return role["Arn"] if role else iam.role_arn(role_name, region, path)


def plan_user(deployment: Deployment, name: str, key_secret: str) -> list[Change]:
    """The user and the secret holding its one access key (the plan never reads a key)."""
    region = deployment.region
    user = iam.user(name, region)
    changes = [unless_absent(user, "IAM user", name, f"under {deployment.names.iam_path}", "exists and is ours")]
    secret = secrets.describe(key_secret, region)
    keys = iam.access_keys(name, region) if user is not None else []
    if secret is None:
        changes.append(create("secret", key_secret, f"a new access key of {name}"))
    elif secret.get("DeletedDate"):
        changes.append(
            modify(
                "secret", key_secret, f"scheduled for deletion: restored, with a new access key of {name} unless the stored one is active"
            )
        )
    elif not any(key["Status"] == "Active" for key in keys):
        changes.append(modify("secret", key_secret, f"{name} has no active access key: a new key replaces the stored one"))
    elif len(keys) > 1:
        changes.append(modify("secret", key_secret, f"{name} has {len(keys)} access keys: every key but the stored one is deleted"))
    else:
        changes.append(keep("secret", key_secret, f"holds the access key of {name}"))
    return changes
