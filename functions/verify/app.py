"""Verify phase: the runbook's network paths on what AWS describes; "status" is one round of the RDS test's poll loop."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases import verify


@phase_handler("Verify")
def lambda_handler(event, context):
    if event.get("action") == "status":
        return verify.status(event)
    return verify.run(event)
