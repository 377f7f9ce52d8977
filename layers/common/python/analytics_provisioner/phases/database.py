"""Database: the analytics RDS MySQL instance that holds the Insights and Analytics API databases.

``run`` (ensure) creates the instance, or adopts ours, and returns the poll state; ``status`` is one
round of the state machine's Wait -> status -> Choice loop, which watches the instance for up to
``options.poll_watch_seconds`` (``polling.watch``); DbSetup follows once it is ready.
The runbook's instance: MySQL on 3306, not public, member of the EMR RDS security group (the Network
phase opens 3306 on it to EMR and to the analytics instances). We add storage encryption, deletion
protection, backups and a master password that RDS generates and keeps in Secrets Manager, so no
password we invent travels anywhere. The runbook's upgrade advice, "create a new RDS instance", is
``options.rds_generation``: a new generation gets a new name, and the old instance is left as it is.
"""

from ..aws import ec2, rds
from ..aws import tags as tagging
from ..aws.errors import aws_call
from ..deployment import ResolvedDeployment
from ..errors import PreflightError, ResourceStateError
from ..naming import ANALYTICS_RDS_MASTER_USER
from ..plan import Change, create, keep, unless_absent
from ..state import DatabaseOutput, NetworkOutput, Poll
from . import polling

ENGINE = "mysql"
MYSQL_PORT = 3306  # the pipeline's Sqoop import ignores the port in its credentials file
MASTER_USERNAME = ANALYTICS_RDS_MASTER_USER
TIMEOUT_REMEDY = (
    "see its status in the RDS console, then re-run the execution to keep waiting "
    "(the re-run adopts the instance), or raise options.database_timeout_minutes"
)


def run(deployment: ResolvedDeployment, network: NetworkOutput) -> DatabaseOutput:
    with aws_call(f"ensure analytics RDS instance {deployment.names.analytics_rds}"):
        subnet_group = ensure_subnet_group(deployment)
        instance, created = ensure_instance(deployment, subnet_group, network.security_groups.emr_rds)
    ready = rds.instance_ready(instance)
    options = deployment.options
    wait = polling.first_wait(created, ready, options.database_first_check_seconds, options.poll_interval_seconds)
    return output(instance, ready, Poll(**polling.start(wait)))


def status(deployment: ResolvedDeployment, database: DatabaseOutput) -> DatabaseOutput:
    """One round of the poll loop; ``database``: the previous round's output."""
    name, options = database.db_instance_id, deployment.options

    def read() -> tuple[dict, bool]:
        with aws_call(f"check analytics RDS instance {name}"):
            instance = rds.db_instance(name, deployment.region)
        if instance is None:
            raise ResourceStateError(f"RDS instance {name} was deleted while we waited for it; re-run the execution to create it again")
        refuse_stuck(instance)
        return instance, rds.instance_ready(instance)

    instance, ready, poll = polling.check(
        read,
        database.poll.to_state(),
        options.poll_interval_seconds,
        options.poll_watch_seconds,
        options.database_timeout_minutes,
        f"RDS instance {name}",
        TIMEOUT_REMEDY,
    )
    return output(instance, ready, Poll(**poll))


def ensure_subnet_group(deployment: ResolvedDeployment) -> str:
    """A DB subnet group over the deployment's VPC, named after the instance it serves (one per generation)."""
    name, region = deployment.names.analytics_rds, deployment.region
    group, created = polling.found_or_created(
        lambda: rds.subnet_group(name, region), lambda: create_subnet_group(deployment), f"DB subnet group {name!r}"
    )
    if not created:
        tagging.require_ours(rds.tags_of(group["DBSubnetGroupArn"], region), deployment.deployment_id, f"DB subnet group {name!r}")
    return name


def create_subnet_group(deployment: ResolvedDeployment) -> dict | None:
    name, region, vpc_id = deployment.names.analytics_rds, deployment.region, deployment.network.vpc_id
    subnet_ids = one_subnet_per_zone(vpc_id, region)
    if len(subnet_ids) < 2:
        raise PreflightError(
            f"network.vpc_id: VPC {vpc_id} has subnets in fewer than two Availability Zones, and RDS needs two; add a subnet in another zone"
        )
    description = f"analytics-provisioner {deployment.deployment_id}: {vpc_id} for {name}"
    return rds.create_subnet_group(name, description, subnet_ids, tagging.ours(deployment.deployment_id), region)


def one_subnet_per_zone(vpc_id: str, region: str) -> list[str]:
    chosen: dict[str, str] = {}
    for subnet in ec2.vpc_subnets(vpc_id, region):
        chosen.setdefault(subnet["AvailabilityZone"], subnet["SubnetId"])
    return list(chosen.values())


def ensure_instance(deployment: ResolvedDeployment, subnet_group: str, emr_rds_group: str) -> tuple[dict, bool]:
    """(instance description, created now?)."""
    name, region, deployment_id = deployment.names.analytics_rds, deployment.region, deployment.deployment_id
    instance, created = polling.found_or_created(
        lambda: rds.db_instance(name, region),
        lambda: rds.create_instance(instance_params(deployment, subnet_group, emr_rds_group), tagging.ours(deployment_id), region),
        f"RDS instance {name!r}",
    )
    if created:
        return instance, True
    tagging.require_ours(tagging.from_list(instance.get("TagList")), deployment_id, f"RDS instance {name!r}")
    refuse_stuck(instance)
    if rds.master_secret_arn(instance) is None:
        raise ResourceStateError(
            f"RDS instance {name} has no RDS-managed master secret; bump options.rds_generation to create a fresh instance"
        )
    return instance, False


def instance_params(deployment: ResolvedDeployment, subnet_group: str, emr_rds_group: str) -> dict:
    options = deployment.options
    return {
        "DBInstanceIdentifier": deployment.names.analytics_rds,
        "Engine": ENGINE,
        "EngineVersion": options.rds_engine_version,
        "EngineLifecycleSupport": options.rds_engine_lifecycle_support,  # RDS's default enrolls in paid Extended Support
        "DBInstanceClass": options.rds_instance_class,
        "AllocatedStorage": options.rds_allocated_storage_gb,
        "Port": MYSQL_PORT,
        "DBSubnetGroupName": subnet_group,
        "VpcSecurityGroupIds": [emr_rds_group],
        "PubliclyAccessible": False,
        "MultiAZ": False,
        "MasterUsername": MASTER_USERNAME,
        "ManageMasterUserPassword": True,
        "StorageEncrypted": True,
        "DeletionProtection": True,
        "BackupRetentionPeriod": options.rds_backup_retention_days,
        # Ownership must not travel: a snapshot with our tags would give an instance restored from it
        # our deployment tag, and a later teardown would delete that copy (teardown also owns by name).
        "CopyTagsToSnapshot": False,
        "AutoMinorVersionUpgrade": True,
    }


def refuse_stuck(instance: dict) -> None:
    status = instance.get("DBInstanceStatus")
    if status in rds.STUCK_STATUSES:
        raise ResourceStateError(
            f"RDS instance {instance['DBInstanceIdentifier']} is {status!r}, which waiting will not fix; "
            "repair it in the RDS console, or bump options.rds_generation to create a fresh instance"
        )


def output(instance: dict, ready: bool, poll: Poll) -> DatabaseOutput:
    endpoint = instance.get("Endpoint", {})
    return DatabaseOutput(
        db_instance_id=instance["DBInstanceIdentifier"],
        endpoint=endpoint.get("Address") if ready else None,
        port=endpoint.get("Port", MYSQL_PORT),
        master_secret_arn=rds.master_secret_arn(instance),
        ready=ready,
        poll=poll,
    )


def plan(deployment: ResolvedDeployment) -> list[Change]:
    """What run() would do, found with reads only."""
    name, region, options = deployment.names.analytics_rds, deployment.region, deployment.options
    changes = [
        unless_absent(
            rds.subnet_group(name, region),
            "DB subnet group",
            name,
            f"one subnet per zone of {deployment.network.vpc_id}",
            "exists and is ours",
        )
    ]
    instance = rds.db_instance(name, region)
    if instance is None:
        changes.append(
            create(
                "RDS instance",
                name,
                f"MySQL {options.rds_engine_version} on {options.rds_instance_class}, "
                f"{options.rds_allocated_storage_gb} GB, encrypted, private, master password kept by RDS; "
                "ready some 10 minutes later",
            )
        )
    elif instance.get("DBInstanceStatus") in rds.STUCK_STATUSES:
        changes.append(
            keep("RDS instance", name, f"{instance['DBInstanceStatus']}: Database stops there (repair it, or bump options.rds_generation)")
        )
    else:
        changes.append(keep("RDS instance", name, f"exists and is ours ({instance.get('DBInstanceStatus')}): adopted as it is"))
    return changes
