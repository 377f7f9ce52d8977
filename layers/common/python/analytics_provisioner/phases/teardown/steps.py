"""The teardown function's actions, one per state of statemachine/teardown.asl.json, each made of the
modules named after what they undo (teardown/<x>.py undoes phases/<x>.py).

``start_slow`` and ``status`` are the deletion loop: the EMR clusters, the search domain and the
analytics RDS instance(s) start going, and the state machine's Wait -> status -> Choice loop waits
for them and the instances, so that nothing still writes to the buckets or uses the groups and
role that go next."""

from ...settings import Settings
from .. import polling
from . import compute, database, identity, network, search, secrets, storage
from .request import TeardownRequest, check

REMEDY = "check the resources in the console, then start the teardown again (it resumes where it stopped)"


def run(event: dict, settings: Settings) -> dict:
    action = event["action"]
    if action == "check":
        return check(event["input"], settings.region)
    request = TeardownRequest.from_event(event)
    if action == "status":
        return status(request, event["slow"])
    if action == "storage":
        return storage.run(request, settings.require_secure_repo_bucket(), event.get("previous"))
    return ACTIONS[action](request)


def start_slow(request: TeardownRequest) -> dict:
    return {
        "emr_clusters_terminating": compute.terminate_clusters(request),
        "search_domain_deleting": search.start(request),
        **database.start(request),
        "ready": False,
        "poll": polling.start(request.poll_interval_seconds),
    }


def status(request: TeardownRequest, previous: dict) -> dict:
    remaining = database.our_instances(request)
    retried = database.delete_instances(request, remaining, previous)  # ask again where AWS refused (busy); "deleting" costs no call
    waiting = {
        "emr_clusters": compute.terminate_clusters(request),  # one started after the first look, or one whose termination did not take
        "instances": compute.remaining(request),
        "search_domain": search.remaining(request),
        "db_instances": [i["DBInstanceIdentifier"] for i in remaining],
    }
    gone = not any(waiting.values())
    left = "; ".join(f"{kind} {' '.join(names)}" for kind, names in waiting.items() if names)
    busy = "; ".join(f"RDS instance {i['db_instance_id']} refuses deletion while {i['status']}" for i in retried["db_instances_busy"])
    poll = polling.after_check(
        previous["poll"],
        gone,
        request.poll_interval_seconds,
        request.timeout_minutes,
        f"{request.deployment.deployment_id}: {left or 'nothing'}{' (' + busy + ')' if busy else ''}",
        REMEDY,
        awaited="deleted",
    )
    return {**previous, **retried, "waiting_for": waiting, "ready": gone, "poll": poll}


def secrets_and_key_pairs(request: TeardownRequest) -> dict:
    return {**compute.delete_key_pairs(request), **secrets.run(request)}


def security_groups_and_subnet_groups(request: TeardownRequest) -> dict:
    subnet_groups = database.delete_subnet_groups(request)
    return {**network.run(request), "db_subnet_groups_deleted": subnet_groups}


ACTIONS = {
    "compute": compute.run,
    "start_slow": start_slow,
    "identity": identity.run,
    "secrets": secrets_and_key_pairs,
    "network": security_groups_and_subnet_groups,
}
