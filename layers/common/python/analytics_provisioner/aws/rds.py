"""RDS lookups, and the analytics instance we create."""

from botocore.exceptions import ClientError

from ..errors import TransientAwsError
from . import tags as tagging
from .clients import client
from .errors import absent_on, error_code, gone_is_success, unless_exists


def db_instance(identifier: str, region: str) -> dict | None:
    rds = client("rds", region)
    return absent_on(lambda: rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0], "DBInstanceNotFound")


def db_instance_tags(identifier: str, region: str) -> dict | None:
    instance = db_instance(identifier, region)
    return None if instance is None else tagging.from_list(instance.get("TagList"))


def opt_in_command(instance: dict, region: str, value: str) -> str:
    return f"aws rds add-tags-to-resource --region {region} --resource-name {instance['DBInstanceArn']} --tags {tagging.allow_tags_argument(value)}"


def require_opted_in(instance: dict, region: str, deployment_id: str, field: str) -> None:
    """NotOptedInError unless the instance's owner tagged it for this deployment (Validate, and Network before it changes it)."""
    tagging.require_opted_in(
        tagging.from_list(instance.get("TagList")),
        deployment_id,
        field,
        f"RDS instance {instance['DBInstanceIdentifier']!r}",
        lambda value: opt_in_command(instance, region, value),
    )


def orderable(engine: str, engine_version: str, instance_class: str, region: str) -> bool:
    options = client("rds", region).describe_orderable_db_instance_options(
        Engine=engine, EngineVersion=engine_version, DBInstanceClass=instance_class, MaxRecords=20
    )["OrderableDBInstanceOptions"]
    return bool(options)


def engine_versions(engine: str, major: str, region: str) -> list[str]:
    """Offered versions of ``engine`` whose version starts with ``major``, oldest first."""
    versions = client("rds", region).describe_db_engine_versions(Engine=engine)["DBEngineVersions"]
    matching = [v["EngineVersion"] for v in versions if v["EngineVersion"] == major or v["EngineVersion"].startswith(major + ".")]
    return sorted(set(matching), key=_version_key)


STANDARD_SUPPORT = "open-source-rds-standard-support"
EXTENDED_SUPPORT_DISABLED = "open-source-rds-extended-support-disabled"


def standard_support_ends(engine: str, region: str) -> dict[str, str]:
    """Major version -> the end of its RDS standard support (ISO timestamp), from DescribeDBMajorEngineVersions."""
    ends = {}
    pages = client("rds", region).get_paginator("describe_db_major_engine_versions").paginate(Engine=engine)
    for major in (major for page in pages for major in page["DBMajorEngineVersions"]):
        for lifecycle in major.get("SupportedEngineLifecycles", []):
            if lifecycle.get("LifecycleSupportName") == STANDARD_SUPPORT and lifecycle.get("LifecycleSupportEndDate"):
                ends[major["MajorEngineVersion"]] = lifecycle["LifecycleSupportEndDate"].isoformat()
    return ends


def major_version(version: str) -> str:
    """``8.0.41`` -> ``8.0``."""
    return ".".join(version.split(".")[:2])


def _version_key(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


# --- the analytics instance and its subnet group -------------------------------------------------
# Statuses an instance does not leave by waiting: stop the poll loop at once instead of at the ceiling.
STUCK_STATUSES = {
    "failed",
    "deleting",
    "storage-full",
    "inaccessible-encryption-credentials",
    "incompatible-network",
    "incompatible-option-group",
    "incompatible-parameters",
    "incompatible-restore",
    "restore-error",
}


def subnet_group(name: str, region: str) -> dict | None:
    rds = client("rds", region)
    return absent_on(lambda: rds.describe_db_subnet_groups(DBSubnetGroupName=name)["DBSubnetGroups"][0], "DBSubnetGroupNotFoundFault")


def tags_of(arn: str, region: str) -> dict:
    return tagging.from_list(client("rds", region).list_tags_for_resource(ResourceName=arn).get("TagList"))


def create_subnet_group(name: str, description: str, subnet_ids: list[str], tags: dict[str, str], region: str) -> dict | None:
    """The new group, or None when a group of the name exists (DBSubnetGroupAlreadyExists)."""
    rds = client("rds", region)
    created = unless_exists(
        lambda: rds.create_db_subnet_group(
            DBSubnetGroupName=name, DBSubnetGroupDescription=description, SubnetIds=subnet_ids, Tags=tagging.as_list(tags)
        ),
        "DBSubnetGroupAlreadyExists",
    )
    return created and created["DBSubnetGroup"]


def delete_subnet_group(name: str, region: str) -> bool:
    """``create_subnet_group``'s partner, once no instance uses the group; False when it was already gone."""
    return gone_is_success(lambda: client("rds", region).delete_db_subnet_group(DBSubnetGroupName=name), "DBSubnetGroupNotFoundFault")


def subnet_groups(region: str) -> list[dict]:
    """Every DB subnet group of the region (their tags: ``tags_of`` their ``DBSubnetGroupArn``)."""
    pages = client("rds", region).get_paginator("describe_db_subnet_groups").paginate()
    return [group for page in pages for group in page["DBSubnetGroups"]]


def create_instance(params: dict, tags: dict[str, str], region: str) -> dict | None:
    """The new instance, or None when an instance of the identifier exists (DBInstanceAlreadyExists)."""
    rds = client("rds", region)
    created = unless_exists(lambda: rds.create_db_instance(**params, Tags=tagging.as_list(tags)), "DBInstanceAlreadyExists")
    return created and created["DBInstance"]


def master_secret_arn(instance: dict) -> str | None:
    return instance.get("MasterUserSecret", {}).get("SecretArn")


def instance_ready(instance: dict) -> bool:
    """Available with an endpoint. Tests replace this to simulate a slow instance."""
    return instance.get("DBInstanceStatus") == "available" and bool(instance.get("Endpoint", {}).get("Address"))


# --- the edxapp instance's security groups (the Network phase adds ours, teardown takes it off) ------
def active_security_group_ids(instance: dict) -> list[str]:
    return [g["VpcSecurityGroupId"] for g in instance.get("VpcSecurityGroups", []) if g.get("Status") != "removing"]


def add_security_group(instance: dict, group_id: str, region: str) -> bool:
    """Add ``group_id`` to the instance's VPC security groups, keeping the others; True when added now."""
    current = active_security_group_ids(instance)
    if group_id in current:
        return False
    _set_security_groups(instance["DBInstanceIdentifier"], current + [group_id], region, f"add security group {group_id} to")
    return True


def remove_security_groups(instance: dict, group_ids: set[str], region: str) -> list[str]:
    """``add_security_group``'s partner: take ``group_ids`` off the instance, keeping its others; the ids removed now."""
    current = [g["VpcSecurityGroupId"] for g in instance.get("VpcSecurityGroups", [])]
    removed = [g for g in current if g in group_ids]
    if removed:
        _set_security_groups(
            instance["DBInstanceIdentifier"],
            [g for g in current if g not in group_ids],
            region,
            f"remove security group {' '.join(removed)} from",
        )
    return removed


def _set_security_groups(identifier: str, group_ids: list[str], region: str, doing: str) -> None:
    """An instance that is busy (modifying, backing up) refuses changes for a while: that is retryable,
    and the state machine's Retry is the ceiling."""
    try:
        client("rds", region).modify_db_instance(DBInstanceIdentifier=identifier, VpcSecurityGroupIds=group_ids, ApplyImmediately=True)
    except ClientError as exc:
        if error_code(exc) == "InvalidDBInstanceState":
            raise TransientAwsError(f"{doing} RDS instance {identifier}: the instance is busy; retry shortly") from exc
        raise


# --- deleting our instances (teardown): create_instance's partner -----------------------------------
def db_instances(region: str) -> list[dict]:
    """Every instance of the region, with its ``TagList``."""
    pages = client("rds", region).get_paginator("describe_db_instances").paginate()
    return [instance for page in pages for instance in page["DBInstances"]]


# AWS deletes an instance in these states only without a final snapshot (DeleteDBInstance).
NO_FINAL_SNAPSHOT_STATUSES = ("failed", "incompatible-restore", "incompatible-network")
DELETING, BUSY, GONE = "deleting", "busy", "gone"


def delete_instance(instance: dict, region: str, final_snapshot_id: str | None) -> str:
    """Start deleting one of our instances: deletion protection off, then DeleteDBInstance with a final
    snapshot named ``final_snapshot_id`` (the automated backups go: the snapshot is the backup), or
    without one when it is None (the automated backups stay for their retention period).

    DELETING once AWS took it (or was already deleting it); GONE when it no longer exists; BUSY when
    the instance refuses for now (InvalidDBInstanceState: modifying, backing up, rebooting): the
    teardown asks again at its next check, within its ceiling."""
    identifier, rds = instance["DBInstanceIdentifier"], client("rds", region)
    if instance.get("DBInstanceStatus") == "deleting":
        return DELETING
    if final_snapshot_id:
        options = {"FinalDBSnapshotIdentifier": final_snapshot_id, "DeleteAutomatedBackups": True}
    else:
        options = {"SkipFinalSnapshot": True, "DeleteAutomatedBackups": False}

    def delete() -> None:
        if instance.get("DeletionProtection"):
            rds.modify_db_instance(DBInstanceIdentifier=identifier, DeletionProtection=False, ApplyImmediately=True)
        rds.delete_db_instance(DBInstanceIdentifier=identifier, **options)

    try:
        return DELETING if gone_is_success(delete, "DBInstanceNotFound") else GONE
    except ClientError as exc:
        if error_code(exc) == "InvalidDBInstanceState":
            return BUSY
        raise
