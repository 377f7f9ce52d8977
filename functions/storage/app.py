"""Storage phase: see analytics_provisioner.phases.storage."""

from analytics_provisioner.handler import phase_handler
from analytics_provisioner.phases import storage


@phase_handler("Storage")
def lambda_handler(event, context):
    return storage.run(event)
