"""Search phase: "ensure" starts the resource, "status" is one round of the state machine's poll loop."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases import search


@phase_handler("Search")
def lambda_handler(event, context):
    if event.get("action") == "status":
        return search.status(event)
    return search.run(event)
