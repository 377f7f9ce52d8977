"""Database's partner: the analytics RDS instance(s), whose deletion is started here and waited on by
the deletion loop (steps), which asks again where AWS refused for now; their DB subnet groups, once
the instances are gone (with the security groups)."""

from datetime import UTC, datetime

from ...aws import rds
from ...aws import tags as tagging
from .request import TeardownRequest

NO_SNAPSHOT_REASON = (
    "deleted without the requested final snapshot: AWS deletes an instance in {status} state only without one; "
    "its automated backups are kept for their retention period"
)


def our_instances(request: TeardownRequest) -> list[dict]:
    """Our analytics instances of every generation: our name and our tag, never the tag alone (an
    instance an operator restored from one of our snapshots may carry it under a name of its own)."""
    deployment = request.deployment
    return [
        i
        for i in rds.db_instances(deployment.region)
        if deployment.names.is_analytics_rds(i["DBInstanceIdentifier"])
        and tagging.belongs_to(tagging.from_list(i.get("TagList")), deployment.deployment_id)
    ]


def start(request: TeardownRequest) -> dict:
    return delete_instances(request, our_instances(request))


def delete_instances(request: TeardownRequest, instances: list[dict], previous: dict | None = None) -> dict:
    """Start deleting each instance. One in failed/incompatible-restore/incompatible-network can go only
    without a final snapshot (AWS refuses one): it is deleted so and reported. One that is busy
    (InvalidDBInstanceState) is asked again at the next check, until the teardown's ceiling."""
    previous = previous or {}
    deleting = set(previous.get("db_instances_deleting", []))
    without_snapshot = list(previous.get("db_instances_without_final_snapshot", []))
    busy = []
    for instance in instances:
        identifier, status = instance["DBInstanceIdentifier"], instance.get("DBInstanceStatus")
        unsnapshottable = status in rds.NO_FINAL_SNAPSHOT_STATUSES and request.final_snapshot
        outcome = rds.delete_instance(instance, request.deployment.region, _final_snapshot_id(request, identifier, unsnapshottable))
        if outcome == rds.BUSY:
            busy.append({"db_instance_id": identifier, "status": status})
        elif outcome == rds.DELETING:
            deleting.add(identifier)
            if unsnapshottable and identifier not in {i["db_instance_id"] for i in without_snapshot}:
                without_snapshot.append(
                    {"db_instance_id": identifier, "status": status, "reason": NO_SNAPSHOT_REASON.format(status=status)}
                )
    return {"db_instances_deleting": sorted(deleting), "db_instances_busy": busy, "db_instances_without_final_snapshot": without_snapshot}


def _final_snapshot_id(request: TeardownRequest, identifier: str, unsnapshottable: bool) -> str | None:
    if not request.final_snapshot or unsnapshottable:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return f"{identifier}-final-{stamp}"[:255]


def delete_subnet_groups(request: TeardownRequest) -> list[str]:
    """Our DB subnet groups, found by tag (every generation's): deleted; their names."""
    deployment = request.deployment
    region = deployment.region
    ours = [
        group["DBSubnetGroupName"]
        for group in rds.subnet_groups(region)
        if tagging.belongs_to(rds.tags_of(group["DBSubnetGroupArn"], region), deployment.deployment_id)
    ]
    for name in ours:
        rds.delete_subnet_group(name, region)
    return ours
