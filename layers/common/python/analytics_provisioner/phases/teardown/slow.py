"""The slow deletions: the EMR clusters the deployment's Jenkins started, the search domain and the
analytics RDS instance(s), started here and waited on by the state machine's Wait -> status -> Choice
loop, so that no cluster still writes to the buckets or uses the groups and role that go next."""

from datetime import datetime, timezone

from ...aws import emr, rds, search
from ...aws import tags as tagging
from ...aws.clients import client
from .. import polling
from . import compute
from .request import TeardownRequest

REMEDY = "check the resources in the console, then start the teardown again (it resumes where it stopped)"


def our_db_instances(request: TeardownRequest) -> list[dict]:
    """Our analytics instances of every generation: our name and our tag, never the tag alone (an
    instance an operator restored from one of our snapshots may carry it under a name of its own)."""
    deployment = request.deployment
    pages = client("rds", deployment.region).get_paginator("describe_db_instances").paginate()
    found = [instance for page in pages for instance in page["DBInstances"]]
    return [i for i in found if deployment.names.is_analytics_rds(i["DBInstanceIdentifier"])
            and tagging.belongs_to(tagging.from_list(i.get("TagList")), deployment.deployment_id)]


def our_domain(request: TeardownRequest) -> dict | None:
    name, region = request.deployment.names.es_domain, request.deployment.region
    status = search.domain(name, region)
    if status is None or status.get("Deleted"):
        return None
    return status if tagging.belongs_to(search.tags_of(status["ARN"], region), request.deployment.deployment_id) else None


def our_clusters(request: TeardownRequest) -> list[dict]:
    return emr.clusters_with_instance_profile(request.deployment.names.emr_instance_profile, request.deployment.region)


def start(request: TeardownRequest) -> dict:
    region = request.deployment.region
    clusters = our_clusters(request)
    for cluster in clusters:
        emr.terminate(cluster, region)
    domain = our_domain(request)
    if domain:
        client("opensearch", region).delete_domain(DomainName=domain["DomainName"])
    return {
        "emr_clusters_terminating": sorted(cluster["Id"] for cluster in clusters),
        "search_domain_deleting": domain["DomainName"] if domain else None,
        **delete_db_instances(request, our_db_instances(request)),
        "ready": False,
        "poll": polling.start(request.poll_interval_seconds),
    }


def delete_db_instances(request: TeardownRequest, instances: list[dict], previous: dict | None = None) -> dict:
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
                without_snapshot.append({"db_instance_id": identifier, "status": status, "reason": NO_SNAPSHOT_REASON.format(status=status)})
    return {"db_instances_deleting": sorted(deleting), "db_instances_busy": busy, "db_instances_without_final_snapshot": without_snapshot}


NO_SNAPSHOT_REASON = ("deleted without the requested final snapshot: AWS deletes an instance in {status} state only without one; "
                      "its automated backups are kept for their retention period")


def _final_snapshot_id(request: TeardownRequest, identifier: str, unsnapshottable: bool) -> str | None:
    if not request.final_snapshot or unsnapshottable:
        return None
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    return f"{identifier}-final-{stamp}"[:255]


def status(request: TeardownRequest, previous: dict) -> dict:
    remaining = our_db_instances(request)
    retried = delete_db_instances(request, remaining, previous)  # ask again where AWS refused (busy); "deleting" costs no call
    clusters = our_clusters(request)
    for cluster in clusters:  # one started after the first look, or one whose termination did not take
        emr.terminate(cluster, request.deployment.region)
    waiting = {
        "emr_clusters": sorted(cluster["Id"] for cluster in clusters),
        "instances": compute.remaining(request),
        "search_domain": [d["DomainName"] for d in [our_domain(request)] if d],
        "db_instances": [i["DBInstanceIdentifier"] for i in remaining],
    }
    gone = not any(waiting.values())
    left = "; ".join(f"{kind} {' '.join(names)}" for kind, names in waiting.items() if names)
    busy = "; ".join(f"RDS instance {i['db_instance_id']} refuses deletion while {i['status']}" for i in retried["db_instances_busy"])
    poll = polling.after_check(previous["poll"], gone, request.poll_interval_seconds, request.timeout_minutes,
                               f"{request.deployment.deployment_id}: {left or 'nothing'}{' (' + busy + ')' if busy else ''}", REMEDY,
                               awaited="deleted")
    return {**previous, **retried, "waiting_for": waiting, "ready": gone, "poll": poll}
