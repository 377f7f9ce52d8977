"""Database phase: "ensure" starts the resource, "status" is one round of the state machine's poll loop."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases import database


@phase_handler("Database")
def lambda_handler(event, context):
    if event.get("action") == "status":
        return database.status(event)
    return database.run(event)
