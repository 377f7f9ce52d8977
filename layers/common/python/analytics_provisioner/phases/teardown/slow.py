"""The slow deletions: the search domain and the analytics RDS instance(s), started here and
waited on by the state machine's Wait -> status -> Choice loop."""

from datetime import datetime, timezone

from botocore.exceptions import ClientError

from ...aws import search
from ...aws import tags as tagging
from ...aws.clients import client
from ...aws.errors import error_code
from .. import polling
from . import compute
from .request import TeardownRequest

REMEDY = "check the resources in the console, then start the teardown again (it resumes where it stopped)"


def our_db_instances(request: TeardownRequest) -> list[dict]:
    deployment = request.deployment
    pages = client("rds", deployment.region).get_paginator("describe_db_instances").paginate()
    found = [instance for page in pages for instance in page["DBInstances"]]
    return [i for i in found if tagging.belongs_to(tagging.from_list(i.get("TagList")), deployment.deployment_id)]


def our_domain(request: TeardownRequest) -> dict | None:
    name, region = request.deployment.names.es_domain, request.deployment.region
    status = search.domain(name, region)
    if status is None or status.get("Deleted"):
        return None
    return status if tagging.belongs_to(search.tags_of(status["ARN"], region), request.deployment.deployment_id) else None


def start(request: TeardownRequest) -> dict:
    region = request.deployment.region
    domain = our_domain(request)
    if domain:
        client("opensearch", region).delete_domain(DomainName=domain["DomainName"])
    deleting = [_delete_db_instance(request, instance) for instance in our_db_instances(request)]
    return {
        "search_domain_deleting": domain["DomainName"] if domain else None,
        "db_instances_deleting": [d for d in deleting if d],
        "ready": False,
        "poll": polling.start(request.poll_interval_seconds),
    }


def _delete_db_instance(request: TeardownRequest, instance: dict) -> str | None:
    identifier = instance["DBInstanceIdentifier"]
    if instance["DBInstanceStatus"] == "deleting":
        return identifier
    rds_client = client("rds", request.deployment.region)
    if instance.get("DeletionProtection"):
        rds_client.modify_db_instance(DBInstanceIdentifier=identifier, DeletionProtection=False, ApplyImmediately=True)
    if request.final_snapshot:  # the final snapshot is the backup: the automated ones go
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
        kwargs = {"FinalDBSnapshotIdentifier": f"{identifier}-final-{stamp}"[:255], "DeleteAutomatedBackups": True}
    else:  # no final snapshot: the automated backups are kept for their retention period
        kwargs = {"SkipFinalSnapshot": True, "DeleteAutomatedBackups": False}
    try:
        rds_client.delete_db_instance(DBInstanceIdentifier=identifier, **kwargs)
    except ClientError as exc:
        if error_code(exc) != "DBInstanceNotFound":
            raise
        return None
    return identifier


def status(request: TeardownRequest, previous: dict) -> dict:
    waiting = {
        "instances": compute.remaining(request),
        "search_domain": [d["DomainName"] for d in [our_domain(request)] if d],
        "db_instances": [i["DBInstanceIdentifier"] for i in our_db_instances(request)],
    }
    gone = not any(waiting.values())
    left = "; ".join(f"{kind} {' '.join(names)}" for kind, names in waiting.items() if names)
    poll = polling.after_check(previous["poll"], gone, request.poll_interval_seconds, request.timeout_minutes,
                               f"{request.deployment.deployment_id}: {left or 'nothing'}", REMEDY, awaited="deleted")
    return {**previous, "waiting_for": waiting, "ready": gone, "poll": poll}
