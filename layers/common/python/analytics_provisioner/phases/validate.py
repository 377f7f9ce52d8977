"""Validate: schema, defaults and a read-only preflight. Nothing is created here.

Fails (PreflightError / OwnershipError / InputError) before any resource exists when the input
cannot work; returns the normalised deployment, with every version and default resolved, plus
the facts found and the warnings for the operator.
"""

from collections.abc import Callable
from datetime import UTC, datetime

from ..aws import account, clients, ec2, iam, rds, s3, search, secrets
from ..aws import tags as tagging
from ..aws.errors import aws_call
from ..deployment import WORLD, Deployment, ResolvedDeployment
from ..errors import InputError, OwnershipError, PreflightError
from ..naming import is_valid_bucket_name, migration_user_refusal
from ..render.releases import for_release
from ..settings import Settings
from ..state import Preflight, PreflightEdxappDb, PreflightNetwork, ValidateOutput
from . import limits, polling
from .compute import ubuntu_image
from .network import check_db_setup_group, require_internet_route
from .storage import grades_bucket_missing, tracking_logs_unreadable

ADMIN_SECRET_KEYS = ("host", "port", "username", "password")
MIGRATION_SECRET_KEYS = ("username", "password")


def run(event: dict, settings: Settings) -> ValidateOutput:
    """``event``: the execution input; its region defaults to the function's own."""
    deployment = Deployment.from_input(event, settings.region)
    check_poll_schedule(deployment)
    check_region(deployment.region)
    with aws_call("preflight"):
        network_facts = resolve_network(deployment)
        edxapp_db = check_edxapp_db(deployment)
        db_setup = check_db_setup_group(deployment, network_facts.vpc_id, settings.db_setup_security_group_id)
        check_secrets(deployment)
        check_buckets_and_user(deployment)
        resolved = resolve_versions(deployment, network_facts, settings)
        check_names_are_free_or_ours(resolved)
        limit_warnings = limits.check(resolved, network_facts.availability_zone)
    return ValidateOutput(
        deployment=resolved,
        preflight=Preflight(network=network_facts, edxapp_db=edxapp_db, db_setup=db_setup),
        warnings=warnings(resolved, network_facts, edxapp_db) + limit_warnings,
    )


def check_poll_schedule(deployment: Deployment) -> None:
    """Both poll loops at their ceilings must fit in the execution's history (polling.POLL_HISTORY_BUDGET)."""
    options = deployment.options
    rounds = sum(
        polling.rounds_at_ceiling(first, options.poll_interval_seconds, options.poll_watch_seconds, timeout)
        for first, timeout in (
            (options.search_first_check_seconds, options.search_timeout_minutes),
            (options.database_first_check_seconds, options.database_timeout_minutes),
        )
    )
    if rounds * polling.EVENTS_PER_ROUND > polling.POLL_HISTORY_BUDGET:
        raise InputError(
            f"options.poll_interval_seconds: every {options.poll_interval_seconds} s with poll_watch_seconds "
            f"{options.poll_watch_seconds}, the two poll loops would write about {rounds * polling.EVENTS_PER_ROUND} history "
            f"events before their timeouts, and Step Functions ends an execution at {polling.HISTORY_EVENTS_LIMIT}; raise "
            "poll_interval_seconds or poll_watch_seconds, or lower search_timeout_minutes and database_timeout_minutes"
        )


def check_region(region: str) -> None:
    if region not in clients.available_regions("ec2"):
        raise PreflightError(f'region: {region!r} is not an AWS region EC2 knows; use a code such as "us-east-1"')


def resolve_network(deployment: Deployment) -> PreflightNetwork:
    region = deployment.region
    vpc_id = deployment.network.vpc_id or ec2.default_vpc_id(region)
    if vpc_id is None:
        raise PreflightError(f"network.vpc_id: the region {region} has no default VPC; give the VPC to use")
    if ec2.vpc(vpc_id, region) is None:
        raise PreflightError(f"network.vpc_id: VPC {vpc_id} does not exist in {region}; check the id and the region")
    subnet = _subnet(deployment, vpc_id)
    subnet_id = subnet["SubnetId"]
    require_internet_route(vpc_id, subnet_id, region)
    return PreflightNetwork(
        vpc_id=vpc_id,
        subnet_id=subnet_id,
        availability_zone=subnet["AvailabilityZone"],
        dns_hostnames_enabled=ec2.dns_hostnames_enabled(vpc_id, region),
        internet_gateway_route=True,
    )


def _subnet(deployment: Deployment, vpc_id: str) -> dict:
    region, subnet_id = deployment.region, deployment.network.subnet_id
    if subnet_id is None:
        subnet = ec2.first_default_subnet(vpc_id, region)
        if subnet is None:
            raise PreflightError(f"network.subnet_id: VPC {vpc_id} has no default subnet; give a public subnet of that VPC")
        return subnet
    subnet = ec2.subnet(subnet_id, region)
    if subnet is None:
        raise PreflightError(f"network.subnet_id: subnet {subnet_id} does not exist in {region}; check the id")
    if subnet["VpcId"] != vpc_id:
        raise PreflightError(
            f"network.subnet_id: subnet {subnet_id} belongs to {subnet['VpcId']}, not to {vpc_id}; give a subnet of the deployment's VPC"
        )
    return subnet


def check_edxapp_db(deployment: Deployment) -> PreflightEdxappDb:
    identifier = deployment.edxapp.db_instance_id
    instance = rds.db_instance(identifier, deployment.region)
    if instance is None:
        raise PreflightError(
            f"edxapp.db_instance_id: no RDS instance {identifier!r} in {deployment.region}; give the identifier of the edxapp database"
        )
    rds.require_opted_in(instance, deployment.region, deployment.deployment_id, "edxapp.db_instance_id")
    endpoint = instance.get("Endpoint", {})
    return PreflightEdxappDb(
        db_instance_id=identifier,
        engine=instance.get("Engine"),
        engine_version=instance.get("EngineVersion"),
        status=instance.get("DBInstanceStatus"),
        port=endpoint.get("Port"),
        vpc_id=instance.get("DBSubnetGroup", {}).get("VpcId"),
    )


def check_secrets(deployment: Deployment) -> None:
    """Opted in, readable, JSON, with the required keys. Values are read to check them and then dropped."""
    edxapp, region, deployment_id = deployment.edxapp, deployment.region, deployment.deployment_id
    admin = secrets.read_opted_in(edxapp.db_admin_secret_id, region, deployment_id, ADMIN_SECRET_KEYS, "edxapp.db_admin_secret_id")
    migration = secrets.read_opted_in(
        edxapp.migration_secret_id, region, deployment_id, MIGRATION_SECRET_KEYS, "edxapp.migration_secret_id"
    )
    refusal = migration_user_refusal(migration["username"], edxapp.migration_secret_id) if isinstance(migration["username"], str) else None
    if refusal:
        raise PreflightError(refusal)
    check_read_only_user(deployment, {"edxapp.db_admin_secret_id": admin, "edxapp.migration_secret_id": migration})


def check_read_only_user(deployment: Deployment, logins: dict[str, dict]) -> None:
    """The read-only user DbSetup makes on the edxapp server is not the admin's or the edxapp user's
    (DbSetup would refuse them later, after Identity, Network and the slow resources have started)."""
    read_only = deployment.edxapp_ro_user
    for field, login in logins.items():
        if login.get("username") == read_only:
            secret_id = getattr(deployment.edxapp, field.split(".", 1)[1])
            raise PreflightError(
                f"options.edxapp_ro_user: {read_only!r} is the user of {field} (secret {secret_id!r}) on the edxapp server, which "
                f"DbSetup must not take over as the read-only user; leave options.edxapp_ro_user unset for this deployment's own "
                f"{deployment.names.edxapp_ro_user!r}, or name a user that does not exist there"
            )


def check_buckets_and_user(deployment: Deployment) -> None:
    """The grades bucket, and the tracking-logs bucket when it exists and is not ours, are the edxapp
    site's: opted in by their owner. The grades statement names a user of this account only."""
    edxapp, region = deployment.edxapp, deployment.region
    tracking = s3.bucket_tags(edxapp.tracking_logs_bucket, region)
    if tracking == s3.FOREIGN_ACCOUNT:
        raise PreflightError(tracking_logs_unreadable(edxapp.tracking_logs_bucket))
    if isinstance(tracking, dict):  # else ABSENT
        s3.require_opted_in(edxapp.tracking_logs_bucket, tracking, deployment.deployment_id, "edxapp.tracking_logs_bucket")
    if edxapp.grades_download:
        bucket, user_arn = edxapp.grades_download
        grades = s3.bucket_tags(bucket, region)
        if not isinstance(grades, dict):  # ABSENT or FOREIGN_ACCOUNT
            raise PreflightError(grades_bucket_missing(bucket))
        s3.require_opted_in(bucket, grades, deployment.deployment_id, "edxapp.grades_bucket")
        account.require_this_account(user_arn, region, "edxapp.aws_user_arn")


def resolve_versions(deployment: Deployment, network: PreflightNetwork, settings: Settings) -> ResolvedDeployment:
    return ResolvedDeployment.resolve(
        deployment,
        network.vpc_id,
        network.subnet_id,
        ubuntu_release=deployment.options.effective_ubuntu_release,
        ami_id=ubuntu_image(deployment, settings.trusted_image_owners)[
            "ImageId"
        ],  # the newest Canonical image now; Compute launches this one
        rds_engine_version=_rds_engine_version(deployment),
        **_search_choice(deployment),
    )


def _rds_engine_version(deployment: Deployment) -> str:
    options, region = deployment.options, deployment.region
    offered = rds.engine_versions("mysql", options.rds_engine_version, region)
    if not offered:
        raise PreflightError(
            f'options.rds_engine_version: RDS in {region} offers no MySQL {options.rds_engine_version}; choose an offered version such as "8.4"'
        )
    version = options.rds_engine_version if options.rds_engine_version in offered else offered[-1]
    if not rds.orderable("mysql", version, options.rds_instance_class, region):
        raise PreflightError(
            f'options.rds_instance_class: {options.rds_instance_class} is not offered for MySQL {version} in {region}; choose another class such as "db.t3.small"'
        )
    if (
        options.rds_engine_lifecycle_support == rds.EXTENDED_SUPPORT_DISABLED
        and rds.db_instance(deployment.names.analytics_rds, region) is None
    ):
        _require_standard_support(version, region)
    return version


def _require_standard_support(version: str, region: str) -> None:
    """RDS creates no instance of a major version past its standard support without paid Extended Support."""
    ends, now = rds.standard_support_ends("mysql", region), datetime.now(UTC).isoformat()
    major = rds.major_version(version)
    if major not in ends or ends[major] > now:
        return
    supported = sorted((m for m, end in ends.items() if end > now), key=lambda m: tuple(map(int, m.split("."))))
    choice = f'choose options.rds_engine_version "{supported[-1]}"' if supported else "choose a newer options.rds_engine_version"
    raise PreflightError(
        f"options.rds_engine_version: MySQL {major} left RDS standard support on {ends[major][:10]}, and RDS creates no new instance of "
        f'it with options.rds_engine_lifecycle_support "{rds.EXTENDED_SUPPORT_DISABLED}"; {choice}, or set '
        'options.rds_engine_lifecycle_support to "open-source-rds-extended-support" (paid RDS Extended Support)'
    )


def _search_choice(deployment: Deployment) -> dict:
    options, region = deployment.options, deployment.region
    offered = search.offered_versions(region)
    version = options.es_engine_version or search.nearest_version(search.RUNBOOK_ENGINE_VERSION, offered)
    if options.es_engine_version and options.es_engine_version not in offered:
        raise PreflightError(
            f"options.es_engine_version: {options.es_engine_version} is not offered in {region}; offered: {', '.join(sorted(offered))}"
        )
    if version is None:
        raise PreflightError(f"options.es_engine_version: {region} offers no Elasticsearch version; give an OpenSearch_x.y version")
    details = search.instance_type_details(version, region)
    types = list(details)
    if options.es_instance_type:
        instance_type = search.normalise_instance_type(options.es_instance_type, version)
        if instance_type not in types:
            raise PreflightError(
                f"options.es_instance_type: {options.es_instance_type} is not offered for {version} in {region}; offered small types: {', '.join(t for t in sorted(types) if '.small.' in t) or ', '.join(sorted(types)[:8])}"
            )
    else:
        nearest = search.nearest_instance_type(search.RUNBOOK_INSTANCE_TYPE, types)
        if nearest is None:
            raise PreflightError(f"options.es_engine_version: {version} offers no instance type in {region}; choose another version")
        instance_type = nearest
    return {
        "es_engine_version": version,
        "es_instance_type": instance_type,
        "es_encryption_at_rest": _encryption_at_rest(deployment, version, instance_type, details),
    }


def _encryption_at_rest(deployment: Deployment, version: str, instance_type: str, details: dict[str, dict]) -> bool:
    """As asked, else wherever the type can (InstanceTypeDetails.EncryptionEnabled for this version)."""

    def can(candidate: str) -> bool:
        return search.encryption_support(version, bool(details.get(candidate, {}).get("EncryptionEnabled")))["encryption_at_rest"]

    asked = deployment.options.es_encryption_at_rest
    if asked and not can(instance_type):
        size = instance_type.split(".")[1]
        able = sorted(t for t in details if can(t) and t.split(".")[1] == size) or sorted(t for t in details if can(t))
        fix = f'choose options.es_instance_type "{able[0]}"' if able else "choose another options.es_engine_version"
        raise PreflightError(
            f"options.es_encryption_at_rest: {instance_type} cannot encrypt at rest with {version} (its InstanceTypeDetails say "
            f"EncryptionEnabled false); {fix}, or leave options.es_encryption_at_rest unset"
        )
    return can(instance_type) if asked is None else asked


def names_we_create(deployment: ResolvedDeployment) -> list[tuple[str, str, Callable[[str], dict | None]]]:
    """(kind, name, tags-lookup) for every resource the workflow would create under its own name."""
    names, region, vpc = deployment.names, deployment.region, deployment.network.vpc_id
    found = [
        ("IAM role", names.analytics_role, lambda n: iam.role_tags(n, region)),
        ("IAM instance profile", names.analytics_instance_profile, lambda n: iam.instance_profile_tags(n, region)),
        ("IAM role", names.emr_instance_role, lambda n: iam.role_tags(n, region)),
        ("IAM instance profile", names.emr_instance_profile, lambda n: iam.instance_profile_tags(n, region)),
        ("IAM policy", names.emr_provisioning_policy, lambda n: iam.policy_tags(n, region, names.iam_path)),
        ("IAM policy", names.es_write_policy, lambda n: iam.policy_tags(n, region, names.iam_path)),
        ("IAM policy", names.emr_instance_policy, lambda n: iam.policy_tags(n, region, names.iam_path)),
        ("IAM user", names.es_user, lambda n: iam.user_tags(n, region)),
        ("security group", names.analytics_security_group, lambda n: ec2.security_group_tags(n, vpc, region)),
        ("security group", names.director_security_group, lambda n: ec2.security_group_tags(n, vpc, region)),
        ("security group", names.emr_rds_security_group, lambda n: ec2.security_group_tags(n, vpc, region)),
        ("key pair", names.analytics_key_pair, lambda n: ec2.key_pair_tags(n, region)),
        ("key pair", names.director_key_pair, lambda n: ec2.key_pair_tags(n, region)),
        ("key pair", names.jenkins_deploy_key_pair, lambda n: ec2.key_pair_tags(n, region)),
        ("search domain", names.es_domain, lambda n: search.domain_tags(n, region)),
        ("RDS instance", names.analytics_rds, lambda n: rds.db_instance_tags(n, region)),
    ]
    found += [("S3 bucket", bucket, lambda n: _bucket_tags(n, region)) for bucket in buckets_we_create(deployment)]
    if deployment.features.reports:
        found.append(("IAM user", names.reports_user, lambda n: iam.user_tags(n, region)))
    return found


def buckets_we_create(deployment: Deployment) -> list[str]:
    names, options = deployment.names, deployment.options
    buckets = [names.emr_bucket, names.edxanalytics_bucket]
    buckets += [names.emr_logs_bucket] if options.separate_emr_logs_bucket else []
    buckets += [names.hadoop_bucket] if options.separate_hadoop_bucket else []
    buckets += [names.reports_bucket] if deployment.features.reports else []
    return buckets


def _bucket_tags(name: str, region: str) -> dict | None:
    tags = s3.bucket_tags(name, region)
    if tags == s3.FOREIGN_ACCOUNT:
        return {"(owner)": "another AWS account"}
    return tags if isinstance(tags, dict) else None  # ABSENT


def check_names_are_free_or_ours(deployment: ResolvedDeployment) -> None:
    for bucket in buckets_we_create(deployment) + [deployment.edxapp.tracking_logs_bucket]:
        if not is_valid_bucket_name(bucket):
            raise PreflightError(f"deployment_id: the bucket name {bucket!r} breaks the S3 naming rules; choose a shorter deployment_id")
    taken = []
    for kind, name, lookup in names_we_create(deployment):
        tags = lookup(name)
        if tags is not None and not tagging.belongs_to(tags, deployment.deployment_id):
            owner = tagging.owner(tags) or tags.get("(owner)")
            taken.append(f"{kind} {name!r} exists and is not ours ({'deployment ' + owner if owner else 'no deployment tag'})")
    if taken:
        raise OwnershipError(
            "Names this deployment would create are taken: "
            + "; ".join(taken)
            + ". Choose another deployment_id, or remove or rename those resources"
        )


def warnings(deployment: ResolvedDeployment, network: PreflightNetwork, edxapp_db: PreflightEdxappDb) -> list[str]:
    found = []
    if WORLD in deployment.network.director_ssh_cidrs:
        found.append("network.director_ssh_cidrs contains 0.0.0.0/0: SSH to the director is open to the whole internet, as the input asked")
    if WORLD in deployment.network.analytics_ssh_cidrs:
        found.append(
            "network.analytics_ssh_cidrs contains 0.0.0.0/0: SSH to the analytics instances is open to the whole internet, as the input asked"
        )
    if not network.dns_hostnames_enabled:
        found.append(f"VPC {network.vpc_id} has DNS hostnames disabled; the Network phase enables them (EMR provisioning hangs without)")
    if edxapp_db.port not in (None, 3306):
        found.append(f"the edxapp RDS listens on {edxapp_db.port}, but the pipeline's Sqoop import assumes 3306")
    if edxapp_db.vpc_id and edxapp_db.vpc_id != network.vpc_id:
        found.append(
            f"the edxapp RDS is in {edxapp_db.vpc_id}, not in the deployment's VPC {network.vpc_id}; EMR cannot reach it without peering"
        )
    if not deployment.options.es_encryption_at_rest:
        found.append(
            f"the search domain ({deployment.options.es_instance_type}) is not encrypted at rest; set options.es_instance_type to "
            'e.g. "t3.small.search" and options.es_encryption_at_rest to true for encryption'
        )
    if deployment.options.es_engine_version != "Elasticsearch_1.5":
        found.append(f"the runbook's Elasticsearch 1.5 is not offered here; using {deployment.options.es_engine_version}")
    signing = for_release(deployment.options.openedx_release).search_signing_problem(deployment.region)
    return found + ([signing] if signing else [])
