"""The teardown function's actions, one per state of statemachine/teardown.asl.json."""

from . import compute, identity, network, secrets, slow, storage
from .request import TeardownRequest, check


def run(event: dict, default_region: str) -> dict:
    action = event.get("action")
    if action == "check":
        return check(event["input"], default_region)
    request = TeardownRequest.from_event(event)
    if action == "status":
        return slow.status(request, event["slow"])
    if action == "storage":
        return storage.run(request, event.get("previous"))
    return ACTIONS[action](request)


ACTIONS = {
    "compute": compute.run,
    "start_slow": slow.start,
    "identity": identity.run,
    "secrets": secrets.run,
    "network": network.run,
}
